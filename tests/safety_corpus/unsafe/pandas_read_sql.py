"""pandas reads the whole table into a frame.

expect: whole-table-read
"""

import sqlalchemy as sa
from alembic import op

revision = "pandas_read_"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    import pandas as pd

    frame = pd.read_sql("SELECT * FROM corp__items", op.get_bind())
    frame.to_sql("corp__items_copy", op.get_bind(), if_exists="append")


def downgrade() -> None:
    pass

