"""Dropping NOT NULL is instant.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "alter_nullab"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("corp__items", "status", existing_type=sa.String(20), nullable=True)
    op.alter_column("corp__items", "body", existing_type=sa.Text(), server_default="", comment="the text")


def downgrade() -> None:
    pass

