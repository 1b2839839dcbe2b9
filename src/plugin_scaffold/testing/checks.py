"""The checks of one plugin's migrations on a real database, each a method that fails in one line.

Every check that needs a database makes its own (a fresh, uniquely named one, dropped afterwards)
on the server ``database`` names, and runs the host's env.py through the same core objects as
the ``scaffold`` command. They are branch-aware: the host and other plugins are brought to their
heads in one run each; only the plugin's own revisions are stepped through one at a time.
A failure names the revision (and its file), the database and the fault.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import alembic_private
from ..commands import cached, migrate
from ..commands.check import branch_findings, host_anchor
from ..commands.check import relative as _relative
from ..databases import templates
from ..databases.schema import (
    VERSION_TABLE,
    Snapshot,
    contents,
    differences,
    reflect,
    reflected_tables,
    row_differences,
)
from ..databases.servers import engine_for
from ..databases.urls import DatabaseURL, kind_of, redact
from ..errors import ConfigError, MigrationError, ScaffoldError
from . import rows as rows_mod

if TYPE_CHECKING:
    from alembic.script import Script

    from ..commands.workspace import Workspace
    from ..graph.revisions import Graph
    from ..plugin.plugin import Plugin, PluginModels

#: Rows for the data check: revision id -> table name -> rows (column name -> value).
RowsByRevision = Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]]


class CheckFailed(MigrationError):
    """A check ran and found a fault; the message names the revision, the database and the fault."""


class NothingToCheck(ScaffoldError):
    """A check has nothing to work on (e.g. no rows were given); reported as a skip."""


@dataclass(frozen=True)
class _Inserted:
    index: int  # position in the branch of the revision the row was given for
    revision: str
    table: str
    row: dict[str, Any]


class SharedDatabases:
    """A scratch database at every head that the checks which only read one share while this
    holder lives (a test session: :meth:`close` drops it): the upgrade from empty's, when that
    run took the template's order, else one made on first need. Models match and the migrated
    side of a fresh install read it; the checks that change their database make their own."""

    def __init__(self) -> None:
        self._held = contextlib.ExitStack()
        self.at_heads: str | None = None

    def keep(self, held: contextlib.ExitStack, url: str) -> None:
        """Keep the database at ``url`` (``held`` drops it) until :meth:`close`."""
        self._held.enter_context(held.pop_all())
        self.at_heads = url

    def close(self) -> None:
        self.at_heads = None
        self._held.close()


@dataclass
class MigrationChecks:
    """The checks of one plugin's branch, on scratch databases of one kind.

    ``database`` is a kind (``sqlite``, ``postgresql``, ``mysql``: servers from
    ``SCAFFOLD_POSTGRES_URL``/``SCAFFOLD_MYSQL_URL``) or the URL of a server to make scratch
    databases on. ``rows`` and ``expect`` feed :meth:`data_survives`. ``shared``: the databases
    the checks of one session share (the pytest plugin gives one per plugin and database).
    """

    workspace: Workspace
    plugin_name: str | None = None
    database: str = "sqlite"
    rows: RowsByRevision = field(default_factory=dict)
    expect: RowsByRevision = field(default_factory=dict)
    shared: SharedDatabases | None = None

    # --- what the checks work on --------------------------------------------------------------

    @cached_property
    def plugin(self) -> Plugin:
        return self.workspace.plugin(self.plugin_name)

    @property
    def name(self) -> str:
        return self.plugin.name

    @property
    def graph(self) -> Graph:
        return self.workspace.graph

    @cached_property
    def models(self) -> PluginModels:
        return self.workspace.load_models()[self.name]

    @cached_property
    def order(self) -> list[Script]:
        """The plugin's revisions, each after the ones it builds on."""
        return list(reversed(self.graph.revisions_of(self.name)))

    @cached_property
    def other_heads(self) -> list[str]:
        """Heads of the host and of every other plugin: "the plugin never installed"."""
        script = self.workspace.script
        return [
            head
            for head in script.get_heads()
            if self.graph.owner(script.get_revision(head)) != self.name  # type: ignore[arg-type]
        ]

    @cached_property
    def other_rows(self) -> tuple[str, ...]:
        """:attr:`other_heads` as the version rows they leave (one name for one template)."""
        return cached.heads_without(self.workspace, self.name)

    def is_host_table(self, name: str) -> bool:
        return not self.models.owns(name)

    def models_on(self, url: str) -> PluginModels:
        """:attr:`models`, imported (the first time) inside a run of env.py on ``url``, as
        ``revision --autogenerate`` imports them: a host such as Rattail sets its models up in
        env.py (SQLAlchemy-Continuum's versioning), before any module of them may be imported.
        A check that reads the models before it runs env.py calls this first."""
        if "models" not in self.__dict__:
            loaded: dict[str, PluginModels] = {}
            run = functools.partial(
                self.bound(url).run,
                lock=False,
                dont_mutate=True,  # no version table made, no row moved
                before_configure=lambda: loaded.update(self.workspace.load_models()),
            )
            self._run(
                f"importing the models of plugin {self.name} on {self.where(url)}",
                run,
                lambda rev, context: [],
                DatabaseURL.parse(url),
            )
            if self.name in loaded:
                self.__dict__["models"] = loaded[self.name]
        return self.models

    @cached_property
    def reserved(self) -> list[Any]:
        """Every value of the author's rows: no sample row takes one (they are inserted later)."""
        return [
            value
            for data in (self.rows, self.expect)
            for tables in data.values()
            for table_rows in tables.values()
            for row in table_rows
            for value in row.values()
        ]

    @contextlib.contextmanager
    def scratch_database(self) -> Iterator[str]:
        with templates.empty_database(self.database, prefix=f"scaffold_{self.name}") as url:
            yield url

    @contextlib.contextmanager
    def database_at(self, heads: Sequence[str], doing: str) -> Iterator[str]:
        """A scratch database at ``heads``, copied from their template (built on first use:
        an empty database upgraded to them in one run, ``doing`` said if that fails)."""

        def build(url: str) -> None:
            self._run(
                f"{doing} on {self.where(url)}", migrate.upgrade, self.bound(url), tuple(heads)
            )

        with cached.database_at(
            self.workspace,
            self.database,
            heads,
            build,
            prefix=f"scaffold_{self.name}",
            what=f"checks of {self.name}",
        ) as url:
            yield url

    @contextlib.contextmanager
    def prepared(self) -> Iterator[str]:
        """A scratch database at the heads of everything but this plugin, as one run from empty
        leaves it (the host's ``host-init`` run on it, as on a database the host created)."""
        heads = self.other_rows
        doing = f"upgrading to {', '.join(heads)} (every head but {self.name}'s)"
        with self.database_at(heads, doing) as url:
            yield url

    @contextlib.contextmanager
    def at_heads(self, doing: str = "upgrading to heads") -> Iterator[str]:
        """A scratch database at every head, for a check that only reads it: the one
        :attr:`shared` holds, else one at the other heads upgraded to heads (then kept there
        for the next check that only reads one; ``doing`` said if that upgrade fails)."""
        if self.shared is not None and self.shared.at_heads is not None:
            yield self.shared.at_heads
            return
        with contextlib.ExitStack() as held:
            url = held.enter_context(self.prepared())
            self._run(f"{doing} on {self.where(url)}", migrate.upgrade, self.bound(url))
            if self.shared is not None:
                self.shared.keep(held, url)
            yield url

    def bound(self, url: str) -> Workspace:
        """The workspace, on the scratch database at ``url`` (every other setting kept)."""
        return self.workspace.on_scratch(url)

    def where(self, url: str) -> str:
        return f"{kind_of(url)} ({redact(url)})"

    def describe(self, revision: Script) -> str:
        return f"revision {revision.revision} ({_relative(Path(revision.path))})"

    # --- graph hygiene ------------------------------------------------------------------------

    def graph_hygiene(self) -> None:
        """One head, one label (its name, on its root), rooted on the host, every file its own."""
        faults = self.graph_faults()
        if faults:
            raise CheckFailed(f"branch {self.name}: " + "; ".join(faults))

    def graph_faults(self) -> list[str]:
        """The branch rules of ``scaffold check`` (:func:`branch_findings`), as messages."""
        try:
            return [f.message for f in branch_findings(self.workspace, self.plugin)]
        except ScaffoldError as exc:
            return [str(exc)]

    # --- upgrades -----------------------------------------------------------------------------

    def upgrade_to_heads(self) -> None:
        """An empty database upgrades to every head in one run; a failure names the revision.

        A run that took the template's order (every other revision, then the plugin's) leaves
        what :meth:`at_heads` makes: it is kept for the checks that only read one."""
        with contextlib.ExitStack() as held:
            url = held.enter_context(self.scratch_database())
            in_order = self.upgrade_empty_to_heads(url)
            if in_order and self.shared is not None and self.shared.at_heads is None:
                self.shared.keep(held, url)

    def upgrade_empty_to_heads(self, url: str) -> bool:
        """The upgrade phase: one run to every head (no stepping), then where it got to.

        When every revision but the plugin's runs before the plugin's in that run, and their
        template is not cached yet, the run stops there to seed it, then goes on: the same
        revisions in the same order. Returns whether the run took that order.
        """
        ws = self.bound(url)
        doing = f"upgrading an empty database to heads on {self.where(url)}"
        first = cached.first_from_empty(self.workspace, "heads", self.name)
        in_order = first is not None and set(first) == set(self.other_rows)
        # (Whether the template is there first: it is, but for a session's first run.)
        if in_order and cached.can_seed(self.workspace, self.database, self.other_rows):
            self._run(doing, migrate.upgrade, ws, self.other_rows)
            cached.seed(
                self.workspace, self.database, self.other_rows, url, f"checks of {self.name}"
            )
        self._run(doing, migrate.upgrade, ws)
        current = [r.revision for r in ws.current()]
        if not self.graph.at_heads(current):
            raise CheckFailed(
                f"after upgrading to heads on {self.where(url)} the database is at "
                f"{', '.join(current) or 'no revision'}, not at every head"
            )
        return in_order

    def install_alone(self) -> None:
        """``<plugin>@head`` on an empty database brings what the plugin needs, then the plugin."""
        target = f"{self.name}@head"
        first = cached.first_from_empty(self.workspace, target, self.name)
        doing = f"upgrading an empty database to {target} alone"
        if first is not None and set(first) == set(self.other_rows):
            # Every other head first, then the plugin's revisions in one run: what the upgrade
            # from empty ran when it took the template's order, so the database at every head
            # it left (or one made so) is where this run ends. Run again there, it migrates
            # nothing, but still refuses a target Alembic cannot resolve.
            database = self.at_heads(doing)
        elif first is None:
            database = self.scratch_database()
        else:
            database = self.database_at(first, doing)
        with database as url:
            self._run(f"{doing} on {self.where(url)}", migrate.upgrade, self.bound(url), target)
            with engine_for(url) as engine, engine.connect() as connection:
                from sqlalchemy import inspect

                inspector = inspect(connection)
                present = set(inspector.get_table_names())
                for table in sorted(t for t in present if self.models.owns(t)):
                    for fk in inspector.get_foreign_keys(table):
                        if fk["referred_table"] not in present:
                            raise CheckFailed(
                                f"after upgrading an empty database to {target} alone on "
                                f"{self.where(url)}, table {table} has a foreign key to "
                                f"{fk['referred_table']}, which does not exist: the root "
                                f"revision must depend on the host (depends_on = "
                                f"{host_anchor(self.graph)!r})"
                            )

    def _run(self, doing: str, operation: Callable[..., Any], *args: Any) -> None:
        try:
            operation(*args)
        except ScaffoldError as exc:
            raise CheckFailed(f"{doing}: {exc}") from exc

    # --- models -------------------------------------------------------------------------------

    def models_match(self) -> None:
        """Autogenerate finds no difference in the plugin's tables (types, server defaults)."""
        from ..commands.revision import check

        with self.at_heads() as url:
            ws = self.bound(url)
            try:
                result = check(ws, plugin_name=self.name, at_heads=True)
            except ScaffoldError as exc:
                raise CheckFailed(f"comparing models with migrations: {exc}") from exc
            if result.operations:
                head = self.graph.head_of(self.name)
                at = f" (head {head.revision})" if head is not None else ""
                raise CheckFailed(
                    f"the models of plugin {self.name} differ from its migrations{at} on "
                    f"{self.where(url)}: {'; '.join(result.operations)}; {result.hint()}"
                )

    def fresh_install(self) -> None:
        """Tables made from the models, stamped at the head, equal the migrated tables."""
        with self.at_heads() as migrated_url, self.prepared() as created_url:
            created = self.bound(created_url)
            try:
                with engine_for(created_url) as engine, engine.begin() as connection:
                    metadata = self.models.metadata
                    if metadata is not None:
                        metadata.create_all(connection, tables=list(self.models.tables))
            except Exception as exc:  # the driver's or SQLAlchemy's error, in one line
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise CheckFailed(
                    f"creating the tables of plugin {self.name} from its models on "
                    f"{self.where(created_url)} failed: {type(exc).__name__}: {first}"
                ) from exc
            self._run(
                f"stamping heads on {self.where(created_url)}", migrate.stamp, created, "heads"
            )
            found = differences(
                self.snapshot(migrated_url, versions=False),
                self.snapshot(created_url, versions=False),
                gone="only in the migrated database",
                new="only in the one created from the models",
            )
            if found:
                raise CheckFailed(
                    f"tables created from the models of plugin {self.name} (then stamped at "
                    f"its head) differ from its migrated tables on {kind_of(created_url)} "
                    f"(migrated -> created): {'; '.join(found)}"
                )

    # --- every revision, one at a time ---------------------------------------------------------

    def below(self, revision: Script) -> str:
        """The target that undoes ``revision`` alone, while the database is at it.

        ``<id>@-1`` steps back from that revision only: its siblings on a forked branch and the
        host revisions it depends on stay where they are. Alembic finds that ambiguous for a
        merge; there, downgrading to one parent removes the merge alone.
        """
        down = alembic_private.down_revisions(revision)
        return str(down[0]) if len(down) > 1 else f"{revision.revision}@-1"

    def snapshot(self, url: str, *, versions: bool = True) -> Snapshot:
        with engine_for(url) as engine, engine.connect() as connection:
            return reflect(connection, versions=versions)

    def round_trips(self) -> None:
        """Each revision up, down, up: the host untouched, the downgrade a true undo."""
        with self.prepared() as url:
            ws = self.bound(url)
            where = self.where(url)
            before = self.snapshot(url)
            for revision in self.order:
                described = self.describe(revision)
                self._run(f"upgrading on {where}", migrate.upgrade, ws, revision.revision)
                after = self.snapshot(url)
                touched = differences(
                    before.only(self.is_host_table), after.only(self.is_host_table)
                )
                if touched:
                    raise CheckFailed(
                        f"{described} alters host tables on {where}: {'; '.join(touched)}; a "
                        f"plugin never changes a host table (extend it with a side table)"
                    )
                self._run(
                    f"downgrading {described} on {where}",
                    migrate.downgrade,
                    ws,
                    self.below(revision),
                )
                undone = differences(before, self.snapshot(url), gone="missing", new="left behind")
                if undone:
                    raise CheckFailed(
                        f"downgrading {described} on {where} does not undo it: {'; '.join(undone)}"
                    )
                self._run(
                    f"upgrading {described} again on {where}",
                    migrate.upgrade,
                    ws,
                    revision.revision,
                )
                again = differences(after, self.snapshot(url))
                if again:
                    raise CheckFailed(
                        f"upgrading {described} again after its downgrade on {where} gives a "
                        f"different database: {'; '.join(again)}"
                    )
                before = after

    # --- uninstall ----------------------------------------------------------------------------

    def uninstall(self) -> None:
        """``downgrade <plugin>@base`` leaves the database as if the plugin was never installed."""
        target = f"{self.name}@base"
        with self.prepared() as url, engine_for(url) as engine:
            where = self.where(url)
            ws = self.bound(url)
            self.models_on(url)

            def host_rows() -> dict[str, list[dict[str, Any]]]:
                with engine.connect() as connection:
                    return contents(connection, host_tables)

            host_tables = _fill_every_table(engine, self.is_host_table, self.reserved)
            before, rows_before = self.snapshot(url), host_rows()
            # One revision at a time, so that a change to host rows names its revision.
            for revision in self.order:
                described = self.describe(revision)
                self._run(
                    f"installing {described} on {where}", migrate.upgrade, ws, revision.revision
                )
                changed = row_differences(rows_before, host_rows())
                if changed:
                    raise CheckFailed(
                        f"installing plugin {self.name} on {where}: {described} changes "
                        f"rows of host tables: {'; '.join(changed)}; a plugin never "
                        "changes a host table's rows"
                    )
            # Every revision of the plugin on every other head: the database is at heads.
            # Plugin rows may bring new host rows (the parents they refer to): those stay.
            _fill_every_table(engine, self.models.owns, self.reserved)
            rows_installed = host_rows()
            self._run(f"downgrading {target} on {where}", migrate.downgrade, ws, target)
            after = self.snapshot(url)
            faults = differences(before, after, gone="missing", new="left behind")
            lost: list[str] = []
            if set(host_tables) <= set(after.tables):
                lost = row_differences(rows_installed, host_rows())
        if lost:
            culprit = self._losing_rows()
            faults += [f"{line}, by the downgrade of {culprit}" for line in lost]
        if faults:
            raise CheckFailed(
                f"uninstalling plugin {self.name} (downgrade {target}) on {where} does not give "
                f"back the database it was installed on: {'; '.join(faults)}"
            )

    def _losing_rows(self) -> str:
        """The revision whose downgrade changes host rows, found one revision at a time."""
        with self.prepared() as url, engine_for(url) as engine:
            ws = self.bound(url)
            try:
                self.models_on(url)
                host_tables = _fill_every_table(engine, self.is_host_table, self.reserved)
                migrate.upgrade(ws, "heads")
                _fill_every_table(engine, self.models.owns, self.reserved)

                def host_rows() -> dict[str, list[dict[str, Any]]]:
                    with engine.connect() as connection:
                        return contents(connection, host_tables)

                installed = host_rows()
                for revision in reversed(self.order):
                    migrate.downgrade(ws, self.below(revision))
                    if row_differences(installed, host_rows()):
                        return self.describe(revision)
            except Exception:  # the search is a courtesy: the fault is reported either way
                pass
        return f"a revision of plugin {self.name}"

    # --- data -----------------------------------------------------------------------------------

    def data_survives(self) -> None:
        """Rows given for a revision survive every later revision and a round trip of each."""
        given = self._by_index(self.rows, "rows")
        expected = self._by_index(self.expect, "expect")
        if not given:
            raise NothingToCheck(
                f"no rows given for the revisions of {self.name} (see docs/testing.md, "
                "'Rows that must survive')"
            )
        with self.prepared() as url, engine_for(url) as engine:
            where = self.where(url)
            ws = self.bound(url)
            inserted: list[_Inserted] = []
            for index, revision in enumerate(self.order):
                described = self.describe(revision)
                if inserted:
                    holding = ", ".join(sorted({i.revision for i in inserted}))
                    self._run(
                        f"with the rows given for {holding} in place, upgrading on {where}",
                        migrate.upgrade,
                        ws,
                        revision.revision,
                    )
                    self._verify(engine, index, inserted, expected, f"{described}", where)
                    self._run(
                        f"with rows in place, downgrading {described} on {where}",
                        migrate.downgrade,
                        ws,
                        self.below(revision),
                    )
                    self._verify(
                        engine, index - 1, inserted, expected, f"downgrading {described}", where
                    )
                    self._run(
                        f"with rows in place, upgrading {described} again on {where}",
                        migrate.upgrade,
                        ws,
                        revision.revision,
                    )
                    self._verify(
                        engine, index, inserted, expected, f"upgrading {described} again", where
                    )
                else:
                    self._run(f"upgrading on {where}", migrate.upgrade, ws, revision.revision)
                for table, table_rows in given.get(index, {}).items():
                    for row in table_rows:
                        inserted.append(
                            _Inserted(
                                index,
                                revision.revision,
                                table,
                                self._insert(engine, table, row, revision, where),
                            )
                        )

    def _by_index(
        self, data: RowsByRevision, attribute: str
    ) -> dict[int, Mapping[str, Sequence[Mapping[str, Any]]]]:
        """``data`` keyed by the position of its revision in the branch (ids may be prefixes)."""
        found: dict[int, Mapping[str, Sequence[Mapping[str, Any]]]] = {}
        for key, tables in data.items():
            matches = [i for i, r in enumerate(self.order) if r.revision.startswith(key)]
            if len(matches) != 1:
                known = ", ".join(r.revision for r in self.order)
                raise ConfigError(
                    f"{attribute}: {key!r} is {'no' if not matches else 'more than one'} revision "
                    f"of plugin {self.name} (its revisions: {known})"
                )
            found[matches[0]] = tables
        return found

    def _insert(
        self, engine: Any, table: str, row: Mapping[str, Any], revision: Script, where: str
    ) -> dict[str, Any]:
        try:
            with engine.begin() as connection:
                return rows_mod.insert(connection, table, row, reserved=self.reserved)
        except Exception as exc:  # the driver's own error, said in one line
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckFailed(
                f"the row given for {self.describe(revision)} in table {table} cannot be "
                f"inserted on {where}: {rows_mod.shown(row)}: {text}"
            ) from exc

    def _verify(
        self,
        engine: Any,
        index: int,
        inserted: list[_Inserted],
        expected: dict[int, Mapping[str, Sequence[Mapping[str, Any]]]],
        after: str,
        where: str,
    ) -> None:
        """The rows that must be there when the database is at position ``index`` are there."""
        from sqlalchemy import inspect

        wanted: list[tuple[str, str, Mapping[str, Any]]] = []
        replaced: dict[str, int] = {}
        for at in sorted(i for i in expected if i <= index):
            for table, table_rows in expected[at].items():
                replaced[table] = at
                wanted = [w for w in wanted if w[1] != table]
                origin = f"expect[{self.order[at].revision!r}]"
                wanted += [(origin, table, row) for row in table_rows]
        for item in inserted:
            if item.index <= index and item.index >= replaced.get(item.table, -1):
                wanted.append((f"the row given for revision {item.revision}", item.table, item.row))
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            tables: dict[str, Any] = {}
            for origin, table, row in wanted:
                if table not in present:
                    raise CheckFailed(
                        f"after {after} on {where}, table {table} is gone, with {origin}; if "
                        f"that is intended, say what remains in expect"
                    )
                if table not in tables:
                    tables[table] = rows_mod.reflect_table(connection, table)
                if not rows_mod.find(connection, tables[table], row):
                    raise CheckFailed(
                        f"after {after} on {where}, table {table} lost {origin}: "
                        f"{rows_mod.shown(row)}"
                    )


def _fill_every_table(
    engine: Any, keep: Callable[[str], bool], reserved: Sequence[Any] = ()
) -> list[str]:
    """Insert one sample row into each table ``keep`` accepts (where one can be made)."""
    with engine.connect() as connection:
        tables = reflected_tables(connection, lambda name: keep(name) and name != VERSION_TABLE)
    rows_mod.fill(engine, tables, reserved)
    return [t.name for t in tables]
