"""The contract step: a column the models no longer declare, dropped.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "drop_column_"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("corp__items", schema=None) as batch_op:
        batch_op.drop_column("retired")


def downgrade() -> None:
    pass

