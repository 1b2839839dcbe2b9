"""A table made and filled in the same revision.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "fill_new_tab"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("corp__counters", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("n", sa.Integer()))
    op.execute("INSERT INTO corp__counters (id, n) SELECT id, 0 FROM corp__items WHERE id > 0")
    op.execute("UPDATE corp__counters SET n = 1")
    op.execute("CREATE INDEX ix_corp__counters_n ON corp__counters (n)")


def downgrade() -> None:
    pass

