"""DROP INDEX CONCURRENTLY outside the transaction.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "drop_index_c"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_corp__items_name", table_name="corp__items", postgresql_concurrently=True)


def downgrade() -> None:
    pass

