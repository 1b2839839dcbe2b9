"""Every row updated in one transaction.

expect: sql-without-where
"""

import sqlalchemy as sa
from alembic import op

revision = "update_witho"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE corp__items SET status = 'active'")


def downgrade() -> None:
    pass

