"""A unique constraint over an index built concurrently.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "unique_using"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("uq_corp__items_name", "corp__items", ["name"], unique=True, postgresql_concurrently=True)
    op.execute("ALTER TABLE corp__items ADD CONSTRAINT uq_corp__items_name UNIQUE USING INDEX uq_corp__items_name")


def downgrade() -> None:
    pass

