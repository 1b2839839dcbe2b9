"""Autogenerate's batch form of an index on an existing table.

expect: index-not-concurrent
"""

import sqlalchemy as sa
from alembic import op

revision = "index_batch"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("corp__items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_corp__items_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    pass

