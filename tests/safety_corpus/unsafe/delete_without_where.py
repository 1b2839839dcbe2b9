"""Every row deleted in one transaction.

expect: sql-without-where
"""

import sqlalchemy as sa
from alembic import op

revision = "delete_witho"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM corp__events"))


def downgrade() -> None:
    pass

