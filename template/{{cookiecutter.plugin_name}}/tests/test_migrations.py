{%- set table = cookiecutter.table_prefix ~ "__" ~ cookiecutter.__starter_table -%}
"""The {{ cookiecutter.plugin_name }} plugin's migrations, on a fresh database of the kind SCAFFOLD_TEST_DB names.

SCAFFOLD_TEST_DB is sqlite (the default), postgresql or mysql; nox sets it for each session.
Every test gets a new, uniquely named database that is dropped afterwards.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from plugin_scaffold.cli import main
from plugin_scaffold.databases import ServerUnavailable, temporary_database

PROJECT = Path(__file__).resolve().parents[1]
PLUGIN = "{{ cookiecutter.plugin_name }}"
TABLE_PREFIX = "{{ cookiecutter.table_prefix }}__"
STARTER_TABLE = "{{ table }}"
_serial = itertools.count(1)


@pytest.fixture
def url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database; scaffold runs in the project folder, where it finds its settings."""
    monkeypatch.chdir(PROJECT)
    kind = os.environ.get("SCAFFOLD_TEST_DB", "sqlite")
    with contextlib.ExitStack() as stack:
        try:
            database = stack.enter_context(temporary_database(kind))
        except ServerUnavailable as exc:
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(str(exc))
            pytest.skip(str(exc))
        yield database


def scaffold(url: str, *args: str) -> int:
    return main(["--url", url, *args])


def test_upgrade_creates_the_plugin_tables(url: str) -> None:
    assert scaffold(url, "upgrade") == 0
    assert STARTER_TABLE in table_names(url)


def test_models_match_migrations(url: str) -> None:
    assert scaffold(url, "upgrade") == 0
    assert scaffold(url, "check") == 0


def test_downgrade_removes_the_plugin_and_leaves_the_host_intact(url: str) -> None:
    assert scaffold(url, "upgrade") == 0
    host_tables = {name for name in table_names(url) if not name.startswith(TABLE_PREFIX)}
    host_tables.discard("alembic_version")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            # A plugin row; on a side table, also the host row it extends.
            insert_row(conn, STARTER_TABLE)
            insert_row(conn, sorted(host_tables)[0])
        rows_before = row_counts(engine, host_tables)

        assert scaffold(url, "downgrade", "--plugin", PLUGIN) == 0

        assert not {name for name in table_names(url) if name.startswith(TABLE_PREFIX)}
        assert host_tables <= table_names(url)
        assert row_counts(engine, host_tables) == rows_before
    finally:
        engine.dispose()

    assert scaffold(url, "upgrade") == 0
    assert STARTER_TABLE in table_names(url)


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def row_counts(engine: sa.Engine, names: set[str]) -> dict[str, int]:
    metadata = sa.MetaData()
    with engine.connect() as conn:
        return {
            name: conn.execute(
                sa.select(sa.func.count()).select_from(sa.Table(name, metadata))
            ).scalar_one()
            for name in names
        }


def insert_row(conn: sa.Connection, name: str) -> tuple[sa.Table, sa.ColumnElement[bool]]:
    """Insert a row into table ``name``, filling only the columns that must be filled.

    Rows that its foreign keys need are inserted first, the same way. Returns the table
    and a condition selecting the new row.
    """
    table = sa.Table(name, sa.MetaData(), autoload_with=conn)
    values: dict[str, object] = {}
    for column in table.columns:
        if column.nullable or column.server_default is not None:
            continue
        if column.primary_key and not column.foreign_keys and _python_type(column) is int:
            continue  # the database numbers it
        if column.foreign_keys:
            reference = next(iter(column.foreign_keys)).column
            referred, condition = insert_row(conn, reference.table.name)
            values[column.name] = conn.execute(
                sa.select(referred.c[reference.name]).where(condition)
            ).scalar_one()
        else:
            values[column.name] = _sample(column)
    result = conn.execute(table.insert().values(values))
    keys = dict(zip((c.name for c in table.primary_key), result.inserted_primary_key or ()))
    keys.update({c.name: values[c.name] for c in table.primary_key if c.name in values})
    return table, sa.and_(*(table.c[key] == value for key, value in keys.items()))


def _python_type(column: sa.Column[object]) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:
        return object


def _sample(column: sa.Column[object]) -> object:
    python_type = _python_type(column)
    if python_type is bool:
        return False
    if python_type in (int, float):
        return next(_serial)
    if python_type is datetime.datetime:
        return datetime.datetime(2000, 1, 1)
    if python_type is datetime.date:
        return datetime.date(2000, 1, 1)
    length = getattr(column.type, "length", None) or 16
    return f"t{next(_serial)}"[:length]
