"""Revisions in the version table that no configured folder holds, and tables no model owns.

A plugin uninstalled without ``scaffold downgrade --plugin`` first leaves its row in
``alembic_version`` (and its tables): Alembic then fails every command with "Can't locate
revision identified by ...". scaffold leaves such rows where they are, warns once per command
and works with the rows it knows (see :func:`split`, called where Alembic reads the version
table). ``scaffold plugins`` lists each orphan — its rows and the tables carrying a prefix that
no known model owns; the orphan's name is that prefix — and ``scaffold forget NAME`` removes
them (forget.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..databases.versiontable import VersionTable
from ..errors import ScaffoldError, UsageError
from ..host.environment import target_metadatas

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import Connection

    from ..plugin.plugin import Plugin
    from .revisions import Graph

GUIDE = "docs/orphans.md"


def split(rows: Iterable[str], known: Container[str]) -> tuple[tuple[str, ...], list[str]]:
    """The version rows of revisions the graph knows, and the others (orphans), in order."""
    kept: list[str] = []
    unknown: list[str] = []
    for row in rows:
        (kept if row in known else unknown).append(row)
    return tuple(kept), unknown


def warning(unknown: Sequence[str]) -> str:
    """The one line every command prints when the version table holds unknown revisions."""
    ids = ", ".join(unknown)
    return (
        f"alembic_version holds {ids}, which no configured folder has (a plugin removed "
        "without `scaffold downgrade --plugin`, or a media type or plugin the host enables in "
        "its own config): left as it is and ignored; `scaffold plugins` shows it, "
        f"`scaffold forget NAME` removes it ({GUIDE})"
    )


@dataclass
class UnknownRows:
    """The version rows one command found that no revision of its graph has, as the runs of
    env.py read them: Alembic is shown only the others (``shown``, the ``heads_filter`` of
    :func:`~plugin_scaffold.host.environment.run_env`); the unknown rows stay in the table
    untouched, with one warning per command (``warn``: None when the command reports them
    itself)."""

    known: Container[str]
    warn: Callable[[str], None] | None = None
    rows: list[str] = field(default_factory=list)

    def shown(self, rows: tuple[str, ...], *, warn: bool = True) -> tuple[str, ...]:
        kept, unknown = split(rows, self.known)
        new = [r for r in unknown if r not in self.rows]
        self.rows += new
        if new and warn and self.warn is not None:
            self.warn(warning(self.rows))
        return kept


@dataclass
class Orphan:
    """What a removed plugin left: its rows in the version table and its tables (with rows)."""

    name: str | None
    revisions: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Reference:
    """A foreign key of ``table`` (a host table, or another plugin's) to a removed plugin's."""

    table: str
    name: str | None
    columns: tuple[str, ...]
    referred: str

    def __str__(self) -> str:
        key = f"foreign key {self.name}" if self.name else "an unnamed foreign key"
        return f"table {self.table} references {self.referred} ({key} on {', '.join(self.columns)})"


@dataclass
class Survey:
    """The database as the workspace's graph and models see it."""

    rows: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    #: prefix -> {table: row count} for the prefixed tables no known model or plugin owns
    strays: dict[str, dict[str, int]] = field(default_factory=dict)
    #: False when env.py compares no target_metadata: the host's own tables are then unknown
    metadata_known: bool = True
    table: VersionTable = field(default_factory=VersionTable)
    #: prefix -> a table of env.py's ``target_metadata`` carrying it (the host's and the plugins')
    owned_prefixes: dict[str, str] = field(default_factory=dict)
    #: The foreign keys into stray tables from tables of other prefixes (when asked for)
    references: list[Reference] = field(default_factory=list)

    @property
    def paired(self) -> bool:
        """True unless rows and prefixes cannot be told apart: several of either, both present."""
        return not (self.unknown and self.strays) or (
            len(self.unknown) == 1 and len(self.strays) == 1
        )

    def orphans(self) -> list[Orphan]:
        """The orphans: a single unknown row goes with a single stray prefix; with several of
        either, rows and prefixes are listed apart (``scaffold forget NAME --revision ID``)."""
        named = [Orphan(p, [], dict(t)) for p, t in sorted(self.strays.items())]
        if len(self.unknown) == 1 and len(named) == 1:
            named[0].revisions = list(self.unknown)
            return named
        return named + [Orphan(None, [r]) for r in self.unknown]


def _prefix(table: str) -> str | None:
    prefix, sep, rest = table.partition("__")
    return prefix if sep and prefix and rest else None


def survey(
    context: MigrationContext,
    known: Container[str],
    plugins: Sequence[Plugin],
    *,
    count: bool = True,
    references: bool = False,
) -> Survey:
    """Read the version table and the tables of ``context``'s database (inside a run of env.py),
    for a graph that has the revisions ``known`` says it has, and the ``plugins`` found.

    A table is a stray when it carries a prefix (``name__``) that no table of env.py's
    ``target_metadata`` carries, that no plugin found declares, and it is no table of that
    MetaData: tables without a prefix are never counted, since hosts name theirs freely.
    ``references``: also read the foreign keys other tables have to the strays.
    """
    import sqlalchemy as sa

    connection = context.connection
    assert connection is not None
    table = VersionTable.of(context)
    schema = table.schema
    found = Survey(table=table)
    names = set(sa.inspect(connection).get_table_names(schema=schema))
    if table.name in names:
        found.rows = table.rows(connection)
    found.unknown = split(found.rows, known)[1]
    prefixes_found = plugin_prefixes(plugins)  # imported now: their tables join target_metadata
    metadatas = target_metadatas(context)
    found.metadata_known = bool(metadatas)
    owned = {t.name for m in metadatas for t in m.tables.values()}
    for name in sorted(owned):
        prefix = _prefix(name)
        if prefix is not None:
            found.owned_prefixes.setdefault(prefix, name)
    prefixes = set(found.owned_prefixes)
    for name in sorted(names - owned - {table.name}):
        prefix = _prefix(name)
        if prefix is None or prefix in prefixes or prefix in prefixes_found:
            continue
        rows = _count(connection, name, schema) if count else 0
        found.strays.setdefault(prefix, {})[name] = rows
    if references:
        found.references = _references(connection, found.strays, names, schema)
    return found


def _references(
    connection: Connection, strays: dict[str, dict[str, int]], names: set[str], schema: str | None
) -> list[Reference]:
    """The foreign keys to each stray table from a table that is not of the same prefix."""
    import sqlalchemy as sa

    prefix_of = {t: prefix for prefix, tables in strays.items() for t in tables}
    if not prefix_of:
        return []
    inspector = sa.inspect(connection)
    found = []
    for name in sorted(names):
        for key in inspector.get_foreign_keys(name, schema=schema):
            referred = key["referred_table"]
            if key.get("referred_schema") not in (None, schema) or referred not in prefix_of:
                continue
            if prefix_of.get(name) != prefix_of[referred]:
                found.append(
                    Reference(name, key.get("name"), tuple(key["constrained_columns"]), referred)
                )
    return found


def stray_tables(
    context: MigrationContext, known: Container[str], plugins: Sequence[Plugin]
) -> set[str]:
    """The tables of removed plugins (see :func:`survey`): no revision of the host's owns them."""
    found = survey(context, known, plugins, count=False)
    return {t for tables in found.strays.values() for t in tables}


def plugin_prefixes(plugins: Sequence[Plugin]) -> set[str]:
    """The plugins' names and table prefixes (a plugin whose models fail to import: its name)."""
    prefixes = {p.name for p in plugins}
    for plugin in plugins:
        with contextlib.suppress(ScaffoldError):
            prefixes.add(plugin.load_models().prefix)
    return prefixes


def _count(connection: Connection, table: str, schema: str | None) -> int:
    import sqlalchemy as sa

    return int(
        connection.execute(
            sa.select(sa.func.count()).select_from(sa.table(table, schema=schema))
        ).scalar_one()
    )


def check_safe(graph: Graph, kept: Sequence[str], found: Survey) -> None:
    """Refuse to migrate when an unknown row may be the host's own newer revision.

    The rows scaffold knows must place the host somewhere (a host row, or a plugin row whose
    revision names host revisions); and every unknown row must come with a stray table prefix
    (a removed plugin's tables): a row without one may be a newer revision of the host or of a
    plugin found here (a database newer than the code), and upgrading from the known rows alone
    would run again revisions the database already has (CREATE TABLE of tables that exist).
    """
    if not found.unknown:
        return
    ids = ", ".join(found.unknown)
    if not host_applied(graph, kept):
        raise UsageError(
            f"alembic_version holds {ids}, unknown here, and no revision of the host: scaffold "
            "cannot tell where the host is (a database newer than this host's code? install "
            "that code; a removed plugin's row that stood for the host's revision? `scaffold "
            f"stamp HOST_REVISION` the host's revision first, then `scaffold forget`) ({GUIDE})"
        )
    if len(found.strays) < len(found.unknown):
        raise UsageError(
            f"alembic_version holds {ids}, unknown here: "
            f"{'it' if len(found.unknown) == 1 else 'one'} comes with no removed plugin's "
            "tables and may be a newer revision of the host or of a plugin found here (a "
            "database newer than this code? install that code; a removed plugin whose tables "
            f"are gone? `scaffold forget --revision ID`) ({GUIDE})"
        )


def host_applied(graph: Graph, kept: Sequence[str]) -> bool:
    """True when a known row is a host revision or names one (directly or not)."""
    for row in kept:
        for revision in graph.script.iterate_revisions(row, "base"):
            if revision is not None and graph.owner(revision) is None:
                return True
    return False
