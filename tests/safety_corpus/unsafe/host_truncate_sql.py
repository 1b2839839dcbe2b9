"""TRUNCATE of a host table.

expect: foreign-ddl
"""

import sqlalchemy as sa
from alembic import op

revision = "host_truncat"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("TRUNCATE TABLE core__media_entries")


def downgrade() -> None:
    pass

