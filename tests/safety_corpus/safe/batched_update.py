"""A backfill in key ranges, each range its own statement.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "batched_upda"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    top = bind.execute(sa.text("SELECT max(id) FROM corp__items")).scalar() or 0
    for start in range(0, top + 1, 1000):
        bind.execute(
            sa.text("UPDATE corp__items SET status = 'active' WHERE id >= :a AND id < :b"),
            {"a": start, "b": start + 1000},
        )


def downgrade() -> None:
    pass

