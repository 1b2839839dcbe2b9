"""Without existing_type the change cannot be judged safe.

expect: type-rewrite
databases: postgresql
"""

import sqlalchemy as sa
from alembic import op

revision = "type_unknown"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("corp__items", "name", type_=sa.Text())


def downgrade() -> None:
    pass

