"""The foreign key added NOT VALID; the next revision validates it.

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
        "fk_corp__items_owner", "corp__items", "core__users", ["owner_id"], ["id"],
        postgresql_not_valid=True,
    )
    op.create_check_constraint(
        op.f("ck_corp__items_status"), "corp__items", "status <> ''", postgresql_not_valid=True
    )


def downgrade() -> None:
    pass

