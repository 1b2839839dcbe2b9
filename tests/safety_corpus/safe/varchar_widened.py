"""VARCHAR widened, or made TEXT: no rewrite on PostgreSQL.

expect: nothing
databases: postgresql
"""

import sqlalchemy as sa
from alembic import op

revision = "varchar_wide"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("corp__items", "name", existing_type=sa.VARCHAR(length=50), type_=sa.String(length=100))
    op.alter_column("corp__items", "status", existing_type=sa.String(20), type_=sa.Text())
    op.alter_column("corp__items", "kind", existing_type=sa.Unicode(8), type_=sa.Unicode())


def downgrade() -> None:
    pass

