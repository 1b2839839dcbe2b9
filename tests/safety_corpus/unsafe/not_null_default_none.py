"""server_default=None is no default.

expect: not-null-no-default
"""

import sqlalchemy as sa
from alembic import op

revision = "not_null_def"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("corp__items", sa.Column("kind", sa.String(20), nullable=False, server_default=None))


def downgrade() -> None:
    pass

