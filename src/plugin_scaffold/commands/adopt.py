"""``scaffold adopt``: stamp a plugin whose tables exist from before it had migrations.

MediaGoblin's plugins of the sqlalchemy-migrate era have their tables in the database and no
``alembic_version`` row. Adopting compares those tables with the schema the plugin's root
revision (or a later revision of its branch) creates — built in a scratch database of the same
kind, reflected, compared with :mod:`plugin_scaffold.databases.schema` — and stamps that revision
only when they match. The comparison is made again, with the stamp, under the migration lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..databases.servers import temporary_database
from ..databases.urls import DatabaseURL
from ..errors import MigrationError, UsageError
from . import migrate

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import Script
    from sqlalchemy.engine import Connection

    from ..databases.schema import Snapshot
    from ..plugin.plugin import PluginModels
    from .workspace import Workspace


class TablesDiffer(MigrationError):
    """The database's tables of the plugin are not what the revision creates (exit 1)."""

    def __init__(self, revision: str, lines: list[str]) -> None:
        super().__init__(f"the tables differ from what revision {revision} creates")
        self.revision = revision
        self.lines = lines


@dataclass(frozen=True)
class Adopted:
    """What ``adopt`` did: the revision stamped and the tables found to match it."""

    plugin: str
    revision: str
    tables: tuple[str, ...]


def adopt(ws: Workspace, name: str | None = None, *, to: str | None = None) -> Adopted:
    """Stamp plugin ``name``'s root (or ``to``) when the database's tables match what it creates.

    Refused (:class:`UsageError`): the plugin already has a row (or a later revision does), the
    database holds none of its tables, or not every revision the target depends on has run.
    Raises :class:`TablesDiffer` (nothing written) when the tables differ.
    """
    plugin = ws.plugin(name)
    missing_file = ws.url.missing_sqlite_file if ws.url else None
    if missing_file is not None:  # connecting would create an empty file
        raise UsageError(f"{missing_file} does not exist: there is nothing to adopt")
    graph = ws.graph
    graph.require_branch(plugin.name)
    target = _target(ws, plugin.name, to)
    mine = {r.revision for r in graph.revisions_of(plugin.name)}
    needed = sorted(graph.ancestors(target.revision) - mine)
    found: dict[str, Any] = {}

    def inspect(rows: Any, context: MigrationContext) -> Snapshot:
        """Refuse what cannot be adopted; the database's tables of the plugin, reflected."""
        from ..databases.schema import reflect

        applied = graph.applied(rows)
        installed = sorted(applied & mine)
        if installed:
            raise UsageError(
                f"plugin {plugin.name} is already in the version table (at "
                f"{', '.join(graph.version_rows(installed))}): nothing to adopt; `scaffold "
                "upgrade` runs its later revisions"
            )
        missing = [r for r in needed if r not in applied]
        if missing:
            first = graph.version_rows(missing)
            raise UsageError(
                f"the database is not at revision {', '.join(first)}, which plugin "
                f"{plugin.name}'s revision {target.revision} depends on: upgrade the host "
                f"first (scaffold upgrade {first[0]})"
            )
        models = found.get("models") or _models(ws, plugin.name)
        found["models"] = models
        connection = _connection(context)
        snapshot = reflect(connection).only(models.owns)
        if not snapshot.tables:
            raise UsageError(
                f"the database holds no table of plugin {plugin.name} ({models.prefix}__*): "
                f"nothing to adopt; `scaffold upgrade --plugin {plugin.name}` creates them"
            )
        found.setdefault("url", connection.engine.url)
        return snapshot

    def refuse_early(rows: Any, context: MigrationContext) -> list[Any]:
        inspect(rows, context)
        return []

    # Refused before a scratch database is made; checked again under the lock, with the stamp.
    ws.run(refuse_early, None, dont_mutate=True)
    expected = _expected(ws, target.revision, found["url"], found["models"])

    def compare(rows: Any, context: MigrationContext) -> None:
        from ..databases.schema import differences

        lines = differences(expected, inspect(rows, context), gone="missing", new="unexpected")
        if lines:
            raise TablesDiffer(target.revision, lines)

    migrate.stamp(ws, target.revision, before=compare)
    return Adopted(plugin.name, target.revision, tuple(expected.tables))


def _target(ws: Workspace, plugin: str, to: str | None) -> Script:
    """The revision to stamp: the plugin's root, or ``to``, which must be of its branch."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    graph = ws.graph
    if to is None:
        return graph.root_of(plugin)
    try:
        found = [r for r in ws.script.get_revisions(to) if r is not None]
    except (CommandError, RevisionError, ValueError) as exc:
        raise UsageError(f"--to {to}: {str(exc).splitlines()[0]}") from None
    if len(found) != 1 or graph.owner(found[0]) != plugin:
        raise UsageError(f"--to {to}: not a revision of plugin {plugin}'s branch")
    return found[0]


def _models(ws: Workspace, plugin: str) -> PluginModels:
    # Imported once env.py has run (it sets up the host's models first, see revision.py).
    return ws.load_models()[plugin]


def _connection(context: MigrationContext) -> Connection:
    connection = context.connection
    if connection is None:  # offline mode only, which adopt never asks for
        raise UsageError("adopt needs a database connection")
    return connection


def _expected(ws: Workspace, revision: str, url: Any, models: PluginModels) -> Snapshot:
    """The plugin's tables as ``revision`` leaves them, on a scratch database of the same kind."""
    from ..databases.schema import reflect

    # On the real database's server, with its credentials (a synchronous driver to make it).
    real = DatabaseURL.parse(url.render_as_string(hide_password=False)).twin(False)
    made: list[Snapshot] = []
    with temporary_database(real.text if real.kind != "sqlite" else "sqlite") as made_url:
        scratch = DatabaseURL.parse(made_url)
        migrate.upgrade(ws, revision, url=scratch)

        def fn(rev: Any, context: MigrationContext) -> list[Any]:
            made.append(reflect(_connection(context)).only(models.owns))
            return []

        ws.run(fn, scratch, dont_mutate=True)
    return made[0]
