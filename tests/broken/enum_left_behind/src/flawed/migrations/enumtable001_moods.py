"""moods

The fault: the downgrade drops the table but not its PostgreSQL enum type.
"""

import sqlalchemy as sa
from alembic import op

revision = "enumtable001"
down_revision = "67e70fd72ecd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flawed__moods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mood", sa.Enum("calm", "grumpy", name="flawed_mood"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flawed__moods")),
    )


def downgrade() -> None:
    op.drop_table("flawed__moods")
