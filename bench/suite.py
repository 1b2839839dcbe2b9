"""The migration suite's upgrade phase against raw ``alembic upgrade heads``, same graph, same run.

On bench/hostgen.py's host (a short core chain and many plugin branches, as bench/run.py uses),
each way of bringing an empty database to every head is timed in this process, on a fresh
database per run, alternating which goes first:

1. raw Alembic: ``alembic.command.upgrade(Config("alembic.ini"), "heads")``;
2. the suite (``plugin_scaffold.testing``): its upgrade phase for one plugin, from a fresh
   ``Workspace`` (host, plugins and graph read again each run, as Alembic reads its own): one
   env.py run for the whole graph, then the check that the database is at every head;
3. for reference, stepping one revision at a time with one env.py run each (what pytest-alembic
   does; the graph is read once here, which flatters it), timed once.

Before anything is timed, a revision that fails is added to the middle plugin: the suite must
fail naming that revision and the database, and raw Alembic must fail too. After the timed runs,
every run must have left the same database (alembic_version at the graph's heads, the same
tables), read after its clock stopped. Prints a table and exits 0 whatever the ratio (it is a
report); 1 when the suite does not name the failing revision, a run fails or runs left different
databases; 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hostgen import Layout, generate, plugin_id

DEFAULT_REPEAT = 5
DEFAULT_PLUGINS = 50
DEFAULT_REVISIONS = 20
QUICK = {"repeat": 1, "plugins": 5, "revisions": 4}
TARGET = 1.3
FAILING = "benchfail001"
FAILING_REVISION = '''\
"""a revision that fails"""

from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT * FROM no_such_table")


def downgrade() -> None:
    pass
'''


class BenchError(Exception):
    """A run failed, the suite did not name the failing revision, or runs did different work."""


@dataclass(frozen=True)
class State:
    """What a run left: the rows of ``alembic_version`` and the tables."""

    versions: frozenset[str]
    tables: frozenset[str]


def state(url: str) -> State:
    import sqlalchemy as sa

    from plugin_scaffold.databases.servers import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            versions = frozenset(row[0] for row in rows)
            tables = frozenset(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()
    return State(versions, tables)


def state_tables(url: str) -> list[str]:
    import sqlalchemy as sa

    from plugin_scaffold.databases.servers import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()


@dataclass
class Timing:
    name: str
    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def settle() -> None:
    """Wait for what scaffold does in the background (PostgreSQL copies made ahead for the
    next check, scratch databases being dropped), so that no timed run shares the server with
    an earlier one's."""
    try:
        from plugin_scaffold.databases import copies
    except ImportError:  # before the copies made ahead
        return
    copies.settle()
    if hasattr(copies, "wait_handed_off"):  # a session's last drops, in a process of their own
        copies.wait_handed_off()


def finish_drops(session: bool = False) -> None:
    """Drop the scratch databases scaffold drops when a process ends (on the run's clock); at
    the end of a test session or a command (``session``), hand them to a process of their own,
    as the pytest plugin and the scaffold command do (its drops then wait for the next
    :func:`settle`, off the clock)."""
    try:
        from plugin_scaffold.databases import copies
    except ImportError:
        return
    if session and hasattr(copies, "hand_off_drops"):
        copies.hand_off_drops()
    copies.finish_drops()


def wait_for_drops(database: str, pid: int, timeout: float = 30.0) -> None:
    """Wait until the server holds no scratch database of process ``pid`` (dropped, once it
    has ended, by a process of its own)."""
    if database == "sqlite":
        return
    from plugin_scaffold.databases.servers import database_names, host_tag, make_engine, server_url

    engine = make_engine(server_url(database))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            names = database_names(engine, database)
            if not any(n.endswith(f"_{host_tag()}_{pid}") for n in names):
                return
            time.sleep(0.05)
    finally:
        engine.dispose()


@contextmanager
def session_shares(checks: object) -> Iterator[None]:
    """What the pytest plugin gives the checks of one session: the databases they share, dropped
    when it ends (code from before the shared databases: nothing)."""
    try:
        from plugin_scaffold.testing.checks import SharedDatabases  # type: ignore[attr-defined]
    except ImportError:
        yield
        return
    shared = SharedDatabases()
    checks.shared = shared  # type: ignore[attr-defined]
    try:
        yield
    finally:
        shared.close()


class Runs:
    """The three ways to bring an empty database to every head, on one generated host."""

    def __init__(self, layout: Layout, database: str) -> None:
        self.layout = layout
        self.database = database
        self.project = layout.project(layout.chosen)
        #: What each timed run left in its database (read after the clock stopped), by run.
        self.left: dict[str, list[State]] = {}

    @contextmanager
    def fresh(self) -> Iterator[str]:
        from plugin_scaffold.databases.servers import temporary_database

        with temporary_database(self.database, prefix="scaffold_bench") as url:
            yield url

    def raw(self, url: str) -> None:
        from alembic import command
        from alembic.config import Config

        config = Config(str(self.layout.ini))
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        command.upgrade(config, "heads")

    def checks(self) -> object:
        from plugin_scaffold.commands.workspace import Workspace
        from plugin_scaffold.testing import MigrationChecks

        workspace = Workspace.open(config=None, url=None, cwd=self.project)
        return MigrationChecks(workspace, self.layout.chosen, self.database)

    def suite(self, url: str) -> None:
        self.checks().upgrade_empty_to_heads(url)  # type: ignore[attr-defined]

    def stepwise(self, url: str) -> None:
        from plugin_scaffold.commands import migrate

        checks = self.checks()
        workspace = checks.bound(url)  # type: ignore[attr-defined]
        for script in reversed(list(workspace.script.walk_revisions("base", "heads"))):
            migrate.upgrade(workspace, script.revision)

    def timed(self, run: Callable[[str], None]) -> float:
        settle()
        with self.fresh() as url:
            start = time.perf_counter()
            run(url)
            elapsed = time.perf_counter() - start
            self.left.setdefault(run.__name__, []).append(state(url))
            return elapsed

    def same_work(self) -> str:
        """Check that every timed run left the same database, at every head of the graph."""
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(Config(str(self.layout.ini)))
        # A head that another head depends on has no row of its own (Alembic's rule).
        below = {
            r.revision
            for head in script.get_heads()
            for r in script.revision_map._get_ancestor_nodes(
                script.revision_map.get_revisions([head])
            )
            if r.revision != head
        }
        heads = frozenset(script.get_heads()) - below
        states = {(name, s) for name, left in self.left.items() for s in left}
        distinct = {s for _, s in states}
        if len(distinct) != 1:
            raise BenchError(
                "the runs left different databases: "
                + "; ".join(f"{name}: {sorted(s.versions)}" for name, s in sorted(states))
            )
        (only,) = distinct
        if only.versions != heads:
            raise BenchError(
                f"the runs left alembic_version at {sorted(only.versions)}, not at the graph's "
                f"heads {sorted(heads)}"
            )
        runs = sum(len(left) for left in self.left.values())
        return (
            f"all {runs} runs ({', '.join(sorted(self.left))}) left the same database: "
            f"alembic_version holds the graph's heads ({len(heads)} rows), "
            f"{len(only.tables)} tables"
        )

    def check_failure_is_named(self) -> str:
        """Add a failing revision to the middle plugin; the suite must name it and the database."""
        from plugin_scaffold.testing import CheckFailed

        folder = self.layout.migrations(self.layout.chosen)
        path = folder / f"{FAILING}_fails.py"
        down = plugin_id(self.layout.chosen, self.layout.revisions)
        path.write_text(FAILING_REVISION.format(revision=FAILING, down=down), encoding="utf-8")
        try:
            with self.fresh() as url:
                try:
                    self.suite(url)
                except CheckFailed as exc:
                    message = str(exc)
                else:
                    raise BenchError(f"the suite's upgrade passed with {path} in the graph")
            if f"revision {FAILING} (" not in message or "no_such_table" not in message:
                raise BenchError(f"the suite's failure does not name {FAILING}: {message}")
            with self.fresh() as url:
                try:
                    self.raw(url)
                except Exception:
                    pass
                else:
                    raise BenchError(f"raw Alembic upgraded with {path} in the graph")
            return message
        finally:
            path.unlink()
            for cached in (folder / "__pycache__").glob(f"{path.stem}.*.pyc"):
                cached.unlink()


#: The whole suite's host (issue 18): a core chain of 300 revisions, one plugin of one table in
#: 3 revisions (create, add a column, an UPDATE), its models what its migrations make.
WHOLE = {"core": 300, "revisions": 3}
WHOLE_QUICK_CORE = 20
WHOLE_TARGET = 1.5
AUTOGENERATE_TARGET = 1.2
#: What the command rows run, after ``--url URL``.
AUTOGENERATE_ARGS = ("revision", "-m", "x", "--autogenerate")
#: The MigrationSuite's checks, as its test methods call them (tests that take no rows skip).
SUITE_CHECKS = (
    "graph_hygiene",
    "upgrade_to_heads",
    "install_alone",
    "models_match",
    "round_trips",
    "uninstall",
    "data_survives",
    "fresh_install",
)


class Whole(Runs):
    """The whole MigrationSuite of one plugin, with the template cache off, then on, against raw
    ``alembic upgrade heads`` of the same graph from empty; and autogenerate with the database
    behind (a scratch one) against autogenerate at heads."""

    def __init__(self, layout: Layout, database: str, cache: Path) -> None:
        super().__init__(layout, database)
        self.cache = cache

    @contextmanager
    def cache_on(self, on: bool) -> Iterator[None]:
        saved = {k: os.environ.get(k) for k in ("SCAFFOLD_CACHE", "SCAFFOLD_CACHE_DIR")}
        os.environ["SCAFFOLD_CACHE_DIR"] = str(self.cache)
        if on:
            os.environ.pop("SCAFFOLD_CACHE", None)
        else:
            os.environ["SCAFFOLD_CACHE"] = "off"
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def whole_suite(self, on: bool) -> float:
        """Every check of the suite, from a fresh workspace (as a test session reads it)."""
        from plugin_scaffold.testing import NothingToCheck

        with self.cache_on(on):
            settle()  # what an earlier run left going (copies made ahead): not this run's
            start = time.perf_counter()
            checks = self.checks()
            with session_shares(checks):
                for name in SUITE_CHECKS:
                    with contextlib.suppress(NothingToCheck):
                        getattr(checks, name)()
            finish_drops(session=True)  # as a test session's end drops them
            return time.perf_counter() - start

    def command(self, url: str) -> float:
        """One ``scaffold --url URL revision -m x --autogenerate`` in the plugin's project (it
        finds no change and writes nothing); then, off the clock, its scratch database gone."""
        env = {**self.layout.env(bytecode=True), "SCAFFOLD_CACHE_DIR": str(self.cache)}
        env.pop("SCAFFOLD_CACHE", None)
        settle()
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "plugin_scaffold", "--url", url, *AUTOGENERATE_ARGS],
            cwd=self.project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out, err = child.communicate()
        elapsed = time.perf_counter() - start
        if child.returncode != 0 or "no revision written" not in out:
            raise BenchError(f"scaffold revision --autogenerate: {out}{err}")
        wait_for_drops(self.database, child.pid)
        return elapsed

    def autogenerate(self, url: str, cached: bool = True) -> float:
        """``check`` (autogenerate, nothing written) of the plugin against ``url``."""
        from plugin_scaffold.commands.revision import check
        from plugin_scaffold.commands.workspace import Workspace

        with self.cache_on(cached):
            settle()
            start = time.perf_counter()
            workspace = Workspace.open(config=None, url=url, cwd=self.project)
            result = check(workspace, plugin_name=self.layout.chosen)
            finish_drops(session=True)  # as the scaffold command ends
            elapsed = time.perf_counter() - start
        if result.operations:
            raise BenchError(f"autogenerate found changes: {result.operations}")
        return elapsed


def measure_whole(whole: Whole, repeat: int, log: Callable[[str], None]) -> list[Timing]:
    raw = Timing("alembic upgrade heads (host + plugin, from empty)")
    off = Timing("whole suite, template cache off")
    on = Timing("whole suite, template cache on (warm)")
    whole.timed(whole.raw)  # warm-ups; the cache's first run seeds it
    whole.whole_suite(False)
    whole.whole_suite(True)
    for i in range(repeat):
        runs: list[tuple[Callable[[], float], Timing]] = [
            (lambda: whole.timed(whole.raw), raw),
            (lambda: whole.whole_suite(False), off),
            (lambda: whole.whole_suite(True), on),
        ]
        for run, timing in runs if i % 2 == 0 else reversed(runs):
            timing.times.append(run())
        log(
            f"  run {i + 1}/{repeat}: alembic {raw.times[-1]:.3f}s, suite (cache off) "
            f"{off.times[-1]:.3f}s, suite (cache on) {on.times[-1]:.3f}s"
        )
    return [raw, off, on]


def measure_autogenerate(whole: Whole, repeat: int, log: Callable[[str], None]) -> list[Timing]:
    at = Timing("autogenerate, database at heads")
    behind = Timing("autogenerate, database behind (cache on)")
    behind_off = Timing("autogenerate, database behind (cache off)")
    with whole.fresh() as heads_url, whole.fresh() as empty_url:
        whole.raw(heads_url)
        whole.autogenerate(heads_url)  # warm-ups; the second seeds the cache
        whole.autogenerate(empty_url)
        for i in range(repeat):
            runs = [
                (lambda: whole.autogenerate(heads_url), at),
                (lambda: whole.autogenerate(empty_url), behind),
                (lambda: whole.autogenerate(empty_url, cached=False), behind_off),
            ]
            for run, timing in runs if i % 2 == 0 else reversed(runs):
                timing.times.append(run())
            log(
                f"  run {i + 1}/{repeat}: autogenerate at heads {at.times[-1]:.3f}s, behind "
                f"{behind.times[-1]:.3f}s (cache off {behind_off.times[-1]:.3f}s)"
            )
        if state_tables(empty_url):
            raise BenchError("autogenerate with the database behind changed that database")
    return [at, behind, behind_off]


def measure_command(whole: Whole, repeat: int, log: Callable[[str], None]) -> list[Timing]:
    """``scaffold revision --autogenerate`` as a user runs it, a process each time, with the
    database at heads and behind it: what the in-process rows leave out (start-up, reading the
    graph, env.py, the scratch database's drop handed off) is the same for both."""
    at = Timing("scaffold revision --autogenerate, database at heads")
    behind = Timing("scaffold revision --autogenerate, database behind")
    with whole.fresh() as heads_url, whole.fresh() as empty_url:
        whole.raw(heads_url)
        for url in (heads_url, empty_url):  # warm-ups: bytecode, revision records, templates
            whole.command(url)
        for i in range(repeat):
            runs = [(heads_url, at), (empty_url, behind)]
            for url, timing in runs if i % 2 == 0 else reversed(runs):
                timing.times.append(whole.command(url))
            log(
                f"  run {i + 1}/{repeat}: command at heads {at.times[-1]:.3f}s, behind "
                f"{behind.times[-1]:.3f}s"
            )
        if state_tables(empty_url):
            raise BenchError("autogenerate with the database behind changed that database")
    return [at, behind]


def whole_table(timings: Sequence[Timing], targets: dict[int, float]) -> str:
    """Rows against the first; ``targets``: row index -> the ratio it must not exceed."""
    base = timings[0].median
    rows = [("measurement", "median", "ratio", "target", "result")]
    for n, timing in enumerate(timings):
        ratio = timing.median / base
        target = f"<= {targets[n]:.2f}x" if n in targets else ""
        result = ("ok" if ratio <= targets[n] else "over") if n in targets else ""
        rows.append((timing.name, f"{timing.median:.3f}s", f"{ratio:.2f}x", target, result))
    return _aligned(rows)


def _aligned(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def measure(runs: Runs, repeat: int, stepwise: bool, log: Callable[[str], None]) -> list[Timing]:
    raw, suite = Timing("alembic upgrade heads"), Timing("suite's upgrade phase")
    runs.timed(runs.raw)  # warm: bytecode caches, imports, the OS's file cache
    runs.timed(runs.suite)
    for i in range(repeat):
        order = [(runs.raw, raw), (runs.suite, suite)]
        for run, timing in order if i % 2 == 0 else reversed(order):
            timing.times.append(runs.timed(run))
        log(f"  run {i + 1}/{repeat}: alembic {raw.times[-1]:.3f}s, suite {suite.times[-1]:.3f}s")
    timings = [raw, suite]
    if stepwise:
        step = Timing("one revision at a time (reference)")
        step.times.append(runs.timed(runs.stepwise))
        timings.append(step)
    return timings


def table(timings: Sequence[Timing]) -> str:
    return whole_table(timings, {1: TARGET})


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/suite.py",
        description="The migration suite's upgrade phase against raw alembic upgrade heads.",
    )
    parser.add_argument(
        "--repeat", type=int, metavar="N", help=f"timed runs of each (default {DEFAULT_REPEAT})"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: {plugins} plugins x {revisions} revisions, {repeat} timed run".format(
            **QUICK
        ),
    )
    parser.add_argument(
        "--plugins", type=int, metavar="N", help=f"plugin branches (default {DEFAULT_PLUGINS})"
    )
    parser.add_argument(
        "--revisions",
        type=int,
        metavar="N",
        help=f"revisions per plugin (default {DEFAULT_REVISIONS})",
    )
    parser.add_argument(
        "--db",
        default="sqlite",
        metavar="NAME",
        help="sqlite (default), postgresql or mysql: scratch databases on that server",
    )
    parser.add_argument(
        "--no-stepwise",
        action="store_true",
        help="leave out the one-revision-at-a-time reference (slow on big graphs)",
    )
    parser.add_argument(
        "--whole",
        action="store_true",
        help="the whole suite and autogenerate behind heads, on a host of {core} core revisions "
        "and one plugin of {revisions} (issue 18)".format(**WHOLE),
    )
    parser.add_argument(
        "--core",
        type=int,
        metavar="N",
        help="--whole: core revisions (default {core})".format(**WHOLE),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every run's times")
    args = parser.parse_args(argv)
    if args.core is not None and args.core < 1:
        parser.error("--core must be at least 1")
    defaults = (
        QUICK
        if args.quick
        else {"repeat": DEFAULT_REPEAT, "plugins": DEFAULT_PLUGINS, "revisions": DEFAULT_REVISIONS}
    )
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def report(
    layout: Layout,
    database: str = "sqlite",
    repeat: int = DEFAULT_REPEAT,
    stepwise: bool = True,
    log: Callable[[str], None] = lambda text: None,
) -> str:
    """All of the above on a host hostgen generated: the failing revision, then the table.

    bench/run.py can call it with its own layout. Raises :class:`BenchError` (or a
    ``ScaffoldError``, ``ServerUnavailable``) when a run fails or the revision is not named.
    """
    with _benched(layout, database):
        runs = Runs(layout, database)
        named = runs.check_failure_is_named()
        timings = measure(runs, repeat, stepwise, log)
        same = runs.same_work()
    return (
        f"the suite's upgrade phase for plugin {layout.chosen} on {database}, median of {repeat} "
        f"run(s) in one process; a failing revision, as the suite reports it:\n  {named}\n"
        f"{same}\n" + table(timings)
    )


@contextlib.contextmanager
def _benched(layout: Layout, database: str) -> Iterator[None]:
    """What every measurement here runs in: hostgen's modules importable, its INFO logging off,
    and on SQLite the files in memory."""
    # hostgen's alembic.ini logs every revision at INFO, and env.py applies it on each run.
    logging.disable(logging.INFO)
    # What hostgen's env.py imports: the host and every plugin, as installs would make them.
    for folder in [str(layout.host), *(str(layout.project(n) / "src") for n in layout.names)]:
        if folder not in sys.path:
            sys.path.insert(0, folder)
    shm = Path("/dev/shm")
    saved = tempfile.tempdir
    if database == "sqlite" and shm.is_dir() and os.access(shm, os.W_OK):
        # As bench/run.py does: SQLite files in memory, so that the disk's fsyncs (one per
        # revision for raw Alembic, one per run for scaffold's single transaction) are not
        # what is measured.
        tempfile.tempdir = str(shm)
    try:
        yield
    finally:
        tempfile.tempdir = saved


def report_whole(
    layout: Layout,
    database: str,
    repeat: int,
    log: Callable[[str], None] = lambda text: None,
) -> str:
    """The whole suite and autogenerate behind heads, each against its baseline, as tables."""
    with _benched(layout, database):
        whole = Whole(layout, database, layout.root / "cache")
        try:
            suite = measure_whole(whole, repeat, log)
            same = whole.same_work()
            autogenerate = measure_autogenerate(whole, repeat, log)
            command = measure_command(whole, repeat, log)
        finally:
            with whole.cache_on(True), contextlib.suppress(ImportError):
                from plugin_scaffold.databases import templates  # type: ignore[attr-defined]

                templates.clear()
    return (
        f"the whole MigrationSuite of plugin {layout.chosen} ({layout.revisions} revisions, one "
        f"table) on {database}, median of {repeat} run(s) in one process\n{same}\n"
        + whole_table(suite, {2: WHOLE_TARGET})
        + "\n\n"
        + whole_table(autogenerate, {1: AUTOGENERATE_TARGET})
        + "\n\n"
        + whole_table(command, {1: AUTOGENERATE_TARGET})
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()

    def log(text: str) -> None:
        if args.verbose:
            print(text, flush=True)

    from plugin_scaffold.databases.servers import ServerUnavailable, normalize_kind
    from plugin_scaffold.errors import ScaffoldError

    try:
        database = normalize_kind(args.db)
    except ScaffoldError as exc:
        print(f"bench/suite.py: error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="scaffold-bench-suite-") as folder:
        root = Path(folder).resolve()
        if args.whole:
            core = args.core or (WHOLE_QUICK_CORE if args.quick else WHOLE["core"])
            layout = Layout(
                root, root / "databases", 1, WHOLE["revisions"], core_revisions=core, pending=False
            )
        else:
            layout = Layout(root, root / "databases", args.plugins, args.revisions)
        (root / "databases").mkdir()
        generate(layout)
        print(
            f"host: {layout.total_revisions:,} revisions ({layout.core_revisions} core, "
            f"{layout.plugins} plugins x {layout.revisions}) in {root}",
            flush=True,
        )
        try:
            if args.whole:
                text = report_whole(layout, database, args.repeat, log)
            else:
                text = report(layout, database, args.repeat, not args.no_stepwise, log)
        except (BenchError, ScaffoldError, ServerUnavailable) as exc:
            print(f"bench/suite.py: error: {exc}", file=sys.stderr, flush=True)
            return 1
    print(text)
    print(f"({time.perf_counter() - started:.0f}s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
