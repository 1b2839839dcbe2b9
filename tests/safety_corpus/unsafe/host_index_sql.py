"""An index made on a host table by SQL.

expect: foreign-ddl
"""

import sqlalchemy as sa
from alembic import op

revision = "host_index_s"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_corp_title ON core__media_entries (title)")


def downgrade() -> None:
    pass

