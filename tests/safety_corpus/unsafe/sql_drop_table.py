"""A table the models still declare, dropped in SQL.

expect: drop-in-use
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_drop_tab"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TABLE IF EXISTS corp__events")


def downgrade() -> None:
    pass

