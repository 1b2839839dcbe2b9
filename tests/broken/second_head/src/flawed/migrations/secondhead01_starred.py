"""starred

The fault: this revision and another both follow the initial one; the branch has two heads.
"""

import sqlalchemy as sa
from alembic import op

revision = "secondhead01"
down_revision = "67e70fd72ecd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flawed__media_security") as batch_op:
        batch_op.add_column(sa.Column("starred", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flawed__media_security") as batch_op:
        batch_op.drop_column("starred")
