"""The demo's column: nullable, nothing to fill.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "add_nullable"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("corp__items", sa.Column("reviewed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    pass

