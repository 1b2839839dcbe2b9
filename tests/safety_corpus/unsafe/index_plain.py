"""An index built on an existing table, in the migration's transaction.

expect: index-not-concurrent
"""

import sqlalchemy as sa
from alembic import op

revision = "index_plain"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_corp__items_name", "corp__items", ["name"])


def downgrade() -> None:
    op.drop_index("ix_corp__items_name", table_name="corp__items")

