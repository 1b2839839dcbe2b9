"""Template databases (issue 18): scratch databases copied from a cached database at the heads a
check needs; a new entry for a changed revision file or another server; built once by two
sessions at once; nothing half-made kept from a killed build; ``scaffold cache clear``; and the
suite's verdicts the same with the cache as without it."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import require_server, run_scaffold
from hosts import make_host, make_plugin, revision_id, write_plugin_root
from ownsuite import run_own_tests
from plugin_scaffold.commands.workspace import Workspace
from plugin_scaffold.databases import templates
from plugin_scaffold.databases.servers import make_engine, server_url
from plugin_scaffold.testing import MigrationChecks

BROKEN = Path(__file__).parent / "broken"
_names = itertools.count()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache folder of the test's own; its server templates dropped afterwards."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(templates.FOLDER_VARIABLE, str(folder))
    monkeypatch.delenv(templates.CACHE_VARIABLE, raising=False)
    yield folder
    templates.clear()


@pytest.fixture
def publishes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each template built (made and renamed into place), by kind."""
    built: list[str] = []
    sqlite, server = templates._sqlite_publish, templates._publish

    def on_sqlite(*args: Any, **kw: Any) -> bool:
        made = sqlite(*args, **kw)
        if made:
            built.append("sqlite")
        return made

    def on_server(admin: Any, kind: str, *args: Any, **kw: Any) -> bool:
        made = server(admin, kind, *args, **kw)
        if made:
            built.append(kind)
        return made

    monkeypatch.setattr(templates, "_sqlite_publish", on_sqlite)
    monkeypatch.setattr(templates, "_publish", on_server)
    return built


def project(tmp_path: Path, revisions: int = 3) -> tuple[Path, str, Path]:
    """A host of ``revisions`` revisions and a one-table plugin on it (names unique in this
    process, as both are imported here): the project, the plugin's name, the host's versions."""
    n = next(_names)
    package, name = f"tplhost{n}", f"tplplug{n}"
    ini = make_host(tmp_path / "host", package=package, revisions=revisions)
    root = make_plugin(tmp_path / name, name, host_ini=ini, host_package=package)
    write_plugin_root(root / "src" / name / "migrations", name, depends_on=revision_id(1))
    return root, name, tmp_path / "host" / "migrations" / "versions"


def checks_for(root: Path, name: str, database: str) -> MigrationChecks:
    return MigrationChecks(Workspace.open(config=None, url=None, cwd=root), name, database)


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def versions(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                r[0] for r in connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            }
    finally:
        engine.dispose()


def server_templates() -> list[tuple[str, bool]]:
    """This cache folder's template databases on the PostgreSQL server, and datallowconn."""
    engine = make_engine(server_url("postgresql"))
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT datname, datallowconn FROM pg_database WHERE starts_with(datname, %(p)s)",
                {"p": f"{templates.PREFIX}{templates.folder_id()}_"},
            )
            return sorted((r[0], r[1]) for r in rows)
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_checks_copy_one_template_instead_of_replaying_the_host(
    tmp_path: Path, cache: Path, publishes: list[str], database: str
) -> None:
    require_server(database)
    root, name, _ = project(tmp_path)
    checks = checks_for(root, name, database)
    checks.round_trips()
    checks.uninstall()
    checks.models_match()
    checks.install_alone()
    assert publishes == [database]  # built once, copied for every later check
    (entry,) = templates.entries()
    assert entry.kind == database and entry.about["heads"] == [revision_id(3)]
    with checks.prepared() as url:
        assert versions(url) == {revision_id(3)}
        assert tables(url) == {"accounts", "store", "alembic_version"}
    if database == "postgresql":
        assert server_templates() == [(entry.name, False)]  # nobody connects to it
    if database != "sqlite":
        return
    # The scratch database is a copy of the template file: what is in it is in the copy.
    template = make_engine(f"sqlite:///{entry.where}")
    with template.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE marker (id INTEGER)")
    template.dispose()
    with checks.prepared() as url:
        assert "marker" in tables(url)
    assert publishes == [database]


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_the_upgrade_check_seeds_the_template_the_other_checks_use(
    tmp_path: Path, cache: Path, publishes: list[str], database: str
) -> None:
    require_server(database)
    root, name, _ = project(tmp_path)
    checks = checks_for(root, name, database)
    checks.upgrade_to_heads()  # replays from empty, and seeds the cache on its way
    assert publishes == [database]
    (entry,) = templates.entries()
    assert entry.about["heads"] == [revision_id(3)]
    checks.round_trips()
    checks.models_match()
    assert publishes == [database]


def on_server(url: str) -> bool:
    """Whether the database ``url`` names exists (a file, on SQLite)."""
    from plugin_scaffold.databases.urls import DatabaseURL

    parsed = DatabaseURL.parse(url)
    name = parsed.url.database or ""
    if parsed.kind == "sqlite":
        return Path(name).exists()
    query = (
        "SELECT 1 FROM pg_database WHERE datname = %(n)s"
        if parsed.kind == "postgresql"
        else "SELECT 1 FROM information_schema.schemata WHERE schema_name = %(n)s"
    )
    engine = make_engine(server_url(parsed.kind))
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql(query, {"n": name}).first() is not None
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_checks_that_only_read_share_one_database_at_heads(
    tmp_path: Path, cache: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Models match and the migrated side of a fresh install read the database the upgrade from
    empty left at every head (or the first one made for them), never one a check changes;
    closing the session's shares drops it."""
    from plugin_scaffold.databases import copies
    from plugin_scaffold.testing.checks import CheckFailed, SharedDatabases

    require_server(database)
    root, name, _ = project(tmp_path)
    heads = {revision_id(3), f"{name}0001"}
    for first in ("upgrade_to_heads", "models_match"):
        checks = checks_for(root, name, database)
        checks.shared = shared = SharedDatabases()
        made: list[str] = []
        prepared = checks.prepared

        @contextlib.contextmanager
        def counted(prepared: Any = prepared, made: list[str] = made) -> Iterator[str]:
            with prepared() as url:
                made.append(url)
                yield url

        monkeypatch.setattr(checks, "prepared", counted)
        getattr(checks, first)()
        kept = shared.at_heads
        assert kept is not None and versions(kept) == heads
        before = (tables(kept), versions(kept))
        checks.models_match()
        # (This host has no naming convention: the tables created from the models name their
        # foreign key otherwise, which the check reports; it reads both databases either way.)
        with pytest.raises(CheckFailed, match="only in the migrated database"):
            checks.fresh_install()
        checks.round_trips()
        checks.uninstall()
        assert shared.at_heads == kept and (tables(kept), versions(kept)) == before
        # Made for them: none after the upgrade from empty, one when models match came first;
        # then the created side of the fresh install, and one for each check that changes its.
        assert len(made) == (3 if first == "upgrade_to_heads" else 4)
        assert kept not in made[-3:]
        shared.close()
        copies.settle()
        assert not on_server(kept)


def test_a_changed_revision_file_makes_a_new_template(
    tmp_path: Path, cache: Path, publishes: list[str]
) -> None:
    root, name, host_versions = project(tmp_path)
    checks = checks_for(root, name, "sqlite")
    checks.round_trips()
    assert publishes == ["sqlite"]
    step = host_versions / f"{revision_id(2)}_step.py"
    step.write_text(step.read_text() + "\n# edited\n")
    checks_for(root, name, "sqlite").round_trips()
    assert publishes == ["sqlite", "sqlite"]
    assert len(templates.entries()) == 2
    # A revision of the plugin itself is not in the template of the host: no new entry.
    plugin_root = next((root / "src" / name / "migrations").glob("*_tables.py"))
    plugin_root.write_text(plugin_root.read_text() + "\n# edited\n")
    checks_for(root, name, "sqlite").round_trips()
    assert publishes == ["sqlite", "sqlite"]


@pytest.mark.postgresql
def test_another_server_version_makes_a_new_template(
    tmp_path: Path, cache: Path, publishes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    require_server("postgresql")
    root, name, _ = project(tmp_path)
    checks_for(root, name, "postgresql").round_trips()
    real = templates.server_version
    monkeypatch.setattr(templates, "server_version", lambda engine: real(engine) + ".1")
    checks_for(root, name, "postgresql").round_trips()
    assert publishes == ["postgresql", "postgresql"]
    assert len(server_templates()) == 2


#: A session of its own: a scratch database from template KEY, built in 1.5 s by a build that
#: says so on stdout (and that kills its own process when told to, half-way).
SESSION = textwrap.dedent(
    """
    import os, signal, sys, time
    import sqlalchemy as sa
    from plugin_scaffold.databases import templates
    from plugin_scaffold.databases.servers import make_engine

    kind, key, table, die = sys.argv[1:5]

    def build(url):
        print("built", flush=True)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE TABLE {table} (id INTEGER)")
            connection.exec_driver_sql(f"INSERT INTO {table} VALUES (1)")
        engine.dispose()
        if die == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(1.5)

    with templates.scratch_copy(kind, [key], build, prefix="scaffold_tpltest") as url:
        engine = make_engine(url)
        with engine.connect() as connection:
            print("tables", *sorted(sa.inspect(connection).get_table_names()), flush=True)
        engine.dispose()
    """
)


def session(kind: str, key: str, table: str, die: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SESSION, kind, key, table, "die" if die else "live"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_two_sessions_at_once_build_the_template_once_and_both_use_it(
    cache: Path, database: str
) -> None:
    require_server(database)
    key = f"concurrent {time.time()}"
    first, second = session(database, key, "made"), session(database, key, "made")
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    said = "".join(out for out, _ in outputs)
    assert said.count("built") == 1, outputs
    assert said.count("tables made") == 2, outputs
    assert len(templates.entries()) == 1


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_a_killed_build_leaves_no_template_and_the_next_run_builds_its_own(
    cache: Path, database: str
) -> None:
    require_server(database)
    key = f"killed {time.time()}"
    killed = session(database, key, "half", die=True)
    out, err = killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL and "built" in out, (out, err)
    assert templates.entries() == []
    after = session(database, key, "whole")
    out, err = after.communicate(timeout=120)
    assert after.returncode == 0, err
    assert "built" in out and "tables whole" in out and "half" not in out, out
    # What the killed build left is gone: its file, or its database on the server.
    (entry,) = templates.entries()
    if database == "sqlite":
        assert sorted(p.name for p in (cache / "templates").glob("*.db")) == [f"{entry.name}.db"]
    else:
        engine = make_engine(server_url(database))
        query = (
            "SELECT datname FROM pg_database"
            if database == "postgresql"
            else "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
        )
        with engine.connect() as connection:
            names = [row[0] for row in connection.exec_driver_sql(query)]
        engine.dispose()
        assert not [
            n for n in names if n.startswith("scaffold_tplbuild_") and n.endswith(f"_{killed.pid}")
        ]


@pytest.mark.postgresql
def test_cache_list_and_clear_show_and_remove_files_and_server_templates(
    tmp_path: Path, cache: Path
) -> None:
    require_server("postgresql")
    root, name, _ = project(tmp_path)
    for database in ("sqlite", "postgresql"):
        checks_for(root, name, database).round_trips()
    env = {templates.FOLDER_VARIABLE: str(cache)}
    listed = run_scaffold("cache", "list", cwd=tmp_path, env=env).stdout
    names = [entry.name for entry in templates.entries()]
    assert len(names) == 2 and all(n in listed for n in names), listed
    assert "2 template(s) and the revisions of" in listed and "kept" in listed
    cleared = run_scaffold("cache", "clear", cwd=tmp_path, env=env).stdout
    assert "2 template(s) and the revisions of" in cleared and "removed" in cleared, cleared
    assert templates.entries() == [] and server_templates() == []
    assert not list((cache / "templates").glob("*.db"))
    # Bad input: one line, exit 2.
    bad = run_scaffold("cache", "drop", cwd=tmp_path, env=env, check=2)
    assert "invalid choice: 'drop'" in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_cache_list_says_which_servers_it_could_not_look_at_and_why(
    tmp_path: Path, cache: Path
) -> None:
    """Without --url, list and clear look at the default servers: one that does not answer, or
    whose driver this environment lacks, is one line each on stderr (exit 0), said as what it
    means here rather than as an install to make."""
    env = {
        templates.FOLDER_VARIABLE: str(cache),
        "SCAFFOLD_POSTGRES_URL": "postgresql+psycopg://postgres@127.0.0.1:1/postgres",
        "SCAFFOLD_MYSQL_URL": "mysql+cymysql://root@127.0.0.1:3306/",
    }
    for action in ("list", "clear"):
        done = run_scaffold("cache", action, cwd=tmp_path, env=env)
        lines = done.stderr.splitlines()
        assert len(lines) == 2, done.stderr
        assert lines[0].startswith(
            "scaffold: templates not looked for: postgresql server at "
            "postgresql+psycopg://postgres@127.0.0.1:1/postgres does not answer ("
        ), lines[0]
        assert lines[1] == (
            "scaffold: templates on mysql+cymysql://root@127.0.0.1:3306/ not looked for: its "
            "driver 'cymysql' is not installed in this environment"
        )
        assert "0 template(s)" in done.stdout
    # A server named with --url that does not answer: exit 1.
    named = run_scaffold(
        "cache", "list", "--url", env["SCAFFOLD_POSTGRES_URL"], cwd=tmp_path, env=env, check=1
    )
    assert "does not answer" in named.stderr and "SCAFFOLD_POSTGRES_URL" not in named.stderr
    # A server named whose driver is missing: what to install to reach it.
    driverless = run_scaffold(
        "cache", "list", "--url", env["SCAFFOLD_MYSQL_URL"], cwd=tmp_path, env=env, check=1
    )
    (line,) = driverless.stderr.splitlines()
    assert line.startswith(
        "scaffold: templates not looked for: database driver 'cymysql' for "
        "mysql+cymysql://root@127.0.0.1:3306/ is not installed"
    ), line
    assert "pip install" in line, line


def _normalized(text: str) -> str:
    """A check's message without the names of its scratch databases, nor the times of its
    sample rows."""
    text = re.sub(r"datetime\.(datetime|date|time)\([^)]*\)", "TIME", text)
    # as SQLite's driver returns them (rows are compared as read, not as reflected types)
    text = re.sub(r"'\d{4}-\d\d-\d\d( \d\d:\d\d:\d\d(\.\d+)?)?'", "TIME", text)
    text = re.sub(r"scaffold_\w+?_[0-9a-f]{12}_[0-9a-f]{6}_\d+", "DB", text)
    text = re.sub(r"scaffold_tplbuild_[0-9a-f]{12}_[0-9a-f]{6}_\d+", "DB", text)
    return re.sub(r"/[^ )]*?-\d+-[0-9a-f]{6}-[^/]+/database\.db", "DB", text)


@pytest.mark.parametrize(
    ("fault", "database"),
    [
        ("no_depends_on", "sqlite"),
        ("alters_host_table", "sqlite"),
        ("deletes_host_rows", "sqlite"),
        ("model_without_revision", "sqlite"),
        ("no_depends_on", "postgresql"),
        ("enum_left_behind", "postgresql"),
        ("fails_on_mariadb", "mysql"),
        ("deletes_host_rows", "mysql"),
    ],
)
def test_a_broken_plugin_gets_the_same_verdicts_with_the_cache_as_without(
    tmp_path: Path, fault: str, database: str
) -> None:
    import shutil

    from plugin_scaffold.plugin.template import render_plugin

    project = render_plugin(tmp_path / "flawed", {"plugin_name": "flawed"})
    shutil.copytree(BROKEN / fault, project, dirs_exist_ok=True)
    folder = str(tmp_path / "cache")
    off = run_own_tests(project, database, env={templates.CACHE_VARIABLE: "off"})
    cold = run_own_tests(project, database, env={templates.FOLDER_VARIABLE: folder})
    warm = run_own_tests(project, database, env={templates.FOLDER_VARIABLE: folder})
    try:
        assert off.failed, off.output  # the fault is caught
        for cached in (cold, warm):
            assert set(cached.failed) == set(off.failed), cached.output
            assert cached.passed == off.passed and set(cached.skipped) == set(off.skipped)
            for check, message in off.failed.items():
                assert _normalized(cached.failed[check]) == _normalized(message)
    finally:
        saved = os.environ.get(templates.FOLDER_VARIABLE)
        os.environ[templates.FOLDER_VARIABLE] = folder
        try:
            templates.clear()
        finally:
            if saved is None:
                del os.environ[templates.FOLDER_VARIABLE]
            else:
                os.environ[templates.FOLDER_VARIABLE] = saved


@pytest.mark.mysql
def test_a_half_made_mariadb_template_is_not_used_and_clear_drops_it(cache: Path) -> None:
    require_server("mysql")
    key = [f"half {time.time()}"]
    engine = make_engine(server_url("mysql"), isolation_level="AUTOCOMMIT")
    name = templates.entry_name(key, templates.server_version(engine))
    with engine.connect() as connection:  # what a publish killed before its RENAME leaves
        connection.exec_driver_sql(f"CREATE DATABASE `{name}`")
        connection.exec_driver_sql(f"CREATE TABLE `{name}`.half (id INTEGER)")
    assert not templates.has("mysql", key) and templates.entries() == []
    templates.clear()
    with engine.connect() as connection:
        left = connection.exec_driver_sql(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %(n)s",
            {"n": name},
        ).scalar()
    engine.dispose()
    assert left == 0
