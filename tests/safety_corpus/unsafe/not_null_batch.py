"""The same in batch mode, as autogenerate writes it for SQLite.

expect: not-null-no-default
"""

import sqlalchemy as sa
from alembic import op

revision = "not_null_bat"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("corp__items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rank", sa.Integer(), nullable=False))


def downgrade() -> None:
    pass

