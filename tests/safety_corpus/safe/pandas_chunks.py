"""pandas reading in chunks.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "pandas_chunk"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    import pandas as pd

    for frame in pd.read_sql("SELECT * FROM corp__items", op.get_bind(), chunksize=1000):
        print(len(frame))


def downgrade() -> None:
    pass

