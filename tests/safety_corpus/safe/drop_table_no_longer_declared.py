"""The contract step: a table the models no longer declare, dropped.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "drop_table_n"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("corp__drafts")


def downgrade() -> None:
    pass

