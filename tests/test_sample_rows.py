"""Sample rows (testing/rows.py), as the uninstall check fills every table with them: a unique
column never takes a value its table holds, and a table empty to begin with is not asked."""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from plugin_scaffold.databases.servers import engine_for, temporary_database
from plugin_scaffold.testing import rows
from plugin_scaffold.testing.checks import _fill_every_table

TABLES = [
    "CREATE TABLE tag (code VARCHAR(10) NOT NULL PRIMARY KEY, label VARCHAR(10) NOT NULL, "
    "UNIQUE (label))",
    "CREATE TABLE other (code VARCHAR(10) NOT NULL PRIMARY KEY, tag_code VARCHAR(10) NOT NULL "
    "REFERENCES tag (code))",
    "CREATE TABLE seeded (code VARCHAR(10) NOT NULL PRIMARY KEY)",
    # a row a host revision inserted, holding the first sample of its column
    "INSERT INTO seeded (code) VALUES ('sample1')",
]


@contextlib.contextmanager
def database_with(kind: str, *statements: str) -> Iterator[sa.engine.Engine]:
    """A new database of ``kind`` (skipped without its server) holding what ``statements``
    make."""
    from conftest import require_server

    require_server(kind)
    with temporary_database(kind) as url, engine_for(url) as engine:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
        yield engine


def counts(engine: sa.engine.Engine, *names: str) -> dict[str, int]:
    """How many rows each table of ``names`` that exists holds."""
    with engine.connect() as connection:
        present = set(sa.inspect(connection).get_table_names())
        return {
            name: connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in names
            if name in present
        }


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_empty_tables_take_samples_unasked_and_others_are_asked(kind: str) -> None:
    with database_with(kind, *TABLES) as engine:
        # a name that needs quoting, on every dialect
        odd = sa.Table("Odd Name", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
        odd.create(engine)
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            empty = rows.empty_tables(connection, list(metadata.tables.values()))
        assert {t.name for t in empty} == {"tag", "other", "Odd Name"}
        odd.drop(engine)

        # The query asking whether a sample is taken: SELECT t.c FROM t WHERE t.c = ... LIMIT
        probe = re.compile(r"^SELECT [`\"]?(\w+)[`\"]?\.\S+\s+FROM [`\"]?\1[`\"]?\s+WHERE")
        asked: list[list[str]] = []

        def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            found = probe.match(statement.strip())
            if found:
                asked[-1].append(found.group(1))

        sa.event.listen(engine, "before_cursor_execute", seen)
        for _ in range(2):  # the second time, every table holds the first time's rows
            asked.append([])
            filled = _fill_every_table(engine, lambda name: True)
            assert sorted(filled) == ["other", "seeded", "tag"]
        sa.event.remove(engine, "before_cursor_execute", seen)
        # The first fill asked about seeded alone (sample1 taken, then sample2 free); the second
        # about every table, each of which holds rows now.
        assert asked[0] == ["seeded", "seeded"], asked
        assert set(asked[1]) == {"seeded", "tag", "other"}, asked
        with engine.connect() as connection:
            found = {
                name: sorted(tuple(r) for r in connection.execute(sa.text(f"SELECT * FROM {name}")))
                for name in ("tag", "other", "seeded")
            }
        # other's row needs a tag, so tag has two rows per fill; every value its own
        assert len(found["tag"]) == 4 and len({r[1] for r in found["tag"]}) == 4
        assert len(found["other"]) == 2 and len(found["seeded"]) == 3
        assert len({r[0] for r in found["seeded"]}) == 3


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_host_tables_that_refer_to_each_other_are_filled_without_a_warning(kind: str) -> None:
    """Rattail's product and product_price refer to each other: SQLAlchemy cannot order them
    and warns. That is the host's design: the plugin's test report does not show it. Their
    integer keys are not numbered by the database (no SERIAL, no AUTO_INCREMENT): the sample
    rows give them values."""
    tables = [
        "CREATE TABLE product_price (id INTEGER NOT NULL PRIMARY KEY, "
        "product_id INTEGER REFERENCES product (id))",
        "CREATE TABLE plain (id INTEGER NOT NULL PRIMARY KEY)",
    ]
    if kind == "sqlite":  # SQLite adds no constraint to a table: made with the cycle
        tables.append(
            "CREATE TABLE product (id INTEGER NOT NULL PRIMARY KEY, "
            "price_id INTEGER REFERENCES product_price (id))"
        )
    else:
        tables[:0] = ["CREATE TABLE product (id INTEGER NOT NULL PRIMARY KEY, price_id INTEGER)"]
        tables.append(
            "ALTER TABLE product ADD FOREIGN KEY (price_id) REFERENCES product_price (id)"
        )
    with database_with(kind, *tables) as engine:
        with pytest.warns(sa.exc.SAWarning, match="Cannot correctly sort tables"):
            cyclic = sa.MetaData()
            cyclic.reflect(engine)
            cyclic.sorted_tables  # noqa: B018  (what SQLAlchemy says of them)
        for _ in range(2):  # reflected, then the kept tables
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                filled = _fill_every_table(engine, lambda name: True)
            assert sorted(filled) == ["plain", "product", "product_price"]
        # every table took its sample row (the nullable references left empty), twice
        assert counts(engine, *filled) == {"plain": 2, "product": 2, "product_price": 2}
        with engine.connect() as connection:
            keys = connection.execute(sa.text("SELECT id FROM plain ORDER BY id")).scalars()
            assert list(keys) == [1, 2]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_a_table_no_sample_fits_keeps_none_and_the_others_are_filled(kind: str) -> None:
    """On PostgreSQL a failed INSERT fails its transaction: rows go in without a savepoint
    each while none fails; once one does, that fill and every later one of those tables use
    savepoints. Elsewhere a failed INSERT undoes itself alone: no savepoint is needed."""
    with database_with(
        kind,
        "CREATE TABLE parent (code VARCHAR(10) NOT NULL PRIMARY KEY)",
        "CREATE TABLE child (code VARCHAR(10) NOT NULL PRIMARY KEY, "
        "parent_code VARCHAR(10) NOT NULL REFERENCES parent (code))",
    ) as engine:
        statements: list[str] = []

        def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement.split()[0].upper())

        def filled(keep: Any) -> dict[str, int]:
            statements.clear()
            sa.event.listen(engine, "before_cursor_execute", seen)
            try:
                _fill_every_table(engine, keep)
            finally:
                sa.event.remove(engine, "before_cursor_execute", seen)
            return counts(engine, "parent", "child", "picky")

        def savepoints() -> int:
            return statements.count("SAVEPOINT")

        # No table refuses its row: no savepoint at all (the child's parent comes first).
        assert filled(lambda name: True) == {"parent": 2, "child": 1}
        assert savepoints() == 0
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TABLE picky (code VARCHAR(10) NOT NULL PRIMARY KEY, CHECK (code = 'never'))"
            )
        # picky takes no row, the others do: on PostgreSQL, after a first try rolled back.
        assert filled(lambda name: True) == {"parent": 4, "child": 2, "picky": 0}
        tries = statements.count("INSERT")
        if kind == "postgresql":
            assert savepoints() == 3  # the second try: one per table
            assert tries > 4  # the first try's inserts, then each table's
        else:
            assert savepoints() == 0 and tries == 4  # parent, child's parent, child, picky
        # The next fill of these tables goes straight to savepoints on PostgreSQL.
        assert filled(lambda name: True) == {"parent": 6, "child": 3, "picky": 0}
        assert statements.count("INSERT") == 4
        assert savepoints() == (3 if kind == "postgresql" else 0)


def test_an_inline_unique_column_on_sqlite_takes_a_new_sample_each_row() -> None:
    """SQLAlchemy does not reflect ``username VARCHAR(50) NOT NULL UNIQUE`` written inline on
    SQLite as unique (its pattern misses a type with a length): the unique index SQLite made for
    it says so. A parent of two tables then gets three rows, each with a username of its own,
    and both children their row."""
    with database_with(
        "sqlite",
        "CREATE TABLE person (id INTEGER NOT NULL PRIMARY KEY, "
        "username VARCHAR(50) NOT NULL UNIQUE)",
        "CREATE TABLE post (id INTEGER NOT NULL PRIMARY KEY, "
        "person_id INTEGER NOT NULL REFERENCES person (id))",
        "CREATE TABLE comment (id INTEGER NOT NULL PRIMARY KEY, "
        "person_id INTEGER NOT NULL REFERENCES person (id))",
    ) as engine:
        _fill_every_table(engine, lambda name: True)
        assert counts(engine, "person", "post", "comment") == {
            "person": 3,
            "post": 1,
            "comment": 1,
        }
        with engine.connect() as connection:
            names = connection.execute(sa.text("SELECT username FROM person")).scalars()
            assert sorted(names) == ["sample1", "sample2", "sample3"]
