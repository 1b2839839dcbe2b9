"""A renamed column breaks the running release's queries.

expect: rename-in-use
"""

import sqlalchemy as sa
from alembic import op

revision = "rename_colum"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("corp__items", "body", new_column_name="text", existing_type=sa.Text())


def downgrade() -> None:
    pass

