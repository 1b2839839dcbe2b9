"""A table is reflected once per shape (schema.shapes): what a snapshot says is what a fresh
reflection says, after every kind of change a revision makes, and unchanged tables are not read
again (the host's tables in each copy of a template, across the checks of a suite)."""

from __future__ import annotations

from collections.abc import Iterator
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
def reflected(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """The tables each reflection read, call by call (an empty cache to begin with)."""
    monkeypatch.setattr(schema, "_REFLECTED", {})
    monkeypatch.setattr(schema, "_LAST_TABLES", {})
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
