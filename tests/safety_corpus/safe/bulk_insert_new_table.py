"""Rows inserted into a table made here.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "bulk_insert_"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    levels = op.create_table("corp__levels", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("name", sa.String(20)))
    op.bulk_insert(levels, [{"id": 1, "name": "low"}, {"id": 2, "name": "high"}])


def downgrade() -> None:
    pass

