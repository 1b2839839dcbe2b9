"""scaffold against raw Alembic, measured side by side in one run.

Four measurements, each the median wall-clock time of the two commands run as a user runs them (a
subprocess, the console scripts of this Python's environment), alternating which goes first:

1. ``scaffold --help`` vs ``alembic --help``;
2. ``heads`` on a generated host with a short core chain and many plugin branches;
3. ``upgrade`` of that host to every head, on a fresh SQLite file each run;
4. ``revision --autogenerate`` of one plugin with one pending model change, against a database at
   every head (the file written is deleted after each run, so every run is the same);
5. ``upgrade`` to every head of a second generated host, whose branches belong to another plugin
   system and depend on the core's label, which is also the core's head (heads that depend on a
   head);
6. ``scaffold upgrade --from-models`` against the replay (``alembic upgrade heads``) of a third
   generated host with 5,000 revisions whose models are exactly what its migrations make.

Prints a table and exits 0 whatever the ratios are (it is a report); exits 1 when a command
fails or the two tools did not do the same work, 2 on bad arguments. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from hostgen import CORE_REVISIONS, Layout, generate

DEFAULT_REPEAT = 9
DEFAULT_PLUGINS = 50
DEFAULT_REVISIONS = 20
DEFAULT_LARGE = 5000
QUICK = {"repeat": 1, "plugins": 5, "revisions": 4, "large": 45}
TIMEOUT = 600  # seconds for one command: far more than any should take


class BenchError(Exception):
    """A command failed, or the two tools did not do the same work."""


# --- running and timing commands ---------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One run of one tool: what to run, where, and what to clean up afterwards (not timed)."""

    argv: list[str]
    cwd: Path
    after: Callable[[], None] | None = None
    #: The environment to run it in, when not the run's (another generated host's).
    env: dict[str, str] | None = None


@dataclass
class Case:
    """One measurement: the raw Alembic command and the scaffold command that do the same work.

    ``raw`` and ``scaffold`` make the command of run ``i`` (-1 for the checked, untimed run).
    """

    name: str
    target: float
    raw: Callable[[int], Command]
    scaffold: Callable[[int], Command]
    #: Runs each command once, untimed, and checks that both did the same work: says what.
    check: Callable[[Case, dict[str, str]], str]
    raw_times: list[float] = field(default_factory=list)
    scaffold_times: list[float] = field(default_factory=list)

    @property
    def raw_median(self) -> float:
        return statistics.median(self.raw_times)

    @property
    def scaffold_median(self) -> float:
        return statistics.median(self.scaffold_times)

    @property
    def ratio(self) -> float:
        return self.scaffold_median / self.raw_median


def tool(name: str) -> str:
    """The console script of this Python's environment (the one nox or the venv installed)."""
    local = Path(sys.executable).parent / name
    if local.is_file():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise BenchError(f"no {name!r} command next to {sys.executable} or on PATH")
    return found


def timed(command: Command, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``command`` and return its wall-clock time; a failure is a :class:`BenchError`."""
    shown = " ".join(command.argv)
    start = time.perf_counter()
    try:
        result = subprocess.run(
            command.argv,
            cwd=command.cwd,
            env=command.env or env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BenchError(f"`{shown}` (in {command.cwd}) did not run: {exc}") from None
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise BenchError(f"`{shown}` (in {command.cwd}) exited {result.returncode}:\n{tail}")
    if command.after is not None:
        command.after()
    return elapsed, result


def measure(case: Case, repeat: int, env: dict[str, str], log: Callable[[str], None]) -> None:
    """Run both tools ``repeat`` times, alternating which goes first, and keep the wall times."""
    for i in range(repeat):
        order = [(case.raw, case.raw_times), (case.scaffold, case.scaffold_times)]
        for make, times in order if i % 2 == 0 else reversed(order):
            times.append(timed(make(i), env)[0])
        log(
            f"  {case.name}: run {i + 1}/{repeat}: alembic {case.raw_times[-1]:.3f}s, "
            f"scaffold {case.scaffold_times[-1]:.3f}s"
        )


# --- the four measurements, each checked by one untimed run first -----------------------------


class Cases:
    """The eight cases on three generated hosts, and the checks that both tools did the same work.

    The checked run of each command also warms it up: bytecode caches, the OS's file cache.
    ``other`` is the host of another plugin system, run in its own environment ``other_env``;
    ``large`` the host of 5,000 revisions for ``--from-models``, in ``large_env``.
    """

    def __init__(
        self,
        layout: Layout,
        other: Layout,
        other_env: dict[str, str],
        large: Layout,
        large_env: dict[str, str],
    ) -> None:
        self.layout = layout
        self.other = other
        self.other_env = other_env
        self.large = large
        self.large_env = large_env
        self.alembic = tool("alembic")
        self.scaffold = tool("scaffold")
        self.folder = layout.migrations(layout.chosen)
        self.existing = {p.name for p in self.folder.glob("*.py")}

    def all(self) -> list[Case]:
        return [
            self.help(),
            self.heads(self.layout),
            self.heads(self.large, self.large_env),
            self.upgrade(self.layout, "upgrade heads (fresh SQLite file)", target=1.0),
            self.upgrade(
                self.large,
                f"upgrade heads ({self.large.total_revisions:,} revisions)",
                self.large_env,
                target=1.0,
            ),
            self.autogenerate(),
            self.upgrade(
                self.other,
                f"upgrade heads, {self.other.plugins} other branches on the core label "
                f"({self.other.total_revisions:,} revisions)",
                self.other_env,
            ),
            self.from_models(),
        ]

    def help(self) -> Case:
        return Case(
            "--help",
            1.0,
            raw=lambda i: Command([self.alembic, "--help"], self.layout.root),
            scaffold=lambda i: Command([self.scaffold, "--help"], self.layout.root),
            check=self._check_help,
        )

    def heads(self, layout: Layout, env: dict[str, str] | None = None) -> Case:
        ini = str(layout.ini)
        return Case(
            f"heads ({layout.total_revisions:,} revisions, {layout.plugins} plugins)",
            1.0,
            raw=lambda i: Command([self.alembic, "heads"], layout.host, None, env),
            scaffold=lambda i: Command([self.scaffold, "-c", ini, "heads"], layout.host, None, env),
            check=lambda case, env: self._check_heads(case, env, layout),
        )

    @staticmethod
    def _database(layout: Layout, who: str, i: int) -> Path:
        """The fresh SQLite file of run ``i`` of ``who`` on ``layout``'s host."""
        return layout.databases / f"{who}-{'check' if i < 0 else i}.db"

    def upgrade(
        self,
        layout: Layout,
        name: str,
        env: dict[str, str] | None = None,
        *,
        from_models: bool = False,
        target: float = 1.1,
    ) -> Case:
        """Both tools bring a fresh SQLite file to every head (``from_models``: scaffold makes
        the tables from the models and stamps the heads instead of replaying the revisions)."""
        ini = str(layout.ini)
        more = ["--from-models"] if from_models else []

        def raw(i: int) -> Command:
            path = self._database(layout, "alembic", i)
            path.unlink(missing_ok=True)
            argv = [self.alembic, "-x", f"url=sqlite:///{path}", "upgrade", "heads"]
            return Command(argv, layout.host, path.unlink, env)

        def scaffold(i: int) -> Command:
            path = self._database(layout, "scaffold", i)
            path.unlink(missing_ok=True)
            argv = [self.scaffold, "-c", ini, "--url", f"sqlite:///{path}", "upgrade", *more]
            return Command(argv, layout.host, path.unlink, env)

        return Case(
            name,
            target,
            raw=raw,
            scaffold=scaffold,
            check=lambda case, env: self._check_upgrade(case, env, layout, whole=from_models),
        )

    def from_models(self) -> Case:
        return self.upgrade(
            self.large,
            f"upgrade --from-models vs replay ({self.large.total_revisions:,} revisions)",
            self.large_env,
            from_models=True,
            target=0.1,
        )

    def autogenerate(self) -> Case:
        name = self.layout.chosen
        raw_argv = [
            self.alembic,
            "revision",
            "--autogenerate",
            "-m",
            "x",
            "--head",
            f"{name}@head",
            "--version-path",
            str(self.folder),
        ]
        scaffold_argv = [self.scaffold, "revision", "-m", "x", "--autogenerate"]
        return Case(
            f"revision --autogenerate (plugin {name})",
            1.25,
            raw=lambda i: Command(raw_argv, self.layout.host, self._forget),
            scaffold=lambda i: Command(scaffold_argv, self.layout.project(name), self._forget),
            check=self._check_autogenerate,
        )

    def _written(self) -> list[Path]:
        return sorted(p for p in self.folder.glob("*.py") if p.name not in self.existing)

    def _forget(self) -> None:
        """Delete what a revision command wrote, so that every run starts from the same files."""
        for path in self._written():
            path.unlink()
            for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
                cached.unlink()

    # -- the checks --

    def _check_help(self, case: Case, env: dict[str, str]) -> str:
        for make, prog in ((case.raw, "alembic"), (case.scaffold, "scaffold")):
            _, result = timed(make(-1), env)
            if f"usage: {prog}" not in result.stdout:
                raise BenchError(f"{prog} --help printed no usage line:\n{result.stdout[:500]}")
        return "both print their usage"

    def _check_heads(self, case: Case, env: dict[str, str], layout: Layout) -> str:
        raw = timed(case.raw(-1), env)[1].stdout
        ours = timed(case.scaffold(-1), env)[1].stdout
        # Every plugin's head, and the core head (a dependency is not a down revision).
        wanted = layout.plugins + 1
        if sorted(raw.splitlines()) != sorted(ours.splitlines()) or len(raw.splitlines()) != wanted:
            raise BenchError(
                f"heads differ or are not {wanted}:\nalembic:\n{raw}\nscaffold:\n{ours}"
            )
        return f"both list the same {wanted} heads"

    def _check_upgrade(
        self, case: Case, env: dict[str, str], layout: Layout, whole: bool = False
    ) -> str:
        """Both leave the same version rows and tables (``whole``: the same reflected schema,
        every column, type, index, unique and foreign key)."""
        found = []
        schemas = []
        for make, who in ((case.raw, "alembic"), (case.scaffold, "scaffold")):
            command = make(-1)
            timed(replace(command, after=None), env)  # no clean-up: look at the file first
            path = self._database(layout, who, -1)
            found.append(_schema(path))
            if whole:
                schemas.append(_reflected(path))
            path.unlink()
        if whole:
            from plugin_scaffold.databases.schema import differences

            differ = differences(schemas[0], schemas[1], gone="alembic only", new="scaffold only")
            if differ:
                raise BenchError("the two schemas differ: " + "; ".join(differ[:10]))
        # The core head has no row of its own: every plugin's root depends on it (on both
        # hosts: the other host's roots depend on the core's label, its only revision).
        wanted = layout.plugins
        if found[0] != found[1] or len(found[0][0]) != wanted:
            raise BenchError(
                f"the two upgrades differ or are not at the {wanted} plugin heads: "
                f"alembic {found[0]}, scaffold {found[1]}"
            )
        same = "the same reflected schema of" if whole else "the same"
        return (
            f"both leave the same {wanted} alembic_version rows (the plugin heads) and {same} "
            f"{len(found[0][1])} tables"
        )

    def _check_autogenerate(self, case: Case, env: dict[str, str]) -> str:
        table = f"{self.layout.chosen}__items"
        for make, who in ((case.raw, "alembic"), (case.scaffold, "scaffold")):
            command = make(-1)
            timed(Command(command.argv, command.cwd), env)
            texts = [p.read_text(encoding="utf-8") for p in self._written()]
            self._forget()
            if len(texts) != 1:
                raise BenchError(f"{who} wrote {len(texts)} revision files in {self.folder}")
            text = texts[0]
            only_pending = "pending" in text and table in text and "core__" not in text
            if not only_pending or "drop_table" in text:
                raise BenchError(
                    f"{who}'s revision is not just the column added to {table}:\n{text}"
                )
        return f"each writes one revision file, only the column added to {table}"


def _reflected(path: Path) -> object:
    """Everything plugin_scaffold.databases.schema reflects of a SQLite file."""
    import sqlalchemy as sa

    from plugin_scaffold.databases.schema import reflect

    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return reflect(connection)
    finally:
        engine.dispose()


def _schema(path: Path) -> tuple[list[str], list[str]]:
    """The version rows and table names of a SQLite file."""
    db = sqlite3.connect(path)
    try:
        versions = sorted(r[0] for r in db.execute("SELECT version_num FROM alembic_version"))
        tables = sorted(
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        )
    finally:
        db.close()
    return versions, tables


# --- the report --------------------------------------------------------------------------------


def table(cases: Sequence[Case]) -> str:
    header = ("measurement", "alembic", "scaffold", "ratio", "target", "result")
    rows = [header]
    for case in cases:
        rows.append(
            (
                case.name,
                f"{case.raw_median:.3f}s",
                f"{case.scaffold_median:.3f}s",
                f"{case.ratio:.2f}x",
                f"<= {case.target:.2f}x",
                "ok" if case.ratio <= case.target else "over",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def floor(cases: Sequence[Case]) -> str:
    """What ``--from-models`` cannot go below, measured in the same run: raw ``alembic --help``
    (Python starting and importing Alembic, nothing read), against the same replay."""
    start = next(c for c in cases if c.name == "--help")
    models = next(c for c in cases if c.name.startswith("upgrade --from-models"))
    share = start.raw_median / models.raw_median
    return (
        f"--from-models floor: alembic --help alone takes {start.raw_median:.3f}s, "
        f"{share:.2f}x of the replay (target {models.target:.2f}x)"
    )


# --- where it runs ----------------------------------------------------------------------------


def _memory_folder() -> Path | None:
    """A RAM-backed folder when there is one: SQLite's fsyncs then cost nothing."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


@contextmanager
def folders(keep: Path | None, db_dir: Path | None) -> Iterator[tuple[Path, Path]]:
    """The folder for the host and its plugins, and the folder for its SQLite databases."""
    with tempfile.TemporaryDirectory(prefix="scaffold-bench-") as temporary:
        root = Path(temporary).resolve()
        if keep is not None:
            if keep.exists() and any(keep.iterdir()):
                raise BenchError(f"--keep {keep}: not an empty folder")
            keep.mkdir(parents=True, exist_ok=True)
            root = keep.resolve()
        base = db_dir or _memory_folder()
        if base is None:
            databases = root / "databases"
            databases.mkdir()
        else:
            databases = Path(tempfile.mkdtemp(prefix="scaffold-bench-db-", dir=base)).resolve()
        try:
            yield root, databases
        finally:
            if keep is None and base is not None:
                shutil.rmtree(databases, ignore_errors=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description="scaffold vs raw Alembic, side by side in one run."
    )
    parser.add_argument(
        "--repeat",
        type=int,
        metavar="N",
        help=f"timed runs of each command, median taken (default {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: {plugins} plugins x {revisions} revisions, {repeat} timed run each".format(
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
        "--large",
        type=int,
        metavar="N",
        help=f"revisions of the --from-models row's host, at least (default {DEFAULT_LARGE})",
    )
    parser.add_argument(
        "--db-dir",
        type=Path,
        metavar="DIR",
        help="make the SQLite files in DIR (default: /dev/shm when there is one, so that the "
        "disk's fsyncs are not measured)",
    )
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="as with PYTHONDONTWRITEBYTECODE=1: every process compiles every revision file",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="generate the host in DIR (new or empty) and leave it there, e.g. to profile",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every run's times")
    args = parser.parse_args(argv)
    defaults = (
        QUICK
        if args.quick
        else {
            "repeat": DEFAULT_REPEAT,
            "plugins": DEFAULT_PLUGINS,
            "revisions": DEFAULT_REVISIONS,
            "large": DEFAULT_LARGE,
        }
    )
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.db_dir is not None and not args.db_dir.is_dir():
        parser.error(f"--db-dir {args.db_dir}: no such folder")
    return args


def suite_errors() -> tuple[type[Exception], ...]:
    """What a failed run raises: the bench's own errors, the OS's and scaffold's."""
    from plugin_scaffold.databases.servers import ServerUnavailable
    from plugin_scaffold.errors import ScaffoldError

    return (OSError, ScaffoldError, ServerUnavailable)


def whole_suite(quick: bool, repeat: int) -> str:
    """``bench/suite.py --whole`` on SQLite (``--quick``: its smoke size), its table."""
    command = [sys.executable, str(Path(__file__).with_name("suite.py")), "--whole"]
    command += ["--quick"] if quick else ["--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if done.returncode != 0:
        raise BenchError(f"bench/suite.py --whole exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()

    def log(text: str) -> None:
        if args.verbose:
            print(text, flush=True)

    try:
        with folders(args.keep, args.db_dir) as (root, databases):
            layout = Layout(root, databases, args.plugins, args.revisions)
            generate(layout)
            env = layout.env(bytecode=not args.no_bytecode)
            # Another plugin system's host: its branches are no scaffold plugins, and depend on
            # the label of a one-revision core (issue 7: heads that depend on heads).
            other = Layout(
                root / "other",
                databases / "other",
                args.plugins,
                args.revisions,
                core_revisions=1,
                depends_on=("core",),
                wired=False,
            )
            other.databases.mkdir()
            generate(other)
            # The --from-models host: the same shape, long branches, models = migrations.
            per_plugin = max(1, -(-(args.large - CORE_REVISIONS) // args.plugins))
            large = Layout(
                root / "large", databases / "large", args.plugins, per_plugin, pending=False
            )
            large.databases.mkdir()
            generate(large)
            cases = Cases(
                layout,
                other,
                other.env(bytecode=not args.no_bytecode),
                large,
                large.env(bytecode=not args.no_bytecode),
            )
            # The database autogenerate compares with, at every head (made by Alembic itself).
            timed(Command([cases.alembic, "upgrade", "heads"], layout.host), env)
            print(
                f"host: {layout.total_revisions:,} revisions ({CORE_REVISIONS} core, "
                f"{layout.plugins} plugins x {layout.revisions}) in {root}, and "
                f"{other.total_revisions:,} revisions ({other.core_revisions} core, "
                f"{other.plugins} other branches on its label) in {other.root}, and "
                f"{large.total_revisions:,} revisions ({CORE_REVISIONS} core, {large.plugins} "
                f"plugins x {large.revisions}) in {large.root}; databases in "
                f"{databases}; {'no ' if args.no_bytecode else ''}bytecode caches; "
                f"median of {args.repeat} run(s) of each command",
                flush=True,
            )
            measured = cases.all()
            for case in measured:
                log(f"  {case.name}: checked: {case.check(case, env)}")
                measure(case, args.repeat, env, log)
            print(table(measured), flush=True)
            print(floor(measured), flush=True)
            # Issue 3's figure on the same graph: the test suite's upgrade phase (bench/suite.py).
            import suite

            print(suite.report(layout, "sqlite", args.repeat, stepwise=False, log=log))
            # Issue 18's figures: the whole suite and autogenerate behind heads, on a host of
            # their own (bench/suite.py --whole), in a process of their own.
            print(whole_suite(args.quick, args.repeat), flush=True)
    except (BenchError, suite_errors()) as exc:
        print(f"bench: error: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"({time.perf_counter() - started:.0f}s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
