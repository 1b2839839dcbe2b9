"""A table dropped while the models still declare it.

expect: drop-in-use
"""

import sqlalchemy as sa
from alembic import op

revision = "drop_table"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("corp__events")


def downgrade() -> None:
    pass

