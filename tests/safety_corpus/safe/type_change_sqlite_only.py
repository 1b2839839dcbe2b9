"""SQLite only: its batch mode copies the table by design.

expect: nothing
databases: sqlite
"""

import sqlalchemy as sa
from alembic import op

revision = "type_change_"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("corp__items", "id", existing_type=sa.Integer(), type_=sa.BigInteger())


def downgrade() -> None:
    pass

