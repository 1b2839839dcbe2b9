"""An index written as SQL, without CONCURRENTLY.

expect: index-not-concurrent
"""

import sqlalchemy as sa
from alembic import op

revision = "index_sql"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_corp__items_lower ON corp__items (lower(name))")


def downgrade() -> None:
    pass

