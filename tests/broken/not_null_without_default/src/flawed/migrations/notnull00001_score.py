"""score

The fault: a NOT NULL column without a default, added to a table that may hold rows.
"""

import sqlalchemy as sa
from alembic import op

revision = "notnull00001"
down_revision = "67e70fd72ecd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flawed__media_security") as batch_op:
        batch_op.add_column(sa.Column("score", sa.Integer(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("flawed__media_security") as batch_op:
        batch_op.drop_column("score")
