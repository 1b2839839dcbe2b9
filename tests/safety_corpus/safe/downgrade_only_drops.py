"""Drops and plain index builds in downgrade() are not production upgrades.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "downgrade_on"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("corp__items", sa.Column("flag", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("corp__items", "flag")
    op.drop_index("ix_corp__items_flag", table_name="corp__items")
    op.execute("DELETE FROM corp__items")

