"""A comprehension over a result holds every row.

expect: whole-table-read
"""

import sqlalchemy as sa
from alembic import op

revision = "comprehensio"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    result = op.get_bind().execute(sa.text("SELECT id, name FROM corp__items"))
    names = {row.id: row.name for row in result}
    print(len(names))


def downgrade() -> None:
    pass

