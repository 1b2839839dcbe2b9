"""A column dropped in SQL, with another action.

expect: drop-in-use
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_drop_col"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE corp__items DROP COLUMN legacy, DROP CONSTRAINT ck_old")


def downgrade() -> None:
    pass

