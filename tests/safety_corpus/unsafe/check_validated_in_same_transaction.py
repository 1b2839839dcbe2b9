"""VALIDATE in the transaction that added the constraint.

expect: constraint-not-valid
"""

import sqlalchemy as sa
from alembic import op

revision = "check_valida"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_check_constraint(
        "ck_corp__events_at", "corp__events", "at IS NOT NULL", postgresql_not_valid=True
    )
    op.execute("ALTER TABLE corp__events VALIDATE CONSTRAINT ck_corp__events_at")


def downgrade() -> None:
    pass

