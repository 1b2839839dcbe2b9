"""core tables

Revision ID: 1f0a8c2d3e4b
Revises:
Create Date: 2026-11-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "1f0a8c2d3e4b"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core__users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.Unicode(length=64), nullable=False),
        sa.Column("email", sa.Unicode(length=255), nullable=False),
        sa.Column(
            "created", sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core__users")),
        sa.UniqueConstraint("username", name=op.f("uq_core__users_username")),
    )
    op.create_table(
        "core__media_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uploader", sa.Integer(), nullable=False),
        sa.Column("title", sa.Unicode(length=255), nullable=False),
        sa.Column("slug", sa.Unicode(length=255), nullable=True),
        sa.Column("state", sa.Unicode(length=32), server_default="processed", nullable=False),
        sa.Column(
            "created", sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["uploader"],
            ["core__users.id"],
            name=op.f("fk_core__media_entries_uploader_core__users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core__media_entries")),
    )


def downgrade() -> None:
    op.drop_table("core__media_entries")
    op.drop_table("core__users")
