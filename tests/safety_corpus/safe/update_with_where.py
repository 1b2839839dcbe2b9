"""Updates that name their rows.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "update_with_"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

ITEMS = sa.table("corp__items", sa.column("id", sa.Integer), sa.column("status", sa.String))


def upgrade() -> None:
    op.execute("UPDATE corp__items SET status = 'active' WHERE status IS NULL")
    op.execute(sa.text("DELETE FROM corp__events WHERE at < now() - interval '1 year'"))
    op.execute(ITEMS.update().where(ITEMS.c.status.is_(None)).values(status="active"))
    op.execute(sa.delete(ITEMS).where(ITEMS.c.id < 0))


def downgrade() -> None:
    pass

