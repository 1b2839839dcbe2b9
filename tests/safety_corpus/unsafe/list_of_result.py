"""list() of a result.

expect: whole-table-read
"""

import sqlalchemy as sa
from alembic import op

revision = "list_of_resu"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

ITEMS = sa.table("corp__items", sa.column("id", sa.Integer), sa.column("status", sa.String))


def upgrade() -> None:
    ids = list(op.get_bind().execute(sa.select(ITEMS.c.id)))
    print(len(ids))


def downgrade() -> None:
    pass

