"""A merge revision: nothing runs.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "merge_point"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

