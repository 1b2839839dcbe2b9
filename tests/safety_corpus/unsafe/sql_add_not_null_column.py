"""A NOT NULL column added in SQL with no DEFAULT.

expect: not-null-no-default
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_add_not_"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE corp__items ADD COLUMN rank integer NOT NULL")


def downgrade() -> None:
    pass

