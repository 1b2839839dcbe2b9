"""initial tables of the flawed plugin

Revision ID: 67e70fd72ecd
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "67e70fd72ecd"
down_revision = None
branch_labels = ("flawed",)
# The fault: no depends_on, yet the table below refers to a host table.
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flawed__media_security",
        sa.Column(
            "media_entry_id",
            sa.Integer(),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("level", sa.Unicode(length=32), server_default="normal", nullable=False),
        sa.Column("note", sa.UnicodeText(), nullable=True),
        sa.ForeignKeyConstraint(
            ["media_entry_id"],
            ["core__media_entries.id"],
            name=op.f("fk_flawed__media_security_media_entry_id_core__media_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("media_entry_id", name=op.f("pk_flawed__media_security")),
    )


def downgrade() -> None:
    op.drop_table("flawed__media_security")
