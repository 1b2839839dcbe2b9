"""SET NOT NULL in SQL.

expect: set-not-null
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_set_not_"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE corp__items ALTER COLUMN status SET NOT NULL")


def downgrade() -> None:
    pass

