"""SET NOT NULL scans the whole table under ACCESS EXCLUSIVE.

expect: set-not-null
"""

import sqlalchemy as sa
from alembic import op

revision = "set_not_null"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("corp__items", "status", existing_type=sa.String(20), nullable=False)


def downgrade() -> None:
    pass

