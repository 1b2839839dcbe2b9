"""Flask-SQLAlchemy's Model.query loads the whole table.

expect: whole-table-read
"""

import sqlalchemy as sa
from alembic import op

revision = "flask_model_"
down_revision = "corp0initial"
branch_labels = None
depends_on = None

from myhost.models import Item


def upgrade() -> None:
    for item in Item.query.all():
        item.status = "active"


def downgrade() -> None:
    pass

