"""Step one in SQL: NOT VALID; a later release validates it.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_not_vali"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE corp__events ADD CONSTRAINT ck_ev_at CHECK (at > '2000-01-01') NOT VALID")


def downgrade() -> None:
    pass

