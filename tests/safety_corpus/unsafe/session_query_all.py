"""The ORM loads the whole table.

expect: whole-table-read
"""

import sqlalchemy as sa
from alembic import op

revision = "session_quer"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Item(Base):
    __tablename__ = "corp__items"
    id = sa.Column(sa.Integer, primary_key=True)
    status = sa.Column(sa.String(20))


def upgrade() -> None:
    from sqlalchemy.orm import Session

    session = Session(bind=op.get_bind())
    for item in session.query(Item).all():
        item.status = item.status.lower()
    session.flush()


def downgrade() -> None:
    pass

