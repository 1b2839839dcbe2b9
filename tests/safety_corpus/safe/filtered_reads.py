"""Reads narrowed by WHERE or a filter: not a whole table.

expect: nothing
"""

import sqlalchemy as sa
from alembic import op

revision = "filtered_rea"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

from myhost.models import Item


def upgrade() -> None:
    from sqlalchemy.orm import Session

    bind = op.get_bind()
    admins = bind.execute(sa.text("SELECT id FROM corp__items WHERE status = 'admin'")).fetchall()
    session = Session(bind=bind)
    drafts = session.query(Item).filter_by(status="draft").all()
    print(admins, drafts)


def downgrade() -> None:
    pass

