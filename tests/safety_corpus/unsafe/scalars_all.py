"""scalars().all() of a whole table.

expect: whole-table-read
"""

import sqlalchemy as sa
from alembic import op

revision = "scalars_all"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

ITEMS = sa.table("corp__items", sa.column("id", sa.Integer), sa.column("status", sa.String))


def upgrade() -> None:
    result = op.get_bind().execute(sa.select(ITEMS.c.status))
    statuses = result.scalars().all()
    print(set(statuses))


def downgrade() -> None:
    pass

