"""Step one: a foreign key added NOT VALID; a later release validates it.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "fk_not_valid"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_foreign_key(
        "fk_corp__events_item", "corp__events", "corp__items", ["item_id"], ["id"],
        postgresql_not_valid=True,
    )


def downgrade() -> None:
    pass

