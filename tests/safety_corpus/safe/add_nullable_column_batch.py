"""The demo's column in batch mode (SQLite).

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "add_nullable"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("corp__items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    pass

