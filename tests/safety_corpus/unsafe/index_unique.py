"""A unique index on an existing table.

expect: index-not-concurrent
"""

import sqlalchemy as sa
from alembic import op

revision = "index_unique"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_corp__items_status"), "corp__items", ["status"], unique=True)


def downgrade() -> None:
    pass

