"""SQL in an f-string naming the table by a constant.

expect: sql-without-where
"""

import sqlalchemy as sa
from alembic import op

revision = "fstring_upda"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

TABLE = "corp__items"


def upgrade() -> None:
    op.execute(f"UPDATE {TABLE} SET status = 'active'")


def downgrade() -> None:
    pass

