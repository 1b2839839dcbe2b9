"""give every user some karma

The fault: a plugin revision that adds a column to a host table.
"""

import sqlalchemy as sa
from alembic import op

revision = "hosttable001"
down_revision = "67e70fd72ecd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("core__users", sa.Column("karma", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("core__users") as batch_op:
        batch_op.drop_column("karma")
