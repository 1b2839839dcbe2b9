"""The same written as SQL.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "index_sql_co"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_corp__items_lower ON corp__items (lower(name))")


def downgrade() -> None:
    pass

