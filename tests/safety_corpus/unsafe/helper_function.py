"""The data migration in a helper that upgrade() calls.

expect: whole-table-read sql-without-where
"""

import sqlalchemy as sa
from alembic import op

revision = "helper_funct"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

def _backfill(bind):
    rows = bind.execute(sa.text("SELECT id FROM corp__items")).fetchall()
    bind.execute(sa.text("DELETE FROM corp__events"))
    return rows


def upgrade() -> None:
    _backfill(op.get_bind())


def downgrade() -> None:
    pass

