"""Rows read a page at a time.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "keyset_read"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

ITEMS = sa.table("corp__items", sa.column("id", sa.Integer), sa.column("status", sa.String))


def upgrade() -> None:
    bind = op.get_bind()
    last = 0
    while True:
        page = bind.execute(
            sa.select(ITEMS.c.id).where(ITEMS.c.id > last).order_by(ITEMS.c.id).limit(500)
        ).fetchall()
        if not page:
            break
        last = page[-1].id


def downgrade() -> None:
    pass

