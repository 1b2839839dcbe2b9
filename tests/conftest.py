"""Shared fixtures: the scaffold command in a subprocess, and throw-away databases."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from forkrun import ForkServer
from plugin_scaffold.databases.servers import (
    ServerUnavailable,
    check_server,
    server_url,
    temporary_database,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_HOST = ROOT / "examples" / "examplehost"


#: One fork server per test process (tests/forkrun.py) for run_scaffold, started at first use
#: and closed at the end of the session; the lock keeps a second thread to a process of its own.
_FORKED: list[ForkServer] = []
_FORK_LOCK = threading.Lock()


def run_scaffold(
    *args: str, cwd: Path, env: dict[str, str] | None = None, check: int | None = 0
) -> subprocess.CompletedProcess[str]:
    """Run ``scaffold`` as a user would, in its own process (plugin models are process-wide).

    The process is forked from one that imported scaffold, Alembic and SQLAlchemy once: the
    suite runs scaffold a thousand times, and the imports were most of each run. A command whose
    environment sets a ``PYTHON*`` variable (a PYTHONPATH that hides a module, say) starts
    Python afresh, since those act when Python starts.
    """
    full_env = {**os.environ, **(env or {})}
    fresh = any(name.startswith("PYTHON") for name in env or {})
    if not fresh and _FORK_LOCK.acquire(blocking=False):
        try:
            if not _FORKED:
                _FORKED.append(ForkServer())
            done = _FORKED[0].run(*args, cwd=cwd, env=full_env, timeout=300, whole_env=True)
        finally:
            _FORK_LOCK.release()
        result = subprocess.CompletedProcess(
            ["scaffold", *args], done.returncode, done.stdout, done.stderr
        )
    else:
        result = subprocess.run(
            [sys.executable, "-m", "plugin_scaffold", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    if check is not None and result.returncode != check:
        raise AssertionError(
            f"scaffold {' '.join(args)} exited {result.returncode}, expected {check}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session", autouse=True)
def _template_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The template databases this test process makes (databases/templates.py) in a cache
    folder of its own, removed at the end with their copies on the servers: the suite leaves
    nothing behind on a shared server. A ``SCAFFOLD_CACHE_DIR`` set by hand is kept."""
    from plugin_scaffold.databases import templates

    if os.environ.get(templates.FOLDER_VARIABLE):
        yield
        return
    os.environ[templates.FOLDER_VARIABLE] = str(tmp_path_factory.mktemp("scaffold-cache"))
    try:
        yield
    finally:
        templates.clear()
        del os.environ[templates.FOLDER_VARIABLE]


@pytest.fixture(scope="session", autouse=True)
def _close_forked() -> Iterator[None]:
    """The fork server of run_scaffold, closed when the test process is done with it."""
    yield
    while _FORKED:
        _FORKED.pop().close()


def scaffold_lines(stderr: str) -> list[str]:
    """What scaffold itself said on stderr (env.py's logging says more)."""
    return [line for line in stderr.splitlines() if line.startswith("scaffold:")]


def uv_binary() -> str:
    """The uv that installed this environment (a test dependency: nox[uv]), else uv on PATH."""
    local = Path(sys.executable).parent / "uv"
    if local.is_file():
        return str(local)
    found = shutil.which("uv")
    if found is None:
        pytest.fail("uv is not installed (it is in the test dependency group, as nox[uv])")
    return found


def run_alembic(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def tables(url: str) -> set[str]:
    """The tables a database has, reflected."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def versions(url: str) -> set[str]:
    """The rows of a database's alembic_version table."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    """The rows a query returns, as tuples."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(query))]
    finally:
        engine.dispose()


def execute(url: str, statement: str) -> None:
    """Run one statement in its own transaction."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def columns(url: str, table: str) -> set[str]:
    """The column names of a table, reflected."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def require_server(kind: str) -> None:
    """Skip (or, in CI, fail) when the server for ``kind`` does not answer."""
    if kind == "sqlite":
        return
    try:
        check_server(server_url(kind))
    except ServerUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI needs the {kind} server: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def server() -> Iterator[ForkServer]:
    """``scaffold`` in a process of its own, forked from one that imported it once (forkrun.py):
    for a module's many short commands."""
    forked = ForkServer()
    yield forked
    forked.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, uniquely named database on SQLite and on PostgreSQL, dropped afterwards."""
    require_server(request.param)
    with temporary_database(request.param) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def any_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The same, on MariaDB too (where DDL commits by itself)."""
    require_server(request.param)
    with temporary_database(request.param) as url:
        yield url


@pytest.fixture
def sqlite_url() -> Iterator[str]:
    with temporary_database("sqlite") as url:
        yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the servers it needs, so that nox's tests(<database>) select by mark.

    A test parametrized by a database gets that database's mark; tests marked by hand
    (``@pytest.mark.postgresql``) keep theirs.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        for value in callspec.params.values() if callspec is not None else ():
            if value in ("postgresql", "mysql"):
                item.add_marker(value)


class Tripwire:
    """A TCP port that counts the connections made to it: the address of a database that must
    never be connected to (an application's production server, in a developer's shell)."""

    def __init__(self) -> None:
        import socket
        import threading

        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self.hits = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.hits += 1
            connection.close()

    def url(self, drivername: str = "postgresql+psycopg") -> str:
        return f"{drivername}://app:pr0duction@127.0.0.1:{self.port}/production"

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def tripwire() -> Iterator[Tripwire]:
    wire = Tripwire()
    try:
        yield wire
    finally:
        wire.close()
