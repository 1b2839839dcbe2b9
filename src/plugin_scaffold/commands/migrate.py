"""``scaffold upgrade``, ``downgrade`` and ``stamp``: a workspace's database moved along its graph.

Each is one function as ``alembic.command`` would write it: plan from the graph, define the
small migration callback, and run the host's env.py with it (:meth:`Workspace.run`), under the
migration lock. Host revisions run before plugin revisions; version rows no revision has are
left as they are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import alembic_private
from ..databases import waits
from ..databases.urls import DatabaseURL, redact
from ..databases.versiontable import VersionTable
from ..databases.waits import LockTrace
from ..errors import ScaffoldError, UsageError
from ..graph import orphans
from ..graph.revisions import Graph
from ..graph.sources import commits_midway
from ..host.environment import no_such_revision, unknown_revision
from ..host.kinds import HostInit
from .progress import ProgressLine, revision_text
from .workspace import Workspace

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext


@dataclass
class Migrated:
    """What an upgrade or downgrade did: how many revisions ran, and the databases (as they
    may be printed) on which the host's ``host-init`` ran; with ``trace_locks``, the locks
    each revision took (:class:`LockTrace`)."""

    count: int
    initialised: list[str] = field(default_factory=list)
    trace: LockTrace | None = None


def upgrade(
    ws: Workspace,
    target: str | tuple[str, ...] = "heads",
    *,
    plugin: str | None = None,
    sql: bool = False,
    url: DatabaseURL | None = None,
    progress: bool = False,
    before_configure: Callable[[], None] | None = None,
    lock_timeout: float | None = None,
    trace_locks: bool = False,
) -> Migrated:
    """Upgrade to ``target`` (Alembic's words: ``heads``, ``NAME@head``, a revision...; or
    several revisions at once, a tuple).

    Returns what ran: how many revisions were applied (0: the database was already there, e.g.
    a concurrent run that held the migration lock applied them).

    ``plugin``: install that plugin, target ``NAME@head``.

    The steps are the ones Alembic plans for ``target``, in an order that runs host
    revisions before plugin revisions (see :meth:`Graph.host_first`). When plugin revisions
    are to run, the host branches they depend on are brought to their heads first (see
    :meth:`Graph.host_branches_needed`): ``NAME@head`` on an empty database installs the
    host as the plugin's models know it, then the plugin.

    ``progress``: show the progress line of a long run on a terminal (progress.py).
    ``before_configure``: see :meth:`Workspace.run`. ``lock_timeout``: seconds a statement
    may wait for a lock (waits.py). ``trace_locks``: run the upgrade on PostgreSQL in a
    transaction that is rolled back, reading the locks each revision takes (``traced``).

    With ``sql``, the SQL is printed for a database at the start of ``START:END``, else,
    for ``plugin``, at every head but that plugin's (it is being installed), else empty.

    On an empty database (no row in the version table) the host's ``host-init`` runs once
    every host head is applied, in the run's transaction, before any plugin revision planned
    after it (see :class:`HostInitRun`); a plan that installs a plugin then brings every
    host head, so that the function finds the host it was written for.
    """
    graph = ws.graph
    if plugin is not None:
        graph.require_branch(plugin)
        target = f"{plugin}@head"
    init = HostInitRun(ws.host.init, graph) if ws.host.init is not None else None
    steps = upgrade_steps(ws, init)
    offline_start = graph.rows_at_heads(without=plugin) if plugin is not None else ()
    return _migrate(
        ws,
        steps,
        target,
        sql,
        url,
        offline_start=offline_start,
        verb="upgrading",
        init=init,
        progress=progress,
        before_configure=before_configure,
        lock_timeout=lock_timeout,
        trace_locks=trace_locks,
    )


def upgrade_scratch(
    ws: Workspace,
    made: str,
    *,
    target: str | tuple[str, ...],
    why: str,
    before: Callable[[], None] | None = None,
) -> None:
    """Upgrade the scratch database ``made`` to ``target``; a failure says ``why`` a scratch
    database was upgraded (``{kind}`` in it: the database's kind). ``before``: see
    :meth:`Workspace.run`'s ``before_configure``."""
    url = DatabaseURL.parse(made)
    try:
        upgrade(ws.on_scratch(url), target, before_configure=before)
    except ScaffoldError as exc:
        raise type(exc)(f"{exc}; {why.format(kind=url.kind)}") from None


def upgrade_steps(ws: Workspace, init: HostInitRun | None) -> Callable[[Any, Any], list[Any]]:
    """The steps of an upgrade towards a destination from the rows Alembic is shown, in the
    order they run (see :func:`upgrade`)."""
    script = ws.script
    graph = ws.graph
    run = alembic_private.step_revision

    def steps(destination: str | tuple[str, ...], rev: Any) -> list[Any]:
        planned = alembic_private.upgrade_plan(script, destination, rev)
        # "heads" already plans every head; any other target may stop a host branch short.
        if destination != "heads":
            needed = graph.host_branches_needed([run(step) for step in planned])
            if init is not None and init.armed and needed:
                needed = graph.host_heads  # a fresh host gets its init: all of the host
            planned_ids = {run(step).revision for step in planned}
            current = set(rev or ())
            for head in needed:
                # A head the database is at has nothing to plan (and planning it walks the
                # whole graph below it).
                if head not in planned_ids and head not in current:
                    more = alembic_private.upgrade_plan(script, head, rev)
                    planned += [s for s in more if run(s).revision not in planned_ids]
                    planned_ids |= {run(s).revision for s in more}
        by_id = {run(step).revision: step for step in planned}
        return [by_id[r.revision] for r in graph.host_first([run(s) for s in planned])]

    return steps


def downgrade_steps(ws: Workspace) -> Callable[[Any, Any], list[Any]]:
    script = ws.script
    return lambda destination, rev: alembic_private.downgrade_plan(script, destination, rev)


def downgrade(
    ws: Workspace,
    target: str | None = None,
    *,
    plugin: str | None = None,
    sql: bool = False,
    url: DatabaseURL | None = None,
    progress: bool = False,
    lock_timeout: float | None = None,
) -> Migrated:
    """Downgrade to ``target``, or remove ``plugin`` (its branch to ``NAME@base``).

    Returns how many revisions were undone.

    With ``sql``, the SQL is printed for a database at the start of ``START:END``, else at
    every head (what ``scaffold upgrade`` leaves).
    """
    target = command_target(
        ws, target, plugin, "base", noun="TARGET", missing="downgrade needs a TARGET revision"
    )
    return _migrate(
        ws,
        downgrade_steps(ws),
        target,
        sql,
        url,
        offline_start=ws.graph.rows_at_heads() if sql else (),
        verb="downgrading",
        progress=progress,
        lock_timeout=lock_timeout,
    )


def stamp(
    ws: Workspace,
    target: str | None = None,
    *,
    plugin: str | None = None,
    purge: bool = False,
    url: DatabaseURL | None = None,
    before: Callable[[Any, MigrationContext], None] | None = None,
) -> RowChange:
    """Alembic's ``stamp``: set the version rows to ``target`` without running a revision.

    Only the rows of the branches ``target`` names or moves change (see
    :meth:`Graph.stamped`); rows no revision here has (orphans) are never touched.
    ``plugin``: stamp that plugin's branch at its head (``NAME@head``). ``purge``: with
    ``plugin``, that plugin's rows are removed first; else the whole table is emptied
    first, as Alembic's ``--purge`` does (rows of unknown revisions included).
    ``before``: called with the database's rows and the context once the migration lock
    is held, before anything is written; it raises to stamp nothing.

    Returns the rows removed and added, under the migration lock, in one transaction.
    """
    target = command_target(
        ws, target, plugin, "head", noun="REVISION", missing="stamp needs a REVISION"
    )
    graph = ws.graph
    targets, cleared = _stamp_targets(ws, target)
    if purge and plugin is not None:
        cleared |= {r.revision for r in graph.revisions_of(plugin)}
    change = RowChange()

    def fn(rev: Any, context: MigrationContext) -> list[Any]:
        if before is not None:
            before(rev, context)
        connection = context.connection
        assert connection is not None  # stamp never runs offline
        table = VersionTable.of(context)
        known = tuple(rev)
        removed: list[str] = []
        if purge and plugin is None:  # Alembic's --purge: every row goes, unknown ones too
            removed = table.rows(connection)
            known = ()
        try:
            rows = graph.stamped(known, targets, cleared=cleared)
        except UsageError as exc:
            raise UsageError(f"stamp {target}: {exc}; nothing changed") from None
        removed += [r for r in known if r not in rows]
        added = [r for r in rows if r not in known]
        with alembic_private.step_transaction(context):
            table.delete(connection, removed)
            table.insert(connection, added)
        change.removed += [r for r in removed if r not in added]
        change.added += [r for r in added if r not in removed]
        return []

    # Under the migration lock, like an upgrade.
    ws.run(fn, url, destination_rev=target)
    return change


def _stamp_targets(ws: Workspace, target: str) -> tuple[list[str], set[str]]:
    """The revisions ``target`` names, and the revisions it unrecords (``base``: every
    revision; ``LABEL@base``: that branch's)."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    graph = ws.graph
    if target == "base":
        return [], {r.revision for r in graph.revisions}
    if target.endswith("@base"):
        label = target.removesuffix("@base")
        members = graph.branch_members(label)
        if not members:
            raise UsageError(f"stamp {target}: no branch labelled {label!r} (scaffold branches)")
        return [], set(members)
    try:
        found = [r.revision for r in ws.script.get_revisions(target) if r is not None]
    except (CommandError, RevisionError) as exc:
        missing = unknown_revision(exc)
        if missing is not None:
            raise UsageError(no_such_revision(missing)) from None
        raise UsageError(str(exc).splitlines()[0]) from None
    return found, set()


def command_target(
    ws: Workspace, target: str | None, plugin: str | None, end: str, *, noun: str, missing: str
) -> str:
    """A command's target: the one given, or ``NAME@<end>`` of ``--plugin NAME``."""
    if plugin is not None:
        if target is not None:
            raise UsageError(f"give a {noun} or --plugin, not both")
        ws.graph.require_branch(plugin)
        return f"{plugin}@{end}"
    if target is None:
        raise UsageError(f"{missing} or --plugin NAME")
    return target


def _migrate(
    ws: Workspace,
    steps: Callable[[Any, Any], Any],
    target: str | tuple[str, ...],
    sql: bool,
    url: DatabaseURL | None,
    *,
    offline_start: tuple[str, ...],
    verb: str,
    init: HostInitRun | None = None,
    progress: bool = False,
    before_configure: Callable[[], None] | None = None,
    lock_timeout: float | None = None,
    trace_locks: bool = False,
) -> Migrated:
    """Run env.py with ``steps`` towards ``target`` (``START:END`` only with --sql).

    Returns how many steps ran (and where ``init`` ran): the steps are planned from the
    version rows read once the migration lock is held, so a run that waited for another finds
    nothing left to do.

    Offline, Alembic knows of the database only the revisions it is told to start from, and
    writes its ``alembic_version`` statements for a database holding exactly those rows.
    Told only the start of one branch, it UPDATEs a host row where the online command
    INSERTs or DELETEs a plugin's row. So it is told every row the database is taken to
    hold (``offline_start``, or the range's START: several revisions, comma-separated, or
    ``heads``), and the printed SQL says which.

    ``verb`` (``upgrading``) begins the progress line (shown with ``progress``). ``init``:
    the host's ``host-init``, run when the database starts empty (see :class:`HostInitRun`).
    ``trace_locks``: read the locks of each revision, and roll the run back (see
    :func:`_traced`).
    """
    starting = offline_start
    if isinstance(target, str) and ":" in target:
        if not sql:
            raise UsageError("a range start:end is only allowed with --sql")
        start, target = target.split(":", 1)
        starting = _rows_for(ws, start)
    counted = [0]
    initialised: list[str] = []
    trace = LockTrace() if trace_locks else None
    result = Migrated(0, initialised, trace)

    def fn(rev: Any, context: MigrationContext) -> Any:
        if sql:
            held = ", ".join(starting) if starting else "no row (an empty database)"
            context.impl.static_output(
                f"-- scaffold: SQL for a database whose alembic_version holds {held}"
            )
        elif ws.unknown.rows:
            # Refused: the error alone says it; else the warning, once, as elsewhere.
            found = orphans.survey(context, ws.revision_ids, ws.plugins, count=False)
            orphans.check_safe(ws.graph, rev, found)
            if warn:
                ws.warn(orphans.warning(ws.unknown.rows))
        if init is not None:
            init.start(rev, context)
        planned = list(steps(target, rev))
        if trace is not None:
            planned = _traced(ws, context, trace, planned)
        counted[0] += len(planned)  # env.py may migrate several databases (multidb)
        line.planned(len(planned))
        return planned

    line = ProgressLine(
        verb,
        lambda revision: revision_text(ws.graph, revision),
        enabled=progress and not sql,
    )

    def applied(**kw: Any) -> None:
        if line.enabled:
            line.applied(**kw)
        if init is not None and init.applied(**kw):
            initialised.append(redact(kw["ctx"].connection.engine.url))
        if trace is not None:
            trace.applied(**kw)

    warn = ws.warn_orphans
    with line, _lock_timeout_explained(ws, url, lock_timeout):
        ws.run(
            fn,
            url,
            as_sql=sql,
            starting_rev=(starting or None) if sql else None,
            destination_rev=target,
            on_applied=applied if line.enabled or init or trace else None,
            before_configure=before_configure,
            warn_orphans=False,  # fn says it, once
            lock_timeout=lock_timeout,
            commit=trace is None,
        )
    result.count = counted[0]
    return result


@contextlib.contextmanager
def _lock_timeout_explained(
    ws: Workspace, url: DatabaseURL | None, lock_timeout: float | None
) -> Iterator[None]:
    """A run that gave up waiting for a lock says for which table, and who held it."""
    try:
        yield
    except ScaffoldError as exc:
        url = url or ws.url
        if lock_timeout is None or url is None or not waits.is_lock_timeout(exc):
            raise
        why = waits.explain(exc, ws.host.connection_url(url), lock_timeout)
        raise type(exc)(f"{exc}{why}") from exc


def _traced(
    ws: Workspace,
    context: MigrationContext,
    trace: LockTrace,
    planned: list[Any],
) -> list[Any]:
    """Start reading locks on the run's connection; the steps that can be traced.

    The run is rolled back at its end, so it must be the connection scaffold handed env.py,
    on PostgreSQL (MariaDB commits each DDL statement). A revision that commits midway
    (``autocommit_block``) cannot be traced: the trace stops before it.
    """
    handed = context.config.attributes.get("connection") if context.config else None
    if context.dialect.name != "postgresql":
        raise UsageError(
            "--trace-locks reads PostgreSQL's pg_locks in a run that is rolled back: on "
            f"{context.dialect.name}, use --plan and --sql instead"
        )
    connection = context.connection
    if connection is None or handed is not connection:
        raise UsageError(
            "--trace-locks: host env.py migrates on a connection of its own, which scaffold "
            "cannot roll back; nothing was run (env.py should use "
            "config.attributes['connection'] when it is there)"
        )
    assert connection is not None  # for mypy, which does not narrow through "is not"
    trace.start(connection)
    models = ws.load_models()
    trace.host_tables = {
        table
        for table in trace.before
        if table != trace.ignored and not any(m.owns(table) for m in models.values())
    }
    for number, step in enumerate(planned):
        revision = alembic_private.step_revision(step)
        if commits_midway(Path(revision.path)):
            trace.stopped_before = revision.revision
            return planned[:number]
    return planned


def _rows_for(ws: Workspace, start: str) -> tuple[str, ...]:
    """The version rows meant by a range's START (``base``, ``heads``, revisions a,b)."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    names = [n.strip() for n in start.split(",") if n.strip() not in ("", "base")]
    try:
        found = [r for n in names for r in ws.script.get_revisions(n) if r is not None]
    except (CommandError, RevisionError) as exc:
        raise UsageError(str(exc).splitlines()[0]) from None
    return ws.graph.version_rows(r.revision for r in found)


@dataclass
class RowChange:
    """The rows a command removed from and added to the version table."""

    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


@dataclass
class HostInitRun:
    """The host's ``host-init`` in one upgrade run.

    Armed when the run starts on an empty version table (a fresh database, as ``gmg dbupdate``
    tells one: no version table yet); then run once, right after the step that applies the last
    host head: inside the run's transaction, before any plugin revision after it. A run that
    stops the host short of a head does not run it, nor does a later one (the database is not
    fresh any more); nor does ``--sql``, which has no connection to hand it.
    """

    init: HostInit
    graph: Graph
    armed: bool = False
    done: bool = False

    def start(self, rows: Any, context: MigrationContext) -> None:
        """Called before the run's plan is made, with the rows Alembic is shown."""
        from alembic.runtime.migration import MigrationContext

        if rows:
            return
        if context.as_sql:
            context.impl.static_output(
                f"-- scaffold: host-init {self.init.spec} is not in this SQL: it runs only "
                "online (scaffold upgrade on the empty database)"
            )
            return
        # Every row, those scaffold hides from Alembic included (orphans.py): run_env wraps the
        # context's own get_current_heads to hide them.
        self.armed = not MigrationContext.get_current_heads(context)
        if self.armed:
            self.init.function  # noqa: B018  (an import error stops the run before it writes)

    def applied(self, *, ctx: MigrationContext, heads: set[str], **_: Any) -> bool:
        """Alembic's ``on_version_apply``: run the function once the host is at its heads.

        True when it ran.
        """
        if not self.armed or self.done:
            return False
        if not set(self.graph.host_heads) <= self.graph.applied(heads):
            return False
        self.done = True
        connection = ctx.connection
        assert connection is not None  # armed only online
        self.init.run(connection, ctx.config)
        return True
