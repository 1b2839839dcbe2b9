"""Rows for the checks: the author's, completed with values for every column that needs one.

A row names the columns that matter to the author; a required column left out gets a sample
value, and a required foreign key gets a new parent row (filled the same way). The row as
inserted, generated keys included, is what later checks look for.

Sample values depend only on the table and what it holds: the first value of the column's type
that no row of the table has and that the caller does not reserve (the author's own rows), so
that a check gives the same rows run alone, first or last.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import uuid
import weakref
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from ..databases.schema import batches

if TYPE_CHECKING:
    from sqlalchemy import Column, Table
    from sqlalchemy.engine import Connection

Row = dict[str, Any]

_MAX_DEPTH = 8  # parent rows of parent rows...; deeper than any sensible schema
_MAX_TRIES = 1000  # values tried for one column before taking the last one anyway


class RowError(Exception):
    """A row cannot be inserted as given (unknown table or column)."""


def reflect_table(connection: Connection, name: str) -> Table:
    from sqlalchemy import MetaData, Table

    return Table(name, MetaData(), autoload_with=connection)


def insert(
    connection: Connection,
    table_name: str,
    given: Mapping[str, Any],
    *,
    reserved: Collection[Any] = (),
) -> Row:
    """Insert ``given`` into ``table_name``, filling what must be filled; return the row.

    No sample value is one of ``reserved`` (values the author's rows use, inserted later).
    """
    from sqlalchemy import inspect

    if not inspect(connection).has_table(table_name):
        raise RowError(f"table {table_name} does not exist")
    return insert_into(connection, reflect_table(connection, table_name), given, reserved=reserved)


def insert_into(
    connection: Connection,
    table: Table,
    given: Mapping[str, Any],
    *,
    reserved: Collection[Any] = (),
    empty: Collection[Table] = (),
) -> Row:
    """:func:`insert`, into a table reflected already (with the tables it refers to).

    ``empty``: tables that held no row before this connection began inserting sample rows
    (:func:`empty_tables`), whose unique columns take the next sample without asking."""
    avoid = {v for v in reserved if _hashable(v)}
    return _insert(connection, table, dict(given), 0, avoid, empty)


#: Dialects on which a failed INSERT undoes that statement alone, its transaction going on.
_STATEMENT_ROLLBACK = ("sqlite", "mysql", "mariadb")
#: The sets of tables a fill without savepoints failed on in this process: filled table by
#: table in savepoints since.
_NEEDS_SAVEPOINTS: set[frozenset[str]] = set()


def fill(engine: Any, tables: list[Table], reserved: Collection[Any] = ()) -> None:
    """One sample row in each of ``tables`` (each after those it refers to), in one
    transaction; a table no sample row fits (a CHECK, a trigger) keeps none.

    On PostgreSQL a failed statement fails its transaction, so each row would need a savepoint
    of its own: two statements more per table (300 on Rattail's 150). Every row is first
    inserted without; only if one fails is it all rolled back and done again with savepoints,
    as every later fill of those tables in this process is. Elsewhere a failed INSERT undoes
    itself alone."""
    key = frozenset(t.name for t in tables)
    alone = engine.dialect.name in _STATEMENT_ROLLBACK
    if not alone and key not in _NEEDS_SAVEPOINTS:
        try:
            _fill(engine, tables, reserved, savepoints=False, skip_failures=False)
            return
        except Exception:  # rolled back: again, each row in a savepoint
            _NEEDS_SAVEPOINTS.add(key)
    _fill(engine, tables, reserved, savepoints=not alone, skip_failures=True)


def _fill(
    engine: Any,
    tables: list[Table],
    reserved: Collection[Any],
    *,
    savepoints: bool,
    skip_failures: bool,
) -> None:
    with engine.begin() as connection:
        empty = empty_tables(connection, tables)
        for table in tables:
            try:
                with connection.begin_nested() if savepoints else contextlib.nullcontext():
                    insert_into(connection, table, {}, reserved=reserved, empty=empty)
            except Exception:
                if not skip_failures:
                    raise


def empty_tables(connection: Connection, tables: Collection[Table]) -> set[Table]:
    """Those of ``tables`` that hold no row, asked in one query (per 200 tables), written out
    rather than built with SQLAlchemy: on Rattail's 156 tables, 1 ms to write, 35-100 ms to
    build and compile."""
    quote = connection.dialect.identifier_preparer.format_table
    # MariaDB, MySQL and Oracle want a FROM for a WHERE
    dual = " FROM DUAL" if connection.dialect.name in ("mysql", "mariadb", "oracle") else ""
    found: set[Table] = set()
    for chunk in batches(list(tables)):
        query = " UNION ALL ".join(
            f"SELECT {i} AS n{dual} WHERE NOT EXISTS (SELECT 1 FROM {quote(table)})"
            for i, table in enumerate(chunk)
        )
        found.update(chunk[int(n)] for n in connection.exec_driver_sql(query).scalars())
    return found


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _insert(
    connection: Connection,
    table: Table,
    given: Row,
    depth: int,
    avoid: set[Any],
    empty: Collection[Table] = (),
) -> Row:
    unknown = sorted(set(given) - set(table.columns.keys()))
    if unknown:
        raise RowError(f"table {table.name} has no column {', '.join(unknown)}")
    values = dict(given)
    for column in table.columns:
        if column.name in values or not _needs_value(column):
            continue
        if column.foreign_keys and depth < _MAX_DEPTH:
            reference = next(iter(column.foreign_keys)).column
            parent = _insert(connection, reference.table, {}, depth + 1, avoid, empty)
            values[column.name] = parent[reference.name]
        else:
            values[column.name] = _unused_sample(connection, column, avoid, column.table in empty)
    result = connection.execute(table.insert().values(values))
    inserted = dict(values)
    for column, key in zip(
        table.primary_key.columns, result.inserted_primary_key or (), strict=False
    ):
        if key is not None:
            inserted.setdefault(column.name, key)
    return inserted


def _needs_value(column: Column[Any]) -> bool:
    if column.nullable or column.server_default is not None or column.computed is not None:
        return False
    # An integer primary key of its own is numbered by the database, unless reflection says
    # it is not (PostgreSQL without SERIAL or IDENTITY, MariaDB without AUTO_INCREMENT).
    return not (
        column.primary_key
        and not column.foreign_keys
        and _python_type(column) is int
        and len(column.table.primary_key.columns) == 1
        and column.autoincrement is not False
    )


def _python_type(column: Column[Any]) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:
        return object


def _unused_sample(
    connection: Connection, column: Column[Any], avoid: set[Any], empty: bool = False
) -> Any:
    """The first sample of the column's type that its table does not hold and ``avoid`` lacks.

    ``empty``: the table held no row before this run's samples, which took the samples before
    the next one (none asked)."""
    from sqlalchemy import select

    value = sample(column, 1)
    if not _hashable(value) or isinstance(value, bool) or getattr(column.type, "enums", None):
        return value  # one value is all there is (or a JSON document): no unique key on it
    # Only a column under a unique key can hold a value the table has already: the others
    # take the first sample the author's rows do not (no query).
    unique = column.name in _unique_columns(connection, column.table)
    # Sample rows of one table (a parent of many) take the next samples, not the first ones
    # again: one query each, not one per row inserted before.
    start = _NEXT_SAMPLE.get(column, 1) if unique else 1
    for n in range(start, start + _MAX_TRIES):
        value = sample(column, n)
        if value in avoid:
            continue
        if not unique:
            return value
        if empty:
            _NEXT_SAMPLE[column] = n + 1
            return value
        query = select(column.table.c[column.name]).where(column == value).limit(1)
        if connection.execute(query).first() is None:
            _NEXT_SAMPLE[column] = n + 1
            return value
    return value


#: Where the samples of a unique column go on from, while its reflected table is in use.
_NEXT_SAMPLE: weakref.WeakKeyDictionary[Column[Any], int] = weakref.WeakKeyDictionary()


#: The columns of each reflected table under a unique key (:func:`_unique_columns`).
_UNIQUE: weakref.WeakKeyDictionary[Table, set[str]] = weakref.WeakKeyDictionary()


def _unique_columns(connection: Connection, table: Table) -> set[str]:
    """The columns of ``table`` under a primary key, a unique constraint or a unique index,
    found once per table. On SQLite, also those of every unique index SQLite lists: SQLAlchemy
    does not reflect a ``UNIQUE`` written after a type with a length (``username VARCHAR(50)
    NOT NULL UNIQUE``), and every sample row would take the same value, all but the first
    failing."""
    from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

    found = _UNIQUE.get(table)
    if found is not None:
        return found
    found = {
        column.name
        for constraint in table.constraints
        if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint)
        for column in constraint.columns
    }
    found |= {column.name for index in table.indexes if index.unique for column in index.columns}
    found |= {column.name for column in table.columns if column.unique}
    if connection.dialect.name == "sqlite":
        quote = connection.dialect.identifier_preparer.quote
        schema = f"{quote(table.schema)}." if table.schema else ""
        for index in connection.exec_driver_sql(f"PRAGMA {schema}index_list({quote(table.name)})"):
            if index[2]:  # seq, name, unique, ...
                info = connection.exec_driver_sql(f"PRAGMA {schema}index_info({quote(index[1])})")
                found |= {str(row[2]) for row in info if row[2] is not None}
    _UNIQUE[table] = found
    return found


def sample(column: Column[Any], n: int = 1) -> Any:
    """The ``n``-th value of the column's type (``n`` > 0), distinct from the others."""
    enums = getattr(column.type, "enums", None)
    if enums:
        return enums[0]
    python_type = _python_type(column)
    if python_type is bool:
        return False
    if python_type is int:
        return n
    if python_type is float:
        return float(n)
    if python_type is decimal.Decimal:
        return decimal.Decimal(n)
    if python_type is datetime.datetime:
        return datetime.datetime(2000, 1, 1) + datetime.timedelta(seconds=n)
    if python_type is datetime.date:
        return datetime.date(2000, 1, 1) + datetime.timedelta(days=n)
    if python_type is datetime.time:
        return datetime.time(n % 24, 0)
    if python_type is bytes:
        return f"b{n}".encode()
    if python_type is uuid.UUID:
        return uuid.UUID(int=n)
    if python_type in (dict, list):
        return python_type()
    length = getattr(column.type, "length", None) or 16
    for text in (f"sample{n}", f"s{n}", str(n)):
        if len(text) <= length:
            return text
    return str(n)[-length:]


def find(connection: Connection, table: Table, row: Mapping[str, Any]) -> bool:
    """True when ``table`` holds a row equal to ``row`` on the columns it still has."""
    from sqlalchemy import and_, select

    present = {k: v for k, v in row.items() if k in table.columns}
    if not present:
        return True  # every column of the row is gone: nothing left to compare
    condition = and_(
        *(table.c[k].is_(None) if v is None else table.c[k] == v for k, v in present.items())
    )
    return connection.execute(select(table).where(condition).limit(1)).first() is not None


def shown(row: Mapping[str, Any]) -> str:
    text = "{" + ", ".join(f"{k}: {v!r}" for k, v in row.items()) + "}"
    return text if len(text) <= 160 else text[:157] + "...}"
