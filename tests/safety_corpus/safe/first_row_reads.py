"""Reading one row or a count is not reading a table.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "first_row_re"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

ITEMS = sa.table("corp__items", sa.column("id", sa.Integer), sa.column("status", sa.String))


def upgrade() -> None:
    bind = op.get_bind()
    first = bind.execute(sa.select(ITEMS.c.id).order_by(ITEMS.c.id)).first()
    count = bind.execute(sa.text("SELECT count(*) FROM corp__items")).scalar()
    print(first, count, all([1]))


def downgrade() -> None:
    pass

