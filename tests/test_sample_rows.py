"""Sample rows (testing/rows.py), as the uninstall check fills every table with them: a unique
column never takes a value its table holds, and a table empty to begin with is not asked."""

from __future__ import annotations

import re
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


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_empty_tables_take_samples_unasked_and_others_are_asked(kind: str) -> None:
    from conftest import require_server

    require_server(kind)
    with temporary_database(kind) as url, engine_for(url) as engine:
        with engine.begin() as connection:
            for statement in TABLES:
                connection.exec_driver_sql(statement)
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
