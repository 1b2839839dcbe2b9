"""A unique constraint builds its index under a lock.

expect: index-not-concurrent
"""

import sqlalchemy as sa
from alembic import op

revision = "unique_const"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_unique_constraint("uq_corp__items_name", "corp__items", ["name"])


def downgrade() -> None:
    pass

