"""SQL run on the migration's connection counts too.

expect: sql-without-where
"""

import sqlalchemy as sa
from alembic import op

revision = "bind_update_"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("update corp__items set status = 'x'; select 1"))


def downgrade() -> None:
    pass

