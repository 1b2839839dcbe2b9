"""Core tables of the example host, on a declarative Base whose MetaData names every constraint."""

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, relationship

# Named constraints are what make later ALTERs (and SQLite batch mode) possible.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))


class User(Base):  # type: ignore[misc,valid-type]
    __tablename__ = "core__users"

    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.Unicode(64), nullable=False, unique=True)
    email = sa.Column(sa.Unicode(255), nullable=False)
    bio = sa.Column(sa.UnicodeText, nullable=True)
    created = sa.Column(sa.DateTime, nullable=False, server_default=sa.func.current_timestamp())


class MediaEntry(Base):  # type: ignore[misc,valid-type]
    __tablename__ = "core__media_entries"

    id = sa.Column(sa.Integer, primary_key=True)
    uploader = sa.Column(sa.Integer, sa.ForeignKey("core__users.id"), nullable=False)
    title = sa.Column(sa.Unicode(255), nullable=False)
    slug = sa.Column(sa.Unicode(255), nullable=True)
    description = sa.Column(sa.UnicodeText, nullable=True)
    state = sa.Column(sa.Unicode(32), nullable=False, server_default="processed")
    created = sa.Column(
        sa.DateTime, nullable=False, server_default=sa.func.current_timestamp(), index=True
    )

    user = relationship(User)
