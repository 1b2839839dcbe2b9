"""A NOT NULL column that fills itself.

expect: nothing
databases: postgresql
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_col"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("corp__items", sa.Column("seq", sa.Integer(), sa.Identity(), nullable=False))


def downgrade() -> None:
    pass

