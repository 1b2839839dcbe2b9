"""PostgreSQL copies of a template made ahead of need (databases/copies.py, issue 18): a check
takes one instead of waiting for ``CREATE DATABASE … TEMPLATE``; what a run did not take is
left whole for the next run; two takers never share one; a killed run leaves whole copies or
none; ``scaffold cache clear`` drops them; scratch databases are all dropped when a run ends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import require_server, run_scaffold
from plugin_scaffold.databases import copies, templates
from plugin_scaffold.databases.servers import host_tag, make_engine, server_url
from plugin_scaffold.databases.urls import DatabaseURL
from test_template_cache import cache, checks_for, project

pytestmark = pytest.mark.postgresql

__all__ = ["cache"]  # the fixture, shared with test_template_cache


def databases(prefix: str) -> list[str]:
    engine = make_engine(server_url("postgresql"))
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %(p)s) ORDER BY 1",
                {"p": prefix},
            )
            return [row[0] for row in rows]
    finally:
        engine.dispose()


def spares() -> list[str]:
    return databases(f"{copies.PREFIX}{templates.folder_id()}_")


def mine() -> list[str]:
    """The scratch databases this process owns."""
    return [n for n in databases("scaffold") if n.endswith(f"_{host_tag()}_{os.getpid()}")]


def url_of(name: str) -> str:
    return DatabaseURL.parse(server_url("postgresql")).with_database(name).text


def tables_in(name: str) -> set[str]:
    engine = make_engine(url_of(name))
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def copies_settled_on_server() -> None:
    """Wait until no copy ahead is being made on the server (by any process)."""
    engine = make_engine(server_url("postgresql"))
    deadline = time.monotonic() + 60
    try:
        while True:
            with engine.connect() as connection:  # pg_stat_activity: read once per transaction
                if not connection.exec_driver_sql(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' "
                    "AND query LIKE 'CREATE DATABASE %%scaffold_spr_%%'"
                ).scalar():
                    return
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        engine.dispose()


@pytest.fixture
def clones(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each scratch database made by waiting for ``CREATE DATABASE … TEMPLATE`` (no copy ready)."""
    made: list[str] = []
    real = templates._clone

    def clone(admin: Any, kind: str, template: str, name: str, **kw: Any) -> None:
        made.append(name)
        real(admin, kind, template, name, **kw)

    monkeypatch.setattr(templates, "_clone", clone)
    return made


def test_checks_take_copies_made_ahead_and_leave_the_rest_to_the_next_run(
    tmp_path: Path, cache: Path, clones: list[str]
) -> None:
    require_server("postgresql")
    root, name, _ = project(tmp_path)
    checks = checks_for(root, name, "postgresql")
    checks.round_trips()  # builds the template, clones it once, starts the copies ahead
    copies.settle()
    assert len(clones) == 1
    assert len(spares()) == copies.AHEAD
    checks.uninstall()
    checks.models_match()
    checks.install_alone()
    copies.settle()
    assert len(clones) == 1, clones  # every later check took a copy
    ahead = spares()
    assert len(ahead) == copies.AHEAD
    for spare in ahead:
        assert tables_in(spare) == {"accounts", "store", "alembic_version"}
    # The next run (a new process: nothing being made) takes what this one left.
    copies._making.clear()
    checks_for(root, name, "postgresql").round_trips()
    assert len(clones) == 1
    copies.settle()  # the drops, and the copies still being made
    assert mine() == []  # every scratch database dropped when the run ends
    env = {templates.FOLDER_VARIABLE: str(cache)}
    ahead = spares()
    listed = run_scaffold("cache", "list", cwd=tmp_path, env=env).stdout
    assert all(f"{n}  copy made ahead" in listed for n in ahead), listed
    assert f"; {len(ahead)} copies made ahead kept" in listed, listed
    cleared = run_scaffold("cache", "clear", cwd=tmp_path, env=env).stdout
    assert f"; {len(ahead)} copies made ahead removed" in cleared, cleared
    assert spares() == []


def test_two_takers_never_get_the_same_copy(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_server("postgresql")
    monkeypatch.setattr(copies, "AHEAD", 0)
    admin = make_engine(server_url("postgresql"), isolation_level="AUTOCOMMIT")
    template = f"{templates.PREFIX}{templates.folder_id()}_{uuid.uuid4().hex}"
    prefix = copies.prefix_of(template, templates.folder_id())
    names = [f"scaffold_copytest_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    cloned: list[str] = []
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{template}"')
        made = make_engine(url_of(template))
        with made.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE kept (id INTEGER)")
        made.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{prefix}0000aaaa" TEMPLATE "{template}"')
        start = threading.Barrier(2)

        def clone(name: str) -> None:
            cloned.append(name)
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

        def take(name: str) -> None:
            start.wait()
            copies.take(admin, template, templates.folder_id(), name, clone)

        threads = [threading.Thread(target=take, args=(n,)) for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(cloned) == 1  # one took the copy, the other cloned
        assert databases(prefix) == []
        for name in names:
            assert tables_in(name) == {"kept"}
    finally:
        for name in [*names, template]:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


#: A run that takes a copy of template KEY (a table ``made`` with a row), then is killed while a
#: copy ahead is being made.
KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from plugin_scaffold.databases import templates
    from plugin_scaffold.databases.servers import make_engine

    def build(url):
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE made (id INTEGER)")
            connection.exec_driver_sql("INSERT INTO made VALUES (1)")
        engine.dispose()

    with templates.scratch_copy("postgresql", [sys.argv[1]], build, prefix="scaffold_cptest"):
        print("taken", flush=True)
        admin = make_engine(templates.server_url("postgresql"))
        for _ in range(1000):  # until a copy ahead is being made
            with admin.connect() as connection:
                if connection.exec_driver_sql(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' "
                    "AND query LIKE 'CREATE DATABASE %%scaffold_spr_%%'"
                ).scalar():
                    break
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_killed_run_leaves_whole_copies_or_none_and_the_next_run_takes_one(
    cache: Path, clones: list[str]
) -> None:
    require_server("postgresql")
    key = f"killed {time.time()}"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED, key], capture_output=True, text=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL and "taken" in killed.stdout, killed
    # The server finishes (or undoes) each CREATE DATABASE the killed run left going.
    copies_settled_on_server()
    left = spares()
    # PostgreSQL finishes a CREATE DATABASE whose client died: the copies are there, whole.
    assert 1 <= len(left) <= copies.AHEAD
    for spare in left:
        copy = make_engine(url_of(spare))
        with copy.connect() as connection:
            assert connection.exec_driver_sql("SELECT id FROM made").scalars().all() == [1]
        copy.dispose()

    def build(url: str) -> None:
        raise AssertionError("the template was built by the killed run")

    with templates.scratch_copy("postgresql", [key], build, prefix="scaffold_cptest") as url:
        assert "made" in tables_in(DatabaseURL.parse(url).url.database or "")
    assert clones == []  # the next run took one


def build_made(url: str) -> None:
    """A template with one table."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE made (id INTEGER)")
    engine.dispose()


def test_a_scratch_database_a_session_still_holds_is_dropped_at_the_end(cache: Path) -> None:
    require_server("postgresql")
    key = f"held {time.time()}"
    with templates.scratch_copy("postgresql", [key], build_made, prefix="scaffold_cptest") as url:
        name = DatabaseURL.parse(url).url.database or ""
        held = make_engine(url).connect()  # a session env.py's own engine kept open
        held.exec_driver_sql("SELECT 1 FROM made").all()
    copies.finish_drops()
    assert databases(name) == []
    with contextlib.suppress(Exception):  # ended by the drop
        held.close()


def test_a_run_that_ends_waits_for_its_copies_so_that_clear_finds_them(cache: Path) -> None:
    require_server("postgresql")
    key = f"ended {time.time()}"
    ended = subprocess.run(
        [sys.executable, "-c", KILLED.replace("os.kill(os.getpid(), signal.SIGKILL)", "pass"), key],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ended.returncode == 0 and "taken" in ended.stdout, ended
    templates.clear()  # right after the run: its copies were whole when it ended
    copies_settled_on_server()  # none finished later, which no clear would find
    assert spares() == []


@contextlib.contextmanager
def _admin_connects(url: str) -> Iterator[list[int]]:
    """Each connection the admin engine of ``url`` opens in the block (SQLAlchemy's event)."""
    from sqlalchemy import event

    from plugin_scaffold.databases.servers import admin_engine

    opened: list[int] = []
    engine = admin_engine(DatabaseURL.parse(url))

    def connected(*args: Any) -> None:
        opened.append(1)

    event.listen(engine, "connect", connected)
    try:
        yield opened
    finally:
        event.remove(engine, "connect", connected)


def test_checks_make_and_drop_databases_on_one_kept_server_session(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new PostgreSQL session costs the server a process: the engine that makes, copies and
    drops the scratch databases keeps one between checks instead of one per statement."""
    require_server("postgresql")
    monkeypatch.setattr(copies, "AHEAD", 0)  # nothing made in the background: only the checks
    root, name, _ = project(tmp_path)
    checks = checks_for(root, name, "postgresql")
    checks.round_trips()  # builds the template
    copies.settle()
    with _admin_connects(server_url("postgresql")) as opened:
        checks.uninstall()
        checks.models_match()
        checks.install_alone()
        during = len(opened)
        with copies._lock:
            waiting = len(copies._pending)
        copies.settle()  # and the drops: at once, one session each but the one kept
    assert mine() == []
    assert during == 0, f"{during} new server sessions for three checks"
    assert waiting == 3
    assert len(opened) <= waiting - 1


def test_a_server_url_on_template1_keeps_no_session_there(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL refuses to copy template1 (every empty database, copies made ahead too) while
    another session is on it: named as the server's database, it is left after each use."""
    require_server("postgresql")
    on_template1 = DatabaseURL.parse(server_url("postgresql")).with_database("template1").text
    monkeypatch.setenv("SCAFFOLD_POSTGRES_URL", on_template1)
    made = []
    for _ in range(3):
        with templates.empty_database("postgresql", prefix="scaffold_t1") as url:
            made.append(tables_in(DatabaseURL.parse(url).url.database or ""))
        copies.settle()
    assert made == [set(), set(), set()]
    assert mine() == []
    engine = make_engine(server_url("postgresql"))
    try:
        with engine.connect() as connection:
            left = connection.exec_driver_sql(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = 'template1' "
                "AND pid <> pg_backend_pid()"
            ).scalar()
    finally:
        engine.dispose()
    assert left == 0


#: A test session's end, in a process of its own: a scratch copy used, then its drop handed off
#: (as the pytest plugin's session fixture does); prints the copy's name and the dropper's pid.
HANDED_OFF = """
import sys
from plugin_scaffold.databases import copies, templates
from plugin_scaffold.databases.servers import make_engine

def build(url):
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE made (id INTEGER)")
    engine.dispose()

with templates.scratch_copy("postgresql", [sys.argv[1]], build, prefix="scaffold_cptest") as url:
    name = url.rsplit("/", 1)[1].split("?")[0]
copies.hand_off_drops()
print(name, copies._handed_off[0].pid if copies._handed_off else "none", flush=True)
"""


def test_a_sessions_last_drops_are_made_by_a_process_of_their_own(cache: Path) -> None:
    """The end of a test session hands its last scratch databases to a dropper process: the
    session's process ends without waiting for the drops (a checkpoint each), and the
    databases are gone after, whatever the session's process did since."""
    require_server("postgresql")
    key = f"handed off {time.time()}"
    ended = subprocess.run(
        [sys.executable, "-c", HANDED_OFF, key], capture_output=True, text=True, timeout=120
    )
    assert ended.returncode == 0, ended.stderr
    name, dropper = ended.stdout.split()
    assert dropper != "none"
    deadline = time.monotonic() + 60
    while databases(name):
        assert time.monotonic() < deadline, f"{name} was not dropped"
        time.sleep(0.1)
    # the dropper ends once it has dropped them
    while Path(f"/proc/{dropper}").exists() and "Z" not in _state(int(dropper)):
        assert time.monotonic() < deadline, "the dropper did not end"
        time.sleep(0.1)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_handed_off_drops_in_this_process_are_waited_for(cache: Path) -> None:
    require_server("postgresql")
    key = f"waited {time.time()}"
    with templates.scratch_copy("postgresql", [key], build_made, prefix="scaffold_cptest") as url:
        name = DatabaseURL.parse(url).url.database or ""
    assert databases(name) == [name]
    copies.hand_off_drops()
    copies.wait_handed_off()
    assert databases(name) == []
