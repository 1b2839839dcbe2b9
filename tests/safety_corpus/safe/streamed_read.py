"""Rows streamed with yield_per.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "streamed_rea"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

ITEMS = sa.table("corp__items", sa.column("id", sa.Integer), sa.column("status", sa.String))


def upgrade() -> None:
    bind = op.get_bind()
    query = sa.select(ITEMS.c.id, ITEMS.c.status).execution_options(yield_per=1000)
    for row in bind.execute(query):
        print(row.id)


def downgrade() -> None:
    pass

