"""A foreign key added in SQL without NOT VALID.

expect: constraint-not-valid
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_add_fore"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE corp__events ADD CONSTRAINT fk_ev_item FOREIGN KEY (item_id) REFERENCES corp__items (id)")


def downgrade() -> None:
    pass

