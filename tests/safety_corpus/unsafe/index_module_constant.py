"""The table named by a module-level constant.

expect: index-not-concurrent
"""

import sqlalchemy as sa
from alembic import op

revision = "index_module"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

EVENTS = "corp__events"


def upgrade() -> None:
    op.create_index("ix_events_at", EVENTS, ["at"])


def downgrade() -> None:
    pass

