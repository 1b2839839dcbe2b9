"""nothing on the way up; on the way down, "reset" the titles of the host's media entries"""

from alembic import op

revision = "hostrows0003"
down_revision = "67e70fd72ecd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    # As many rows as before, other values: a row count alone never shows it.
    op.execute("UPDATE core__media_entries SET title = 'retitled by flawed'")
