"""The revision after: VALIDATE takes a lock that lets writes go on.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "fk_validated"
down_revision = "corp0initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE corp__items VALIDATE CONSTRAINT fk_corp__items_owner")
    op.execute(sa.text('ALTER TABLE corp__items VALIDATE CONSTRAINT "ck_corp__items_status"'))


def downgrade() -> None:
    pass

