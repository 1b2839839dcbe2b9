"""The models still declare the column dropped.

expect: drop-in-use
"""

import sqlalchemy as sa
from alembic import op

revision = "drop_column_"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("corp__items", "legacy")


def downgrade() -> None:
    pass

