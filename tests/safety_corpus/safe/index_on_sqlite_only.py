"""A plugin that runs on SQLite only: no CONCURRENTLY there.

expect: nothing
databases: sqlite
"""

import sqlalchemy as sa
from alembic import op

revision = "index_on_sql"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_corp__items_name", "corp__items", ["name"])


def downgrade() -> None:
    pass

