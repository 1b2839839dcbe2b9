"""label

The fault: a VARCHAR without a length. SQLite and PostgreSQL accept it; MariaDB and MySQL do not
(SQLAlchemy cannot even write the DDL: "VARCHAR requires a length on dialect mysql").
"""

import sqlalchemy as sa
from alembic import op

revision = "mariadb00001"
down_revision = "67e70fd72ecd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flawed__media_security") as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flawed__media_security") as batch_op:
        batch_op.drop_column("label")
