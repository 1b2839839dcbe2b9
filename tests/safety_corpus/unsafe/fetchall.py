"""Every row of a table read into memory.

expect: whole-table-read
"""

import sqlalchemy as sa
from alembic import op

revision = "fetchall"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

ITEMS = sa.table("corp__items", sa.column("id", sa.Integer), sa.column("status", sa.String))


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(ITEMS.c.id, ITEMS.c.status)).fetchall()
    for row in rows:
        bind.execute(ITEMS.update().where(ITEMS.c.id == row.id).values(status=row.status.strip()))


def downgrade() -> None:
    pass

