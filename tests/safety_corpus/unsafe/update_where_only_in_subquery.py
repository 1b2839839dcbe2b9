"""The only WHERE belongs to the subquery.

expect: sql-without-where
"""

import sqlalchemy as sa
from alembic import op

revision = "update_where"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE corp__items SET status = (SELECT min(kind) FROM corp__events WHERE item_id = 1)")


def downgrade() -> None:
    pass

