"""Literal SQL with a LIMIT.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_limit_re"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.text("SELECT id FROM corp__items ORDER BY id LIMIT 100")):
        print(row.id)


def downgrade() -> None:
    pass

