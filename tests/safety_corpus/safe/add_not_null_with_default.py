"""NOT NULL with a server default: the rows get it.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "add_not_null"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("corp__items", sa.Column("rank", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("corp__items", sa.Column("seen", sa.DateTime(), nullable=False, server_default=sa.func.now()))
    op.add_column("corp__items", sa.Column("kind", sa.String(8), nullable=False, server_default=sa.text("'a'")))


def downgrade() -> None:
    pass

