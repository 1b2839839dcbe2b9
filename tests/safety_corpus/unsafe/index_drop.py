"""An index dropped without CONCURRENTLY.

expect: index-not-concurrent
"""

import sqlalchemy as sa
from alembic import op

revision = "index_drop"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_corp__items_name", table_name="corp__items")


def downgrade() -> None:
    pass

