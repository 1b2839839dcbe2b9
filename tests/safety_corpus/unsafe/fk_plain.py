"""A foreign key checks every row while blocking writes to both tables.

expect: constraint-not-valid
"""

import sqlalchemy as sa
from alembic import op

revision = "fk_plain"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_foreign_key("fk_corp__items_owner", "corp__items", "core__users", ["owner_id"], ["id"])


def downgrade() -> None:
    pass

