"""Orphans (orphans.py) read for ``scaffold plugins``, and removed by ``scaffold forget``.

``forget`` removes an orphan's rows (and with ``--drop-tables`` its tables) under the migration
lock, in one transaction. It reads the database under the lock as well (runs at once: one
forgets, the others find it gone), and never drops a table that a table it keeps points at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import alembic_private
from ..errors import ConfigError, ScaffoldError, UsageError
from ..graph.orphans import GUIDE, Survey, host_applied, plugin_prefixes, survey

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import Connection

    from .workspace import Workspace


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
    plugins = plugin_prefixes(ws.plugins)
    if name is not None and name in plugins:
        raise UsageError(
            f"plugin {name} is installed (its code is found): remove it with `scaffold "
            f"downgrade --plugin {name}` before uninstalling it, not with forget"
        )
    for revision in revisions:
        if revision in ws.revision_ids:
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
    kept = [r for r in found.rows if r not in revisions and r in ws.revision_ids]
    if host_applied(graph, kept):
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
        found = survey(context, ws.revision_ids, ws.plugins, count=False, references=drop)
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
        found.append(survey(context, ws.revision_ids, ws.plugins, references=references))
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
