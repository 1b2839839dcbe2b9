"""A type changed in SQL.

expect: type-rewrite
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_alter_ty"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE corp__items ALTER COLUMN id TYPE bigint")


def downgrade() -> None:
    pass

