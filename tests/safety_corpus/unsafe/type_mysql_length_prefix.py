"""MariaDB copies the table when a VARCHAR grows from under 32 characters to over 63.

expect: type-rewrite
databases: mysql
"""

import sqlalchemy as sa
from alembic import op

revision = "type_mysql_l"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("corp__items", "name", existing_type=sa.VARCHAR(length=20), type_=sa.String(length=100))


def downgrade() -> None:
    pass

