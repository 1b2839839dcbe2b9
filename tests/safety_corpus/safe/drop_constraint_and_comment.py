"""Dropping a constraint or changing a comment is quick.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "drop_constra"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("ck_corp__items_old", "corp__items", type_="check")
    op.create_table_comment("corp__items", "the plugin's items")


def downgrade() -> None:
    pass

