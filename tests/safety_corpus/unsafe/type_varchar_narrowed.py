"""A VARCHAR made shorter checks and rewrites every row.

expect: type-rewrite
"""

import sqlalchemy as sa
from alembic import op

revision = "type_varchar"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("corp__items", "name", existing_type=sa.VARCHAR(length=100), type_=sa.String(length=50))


def downgrade() -> None:
    pass

