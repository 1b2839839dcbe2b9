"""Columns added in SQL: nullable, or with a DEFAULT.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "sql_add_colu"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE corp__items ADD COLUMN note text, ADD COLUMN rank integer NOT NULL DEFAULT 0")
    op.execute("ALTER TABLE corp__items ALTER COLUMN status DROP NOT NULL, DROP CONSTRAINT ck_old")


def downgrade() -> None:
    pass

