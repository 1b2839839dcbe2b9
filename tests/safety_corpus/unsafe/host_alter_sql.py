"""SQL that alters a host table.

expect: foreign-ddl
"""

import sqlalchemy as sa
from alembic import op

revision = "host_alter_s"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE core__users ADD COLUMN corp_karma integer")


def downgrade() -> None:
    pass

