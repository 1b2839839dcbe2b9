"""The version table (``alembic_version``) as the host's env.py configured it: its rows, read and
changed one by one, and the width of its ``version_num`` column.

Alembic writes the table itself when it runs revisions; scaffold writes it only where it must
leave rows Alembic would touch alone (``stamp``, ``forget``), always inside a run of env.py, so
that the table's name and schema are env.py's own (``version_table``, ``version_table_schema``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import Connection

#: The width Alembic gives ``version_num`` when it creates the table: ``String(32)``.
DEFAULT_WIDTH = 32


@dataclass(frozen=True)
class VersionWidth:
    """How many characters the version table's ``version_num`` holds, and where that was read."""

    characters: int = DEFAULT_WIDTH
    table: str = "alembic_version"
    database: str | None = None

    def __str__(self) -> str:
        where = f"in {self.database}" if self.database else "as Alembic creates it"
        return f"{self.table}.version_num {where} holds {self.characters}"


@dataclass(frozen=True)
class VersionTable:
    """Where env.py keeps the version rows."""

    name: str = "alembic_version"
    schema: str | None = None

    @classmethod
    def of(cls, context: MigrationContext) -> VersionTable:
        """The version table of a run of env.py (as its ``context.configure()`` named it)."""
        return cls(
            context.opts.get("version_table") or "alembic_version",
            context.opts.get("version_table_schema"),
        )

    def _table(self) -> Any:
        import sqlalchemy as sa

        return sa.table(self.name, sa.column("version_num"), schema=self.schema)

    def exists(self, connection: Connection) -> bool:
        import sqlalchemy as sa

        return bool(sa.inspect(connection).has_table(self.name, schema=self.schema))

    def rows(self, connection: Connection) -> list[str]:
        """Every row, those no revision found here has included."""
        import sqlalchemy as sa

        version = self._table()
        return [row[0] for row in connection.execute(sa.select(version.c.version_num))]

    def delete(self, connection: Connection, revisions: Iterable[str]) -> None:
        import sqlalchemy as sa

        version = self._table()
        chosen = list(revisions)
        if chosen:
            connection.execute(sa.delete(version).where(version.c.version_num.in_(chosen)))

    def insert(self, connection: Connection, revisions: Iterable[str]) -> None:
        import sqlalchemy as sa

        chosen = [{"version_num": r} for r in revisions]
        if chosen:
            connection.execute(sa.insert(self._table()), chosen)

    def width(self, connection: Connection) -> int | None:
        """How many characters ``version_num`` holds (None: the table does not exist, or its
        type has no length, e.g. TEXT)."""
        import sqlalchemy as sa

        if not self.exists(connection):
            return None
        for column in sa.inspect(connection).get_columns(self.name, schema=self.schema):
            if column["name"] == "version_num":
                length = getattr(column["type"], "length", None)
                return int(length) if length else None
        return None
