"""A new table and its index: nothing reads it yet.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "new_table_wi"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corp__tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Unicode(length=64), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["corp__items.id"], name=op.f("fk_corp__tags_item_id_corp__items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corp__tags")),
    )
    op.create_index(op.f("ix_corp__tags_item_id"), "corp__tags", ["item_id"], unique=False)
    op.create_unique_constraint("uq_corp__tags_name", "corp__tags", ["item_id", "name"])
    op.create_check_constraint("ck_corp__tags_name", "corp__tags", "name <> ''")
    op.create_foreign_key("fk_corp__tags_user", "corp__tags", "core__users", ["item_id"], ["id"])


def downgrade() -> None:
    op.drop_table("corp__tags")

