"""Autogenerate's batch form of a foreign key on an existing table.

expect: constraint-not-valid
"""

import sqlalchemy as sa
from alembic import op

revision = "fk_batch"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("corp__items", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_corp__items_owner_id_core__users"), "core__users", ["owner_id"], ["id"]
        )


def downgrade() -> None:
    pass

