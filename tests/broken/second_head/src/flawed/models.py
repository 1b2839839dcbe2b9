"""Tables of the flawed plugin, declared on the host's Base.

Each table is named ``flawed__<name>`` and only changed by this plugin's revisions.
A host table is never altered: it is extended with a one-to-one side table instead.
After changing a model, run ``scaffold revision -m "what changed" --autogenerate``.
"""

import sqlalchemy as sa
from examplehost.models import Base

#: Every table of this plugin is named TABLE_PREFIX + "__" + a name.
TABLE_PREFIX = "flawed"


class MediaSecurity(Base):
    """What this plugin keeps about a core__media_entries row: one row at most for each."""

    __tablename__ = "flawed__media_security"

    media_entry_id = sa.Column(
        sa.Integer(),
        sa.ForeignKey("core__media_entries.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    level = sa.Column(sa.Unicode(32), nullable=False, server_default="normal")
    note = sa.Column(sa.UnicodeText, nullable=True)
    starred = sa.Column(sa.Boolean, nullable=True)
    pinned = sa.Column(sa.Boolean, nullable=True)


#: The mapped classes of this plugin.
MODELS = [MediaSecurity]
