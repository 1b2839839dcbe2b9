"""Before upgrading production: ``--trace-locks`` and ``--lock-timeout``, on a host with rows.

A plugin revision written by hand adds a column to the host's media entries (ACCESS EXCLUSIVE
on a host table: a finding), after the plugin's initial revision (a foreign key to that table:
SHARE ROW EXCLUSIVE), and before an index built CONCURRENTLY (it commits midway: the trace stops
before it). Each test checks that the database is left as it was, or as far as the database
itself allows (MariaDB commits each DDL statement).
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import columns, require_server, rows, run_scaffold, tables, versions
from plugin_scaffold.databases.servers import temporary_database

HOST_HEAD = "3c8e0f2a1b4d"

HOST_COLUMN = '''"""add a column to the host's media entries"""
import sqlalchemy as sa
from alembic import op

revision = "c1c1c1c1c1c1"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("core__media_entries", sa.Column("tag_count", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("core__media_entries", "tag_count")
'''

CONCURRENT = '''"""index the tag counts without blocking writes"""
from alembic import op

revision = "c2c2c2c2c2c2"
down_revision = "c1c1c1c1c1c1"
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_tag_count", "core__media_entries", ["tag_count"], postgresql_concurrently=True
        )


def downgrade():
    op.drop_index("ix_tag_count", "core__media_entries")
'''


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("production")
    run_scaffold("new", "media_tags", str(tmp / "media_tags"), cwd=tmp)
    project = tmp / "media_tags"
    migrations = project / "src/media_tags/migrations"
    [initial] = migrations.glob("*_initial.py")
    down = initial.name.split("_", 1)[0]
    (migrations / "c1c1c1c1c1c1_host_column.py").write_text(HOST_COLUMN.format(down=down))
    return project


@pytest.fixture
def project(rendered: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "media_tags"
    shutil.copytree(rendered, copy)
    return copy


def host_with_rows(project: Path, url: str) -> None:
    """The host at its head, with rows in the table the plugin's revisions touch."""
    run_scaffold("--url", url, "upgrade", HOST_HEAD, cwd=project)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO core__users (id, username, email) VALUES (1, 'ada', 'a@x')")
        )
        connection.execute(
            sa.text(
                "INSERT INTO core__media_entries (id, title, uploader) "
                "VALUES (1, 'first', 1), (2, 'second', 1)"
            )
        )
    engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_server("postgresql")
    with temporary_database("postgresql") as url:
        yield url


@pytest.mark.postgresql
def test_trace_locks_names_the_locks_of_each_revision_and_changes_nothing(
    project: Path, pg_url: str
) -> None:
    (project / "src/media_tags/migrations/c2c2c2c2c2c2_index.py").write_text(CONCURRENT)
    host_with_rows(project, pg_url)
    before = (versions(pg_url), tables(pg_url), columns(pg_url, "core__media_entries"))

    done = run_scaffold("--url", pg_url, "upgrade", "--trace-locks", cwd=project, check=1)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("traced 2 revisions on ") and lines[0].endswith(
        ": rolled back, nothing changed"
    )
    initial = lines.index(next(line for line in lines if "initial tables" in line))
    assert lines[initial + 1].split() == [
        "core__media_entries", "SHARE", "ROW", "EXCLUSIVE", "host", "table:", "blocks", "writes"
    ]  # fmt: skip
    assert lines[initial + 2].split()[:3] == ["media_tags__media_security", "ACCESS", "EXCLUSIVE"]
    assert "created by this run" in lines[initial + 2]
    column = lines.index("c1c1c1c1c1c1 (media_tags: add a column to the host's media entries)")
    assert lines[column + 1].split() == [
        "core__media_entries", "ACCESS", "EXCLUSIVE", "host", "table:", "blocks", "every",
        "read", "and", "write",
    ]  # fmt: skip
    assert lines[column + 2].startswith("stopped before c2c2c2c2c2c2 (media_tags: index the tag")
    assert "it commits midway (autocommit_block)" in lines[column + 2]
    assert lines[-1] == (
        "finding: revision c1c1c1c1c1c1 takes ACCESS EXCLUSIVE on host table core__media_entries:"
        " every query of the site on it waits until the upgrade commits (docs/production.md)"
    )
    after = (versions(pg_url), tables(pg_url), columns(pg_url, "core__media_entries"))
    assert after == before
    assert rows(pg_url, "SELECT count(*) FROM core__media_entries") == [(2,)]

    # the trace of a plugin that touches only its own tables is clean
    (project / "src/media_tags/migrations/c2c2c2c2c2c2_index.py").unlink()
    (project / "src/media_tags/migrations/c1c1c1c1c1c1_host_column.py").unlink()
    clean = run_scaffold("--url", pg_url, "upgrade", "--trace-locks", cwd=project)
    assert "finding" not in clean.stdout and "traced 1 revision on" in clean.stdout
    assert versions(pg_url) == before[0]


def test_trace_locks_is_refused_where_a_run_cannot_be_rolled_back(
    project: Path, sqlite_url: str
) -> None:
    host_with_rows(project, sqlite_url)
    done = run_scaffold("--url", sqlite_url, "upgrade", "--trace-locks", cwd=project, check=2)
    assert done.stderr.strip() == (
        "scaffold: error: --trace-locks reads PostgreSQL's pg_locks in a run that is rolled "
        "back: on sqlite, use --plan and --sql instead"
    )
    assert versions(sqlite_url) == {HOST_HEAD}


#: How each server names the blocking session, the timeout given, and its error's words.
BLOCKERS = {
    "postgresql": ("SELECT pg_backend_pid()", "500ms", "session pid {} (idle in transaction for "),
    "mysql": ("SELECT CONNECTION_ID()", "1", "session id {} ("),
}


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_lock_timeout_fails_fast_and_names_who_held_the_lock(project: Path, kind: str) -> None:
    require_server(kind)
    session, timeout, held_by = BLOCKERS[kind]
    with temporary_database(kind) as url:
        host_with_rows(project, url)
        engine = sa.create_engine(url)
        with engine.connect() as blocker:
            # A request of the site, idle in its transaction after reading the table.
            blocker.execute(sa.text("SELECT count(*) FROM core__media_entries"))
            who = blocker.execute(sa.text(session)).scalar()
            done = run_scaffold(
                "--url", url, "upgrade", "--lock-timeout", timeout, cwd=project, check=1
            )
            blocker.rollback()
        engine.dispose()
        [line] = done.stderr.strip().splitlines()
        assert "c1c1c1c1c1c1_host_column.py:" in line
        shown = timeout if timeout.endswith("ms") else f"{timeout}s"
        assert (
            f"; it waited over {shown} (--lock-timeout) for a lock on table core__media_entries, "
            f"held by {held_by.format(who)}" in line
        )
        assert "tag_count" not in columns(url, "core__media_entries")
        if kind == "postgresql":  # one transaction: the plugin's first revision is undone too
            assert versions(url) == {HOST_HEAD}


def test_lock_timeout_on_sqlite_waits_for_the_file_no_longer(
    project: Path, sqlite_url: str
) -> None:
    host_with_rows(project, sqlite_url)
    path = sqlite_url.removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # another process writing
    release = threading.Timer(30, writer.rollback)
    release.start()
    try:
        done = run_scaffold(
            "--url", sqlite_url, "upgrade", "--lock-timeout", "300ms", cwd=project, check=1
        )
    finally:
        release.cancel()
        writer.rollback()
        writer.close()
    assert (
        "database is locked; it waited over 300ms (--lock-timeout) for the lock on the "
        "database file, which another connection held" in done.stderr
    )
    assert versions(sqlite_url) == {HOST_HEAD}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["upgrade", "--lock-timeout", "soon"], "--lock-timeout 'soon': give a duration such as"),
        (["upgrade", "--lock-timeout", "0s"], "--lock-timeout '0s': give a duration such as"),
        (["upgrade", "--lock-timeout", "5s", "--sql"], "--lock-timeout is for a run on a"),
        (["upgrade", "--trace-locks", "--sql"], "give --trace-locks or --sql, not both"),
        (["upgrade", "--trace-locks", "--plan"], "--plan runs nothing: no --trace-locks"),
        (["downgrade", "base", "--lock-timeout", "x"], "--lock-timeout 'x': give a duration"),
    ],
)
def test_bad_lock_options_are_one_line(project: Path, argv: list[str], message: str) -> None:
    done = run_scaffold(*argv, cwd=project, check=2)
    [line] = done.stderr.strip().splitlines()
    assert message in line
    assert not (project / "dev.db").exists()


def test_a_revision_with_an_autocommit_block_runs_under_scaffold_upgrade(
    project: Path, any_url: str
) -> None:
    """The safe way to index a live PostgreSQL table (CREATE INDEX CONCURRENTLY, outside a
    transaction) runs inside scaffold's one transaction: the block commits what ran before it,
    as Alembic documents, and the run goes on in a new transaction."""
    (project / "src/media_tags/migrations/c2c2c2c2c2c2_index.py").write_text(CONCURRENT)
    host_with_rows(project, any_url)
    run_scaffold("--url", any_url, "upgrade", cwd=project)
    assert "c2c2c2c2c2c2" in versions(any_url)
    engine = sa.create_engine(any_url)
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("core__media_entries")}
    engine.dispose()
    assert "ix_tag_count" in indexes
    run_scaffold("--url", any_url, "downgrade", "--plugin", "media_tags", cwd=project)
    assert versions(any_url) == {HOST_HEAD}
    assert "tag_count" not in columns(any_url, "core__media_entries")
