"""A column renamed in SQL.

expect: rename-in-use
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_rename_c"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE corp__items RENAME COLUMN body TO text")


def downgrade() -> None:
    pass

