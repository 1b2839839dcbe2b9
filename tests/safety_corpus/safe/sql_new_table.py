"""A table made in SQL, then changed in the same revision.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_new_tabl"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE corp__flags (id integer PRIMARY KEY, item_id integer)")
    op.execute("ALTER TABLE corp__flags ADD COLUMN flag boolean NOT NULL, ADD FOREIGN KEY (item_id) REFERENCES corp__items (id)")
    op.execute("CREATE INDEX ix_corp__flags_flag ON corp__flags (flag)")


def downgrade() -> None:
    pass

