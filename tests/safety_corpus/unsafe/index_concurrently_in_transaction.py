"""CONCURRENTLY asked for, but inside the migration's transaction: PostgreSQL refuses it.

expect: index-not-concurrent
"""

import sqlalchemy as sa
from alembic import op

revision = "index_concur"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_corp__items_body", "corp__items", ["body"], postgresql_concurrently=True)


def downgrade() -> None:
    pass

