"""nothing on the way up; on the way down, "clean up" the host's media entries"""

from alembic import op

revision = "hostrows0002"
down_revision = "67e70fd72ecd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    op.execute("DELETE FROM core__media_entries")
