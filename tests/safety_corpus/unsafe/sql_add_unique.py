"""A unique constraint added in SQL builds its index under the lock.

expect: index-not-concurrent
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_add_uniq"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE corp__items ADD CONSTRAINT uq_items_name UNIQUE (name)")


def downgrade() -> None:
    pass

