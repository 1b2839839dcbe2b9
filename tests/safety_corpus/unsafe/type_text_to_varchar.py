"""TEXT to VARCHAR(n) checks every row's length.

expect: type-rewrite
databases: postgresql
"""

import sqlalchemy as sa
from alembic import op

revision = "type_text_to"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("corp__items", "body", existing_type=sa.Text(), type_=sa.String(200))


def downgrade() -> None:
    pass

