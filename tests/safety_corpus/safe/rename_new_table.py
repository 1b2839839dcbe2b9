"""Renaming and dropping what this revision made.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "rename_new_t"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("corp__tmp", sa.Column("id", sa.Integer(), primary_key=True))
    op.rename_table("corp__tmp", "corp__kept")
    op.create_table("corp__scratch", sa.Column("id", sa.Integer(), primary_key=True))
    op.drop_table("corp__scratch")


def downgrade() -> None:
    pass

