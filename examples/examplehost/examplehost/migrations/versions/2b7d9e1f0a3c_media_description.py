"""media entry description

Revision ID: 2b7d9e1f0a3c
Revises: 1f0a8c2d3e4b
Create Date: 2026-11-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "2b7d9e1f0a3c"
down_revision = "1f0a8c2d3e4b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("core__media_entries") as batch_op:
        batch_op.add_column(sa.Column("description", sa.UnicodeText(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("core__media_entries") as batch_op:
        batch_op.drop_column("description")
