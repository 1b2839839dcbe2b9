"""VARCHAR widened in place on MariaDB.

expect: nothing
databases: mysql postgresql
"""

import sqlalchemy as sa
from alembic import op

revision = "varchar_wide"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("corp__items", "name", existing_type=sa.VARCHAR(length=100), type_=sa.String(length=200))
    op.alter_column("corp__items", "status", existing_type=sa.String(10), type_=sa.String(60))
    op.alter_column("corp__items", "kind", existing_type=sa.String(50), type_=sa.String(100))


def downgrade() -> None:
    pass

