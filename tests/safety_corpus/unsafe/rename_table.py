"""The running release still reads the old name.

expect: rename-in-use
"""

import sqlalchemy as sa
from alembic import op

revision = "rename_table"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table("corp__events", "corp__happenings")


def downgrade() -> None:
    pass

