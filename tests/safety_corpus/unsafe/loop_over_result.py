"""A buffered result: the driver fetches every row first.

expect: whole-table-read
"""

import sqlalchemy as sa
from alembic import op

revision = "loop_over_re"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.text("SELECT id, body FROM corp__items")):
        bind.execute(
            sa.text("UPDATE corp__items SET body = :b WHERE id = :i"), {"b": row.body.strip(), "i": row.id}
        )


def downgrade() -> None:
    pass

