"""Nothing raced: concurrent migrations of one database apply each revision once, all exit 0."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import require_server, run_scaffold, tables, versions
from hosts import make_host, revision_id
from plugin_scaffold.databases.servers import temporary_database
from plugin_scaffold.databases.urls import redact

PROCESSES = 8

#: A host revision making the table ``applied``, with a pause before it writes its row (format
#: it with the revision's ``rev`` and ``down``).
STEP = '''
"""{doc}"""
import {module}

import sqlalchemy as sa
from alembic import op

revision = "{{rev}}"
down_revision = "{{down}}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("applied", sa.Column("id", sa.Integer(), primary_key=True))
    {pause}
    op.execute("INSERT INTO applied (id) VALUES (1)")


def downgrade():
    op.drop_table("applied")
'''
COUNTED = STEP.format(
    doc="counted step: a row per application, slow enough for every run to meet the others",
    module="time",
    pause="time.sleep(1.5)",
)
#: The pause a statement on the server, as long as SCAFFOLD_TEST_SLEEP says.
SLEEPING = STEP.format(
    doc="sleeping step",
    module="os",
    pause='op.execute("SELECT pg_sleep(%s)" % float(os.environ["SCAFFOLD_TEST_SLEEP"]))',
)


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def fresh_url(request: pytest.FixtureRequest) -> Iterator[str]:
    require_server(request.param)
    with temporary_database(request.param) as url:
        yield url


def counted_host(root: Path) -> Path:
    ini = make_host(root, env_style="connection", revisions=2)
    versions_dir = root / "migrations" / "versions"
    (versions_dir / "0003aaaa0003_counted.py").write_text(
        COUNTED.format(rev=revision_id(3), down=revision_id(2))
    )
    return ini


def waiting_runs(
    url: str,
    args: list[str],
    *,
    n: int,
    cwd: Path,
    env: dict[str, str] | None = None,
    while_held: Callable[[], None] = lambda: None,
) -> tuple[str, list[tuple[int, str, str]]]:
    """``n`` runs of ``scaffold ARGS`` started while this process holds the migration lock (and
    first does ``while_held``), let go once each says it waits. Returns the holder as a waiter
    names it, and each run's exit code, stdout and stderr."""
    with lock_held_elsewhere(url) as holder:
        while_held()
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "plugin_scaffold", *args],
                cwd=cwd,
                env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(n)
        ]
        readers = [_StderrReader(run) for run in runs]
        for reader in readers:
            assert reader.waiting.wait(timeout=120), "".join(reader.lines)
    outcomes = []
    for run, reader in zip(runs, readers, strict=True):
        out = run.stdout.read() if run.stdout else ""
        code = run.wait(timeout=300)
        reader.thread.join(timeout=60)
        outcomes.append((code, out, "".join(reader.lines)))
    return holder, outcomes


def test_concurrent_upgrades_apply_each_revision_once(tmp_path: Path, fresh_url: str) -> None:
    """8 runs wait for a lock held elsewhere (each says so once, naming the holder), then take
    it one at a time: each revision is applied once and every run exits 0."""
    ini = counted_host(tmp_path / "host")
    started = time.monotonic()
    upgrade = ["-c", str(ini), "--url", fresh_url, "upgrade"]
    holder, outcomes = waiting_runs(fresh_url, upgrade, n=PROCESSES, cwd=tmp_path)
    elapsed = time.monotonic() - started

    report = "\n".join(f"exit {code}\n{out}{err}" for code, out, err in outcomes)
    assert [code for code, _, _ in outcomes] == [0] * PROCESSES, report
    assert versions(fresh_url) == {revision_id(3)}
    assert {"accounts", "store", "applied"} <= tables(fresh_url)
    engine = sa.create_engine(fresh_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM applied")).scalar() == 1
    engine.dispose()
    for _, _, err in outcomes:
        lines = [line for line in err.splitlines() if "waiting for the migration lock" in line]
        assert len(lines) == 1 and "held by" in lines[0] and holder in lines[0], err
        assert "Traceback" not in err
    # One run applied the revisions; the 7 that took the lock after it found nothing to do and
    # say so, rather than claiming an upgrade they did not make.
    said = sorted(out.strip() for _, out, _ in outcomes)
    assert said == sorted(
        [f"upgraded {redact(fresh_url)} to heads"]
        + [f"{redact(fresh_url)} is already at heads: nothing to upgrade"] * (PROCESSES - 1)
    ), report
    print(f"{PROCESSES} concurrent upgrades on {fresh_url.split(':')[0]}: {elapsed:.1f}s")


class _StderrReader:
    """Reads a run's stderr as it comes; ``waiting`` is set once it says it waits for the lock."""

    def __init__(self, run: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.waiting = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(run,), daemon=True)
        self.thread.start()

    def _read(self, run: subprocess.Popen[str]) -> None:
        assert run.stderr is not None
        for line in run.stderr:
            self.lines.append(line)
            if "waiting for the migration lock" in line:
                self.waiting.set()
        self.waiting.set()  # ended without waiting: the assertion on its output says so


@contextlib.contextmanager
def lock_held_elsewhere(url: str) -> Iterator[str]:
    """Hold the migration lock from this test process; yield what a waiter must name."""
    parsed = sa.engine.make_url(url)
    kind = parsed.get_backend_name()
    if kind == "sqlite":
        path = Path(parsed.database or "")
        path.touch()
        lock_path = path.with_name(path.name + ".scaffold-lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"scaffold pid {os.getpid()} on testhost\n".encode())
        try:
            yield f"pid {os.getpid()}"
        finally:
            os.unlink(lock_path)
            os.close(fd)
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        if kind == "postgresql":
            conn.exec_driver_sql("SET application_name = 'the-lock-test'")
            conn.exec_driver_sql("SELECT pg_advisory_lock(97185309, 1)")
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            conn.commit()
            yield f"server pid {pid}, the-lock-test"
        else:
            name = f"scaffold-migrate:{parsed.database}"
            conn.exec_driver_sql(f"SELECT GET_LOCK('{name}', 0)")
            connection_id = conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
            conn.commit()
            yield f"connection {connection_id}"
    engine.dispose()


def test_a_wait_that_times_out_names_the_holder_and_changes_nothing(
    tmp_path: Path, fresh_url: str
) -> None:
    ini = make_host(tmp_path / "host", env_style="connection")
    with lock_held_elsewhere(fresh_url) as holder:
        started = time.monotonic()
        result = run_scaffold(
            "-c",
            str(ini),
            "--url",
            fresh_url,
            "upgrade",
            cwd=tmp_path,
            env={"SCAFFOLD_LOCK_TIMEOUT": "2"},
            check=1,
        )
        waited = time.monotonic() - started
        # Reading does not lock: current answers while the lock is held.
        current = run_scaffold("-c", str(ini), "--url", fresh_url, "current", cwd=tmp_path)
    assert 2 <= waited < 30
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("scaffold: waiting for the migration lock on") and holder in lines[0]
    assert lines[1].startswith("scaffold: error: gave up after 2s waiting for the migration lock")
    assert holder in lines[1] and "SCAFFOLD_LOCK_TIMEOUT" in lines[1]
    assert "no revision applied" in current.stdout
    assert not tables(fresh_url) - {"alembic_version"}


def test_runs_on_a_scratch_database_of_this_process_take_no_lock(
    tmp_path: Path, fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scratch database (the checks', autogenerate's) is reached by no other run: its runs
    do not wait for the migration lock, which someone holding it shows; the same database
    named as any other still waits for it."""
    from plugin_scaffold.commands import migrate
    from plugin_scaffold.commands.workspace import Workspace
    from plugin_scaffold.errors import MigrationError

    ini = make_host(tmp_path / "host", env_style="connection")
    monkeypatch.setenv("SCAFFOLD_LOCK_TIMEOUT", "1")
    named = Workspace.open(config=str(ini), url=fresh_url, cwd=tmp_path)
    with lock_held_elsewhere(fresh_url) as holder:
        with pytest.raises(MigrationError, match="gave up after 1s waiting") as waited:
            migrate.upgrade(named)
        assert holder in str(waited.value)
        assert "alembic_version" not in tables(fresh_url)
        migrate.upgrade(named.on_scratch(fresh_url))  # at once
        assert versions(fresh_url) == {revision_id(2)}


def test_lock_timeout_that_is_not_a_number_is_bad_input(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host", env_style="connection")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = run_scaffold(
        "-c",
        str(ini),
        "--url",
        url,
        "upgrade",
        cwd=tmp_path,
        env={"SCAFFOLD_LOCK_TIMEOUT": "ten minutes"},
        check=2,
    )
    assert "SCAFFOLD_LOCK_TIMEOUT='ten minutes'" in result.stderr
    assert not (tmp_path / "db.sqlite").exists()


def test_a_second_upgrade_says_it_had_nothing_to_do(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host", env_style="connection", revisions=2)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = run_scaffold("-c", str(ini), "--url", url, "upgrade", cwd=tmp_path)
    assert first.stdout.strip() == f"upgraded {url} to heads"
    again = run_scaffold("-c", str(ini), "--url", url, "upgrade", cwd=tmp_path)
    assert again.stdout.strip() == f"{url} is already at heads: nothing to upgrade"
    to_one = run_scaffold("-c", str(ini), "--url", url, "upgrade", revision_id(2), cwd=tmp_path)
    assert to_one.stdout.strip() == f"{url} is already at {revision_id(2)}: nothing to upgrade"
    assert versions(url) == {revision_id(2)}
    down = run_scaffold("-c", str(ini), "--url", url, "downgrade", revision_id(1), cwd=tmp_path)
    assert down.stdout.strip() == f"downgraded {url} to {revision_id(1)}"
    down = run_scaffold("-c", str(ini), "--url", url, "downgrade", revision_id(1), cwd=tmp_path)
    assert down.stdout.strip() == f"{url} is already at {revision_id(1)}: nothing to downgrade"
    assert versions(url) == {revision_id(1)}


# --- a killed run's lock: the server notices the dead client -----------------------------------


def _sessions_of_the_run(conn: sa.Connection) -> list[int]:
    """The server sessions that hold the migration lock or run the sleeping statement."""
    rows = conn.exec_driver_sql(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND classid = 97185309 AND objid = 1 AND objsubid = 2 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "UNION SELECT pid FROM pg_stat_activity WHERE state = 'active' "
        "AND query LIKE 'SELECT pg_sleep(300%%'"
    )
    found = [row[0] for row in rows]
    conn.commit()
    return found


@pytest.mark.postgresql
@pytest.mark.parametrize("env_style", ["connection", "url"])
def test_a_killed_upgrade_lets_go_of_the_lock_within_seconds(
    tmp_path: Path, env_style: str
) -> None:
    """kill -9 of `scaffold upgrade` while the server runs a long statement for it: the server
    notices the dead client (client_connection_check_interval), rolls the run back and lets go
    of the migration lock within seconds, not when the statement would have ended; a re-run
    then applies the revision. With the handed-in connection, and with env.py's own engine
    (the lock on scaffold's idle session, the statement on env.py's)."""
    require_server("postgresql")
    ini = make_host(tmp_path / "host", env_style=env_style, revisions=2)
    (tmp_path / "host/migrations/versions/0003aaaa0003_sleeping.py").write_text(
        SLEEPING.format(rev=revision_id(3), down=revision_id(2))
    )
    with temporary_database("postgresql") as url:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        argv = [sys.executable, "-m", "plugin_scaffold", "-c", str(ini), "--url", url, "upgrade"]
        env = {**os.environ, "SCAFFOLD_TEST_SLEEP": "300"}
        run = subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
        try:
            with engine.connect() as conn:
                deadline = time.monotonic() + 120
                while not conn.exec_driver_sql(
                    "SELECT 1 FROM pg_stat_activity WHERE state = 'active' "
                    "AND query LIKE 'SELECT pg_sleep(300%%'"
                ).first():
                    conn.commit()
                    assert run.poll() is None, run.stderr.read() if run.stderr else ""
                    assert time.monotonic() < deadline, "the sleeping revision never ran"
                    time.sleep(0.1)
                conn.commit()
                assert len(_sessions_of_the_run(conn)) == (1 if env_style == "connection" else 2)
                run.kill()
                killed = time.monotonic()
                run.wait()
                # Its lock and its statement (env.py's own session's, with an engine of its
                # own): both end, or a re-run would wait on the lock or on the table's lock.
                while _sessions_of_the_run(conn):
                    assert time.monotonic() - killed < 5, "the killed run's sessions outlived it"
                    time.sleep(0.1)
                let_go = time.monotonic() - killed
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        rerun = run_scaffold(
            "-c", str(ini), "--url", url, "upgrade",
            cwd=tmp_path, env={"SCAFFOLD_TEST_SLEEP": "0"},
        )  # fmt: skip
        assert rerun.stdout.strip() == f"upgraded {redact(url)} to heads", rerun.stderr
        assert versions(url) == {revision_id(3)} and "applied" in tables(url)
        engine.dispose()
    print(f"the killed run's lock was let go {let_go:.1f}s after kill -9")


@pytest.mark.postgresql
def test_a_waiting_run_says_the_holders_client_is_gone_and_what_it_runs(tmp_path: Path) -> None:
    """The lock held by a session whose scaffold process (on this machine) is gone, busy with a
    statement: the waiting run says the process is gone, what the session runs and for how
    long, and how to end it now — when it starts waiting and when it gives up."""
    require_server("postgresql")
    ini = make_host(tmp_path / "host", env_style="connection")
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    ghost = f"scaffold pid {ended.pid} on {socket.gethostname()}"
    with temporary_database("postgresql") as url:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        holder = engine.connect()
        holder.exec_driver_sql(f"SET application_name = '{ghost}'")
        holder.exec_driver_sql("SELECT pg_advisory_lock(97185309, 1)")
        pid = holder.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        holder.commit()

        def sleep() -> None:
            with contextlib.suppress(Exception):  # ended by pg_terminate_backend below
                holder.exec_driver_sql("SELECT pg_sleep(60)")

        sleeper = threading.Thread(target=sleep, daemon=True)
        sleeper.start()
        try:
            time.sleep(1)
            result = run_scaffold(
                "-c", str(ini), "--url", url, "upgrade",
                cwd=tmp_path, env={"SCAFFOLD_LOCK_TIMEOUT": "1"}, check=1,
            )  # fmt: skip
        finally:
            with engine.connect() as admin:
                admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            sleeper.join(timeout=30)
            engine.dispose()
    held = (
        re.escape(
            f"server pid {pid}, {ghost} (that process is gone: the server has not noticed yet); "
            "it is running SELECT pg_sleep(60) for "
        )
        + r"\d+"
        + re.escape(f"s; SELECT pg_terminate_backend({pid}) ends it now")
    )
    shown = re.escape(redact(url))
    waiting, gave_up = result.stderr.splitlines()
    assert re.fullmatch(
        f"scaffold: waiting for the migration lock on {shown} \\(held by {held}\\)", waiting
    )
    assert re.fullmatch(
        f"scaffold: error: gave up after 1s waiting for the migration lock on {shown}: held by "
        f"{held} \\(set SCAFFOLD_LOCK_TIMEOUT to wait longer\\)",
        gave_up,
    ), gave_up
