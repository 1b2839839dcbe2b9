"""A Python-side default does not fill the rows already there.

expect: not-null-no-default
"""

import sqlalchemy as sa
from alembic import op

revision = "not_null_cli"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("corp__items", sa.Column("kind", sa.String(20), nullable=False, default="a"))


def downgrade() -> None:
    pass

