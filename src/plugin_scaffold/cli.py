"""The ``scaffold`` command: parses arguments, calls the core, prints; holds no migration logic.

Heavy modules (Alembic, SQLAlchemy, copier) are imported inside the commands, so that
``scaffold --help`` starts as fast as ``alembic --help``.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from .errors import ScaffoldError

if TYPE_CHECKING:
    from .commands.migrate import RowChange
    from .commands.workspace import Workspace
    from .databases.waits import LockTrace

Handler = Callable[[argparse.Namespace], int]


def _workspace(args: argparse.Namespace, *, warn_orphans: bool = True) -> Workspace:
    """The workspace of a command; ``warn_orphans=False`` for those that report orphans
    themselves."""
    from .commands.workspace import Workspace
    from .errors import UsageError

    if args.url is not None and not args.url.strip():
        raise UsageError("--url is empty: give a database URL, or leave --url out")
    return Workspace.open(
        config=args.config,
        url=args.url,
        x_args=args.x,
        host_config=args.host_config,
        warn_orphans=warn_orphans,
    )


def _say(text: str) -> None:
    print(text, flush=True)


def _new_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="plugin name: a lowercase Python identifier, also its branch label")
    p.add_argument("dest", nargs="?", help="folder to create (default: ./NAME)")
    p.add_argument(
        "-d",
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="answer a template question, e.g. -d host_branch=core",
    )


def cmd_new(args: argparse.Namespace) -> int:
    import shlex

    from .plugin.template import host_to_install, render_plugin

    answers = dict(_pairs(args.data))
    answers["plugin_name"] = args.name
    dest = Path(args.dest or args.name)
    render_plugin(dest, answers)
    _say(f"created plugin {args.name} in {dest}")
    host = host_to_install(dest)
    if host:  # scaffold upgrade would stop: "cannot import package ..."
        install = " ".join(shlex.quote(requirement) for requirement in host)
        _say(f"next: pip install {install}  # the host, which scaffold imports")
    _say(f"next: cd {shlex.quote(str(dest))} && scaffold upgrade")
    return 0


def _pairs(items: Sequence[str]) -> list[tuple[str, str]]:
    from .errors import UsageError

    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--data takes KEY=VALUE, not {item!r}")
        pairs.append((key, value))
    return pairs


def _wire_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="plugin name (default: this project's plugin)")


def cmd_wire(args: argparse.Namespace) -> int:
    from .host import wiring

    ws = _workspace(args)
    plugin = ws.plugin(args.name)
    change = wiring.wire(ws.host, plugin.name, plugin.package, plugin.migrations)
    if change.changed:
        _say(f"wired {plugin.name}: " + ", ".join(str(p) for p in change.changed))
    elif not change.left_alone:
        _say(f"{plugin.name} is already wired into {change.config or ws.host.described_as}")
    for path in change.left_alone:
        _say(
            f"not edited: {path} belongs to an installed package; plain `alembic revision "
            f"--autogenerate` imports {plugin.models_module} only if the host loads it "
            "(scaffold imports it itself)"
        )
    factory = ws.host.factory
    if factory is not None and wiring.factory_overrides(ws.host, plugin.migrations):
        print(
            f"scaffold: warning: config factory {factory.spec} sets version_locations itself "
            f"and leaves out {ws.host.toml_path or ws.host.ini_path}'s: the host's own tool "
            f"sees {plugin.name}'s revisions only where the host's config enables the plugin "
            "(MediaGoblin: mediagoblin.ini's [plugins]); scaffold finds them itself",
            file=sys.stderr,
            flush=True,
        )
    if not wiring.importable(ws.host, plugin.package):
        tool = "flask db" if ws.host.flask is not None else "alembic"
        print(
            f"scaffold: warning: {plugin.package} is not importable in "
            f"{wiring.host_folder(ws.host)} without scaffold: install the plugin into the "
            f"host's environment (pip install -e <plugin project>), or plain {tool} there fails",
            file=sys.stderr,
            flush=True,
        )
    return 0


def _unwire_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="plugin name")


def cmd_unwire(args: argparse.Namespace) -> int:
    from .host import wiring

    ws = _workspace(args)
    known = {p.name: p.package for p in ws.plugins}
    change = wiring.unwire(ws.host, args.name, known.get(args.name))
    if change.changed:
        _say(f"unwired {args.name}: " + ", ".join(str(p) for p in change.changed))
    elif not change.left_alone and not change.left_behind:
        if args.name not in known:  # a typo, not a plugin unwired twice
            from .errors import PluginError, unknown_plugin

            found = f" (found: {', '.join(known) or 'none'})"
            raise PluginError(
                unknown_plugin(args.name, known, f" is wired into {change.config} or found{found}")
            )
        _say(f"{args.name} is not wired into {change.config}")
    for path in change.left_alone:
        _say(f"not edited: {path} belongs to an installed package")
    for line in change.left_behind:
        _say(f"left behind (edited by hand since wire; remove it yourself): {line}")
    return 1 if change.left_behind else 0


#: Where scaffold looks for plugins, said when it finds none.
NO_PLUGINS = "no plugins found (a plugin project, an installed entry point, or a wired plugin)"


def cmd_plugins(args: argparse.Namespace) -> int:
    ws = _workspace(args, warn_orphans=False)  # _orphans lists them
    if not ws.plugins:
        _say(NO_PLUGINS)
    graph = ws.graph
    for plugin in ws.plugins:
        revisions = graph.revisions_of(plugin.name)
        heads = ", ".join(h.revision for h in graph.heads_of(plugin.name)) or "no revision"
        _say(
            f"{plugin.name}  ({plugin.source}; package {plugin.package}; "
            f"{len(revisions)} revision{'s' if len(revisions) != 1 else ''}; head {heads})"
        )
        if args.verbose:
            _say(f"    migrations: {plugin.migrations}")
    _orphans(ws)
    return 0


def _orphans(ws: Workspace) -> None:
    """What removed plugins left in the database (``scaffold plugins``' second part)."""
    from .commands import forget

    found, unread = forget.try_survey(ws)
    if found is None:
        ws.warn(unread or "the database could not be read")
        return
    for orphan in found.orphans():
        tables = ", ".join(f"{t} ({n} row{'s' * (n != 1)})" for t, n in orphan.tables.items())
        tables = tables or "no table"
        rows = ", ".join(orphan.revisions) or "no row"
        if orphan.name is not None:
            hint = "" if found.paired else " --revision ID (rows and prefixes cannot be paired)"
            _say(
                f"{orphan.name}  (orphaned: its code is not found; alembic_version {rows}; "
                f"tables {tables}; remove with scaffold forget {orphan.name}{hint})"
            )
        else:
            _say(
                f"orphaned revision {rows} in alembic_version: no configured folder has it and "
                f"no table prefix goes with it; remove with scaffold forget --revision {rows}"
                if found.paired
                else f"orphaned revision {rows} in alembic_version: whose it was cannot be "
                f"told; remove with scaffold forget NAME --revision {rows}"
            )


def _forget_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "name", nargs="?", metavar="NAME", help="the orphan: its table prefix (scaffold plugins)"
    )
    p.add_argument(
        "--revision",
        action="append",
        default=[],
        metavar="ID",
        help="the unknown alembic_version row to remove (repeat for several)",
    )
    p.add_argument(
        "--drop-tables", action="store_true", help="drop NAME's tables too, rows and all"
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def cmd_forget(args: argparse.Namespace) -> int:
    from .commands import forget
    from .errors import UsageError

    if args.name is None and not args.revision:
        raise UsageError("forget needs a NAME (see scaffold plugins) or --revision ID")
    ws = _workspace(args, warn_orphans=False)
    if ws.url is None:
        raise UsageError("forget needs the database: pass --url or set sqlalchemy.url")
    what = args.name or ", ".join(args.revision)
    gone = f"nothing to forget: {what} is gone already (another run forgot it)"
    waited: list[bool] = []
    # Read under the migration lock: a forget of the same plugin running at once is either
    # done (and this run waited for it) or not begun.
    found = forget.survey_database(
        ws, references=args.drop_tables, lock=True, on_wait=lambda: waited.append(True)
    )
    try:
        wanted = forget.plan(ws, found, args.name, args.revision, args.drop_tables)
    except forget.NothingToForget as nothing:
        # Done already: by the run this one waited for, or by an earlier one (a script that
        # forgets on every deploy exits 0 each time).
        _say(gone if waited else str(nothing))
        return 0
    _say(f"forget {what} in {_database(ws)}:")
    for line in wanted.lines(args.drop_tables):
        _say(f"  {line}")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("forget changes the database: answer on a terminal, or pass --yes")
        if input("go ahead? [y/N] ").strip().lower() not in ("y", "yes"):
            _say("nothing done")
            return 1
    done = forget.forget(ws, wanted, drop=args.drop_tables)
    if not done.revisions and not done.tables:
        _say(gone)
        return 0
    said = [f"removed row {r}" for r in done.revisions] + [f"dropped {t}" for t in done.tables]
    _say(f"forgot {what}: " + ", ".join(said))
    return 0


def _revision_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--message", help="message of the revision")
    p.add_argument(
        "--autogenerate",
        action="store_true",
        help="compare the models with the migrations; only the plugin's own tables",
    )
    p.add_argument("--plugin", metavar="NAME", help="plugin (default: this project's)")
    p.add_argument(
        "--host",
        action="store_true",
        help="the host's next revision instead, in the host's versions folder, with only the "
        "tables no plugin owns (for host developers once plugins are wired)",
    )
    p.add_argument("--rev-id", help="revision id to use instead of a generated one")


def cmd_revision(args: argparse.Namespace) -> int:
    from .commands.revision import revision
    from .errors import UsageError

    if args.host and args.plugin:
        raise UsageError("give --host or --plugin NAME, not both")
    ws = _workspace(args)
    _plugin_or_host(ws, args)
    result = revision(
        ws,
        plugin_name=args.plugin,
        message=args.message,
        autogenerate=args.autogenerate,
        rev_id=args.rev_id,
        host=args.host,
    )
    whose = "the host's" if args.host else "the plugin's"
    if result.left_out:
        owner = "that plugins own" if args.host else "the plugin does not own"
        _say(
            f"left out {len(result.left_out)} change(s) to tables {owner}: "
            + "; ".join(result.left_out)
        )
    if result.path is None:
        _say(f"no changes in {whose} tables; no revision written")
        return 0
    for line in result.operations:
        _say(f"  {line}")
    _say(f"wrote {result.path}")
    for dropped in result.dropped:
        held = (
            f"holding {dropped.rows} row(s) in {_database(ws)}"
            if result.compared_with == "database" and dropped.rows is not None
            else "compared with a scratch database: your rows were not counted"
        )
        print(
            f"scaffold: warning: the revision drops {dropped} ({held}); if its model is "
            "missing, add it and delete the revision",
            file=sys.stderr,
            flush=True,
        )
    return 0


def _plugin_or_host(ws: Workspace, args: argparse.Namespace) -> None:
    """Outside a plugin project, with no plugin to take for granted: say where ``revision``
    (a plugin's next revision, or with --host the host's) is meant to run."""
    from .errors import UsageError

    if args.host or args.plugin is not None or ws.project is not None or len(ws.plugins) == 1:
        return
    where = f"no plugin project in {Path.cwd()}"
    host = "--host for the host's own revision"
    if not ws.plugins:
        raise UsageError(
            f"{where} and no plugin found: run scaffold revision inside a plugin project, or "
            f"pass {host}"
        )
    found = ", ".join(p.name for p in ws.plugins)
    raise UsageError(
        f"{where}: run scaffold revision inside a plugin project, or pass --plugin NAME "
        f"({found}), or {host}"
    )


def _check_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plugin", metavar="NAME", help="plugin (default: this project's)")
    p.add_argument("--all", action="store_true", help="every plugin found")
    p.add_argument("--json", action="store_true", help="print the findings as JSON, only that")
    p.add_argument(
        "--models",
        action="store_true",
        help="also compare the models with the migrations (needs a database: --url, or a "
        "scratch one; on whenever --url is given)",
    )
    p.add_argument(
        "--wheel",
        metavar="PATH",
        help="the plugin's built wheel to check (default: the newest in the project's dist/)",
    )


def cmd_check(args: argparse.Namespace) -> int:
    import json

    from .commands import check
    from .errors import UsageError

    if args.all and (args.plugin or args.wheel):
        raise UsageError("--all checks every plugin: leave out --plugin and --wheel")
    ws = _workspace(args)
    plugins = list(ws.plugins) if args.all else [ws.plugin(args.plugin)]
    # The comparison needs a database: asked for with --models, or given with --url; a
    # database given is also where the version table's width is read.
    report = check.check(
        ws,
        plugins,
        wheel=Path(args.wheel) if args.wheel else None,
        models=bool(args.models or args.url),
        width=ws.version_num_width() if args.url else None,
    )
    for name in report.not_compared:
        print(
            f"scaffold: plugin {name}: models not compared with the migrations until the "
            "errors found are fixed",
            file=sys.stderr,
            flush=True,
        )
    if args.json:
        sys.stdout.write(json.dumps([f.as_dict() for f in report.findings], indent=2) + "\n")
        return 1 if report.failed else 0
    for finding in report.findings:
        _say(str(finding))
    for name in report.plugins:
        if not any(f.plugin == name for f in report.findings):
            _say(f"plugin {name}: no findings")
    for name in report.matching:
        _say(f"plugin {name}: models match migrations")
    return 1 if report.failed else 0


def _progress_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress line (shown only on a terminal, for runs of over 20 revisions or 2s)",
    )


def _upgrade_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("revision", nargs="?", metavar="TARGET", help="target (default: heads)")
    p.add_argument(
        "--plugin", metavar="NAME", help="only this plugin's branch and its dependencies"
    )
    p.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
    p.add_argument(
        "--from-models",
        action="store_true",
        help="on an empty database: create every table from the models and stamp every head",
    )
    _progress_option(p)
    _plan_options(p)
    p.add_argument(
        "--trace-locks",
        action="store_true",
        help="PostgreSQL: run the upgrade in a transaction that is rolled back, and print the "
        "locks each revision takes",
    )


def _plan_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--plan",
        action="store_true",
        help="print the revisions it would run, in order, with their owners and transactions; "
        "run nothing",
    )
    p.add_argument("--json", action="store_true", help="with --plan: print the plan as JSON")
    p.add_argument(
        "--lock-timeout",
        metavar="DURATION",
        help="fail a statement that waits longer than DURATION (5s, 500ms) for a lock, "
        "instead of queueing the site's queries behind it",
    )


def _planned(args: argparse.Namespace, command: str) -> int | None:
    """Print the plan of ``upgrade`` or ``downgrade`` with ``--plan``; None without it."""
    import json

    from .commands.plan import TRANSACTIONS, plan
    from .errors import UsageError

    if args.json and not args.plan:
        raise UsageError("--json goes with --plan")
    if not args.plan:
        return None
    if args.sql:
        raise UsageError("give --plan or --sql, not both")
    if getattr(args, "trace_locks", False) or args.lock_timeout:
        raise UsageError("--plan runs nothing: no --trace-locks or --lock-timeout with it")
    if getattr(args, "from_models", False):
        raise UsageError("--from-models runs no revision: it has no plan")
    ws = _workspace(args)
    found = plan(ws, command, args.revision, plugin=args.plugin)
    if args.json:
        sys.stdout.write(json.dumps(found.as_json(), indent=2) + "\n")
        return 0
    owners = {r: ws.graph.owner(ws.script.get_revision(r)) for r in found.rows}  # type: ignore[arg-type]
    held = ", ".join(f"{r} ({'plugin ' + o if o else 'host'})" for r, o in owners.items())
    _say(f"plan: {command} {found.database} to {found.target}")
    _say(f"the database holds: {held or 'no row (an empty database)'}")
    width = max((len(step.owner) for step in found.steps), default=0)
    for number, step in enumerate(found.steps, 1):
        note = "  [outside the transaction: autocommit_block]" if step.outside_transaction else ""
        _say(f"{number:4}  {step.owner:<{width}}  {step.revision}  {step.message}{note}")
        if found.host_init_after == number:
            _say(f"      host-init {found.host_init} runs here")
    if not found.steps:
        _say(f"nothing to run: the database is already at {found.target}")
        return 0
    _say(f"transactions: {TRANSACTIONS[found.transaction]}")
    _say(
        f"{len(found.steps)} revision{'s' if len(found.steps) != 1 else ''} to run; nothing was run"
    )
    return 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    from .errors import UsageError

    planned = _planned(args, "upgrade")
    if planned is not None:
        return planned
    if args.from_models:
        if args.lock_timeout or args.trace_locks:
            raise UsageError("--from-models runs no revision: no --lock-timeout or --trace-locks")
        return _from_models(args)
    if args.plugin and args.revision:
        raise UsageError("give a TARGET or --plugin, not both")
    if args.trace_locks and args.sql:
        raise UsageError("give --trace-locks or --sql, not both")
    from .commands import migrate

    timeout = _lock_timeout(args)
    ws = _workspace(args)
    applied = migrate.upgrade(
        ws,
        args.revision or "heads",
        plugin=args.plugin,
        sql=args.sql,
        progress=not args.no_progress,
        lock_timeout=timeout,
        trace_locks=args.trace_locks,
    )
    target = f"{args.plugin}@head" if args.plugin else args.revision or "heads"
    if applied.trace is not None:
        return _lock_report(ws, applied.trace)
    if not args.sql:
        _moved(ws, "upgrade", target, applied.count)
    _host_only(ws)
    if applied.initialised and ws.host.init is not None:
        _say(f"ran host-init {ws.host.init.spec} on the new database")
    return 0


def _lock_timeout(args: argparse.Namespace) -> float | None:
    from .databases.waits import parse_duration
    from .errors import UsageError

    if args.lock_timeout is None:
        return None
    if args.sql:
        raise UsageError("--lock-timeout is for a run on a database: not with --sql")
    return parse_duration(args.lock_timeout)


def _lock_report(ws: Workspace, trace: LockTrace) -> int:
    """Print what ``upgrade --trace-locks`` read: exit 1 when a revision takes ACCESS
    EXCLUSIVE on a host table."""
    from .commands.progress import revision_text
    from .databases.waits import strongest

    count = len(trace.revisions)
    _say(
        f"traced {count} revision{'s' if count != 1 else ''} on {_database(ws)}: rolled back, "
        "nothing changed"
    )
    for traced in trace.revisions:
        _say(revision_text(ws.graph, traced.revision))
        if not traced.locks:
            _say("  no new table lock")
        locks = strongest(traced.locks)
        width = max((len(lock.table) for lock in locks), default=0)
        mode_width = max((len(lock.sql_mode) for lock in locks), default=0)
        for lock in locks:
            note = (
                "created by this run: nobody else sees it yet"
                if trace.is_new(lock.table)
                else f"host table: {lock.blocks}"
                if lock.table in trace.host_tables
                else lock.blocks
            )
            _say(f"  {lock.table:<{width}}  {lock.sql_mode:<{mode_width}}  {note}")
    if trace.stopped_before is not None:
        _say(
            f"stopped before {revision_text(ws.graph, trace.stopped_before)}: it commits midway "
            "(autocommit_block), and a run that commits cannot be rolled back"
        )
    findings = trace.findings()
    for revision, table in findings:
        _say(
            f"finding: revision {revision} takes ACCESS EXCLUSIVE on host table {table}: every "
            "query of the site on it waits until the upgrade commits (docs/production.md)"
        )
    return 1 if findings else 0


def _host_only(ws: Workspace) -> None:
    """Warn that an upgrade migrated the host alone: run where no plugin is found (the host's
    folder, a plugin not installed in this environment), it is seldom what was meant. Said once
    the upgrade is done, so that a refusal stays one line."""
    if not ws.plugins:
        ws.warn(f"host only: {NO_PLUGINS}")


def _from_models(args: argparse.Namespace) -> int:
    from .commands.frommodels import upgrade_from_models
    from .errors import UsageError

    options = (("TARGET", args.revision), ("--plugin", args.plugin), ("--sql", args.sql))
    given = [name for name, value in options if value]
    if given:
        raise UsageError(
            f"--from-models fills an empty database to every head: leave out {', '.join(given)}"
        )
    ws = _workspace(args)
    made = upgrade_from_models(ws)
    heads = len(made.heads)
    _say(
        f"created {len(made.tables)} tables from the models in {_database(ws)} and stamped "
        f"{'its head' if heads == 1 else f'its {heads} heads'}"
    )
    _host_only(ws)
    if made.host_init is not None:
        _say(f"ran host-init {made.host_init} on the new database")
    return 0


def _adopt_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", metavar="NAME", help="plugin (default: this project's)")
    p.add_argument(
        "--to",
        metavar="REVISION",
        help="a later revision of the plugin's branch that the tables match (default: its root)",
    )


def cmd_adopt(args: argparse.Namespace) -> int:
    from .commands.adopt import TablesDiffer, adopt

    ws = _workspace(args)
    try:
        done = adopt(ws, args.name, to=args.to)
    except TablesDiffer as exc:
        _say(
            f"{_database(ws)}: the tables of plugin {ws.plugin(args.name).name} differ from what "
            f"revision {exc.revision} creates (expected -> found); nothing changed:"
        )
        for line in exc.lines:
            _say(f"  {line}")
        return 1
    _say(
        f"adopted plugin {done.plugin} in {_database(ws)}: its {len(done.tables)} table(s) "
        f"({', '.join(done.tables)}) match revision {done.revision}, stamped"
    )
    return 0


def _database(ws: Workspace) -> str:
    """The database a command worked on, as it may be printed."""
    return ws.url.redacted if ws.url else "the database"


def _moved(ws: Workspace, verb: str, target: str, count: int) -> None:
    # Nothing done: the database was there already, or a run this one waited for (the
    # migration lock) got it there.
    database = _database(ws)
    _say(
        f"{verb}d {database} to {target}"
        if count
        else f"{database} is already at {target}: nothing to {verb}"
    )


def _downgrade_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("revision", nargs="?", metavar="TARGET", help="target revision")
    p.add_argument("--plugin", metavar="NAME", help="downgrade this plugin's branch to its base")
    p.add_argument(
        "--sql",
        action="store_true",
        help="print the SQL instead of running it (for a database at every head, or START:END)",
    )
    _progress_option(p)
    _plan_options(p)


def cmd_downgrade(args: argparse.Namespace) -> int:
    from .commands import migrate

    planned = _planned(args, "downgrade")
    if planned is not None:
        return planned

    timeout = _lock_timeout(args)
    ws = _workspace(args)
    undone = migrate.downgrade(
        ws,
        args.revision,
        plugin=args.plugin,
        sql=args.sql,
        progress=not args.no_progress,
        lock_timeout=timeout,
    )
    target = f"{args.plugin}@base" if args.plugin else args.revision
    if not args.sql:
        _moved(ws, "downgrade", target, undone.count)
    return 0


def _stamp_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("revision", nargs="?", metavar="REVISION", help="revision to stamp")
    p.add_argument("--plugin", metavar="NAME", help="stamp this plugin's branch at its head")
    p.add_argument(
        "--purge",
        action="store_true",
        help="remove the plugin's rows first (with --plugin); else empty the whole version "
        "table first (Alembic's --purge)",
    )


def cmd_stamp(args: argparse.Namespace) -> int:
    from .commands import migrate

    ws = _workspace(args)
    change = migrate.stamp(ws, args.revision, plugin=args.plugin, purge=args.purge)
    target = f"{args.plugin}@head" if args.plugin else args.revision
    if not change.removed and not change.added:
        _say(f"{_database(ws)} is already at {target}: no row changed")
        return 0
    _say(f"stamped {_database(ws)} at {target}: {_row_changes(ws, change)}")
    return 0


def _row_changes(ws: Workspace, change: RowChange) -> str:
    """What a stamp did to the version table, by owner: ``row A -> B (host)``, ``row C added
    (plugin x)``, ``row D removed (not found here)``."""
    by_owner: dict[str, tuple[list[str], list[str]]] = {}
    for rows, side in ((change.removed, 0), (change.added, 1)):
        for row in rows:
            by_owner.setdefault(ws.graph.whose(row), ([], []))[side].append(row)
    said = []
    for owner, (removed, added) in by_owner.items():
        if len(removed) == 1 and len(added) == 1:
            said.append(f"row {removed[0]} -> {added[0]} ({owner})")
            continue
        said += [f"row {r} removed ({owner})" for r in removed]
        said += [f"row {r} added ({owner})" for r in added]
    return ", ".join(said)


def _branches_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plugin", metavar="NAME", help="only the branch points in this plugin")


def cmd_branches(args: argparse.Namespace) -> int:
    from alembic import command

    ws = _workspace(args)
    if args.plugin is not None:
        from .commands.merge import branch_points

        sys.stdout.write(branch_points(ws, args.plugin, verbose=args.verbose))
        return 0
    ws.alembic(command.branches, verbose=args.verbose)
    return 0


def _merge_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "revisions",
        nargs="*",
        metavar="REVISIONS",
        help="revisions of the branch to merge (default: every head of the branch)",
    )
    p.add_argument("-m", "--message", help="message of the revision (default: 'merge NAME heads')")
    p.add_argument("--plugin", metavar="NAME", help="plugin (default: this project's)")
    p.add_argument(
        "--host",
        action="store_true",
        help="merge the host's own heads instead, in the host's versions folder",
    )
    p.add_argument("--rev-id", help="revision id to use instead of a generated one")


def cmd_merge(args: argparse.Namespace) -> int:
    from .commands.merge import merge

    ws = _workspace(args)
    result = merge(
        ws,
        plugin_name=args.plugin,
        host=args.host,
        revisions=args.revisions,
        message=args.message,
        rev_id=args.rev_id,
    )
    if result.path is None:
        _say(result.nothing_to_merge)
        return 0
    _say(f"merged {result.whose}'s heads {', '.join(result.heads)}")
    _say(f"wrote {result.path}")
    return 0


def cmd_current(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    missing = ws.url.missing_sqlite_file if ws.url else None
    if missing is not None:  # reading it would create an empty file
        _say(f"the database has no revision applied ({missing} does not exist yet)")
        return 0
    position = ws.where()
    revisions = position.revisions
    heads = set(ws.script.get_heads())
    for rev in revisions:
        owner = ws.graph.owner(rev) or "host"
        labels = f" ({', '.join(sorted(rev.branch_labels))})" if rev.branch_labels else ""
        head = " (head)" if rev.revision in heads else ""
        _say(f"{rev.revision}{labels}{head}  [{owner}]")
    if not revisions:
        _say(
            "the database has no revision applied"
            if not position.unknown
            else "the database is at no revision found here (see the warning)"
        )
    return 0


def _heads_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--resolve-dependencies", action="store_true", help="treat dependencies as down revisions"
    )


def cmd_heads(args: argparse.Namespace) -> int:
    from alembic import command

    ws = _workspace(args)
    ws.alembic(command.heads, verbose=args.verbose, resolve_dependencies=args.resolve_dependencies)
    return 0


def _history_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-r", "--rev-range", help="range, e.g. base:head")
    p.add_argument("--plugin", metavar="NAME", help="only this plugin's branch")
    p.add_argument(
        "--graph",
        choices=["mermaid", "dot", "svg"],
        help="draw the host and plugin branches instead (svg runs Graphviz's dot, needs -o)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="with --graph: write to FILE")


def cmd_history(args: argparse.Namespace) -> int:
    from alembic import command

    if args.graph is not None:
        return _history_graph(args)
    if args.output is not None:
        from .errors import UsageError

        raise UsageError("-o/--output goes with --graph")
    ws = _workspace(args)
    rev_range = args.rev_range
    if args.plugin:
        ws.graph.require_branch(args.plugin)
        rev_range = f"{args.plugin}@base:{args.plugin}@head"
    ws.alembic(command.history, rev_range=rev_range, verbose=args.verbose)
    return 0


def _history_graph(args: argparse.Namespace) -> int:
    from .errors import UsageError
    from .graph import picture

    if args.rev_range or args.plugin:
        raise UsageError("--graph draws the whole graph: leave out -r and --plugin")
    output = Path(args.output) if args.output else None
    if args.graph == "svg" and output is not None:
        picture.render_check_dot(output)
    text = picture.render(_workspace(args).graph, args.graph, output)
    if text is not None:
        sys.stdout.write(text)
    elif output is not None:
        _say(f"wrote {output}")
    return 0


def _demo_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", nargs="?", help="folder to work in (default: a new temporary folder)")


def cmd_demo(args: argparse.Namespace) -> int:
    from .commands.demo import run_demo

    return run_demo(Path(args.dir) if args.dir else None, say=_say)


def _test_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        action="append",
        default=[],
        metavar="NAME",
        help="sqlite, postgresql or mysql; repeat for several (default: every database)",
    )
    p.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS", help="passed on to pytest")


def cmd_test(args: argparse.Namespace) -> int:
    from .testing.sessions import run_sessions

    return run_sessions(Path.cwd(), args.db, args.pytest_args, server=args.url)


def _cache_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "action",
        choices=["list", "clear"],
        help="list the template databases, revision records and table reflections kept, or "
        "remove them all "
        "(--url: the templates' PostgreSQL or MariaDB server; default SCAFFOLD_POSTGRES_URL's "
        "and SCAFFOLD_MYSQL_URL's)",
    )


def cmd_cache(args: argparse.Namespace) -> int:
    from .databases import reflections, templates
    from .graph import headers

    notes: list[str] = []
    servers = [args.url] if args.url else []
    clear = args.action == "clear"
    ahead = templates.copies_ahead(servers)  # PostgreSQL's copies made ahead (cleared too)
    found = (templates.clear if clear else templates.entries)(servers, notes)
    for entry in found:
        _say(f"removed {entry.name} ({entry.where})" if clear else entry.line())
    for name, where in ahead:
        _say(f"removed {name} ({where})" if clear else f"{name}  copy made ahead  {where}")
    recorded = headers.clear() if clear else headers.records()
    for where, files in recorded:
        _say(f"{'removed ' if clear else ''}revisions  {where}  {files} file(s)")
    reflected = reflections.clear() if clear else reflections.kept()
    for server, tables in reflected:
        _say(f"{'removed ' if clear else ''}reflections  {server}  {tables}")
    for note in notes:
        print(f"scaffold: {note}", file=sys.stderr, flush=True)
    kept = "removed" if clear else "kept"
    _say(
        f"{len(found)} template(s) and the revisions of {len(recorded)} folder(s) {kept} "
        f"(cache folder {templates.folder()})"
        + (f"; {len(ahead)} copies made ahead {kept}" if ahead else "")
    )
    return 1 if notes and servers else 0


@dataclass(frozen=True)
class Command:
    """A command: its name, its handler, its one-line help, and its own options (declared beside
    the handler)."""

    name: str
    handler: Handler
    help: str
    options: Callable[[argparse.ArgumentParser], None] | None


#: The commands, in the order ``scaffold --help`` lists them.
COMMANDS = (
    Command(
        "new",
        cmd_new,
        "render a new plugin from the bundled template (extra [new])",
        _new_options,
    ),
    Command(
        "wire",
        cmd_wire,
        "make plain alembic in the host see a plugin's revisions and models",
        _wire_options,
    ),
    Command("unwire", cmd_unwire, "undo `scaffold wire` exactly", _unwire_options),
    Command("plugins", cmd_plugins, "list the plugins found and their branches, and orphans", None),
    Command(
        "forget",
        cmd_forget,
        "remove what a plugin uninstalled without downgrading left: its alembic_version rows "
        "(and with --drop-tables its tables)",
        _forget_options,
    ),
    Command(
        "revision",
        cmd_revision,
        "write the next revision of a plugin's branch, in the plugin",
        _revision_options,
    ),
    Command(
        "upgrade",
        cmd_upgrade,
        "upgrade the database (default: to every head)",
        _upgrade_options,
    ),
    Command(
        "adopt",
        cmd_adopt,
        "stamp a plugin whose tables exist from before it had migrations, if they match",
        _adopt_options,
    ),
    Command(
        "downgrade",
        cmd_downgrade,
        "downgrade to TARGET, or remove one plugin's tables",
        _downgrade_options,
    ),
    Command(
        "stamp",
        cmd_stamp,
        "set the version table to REVISION without running migrations",
        _stamp_options,
    ),
    Command(
        "branches",
        cmd_branches,
        "show the branch points (revisions with several children)",
        _branches_options,
    ),
    Command(
        "merge",
        cmd_merge,
        "write a revision merging a plugin's heads, in the plugin",
        _merge_options,
    ),
    Command("current", cmd_current, "show the revisions the database is at", None),
    Command("heads", cmd_heads, "show the heads of the host and every plugin", _heads_options),
    Command("history", cmd_history, "list revisions", _history_options),
    Command(
        "check",
        cmd_check,
        "check a plugin's branch, revision files and wheel without a database (exit 1 on an "
        "error found)",
        _check_options,
    ),
    Command(
        "demo",
        cmd_demo,
        "render, wire, migrate, change a plugin for the example host (extra [new])",
        _demo_options,
    ),
    Command(
        "test",
        cmd_test,
        "run the plugin's test sessions (nox), one per database",
        _test_options,
    ),
    Command(
        "cache",
        cmd_cache,
        "list or clear the template databases that scratch databases start from",
        _cache_options,
    ),
)


#: The title of the global options' group, in ``scaffold --help`` and every command's help.
GLOBAL_OPTIONS = "global options (before or after the command)"


def _global_options(
    parser: argparse.ArgumentParser, *, defaults: bool
) -> tuple[argparse.Action, ...]:
    """Add the global options to ``parser``, in their own group; returns them."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    before = list(parser._actions)
    group = parser.add_argument_group(GLOBAL_OPTIONS)
    group.add_argument(
        "-c",
        "--config",
        metavar="PATH",
        default=default(None),
        help="the host's Alembic config: its alembic.ini (or an application config file with "
        "[alembic]), a pyproject.toml with [tool.alembic], Flask-Migrate's migrations folder, a "
        "package:path of its script directory, or a module:function building the Config "
        "(default: the plugin project's host-alembic, else ./alembic.ini or ./pyproject.toml)",
    )
    group.add_argument(
        "--host-config",
        metavar="PATH",
        default=default(None),
        help="the host's own config file (e.g. mediagoblin.ini, rattail.conf) handed to a "
        "module:function config factory (default: the plugin project's host-config)",
    )
    group.add_argument(
        "--url", default=default(None), help="database URL (overrides sqlalchemy.url)"
    )
    group.add_argument(
        "-x",
        action="append",
        dest="x",
        metavar="KEY=VALUE",
        default=default([]),
        help="additional argument for the host's env.py (context.get_x_argument()), as alembic -x",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default(False),
        help="more output; tracebacks",
    )
    return tuple(action for action in parser._actions if action not in before)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line like every other error (exit code 2), and
    a typo of a command or a choice answered with the name it is likely a typo of."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"scaffold: error: {message} (see {self.prog} --help)\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        from .errors import closest

        choices = action.choices
        if choices is not None and value not in choices:
            close = closest(str(value), (str(choice) for choice in choices))
            if close is not None and isinstance(action, argparse._SubParsersAction):
                raise argparse.ArgumentError(
                    None, f"unknown command {value!r}: did you mean {close!r}?"
                )
            if close is not None:
                raise argparse.ArgumentError(
                    action, f"invalid choice: {value!r}: did you mean {close!r}?"
                )
        super()._check_value(action, value)


class _CommandHelp(argparse.HelpFormatter):
    """A command's help: its usage line names its own options, then ``[global options]`` once
    (listed in their own group, after the command's own)."""

    def __init__(self, prog: str, *, global_actions: Sequence[argparse.Action], **kw: Any):
        super().__init__(prog, **kw)
        self._global_actions = global_actions

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        actions = list(actions)
        own = [action for action in actions if action not in self._global_actions]
        if usage is None and len(own) < len(actions):
            actions = [*own, argparse.Action([], "global options", nargs="?")]
        super().add_usage(usage, actions, groups, prefix)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="scaffold",
        description="Plugins that own their tables and their Alembic branch in a host application.",
    )
    parser.add_argument("--version", action="version", version=f"plugin-scaffold {__version__}")
    _global_options(parser, defaults=True)
    # The same options after the command name (`scaffold heads -v`), without overriding
    # values given before it.
    common = _Parser(add_help=False)
    command_help = functools.partial(
        _CommandHelp, global_actions=_global_options(common, defaults=False)
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for command in COMMANDS:
        p = sub.add_parser(
            command.name,
            help=command.help,
            description=command.help,
            parents=[common],
            formatter_class=command_help,
        )
        p.set_defaults(handler=command.handler)
        if command.options is not None:
            command.options(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Every line scaffold, Alembic, the host's env.py or a traceback prints goes through the
    # redaction, so that no password leaves the process whatever printed it.
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Redacting(sys.stdout), _Redacting(sys.stderr)
    try:
        code = _main(argv)
        sys.stdout.flush()  # now, not at exit: a reader gone is then handled below
        return code
    except BrokenPipeError:  # from a command's output (see _main), or the flush above
        return _reader_gone()
    finally:
        sys.stdout, sys.stderr = streams


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 for usage errors, 0 for --help
        return int(exc.code or 0)
    if not getattr(args, "handler", None):  # a bare `scaffold`: what it can do, as git does
        parser.print_help(sys.stderr)
        return 2
    if args.url:
        from .databases.urls import remember_secrets

        remember_secrets(args.url)  # before anything can print it
    previous = _interrupt_on_signals()
    try:
        return int(args.handler(args))
    except ScaffoldError as exc:
        if args.verbose:
            _print_traceback()
        print(f"scaffold: error: {_safe(str(exc))}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        name = signal.Signals(signum).name
        print(f"scaffold: interrupted ({name}); nothing half-done was kept", file=sys.stderr)
        return 128 + int(signum)
    except BrokenPipeError:
        raise  # stdout's reader is gone: not an error of the command (see _reader_gone)
    except Exception as exc:
        if args.verbose:
            _print_traceback()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(
            f"scaffold: error: {type(exc).__name__}: {_safe(first)} (run with -v for details)",
            file=sys.stderr,
            flush=True,
        )
        return 1
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _reader_gone() -> int:
    """End quietly when stdout's reader has gone (``scaffold upgrade --sql | head``), as Unix
    tools do: no message, and the exit code of a process ended by SIGPIPE (128 + 13).

    Raised as BrokenPipeError where scaffold wrote, the error went up through every cleanup
    (a scratch database dropped, a lock released) on its way here.
    """
    try:  # Python flushes stdout once more on exit: into /dev/null, not the closed pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 128 + int(getattr(signal, "SIGPIPE", 13))


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C: every cleanup on the way out runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _interrupt_on_signals() -> dict[int, Any]:
    """Turn SIGTERM (timeout, CI, docker) and SIGHUP into :class:`Interrupted`.

    Only the first signal interrupts: later ones are ignored, so that the cleanup it started
    (dropping a scratch database, removing a staging folder) is not cut short in turn.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    wanted = [signal.SIGTERM, getattr(signal, "SIGHUP", None)]
    numbers = [s for s in wanted if s is not None]

    def interrupt(signum: int, _frame: object) -> None:
        for number in numbers:
            signal.signal(number, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {}
    for number in numbers:
        previous[number] = signal.signal(number, interrupt)
    return previous


def _print_traceback() -> None:
    print(_safe(traceback.format_exc()), file=sys.stderr, end="", flush=True)


class _Redacting:
    """A text stream that writes through :func:`_safe`; everything else is the stream's own."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(_safe(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _safe(message: str) -> str:
    """No message leaves scaffold with a password in it, whatever produced it."""
    from .databases.urls import redact_text

    return redact_text(message)


def run() -> None:
    from .process_end import freeze_at_exit

    freeze_at_exit()
    code = main()
    copies = sys.modules.get("plugin_scaffold.databases.copies")  # (not imported for --help)
    if copies is not None and code < 128:  # an interrupted run drops its own before it ends
        copies.hand_off_drops()  # the scratch databases, dropped while this process ends
    sys.exit(code)


if __name__ == "__main__":
    run()
