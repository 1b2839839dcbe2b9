"""A NOT NULL column with no server default: existing rows make it fail.

expect: not-null-no-default
databases: sqlite
"""

import sqlalchemy as sa
from alembic import op

revision = "not_null_add"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("corp__items", sa.Column("rank", sa.Integer(), nullable=False))


def downgrade() -> None:
    pass

