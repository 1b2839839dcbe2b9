"""CREATE INDEX CONCURRENTLY outside the transaction.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "index_concur"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("ix_corp__items_name", "corp__items", ["name"], postgresql_concurrently=True)


def downgrade() -> None:
    pass

