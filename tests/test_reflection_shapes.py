"""A table is reflected once per shape (schema.shapes): what a snapshot says is what a fresh
reflection says, after every kind of change a revision makes, and unchanged tables are not read
again (the host's tables in each copy of a template, across the checks of a suite)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plugin_scaffold.databases import schema
from plugin_scaffold.databases.servers import engine_for, temporary_database

#: Changes a revision makes, each on its own, on every database.
COMMON = [
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL)",
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), "
    "name VARCHAR(20))",
    "ALTER TABLE child ADD COLUMN extra INTEGER DEFAULT 3",
    "CREATE INDEX ix_child_name ON child (name)",
    "CREATE UNIQUE INDEX ux_parent_code ON parent (code)",
    "DROP INDEX ix_child_name",
    "ALTER TABLE child RENAME COLUMN name TO title",
    "ALTER TABLE parent RENAME TO parent2",
    "CREATE TABLE loose (id INTEGER PRIMARY KEY, parent2_id INTEGER REFERENCES parent2)",
]
#: What only PostgreSQL alters in place (SQLite's batch mode recreates the table instead).
POSTGRESQL = [
    "ALTER TABLE child ALTER COLUMN extra TYPE BIGINT",
    "ALTER TABLE child ALTER COLUMN title SET NOT NULL",
    "ALTER TABLE child ALTER COLUMN extra SET DEFAULT 4",
    "ALTER TABLE child ADD CONSTRAINT ck_extra CHECK (extra > 0)",
    "ALTER TABLE child ADD CONSTRAINT uq_title UNIQUE (title)",
    "ALTER TABLE child DROP CONSTRAINT ck_extra",
    "ALTER TABLE child ADD CONSTRAINT ck_extra CHECK (extra > 1)",
    "ALTER TABLE child ALTER COLUMN title TYPE VARCHAR(30)",
    "ALTER TABLE parent2 DROP CONSTRAINT parent_pkey CASCADE",
    "ALTER TABLE parent2 ADD PRIMARY KEY (code)",
]


@pytest.fixture
def reflected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[list[str]]]:
    """The tables each reflection read, call by call (an empty cache to begin with, none kept
    by earlier runs)."""
    monkeypatch.setattr(schema, "_REFLECTED", {})
    monkeypatch.setattr(schema, "_LAST_TABLES", {})
    monkeypatch.setattr(schema, "_LOADED", set())
    monkeypatch.setattr(schema, "_UNSAVED", {})
    monkeypatch.setattr(schema, "_TABLES_UNSAVED", {})
    monkeypatch.setenv("SCAFFOLD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SCAFFOLD_CACHE", raising=False)
    calls: list[list[str]] = []
    aspects = schema._aspects

    def counted(inspector: Any, names: list[str]) -> Any:
        calls.append(list(names))
        return aspects(inspector, names)

    monkeypatch.setattr(schema, "_aspects", counted)
    yield calls


def _snapshots(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[schema.Snapshot, ...]:
    """The snapshot with the cache, then a fresh reflection without it."""
    with engine_for(url) as engine, engine.connect() as connection:
        cached = schema.reflect(connection)
        with monkeypatch.context() as off:
            off.setenv("SCAFFOLD_CACHE", "off")
            fresh = schema.reflect(connection)
    return cached, fresh


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_every_change_is_seen_and_only_changed_tables_are_read_again(
    kind: str, reflected: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import require_server

    require_server(kind)
    steps = COMMON + (POSTGRESQL if kind == "postgresql" else [])
    with temporary_database(kind) as url, engine_for(url) as engine:
        before = schema.Snapshot(tables={})
        for statement in steps:
            with engine.begin() as connection:
                connection.exec_driver_sql(statement)
            reflected.clear()
            cached, fresh = _snapshots(url, monkeypatch)
            assert cached == fresh, (statement, schema.differences(fresh, cached))
            # Without the cache every table is read; with it, the tables the statement
            # changed, and those whose foreign keys name one of them.
            with_cache, without = reflected
            assert without == sorted(fresh.tables)
            changed = {
                name for name, table in fresh.tables.items() if before.tables.get(name) != table
            }
            referring = {
                name
                for name, table in fresh.tables.items()
                if any(
                    str(d.get("references", "")).split("(")[0] in changed for d in table.values()
                )
            }
            assert changed <= set(with_cache) <= changed | referring, statement
            before = fresh
        # Nothing changed: nothing is read again.
        reflected.clear()
        _snapshots(url, monkeypatch)
        assert reflected[0] == []


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_copy_of_a_database_is_not_reflected_again(
    kind: str, reflected: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two databases with the same tables (a template's copies): the second is read from the
    first's reflection, its tables' rows included; a table that differs is read."""
    from conftest import require_server

    require_server(kind)
    made = COMMON[:3]
    with temporary_database(kind) as first, temporary_database(kind) as second:
        for url in (first, second):
            with engine_for(url) as engine, engine.begin() as connection:
                for statement in made:
                    connection.exec_driver_sql(statement)
        with engine_for(second) as engine, engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE child ADD COLUMN only_here INTEGER")
        snapshots = []
        for url in (first, second):
            with engine_for(url) as engine, engine.connect() as connection:
                snapshots.append(schema.reflect(connection))
                tables = schema.reflected_tables(connection, lambda name: name != "child")
                assert [t.name for t in tables] == ["parent"]
        assert reflected == [["child", "parent"], ["child"]]
        assert "column only_here" in snapshots[1].tables["child"]
        assert snapshots[0].tables["parent"] == snapshots[1].tables["parent"]


def _in_a_process(script: str, url: str, env: dict[str, str]) -> dict[str, Any]:
    """What ``script`` prints (JSON) about the database at ``url``, run by a new process."""
    done = subprocess.run(
        [sys.executable, "-c", script, url], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout))


#: One process's reflection of the database at argv[1]: the tables it read from the server,
#: and whether its snapshot equals one taken without the cache.
ONE_RUN = """
import json, os, sys
from plugin_scaffold.databases import schema
from plugin_scaffold.databases.servers import engine_for
read = []
aspects = schema._aspects
schema._aspects = lambda inspector, names: (read.extend(names), aspects(inspector, names))[1]
with engine_for(sys.argv[1]) as engine, engine.connect() as connection:
    cached = schema.reflect(connection)
    cached_read = sorted(read)
    os.environ["SCAFFOLD_CACHE"] = "off"
    fresh = schema.reflect(connection)
    os.environ.pop("SCAFFOLD_CACHE")
print(json.dumps({"read": cached_read, "same": cached == fresh}))
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_table_reflected_by_one_run_is_not_read_by_the_next(kind: str, tmp_path: Path) -> None:
    """The descriptions a run reflected are kept when it ends (the cache folder's
    reflections/): the next process reads only the tables changed since, and its snapshot is
    the one a fresh reflection makes; SCAFFOLD_CACHE=off keeps none; cache clear removes them."""
    from conftest import require_server, run_scaffold

    require_server(kind)
    env = {**os.environ, "SCAFFOLD_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("SCAFFOLD_CACHE", None)

    def one_run(url: str, **more: str) -> dict[str, Any]:
        return _in_a_process(ONE_RUN, url, {**env, **more})

    with temporary_database(kind) as url, engine_for(url) as engine:
        with engine.begin() as connection:
            for statement in COMMON[:3]:
                connection.exec_driver_sql(statement)
        assert one_run(url, SCAFFOLD_CACHE="off") == {"read": ["child", "parent"], "same": True}
        assert not (tmp_path / "cache" / "reflections").exists()
        assert one_run(url) == {"read": ["child", "parent"], "same": True}
        assert one_run(url) == {"read": [], "same": True}
        with engine.begin() as connection:
            connection.exec_driver_sql(COMMON[3])  # an index on child
        assert one_run(url) == {"read": ["child"], "same": True}
        assert one_run(url) == {"read": [], "same": True}
        listed = run_scaffold("cache", "list", cwd=tmp_path, env=env).stdout
        # As docs/commands.md shows it: the server's kind and version, and how many tables
        # (both shapes of child, parent's one).
        line = rf"^reflections  \('{kind}', \(\d+(, \d+)*\)\)  3 table\(s\)$"
        assert re.search(line, listed, re.M), listed
        run_scaffold("cache", "clear", cwd=tmp_path, env=env)
        assert not list((tmp_path / "cache" / "reflections").glob("*.json"))
        assert one_run(url) == {"read": ["child", "parent"], "same": True}


#: One process's sample-row tables (schema.reflected_tables) of the database at argv[1]: the
#: tables it reflected from the server, and what it got (columns, keys, foreign keys).
ONE_FILL = """
import json, sys
from sqlalchemy.engine.reflection import Inspector
from plugin_scaffold.databases import schema
from plugin_scaffold.databases.servers import engine_for
read = []
original = Inspector.reflect_table
def counted(self, table, *args, **kwargs):
    read.append(table.name)
    return original(self, table, *args, **kwargs)
Inspector.reflect_table = counted
with engine_for(sys.argv[1]) as engine, engine.connect() as connection:
    tables = schema.reflected_tables(connection, lambda name: True)
got = {
    t.name: [
        [c.name, str(c.type), c.nullable, c.primary_key,
         sorted(f.target_fullname for f in c.foreign_keys)]
        for c in t.columns
    ] + [sorted(i.name for i in t.indexes)]
    for t in tables
}
print(json.dumps({"read": sorted(read), "order": [t.name for t in tables], "tables": got}))
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_tables_sample_rows_go_into_are_kept_for_the_next_run(
    kind: str, tmp_path: Path
) -> None:
    """The SQLAlchemy tables the checks insert sample rows with are kept when a run ends
    (reflections/*.tables): the next process reflects only the tables changed since, and gets
    what a fresh reflection gives; a file that cannot be read is reflected anew; cache list
    shows them and cache clear removes them."""
    from conftest import require_server, run_scaffold

    require_server(kind)
    env = {**os.environ, "SCAFFOLD_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("SCAFFOLD_CACHE", None)
    kept = tmp_path / "cache" / "reflections"

    def one_run(url: str, **more: str) -> dict[str, Any]:
        return _in_a_process(ONE_FILL, url, {**env, **more})

    with temporary_database(kind) as url, engine_for(url) as engine:
        with engine.begin() as connection:
            for statement in COMMON[:3]:
                connection.exec_driver_sql(statement)
        fresh = one_run(url, SCAFFOLD_CACHE="off")
        assert fresh["read"] == ["child", "parent"] and fresh["order"] == ["parent", "child"]
        assert not kept.exists()
        assert one_run(url) == fresh
        assert one_run(url) == {**fresh, "read": []}
        with engine.begin() as connection:
            connection.exec_driver_sql(COMMON[3])  # an index on child
        fresh = one_run(url, SCAFFOLD_CACHE="off")
        assert "ix_child_name" in str(fresh["tables"]["child"])
        assert one_run(url) == {**fresh, "read": ["child"]}
        assert one_run(url) == {**fresh, "read": []}
        [path] = kept.glob("*.tables")
        assert path.stat().st_mode & 0o777 == 0o600
        path.chmod(0o666)  # a pickle others could have written is not loaded
        assert one_run(url) == fresh
        [path] = kept.glob("*.tables")
        path.write_bytes(path.read_bytes()[:100])  # cut short
        assert one_run(url) == fresh
        listed = run_scaffold("cache", "list", cwd=tmp_path, env=env).stdout
        line = rf"^reflections  \('{kind}', \(\d+(, \d+)*\), '\w+'\)  2 table object\(s\)$"
        assert re.search(line, listed, re.M), listed
        run_scaffold("cache", "clear", cwd=tmp_path, env=env)
        assert not list(kept.glob("*.tables")) and not list(kept.glob(".*"))
        assert one_run(url) == fresh


def test_new_tables_join_the_tables_reflected_before(
    reflected: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table made since the last call is reflected alone and refers to the same objects as
    before (the plugin's tables after the host's, in the uninstall check)."""
    from sqlalchemy.engine.reflection import Inspector

    read: list[str] = []
    original = Inspector.reflect_table

    def counted(self: Any, table: Any, *args: Any, **kwargs: Any) -> Any:
        read.append(table.name)
        return original(self, table, *args, **kwargs)

    monkeypatch.setattr(Inspector, "reflect_table", counted)
    with temporary_database("sqlite") as url, engine_for(url) as engine:
        with engine.begin() as connection:
            for statement in COMMON[:3]:
                connection.exec_driver_sql(statement)
        with engine.connect() as connection:
            host = schema.reflected_tables(connection, lambda name: True)
        assert sorted(read) == ["child", "parent"]
        read.clear()
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TABLE side (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES child(id))"
            )
        with engine.connect() as connection:
            [side] = schema.reflected_tables(connection, lambda name: name == "side")
        assert read == ["side"]
        [fk] = side.c.child_id.foreign_keys
        assert fk.column.table is host[1] and host[1].name == "child"
        # A changed table is not reused: it is read again, with the tables whose foreign keys
        # name it (its shape is part of theirs), and the others are taken as they were.
        read.clear()
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE INDEX ix_parent_code ON parent (code)")
        with engine.connect() as connection:
            again = schema.reflected_tables(connection, lambda name: True)
        assert sorted(read) == ["child", "parent"]
        assert [t.name for t in again] == ["parent", "child", "side"]
        assert {i.name for i in again[0].indexes} == {"ix_parent_code"}
        [fk] = again[2].c.child_id.foreign_keys
        assert fk.column.table is again[1] is not host[1]


def test_a_cache_folder_is_made_where_its_parent_is_and_never_made_again_elsewhere(
    tmp_path: Path,
) -> None:
    """What a run keeps when it ends makes the cache folder inside a folder that exists, and
    nothing where that folder is gone (a temporary folder removed while the run went on)."""
    with temporary_database("sqlite") as url, engine_for(url) as engine:
        with engine.begin() as connection:
            connection.exec_driver_sql(COMMON[0])
        for cache in (tmp_path / "new-cache", tmp_path / "gone" / "cache"):
            env = {**os.environ, "SCAFFOLD_CACHE_DIR": str(cache)}
            env.pop("SCAFFOLD_CACHE", None)
            assert _in_a_process(ONE_RUN, url, env) == {"read": ["parent"], "same": True}
    assert list((tmp_path / "new-cache" / "reflections").glob("*.json"))
    assert not (tmp_path / "gone").exists()
