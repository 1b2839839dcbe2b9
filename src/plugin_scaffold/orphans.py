"""Revisions in the version table that no configured folder holds: orphans, and forgetting them.

A plugin uninstalled without ``scaffold downgrade --plugin`` first leaves its row in
``alembic_version`` (and its tables): Alembic then fails every command with "Can't locate
revision identified by ...". scaffold leaves such rows where they are, warns once per command
and works with the rows it knows (see :func:`split`, called where Alembic reads the version
table). ``scaffold plugins`` lists each orphan — its rows and the tables carrying a prefix that
no known model owns; the orphan's name is that prefix — and ``scaffold forget NAME`` removes
them, under the migration lock, in one transaction. ``forget`` reads the database under the
lock as well (runs at once: one forgets, the others find it gone), and never drops a table that
a table it keeps points at.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import alembic_private
from .errors import ConfigError, ScaffoldError, UsageError
from .versiontable import VersionTable

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import Connection

    from .graph import Graph
    from .workspace import Workspace

GUIDE = "docs/orphans.md"


def split(rows: Iterable[str], known: Callable[[str], bool]) -> tuple[tuple[str, ...], list[str]]:
    """The version rows of revisions the graph knows, and the others (orphans), in order."""
    kept: list[str] = []
    unknown: list[str] = []
    for row in rows:
        (kept if known(row) else unknown).append(row)
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
    ws: Workspace, context: MigrationContext, *, count: bool = True, references: bool = False
) -> Survey:
    """Read the version table and the tables of ``context``'s database (inside a run of env.py).

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
    found.unknown = split(found.rows, ws.known_revision)[1]
    plugin_prefixes = _plugin_prefixes(ws)  # imported now: their tables join target_metadata
    metadatas = _target_metadatas(context)
    found.metadata_known = bool(metadatas)
    owned = {t.name for m in metadatas for t in m.tables.values()}
    for name in sorted(owned):
        prefix = _prefix(name)
        if prefix is not None:
            found.owned_prefixes.setdefault(prefix, name)
    prefixes = set(found.owned_prefixes)
    for name in sorted(names - owned - {table.name}):
        prefix = _prefix(name)
        if prefix is None or prefix in prefixes or prefix in plugin_prefixes:
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


def stray_tables(ws: Workspace, context: MigrationContext) -> set[str]:
    """The tables of removed plugins (see :func:`survey`): no revision of the host's owns them."""
    return {t for tables in survey(ws, context, count=False).strays.values() for t in tables}


def _plugin_prefixes(ws: Workspace) -> set[str]:
    """The plugins' names and table prefixes (a plugin whose models fail to import: its name)."""
    prefixes = {p.name for p in ws.plugins}
    for plugin in ws.plugins:
        with contextlib.suppress(ScaffoldError):
            prefixes.add(plugin.load_models().prefix)
    return prefixes


def _target_metadatas(context: MigrationContext) -> list[Any]:
    from .autogen import target_metadatas

    return target_metadatas(context)


def _count(connection: Connection, table: str, schema: str | None) -> int:
    import sqlalchemy as sa

    return int(
        connection.execute(
            sa.select(sa.func.count()).select_from(sa.table(table, schema=schema))
        ).scalar_one()
    )


def check_safe(ws: Workspace, kept: Sequence[str], found: Survey) -> None:
    """Refuse to migrate when an unknown row may be the host's own newer revision.

    The rows scaffold knows must place the host somewhere (a host row, or a plugin row whose
    revision names host revisions); and every unknown row must come with a stray table prefix
    (a removed plugin's tables): a row without one may be a newer revision of the host or of a
    plugin found here (a database newer than the code), and upgrading from the known rows alone
    would run again revisions the database already has (CREATE TABLE of tables that exist).
    """
    if not found.unknown:
        return
    graph = ws.graph
    ids = ", ".join(found.unknown)
    host_applied = _host_applied(graph, kept)
    if not host_applied:
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


def _host_applied(graph: Graph, kept: Sequence[str]) -> bool:
    """True when a known row is a host revision or names one (directly or not)."""
    for row in kept:
        for revision in graph.script.iterate_revisions(row, "base"):
            if revision is not None and graph.owner(revision) is None:
                return True
    return False


# --- forget ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What ``scaffold forget`` removes."""

    name: str | None
    revisions: list[str]
    tables: dict[str, int]

    def lines(self, drop: bool) -> list[str]:
        said = [f"remove row {r} from alembic_version" for r in self.revisions]
        if drop:
            said += [
                f"drop table {t} ({n} row{'s' if n != 1 else ''})" for t, n in self.tables.items()
            ]
        elif self.tables:
            said.append(f"keep tables {', '.join(self.tables)} (add --drop-tables to drop them)")
        return said


def plan(
    ws: Workspace, found: Survey, name: str | None, revisions: Sequence[str], drop: bool
) -> Plan:
    """What forgetting ``name`` (a stray prefix) and/or ``revisions`` means; refuse bad input.

    Raises :class:`NothingToForget` when nothing of them is left in the database (forgotten by
    an earlier run, or by one running at once), unless the name looks mistyped or names the
    host's own tables (:class:`UsageError`).
    """
    plugins = _plugin_prefixes(ws)
    if name is not None and name in plugins:
        raise UsageError(
            f"plugin {name} is installed (its code is found): remove it with `scaffold "
            f"downgrade --plugin {name}` before uninstalling it, not with forget"
        )
    for revision in revisions:
        if ws.known_revision(revision):
            owner = ws.graph.owner(ws.script.get_revision(revision)) or "the host"  # type: ignore[arg-type]
            raise UsageError(
                f"revision {revision} belongs to {owner}, whose code is found: use "
                "`scaffold downgrade`, not forget"
            )
    given = list(revisions)
    absent = [r for r in given if r not in found.unknown]
    if absent and len(absent) < len(given):
        raise UsageError(
            f"revision {absent[0]} is not in alembic_version (the other rows given are): "
            "leave it out; nothing forgotten"
        )
    revisions = [] if absent else given
    tables = dict(found.strays.get(name, {})) if name is not None else {}
    if not given and name is not None:
        orphan = next((o for o in found.orphans() if o.name == name), None)
        revisions = orphan.revisions if orphan is not None else []
        if not revisions and found.unknown and not found.paired and tables:
            raise UsageError(
                f"alembic_version holds {', '.join(found.unknown)}, unknown here, and "
                f"{len(found.strays)} orphaned table prefixes: which row was {name}'s? "
                f"pass --revision ID (see scaffold plugins)"
            )
    if drop and tables and not found.metadata_known:
        raise ConfigError(
            "the host's env.py compares no target_metadata: scaffold cannot tell the host's "
            "tables from a removed plugin's, and drops none (leave out --drop-tables)"
        )
    if not revisions and not tables:
        _refuse_mistaken(found, plugins, name, given)
        raise NothingToForget(name, given)
    _keep_host_placed(ws, found, revisions)
    if drop:
        _keep_references_whole(found, name, tables)
    return Plan(name, list(revisions), tables)


def _refuse_mistaken(
    found: Survey, plugins: set[str], name: str | None, revisions: Sequence[str]
) -> None:
    """Nothing goes with ``name`` or ``revisions``: refuse a name that is the host's prefix, or
    looks like a typo of an orphan's, a plugin's or an unknown row (exit 2); the rest are gone."""
    from difflib import get_close_matches

    if name is not None and name in found.owned_prefixes:
        raise UsageError(
            f"nothing to forget: {name}__* tables are the host's ({found.owned_prefixes[name]} "
            "is in its models), not a removed plugin's (see scaffold plugins)"
        )
    if name is not None:
        close = get_close_matches(name, sorted(set(found.strays) | plugins), n=1, cutoff=0.75)
        if close:
            raise UsageError(
                f"nothing to forget: no orphan named {name} (did you mean {close[0]}? see "
                "scaffold plugins)"
            )
    for revision in revisions:
        close = get_close_matches(revision, found.unknown, n=1, cutoff=0.75)
        if close:
            raise UsageError(
                f"nothing to forget: alembic_version has no row {revision} (did you mean "
                f"{close[0]}? see scaffold plugins)"
            )


class NothingToForget(ScaffoldError):
    """Nothing in the database goes with the name or rows given to ``forget`` any more: what
    the command asks for is done (the CLI says so, exit 0)."""

    exit_code = 0

    def __init__(self, name: str | None, revisions: Sequence[str]) -> None:
        self.what = name or ", ".join(revisions)
        where = (
            f"alembic_version has no row of it and no table is named {name}__*"
            if name is not None
            else f"alembic_version has no row {self.what}"
        )
        super().__init__(
            f"nothing to forget: {self.what} is gone already, or was never here ({where}; see "
            "scaffold plugins)"
        )


def _keep_references_whole(found: Survey, name: str | None, tables: dict[str, int]) -> None:
    """Refuse to drop a table that a table kept (the host's, another plugin's) points at.

    SQLite would drop it and leave the host's rows pointing at nothing (every later insert into
    that table fails); MariaDB would fail half way, its DROPs committed one by one.
    """
    for reference in found.references:
        if reference.referred in tables and reference.table not in tables:
            raise UsageError(
                f"{reference}: dropping {name}'s tables would leave that table's rows pointing "
                "at nothing; drop that foreign key first (a revision of its owner), or leave "
                "out --drop-tables; nothing changed"
            )


def _keep_host_placed(ws: Workspace, found: Survey, revisions: Sequence[str]) -> None:
    """Refuse to remove the rows that alone say where the host is.

    A plugin whose root ``depends_on`` the host's head took over the host's row when it was
    installed (Alembic keeps one row per branch tip): removing its orphaned row would leave the
    host looking unmigrated, and the next ``alembic upgrade`` would create its tables again.
    """
    graph = ws.graph
    if not revisions or not graph.host_heads:
        return
    kept = [r for r in found.rows if r not in revisions and ws.known_revision(r)]
    if _host_applied(graph, kept):
        return
    heads = ", ".join(graph.host_heads)
    raise UsageError(
        f"forgetting {', '.join(revisions)} would leave no row saying where the host is (the "
        "removed plugin's row stood for the host revision its root depended on), and plain "
        "alembic would create the host's tables again: first `scaffold stamp HOST_REVISION`, "
        f"the host revision this database is at (the host's head: {heads}, if its code has "
        f"not changed since), then forget ({GUIDE})"
    )


def forget(ws: Workspace, wanted: Plan, *, drop: bool) -> Plan:
    """Remove ``wanted``'s rows (and with ``drop`` its tables) under the migration lock, in one
    transaction; returns what was still there to remove (nothing: another run did it).

    The rows go first: on MariaDB, where each DROP commits by itself, a run cut short leaves
    tables whose prefix names them, which ``forget NAME --drop-tables`` finishes.
    """
    done = Plan(wanted.name, [], {})

    def fn(rev: Any, context: MigrationContext) -> list[Any]:
        found = survey(ws, context, count=False, references=drop)
        connection = context.connection
        assert connection is not None
        done.revisions = [r for r in wanted.revisions if r in found.rows]
        present = found.strays.get(wanted.name, {}) if wanted.name else {}
        done.tables = {t: n for t, n in wanted.tables.items() if t in present} if drop else {}
        if done.tables:  # checked again: a table may point at them since the plan was made
            _keep_references_whole(found, wanted.name, done.tables)
        with alembic_private.step_transaction(context):
            found.table.delete(connection, done.revisions)
            if done.tables:
                _drop_tables(connection, list(done.tables), found.table.schema)
        return []

    ws.run(fn, None, lock=True, dont_mutate=True)
    return done


def _drop_tables(connection: Connection, tables: list[str], schema: str | None) -> None:
    """Drop ``tables`` in foreign-key order (SQLAlchemy's, which also drops the constraints of a
    cycle first)."""
    import sqlalchemy as sa

    metadata = sa.MetaData(schema=schema)
    metadata.reflect(connection, only=tables)
    chosen = [metadata.tables[f"{schema}.{t}" if schema else t] for t in tables]
    metadata.drop_all(connection, tables=chosen, checkfirst=False)


def survey_database(
    ws: Workspace,
    *,
    references: bool = False,
    lock: bool = False,
    on_wait: Callable[[], None] | None = None,
) -> Survey:
    """Survey the workspace's database (a run of env.py that changes nothing).

    ``lock``: under the migration lock, so that it reads what a run changing the version table
    (a ``forget`` at the same time) left; ``on_wait`` is called if it waits for it.
    """
    found: list[Survey] = []

    def fn(rev: Any, context: MigrationContext) -> list[Any]:
        found.append(survey(ws, context, references=references))
        return []

    ws.run(fn, None, dont_mutate=True, lock=lock, on_wait=on_wait)
    if not found:
        raise ConfigError("the host's env.py ran no migrations: no database to read")
    merged = found[0]
    for more in found[1:]:  # env.py migrating several databases (multidb)
        merged.rows += more.rows
        merged.unknown += more.unknown
        merged.references += more.references
        for prefix, table in more.owned_prefixes.items():
            merged.owned_prefixes.setdefault(prefix, table)
        for prefix, tables in more.strays.items():
            merged.strays.setdefault(prefix, {}).update(tables)
    return merged


def try_survey(ws: Workspace) -> tuple[Survey | None, str | None]:
    """:func:`survey_database`, or why the database could not be read (one line)."""
    if ws.url is None:
        return None, "no database URL (pass --url, or set sqlalchemy.url): orphans not looked for"
    if ws.url.missing_sqlite_file is not None:
        return Survey(), None
    try:
        return survey_database(ws), None
    except ScaffoldError as exc:
        return None, f"the database could not be read ({exc}): orphans not looked for"
