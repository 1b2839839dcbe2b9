"""Autogenerate's batch form on a new table.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "new_table_ba"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("corp__notes", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("at", sa.DateTime()))
    with op.batch_alter_table("corp__notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_corp__notes_at"), ["at"], unique=False)
        batch_op.add_column(sa.Column("rank", sa.Integer(), nullable=False))


def downgrade() -> None:
    pass

