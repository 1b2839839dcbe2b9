"""sa.delete() with no .where().

expect: sql-without-where
"""

import sqlalchemy as sa
from alembic import op

revision = "core_delete_"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

ITEMS = sa.table("corp__items", sa.column("id", sa.Integer), sa.column("status", sa.String))


def upgrade() -> None:
    op.execute(sa.delete(ITEMS))


def downgrade() -> None:
    pass

