"""Host rows as the uninstall check reads them (databases/schema.py ``contents``): every row of
every table, compared before and after, so that a change to any value is found. On PostgreSQL
every table of a batch is read in one statement (each as JSON): values compare exactly."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pytest
import sqlalchemy as sa

from plugin_scaffold.databases.schema import contents, row_differences
from plugin_scaffold.databases.servers import engine_for, temporary_database

METADATA = sa.MetaData()
ODD = sa.Table(
    "odd %s: name",  # a percent sign and a colon: neither is a parameter
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("label", sa.Text),
    sa.Column("amount", sa.Numeric(30, 20)),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("blob", sa.LargeBinary),
    sa.Column("ratio", sa.Float),
)
EMPTY = sa.Table("empty", METADATA, sa.Column("id", sa.Integer, primary_key=True))
ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "label": "it's",
        "amount": decimal.Decimal("0.10000000000000000001"),
        "at": datetime.datetime(2020, 1, 1, 10, tzinfo=datetime.UTC),
        "blob": b"\x00\x01",
        "ratio": 0.1,
    },
    {"id": 2, "label": None, "amount": None, "at": None, "blob": None, "ratio": None},
]
# Each change a plugin's revision might make, as one UPDATE of row 1.
CHANGES = {
    "label": "its",
    "amount": decimal.Decimal("0.1"),  # equal as a float, not as a decimal
    "at": datetime.datetime(2020, 1, 1, 10, 0, 1, tzinfo=datetime.UTC),
    "blob": b"\x00\x02",
    "ratio": 0.125,
}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_every_change_to_a_host_row_is_found_and_an_unchanged_table_reads_the_same(
    kind: str,
) -> None:
    from conftest import require_server

    require_server(kind)
    with temporary_database(kind) as url, engine_for(url) as engine:
        METADATA.create_all(engine)
        with engine.begin() as connection:
            connection.execute(ODD.insert(), ROWS)
        names = [ODD.name, EMPTY.name]
        with engine.connect() as connection:
            before = contents(connection, names)
            assert contents(connection, names) == before  # read twice, the same
        assert sorted(before) == sorted(names) and before[EMPTY.name] == []
        assert len(before[ODD.name]) == 2 and before[ODD.name][0]["label"] == "it's"
        for column, value in CHANGES.items():
            with engine.begin() as connection:
                connection.execute(ODD.update().where(ODD.c.id == 1).values({column: value}))
            with engine.connect() as connection:
                after = contents(connection, names)
            found = row_differences(before, after)
            if kind != "sqlite" or column != "amount":  # SQLite keeps numerics as floats
                assert found and found[0].startswith(f"table {ODD.name}: 1 row(s) lost"), column
            with engine.begin() as connection:
                connection.execute(ODD.update().where(ODD.c.id == 1).values(ROWS[0]))
        with engine.begin() as connection:
            connection.execute(ODD.delete().where(ODD.c.id == 2))
        with engine.connect() as connection:
            gone = row_differences(before, contents(connection, names))
        assert gone == [
            f"table {ODD.name}: 1 row(s) lost or changed, e.g. (2, None, None, None, None, None)"
        ]
