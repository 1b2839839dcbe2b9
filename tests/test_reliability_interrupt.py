"""Nothing left behind: interrupted runs clean up; what a killed run left, the next run sweeps."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import require_server, run_scaffold
from hosts import make_host, make_plugin, revision_id
from plugin_scaffold.databases.servers import host_tag, server_url, temporary_database

SLOW = '''
"""slow step: long enough to be interrupted"""
import time

from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    time.sleep(6)


def downgrade():
    pass
'''


def slow_project(root: Path) -> Path:
    ini = make_host(root / "host", env_style="connection")
    (root / "host/migrations/versions/0003aaaa0003_slow.py").write_text(
        SLOW.format(rev=revision_id(3), down=revision_id(2))
    )
    return make_plugin(root / "poser", "poser", host_ini=ini)


def scratch_databases(pid: int) -> list[str]:
    """The PostgreSQL databases whose names say process ``pid`` of this machine owns them."""
    engine = sa.create_engine(server_url("postgresql"))
    try:
        with engine.connect() as conn:
            names = [r[0] for r in conn.exec_driver_sql("SELECT datname FROM pg_database")]
    finally:
        engine.dispose()
    return [n for n in names if n.endswith(f"_{host_tag()}_{pid}")]


def owned_folders(parent: Path, pid: int) -> list[Path]:
    pattern = re.compile(rf"\.?scaffold-{pid}-{host_tag()}-")
    return [p for p in parent.iterdir() if pattern.match(p.name)]


def wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the run to get there")
        time.sleep(0.1)


@pytest.fixture
def dev_url() -> Iterator[str]:
    require_server("postgresql")
    with temporary_database("postgresql") as url:
        yield url


COMMANDS = {
    "revision": ["revision", "-m", "next", "--autogenerate"],
    "check": ["check", "--models"],
}

#: These runs are interrupted while a scratch database replays the host: with the template
#: cache on, a template an earlier test built would spare them the replay (a killed template
#: build is tested in test_template_cache.py).
NO_CACHE = {"SCAFFOLD_CACHE": "off"}


@pytest.mark.postgresql
@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=lambda s: s.name
)
def test_interrupted_run_leaves_nothing_once_the_next_run_has_swept(
    tmp_path: Path, dev_url: str, command: str, signum: signal.Signals
) -> None:
    project = slow_project(tmp_path)
    migrations = project / "src/poser/migrations"
    before = sorted(p.name for p in migrations.iterdir())
    run = subprocess.Popen(
        [sys.executable, "-m", "plugin_scaffold", "--url", dev_url, *COMMANDS[command]],
        cwd=project,
        env={**os.environ, **NO_CACHE},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    staging_parent = migrations if command == "revision" else Path(tempfile.gettempdir())
    # In the middle of the scratch database's upgrade (its slow host revision).
    wait_for(lambda: run.poll() is not None or scratch_databases(run.pid))
    time.sleep(1)
    assert owned_folders(staging_parent, run.pid) and scratch_databases(run.pid)
    run.send_signal(signum)
    out, err = run.communicate(timeout=60)

    if signum == signal.SIGKILL:
        assert run.returncode == -signal.SIGKILL
        assert scratch_databases(run.pid) and owned_folders(staging_parent, run.pid)
        # The next run that makes a scratch database on that server sweeps both.
        next_run = ["revision", "-m", "again", "--autogenerate"] if command == "revision" else []
        result = run_scaffold(
            "--url", dev_url, *(next_run or ["check"]), cwd=project, env=NO_CACHE, check=None
        )
        assert result.returncode in (0, 1), result.stderr
        assert not scratch_databases(run.pid)
        assert not owned_folders(staging_parent, run.pid)
        return

    assert run.returncode == 128 + signum, err
    assert [line for line in err.splitlines() if line.startswith("scaffold")] == [
        f"scaffold: interrupted ({signum.name}); nothing half-done was kept"
    ]
    assert "Traceback" not in err and out == ""
    assert not scratch_databases(run.pid)
    assert not owned_folders(staging_parent, run.pid)
    assert sorted(p.name for p in migrations.iterdir()) == before


def test_a_killed_runs_sqlite_folder_is_swept_by_the_next_scratch_database(tmp_path: Path) -> None:
    project = slow_project(tmp_path)
    dev = tmp_path / "dev.db"
    # The plugin has no revision yet: its first autogenerate compares with a scratch database
    # brought to the host's heads (through the slow revision), the developer's being absent.
    autogenerate = ["revision", "-m", "first", "--autogenerate"]
    run = subprocess.Popen(
        [sys.executable, "-m", "plugin_scaffold", "--url", f"sqlite:///{dev}", *autogenerate],
        cwd=project,
        env={**os.environ, **NO_CACHE},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    temp = Path(tempfile.gettempdir())
    wait_for(
        lambda: (
            run.poll() is not None
            or any((p / "database.db").exists() for p in owned_folders(temp, run.pid))
        )
    )
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=60)
    assert owned_folders(temp, run.pid)
    assert not list((project / "src/poser/migrations").glob("*_first.py"))  # killed: no file
    run_scaffold("--url", f"sqlite:///{dev}", *autogenerate, cwd=project, env=NO_CACHE)
    assert not owned_folders(temp, run.pid)
    assert len(list((project / "src/poser/migrations").glob("*_first.py"))) == 1
    assert not dev.exists()  # autogenerate never creates the developer's database
