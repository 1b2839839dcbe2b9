"""user bio, index on media creation time

Revision ID: 3c8e0f2a1b4d
Revises: 2b7d9e1f0a3c
Create Date: 2026-11-03 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "3c8e0f2a1b4d"
down_revision = "2b7d9e1f0a3c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("core__users") as batch_op:
        batch_op.add_column(sa.Column("bio", sa.UnicodeText(), nullable=True))
    op.create_index(
        op.f("ix_core__media_entries_created"), "core__media_entries", ["created"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_core__media_entries_created"), table_name="core__media_entries")
    with op.batch_alter_table("core__users") as batch_op:
        batch_op.drop_column("bio")
