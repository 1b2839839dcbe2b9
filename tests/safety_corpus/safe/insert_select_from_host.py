"""SQL that reads host rows and writes the plugin's own table.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "insert_selec"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO corp__events (item_id) SELECT id FROM core__users WHERE id > 0")
    op.execute("SELECT count(*) FROM core__media_entries")


def downgrade() -> None:
    pass

