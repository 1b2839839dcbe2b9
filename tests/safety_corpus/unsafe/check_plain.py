"""A check constraint checks every row under the lock.

expect: constraint-not-valid
"""

import sqlalchemy as sa
from alembic import op

revision = "check_plain"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_check_constraint("ck_corp__items_status", "corp__items", "status <> ''")


def downgrade() -> None:
    pass

