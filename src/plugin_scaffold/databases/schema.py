"""What a database holds, as reflected: tables, columns, constraints, enum types, sequences.

Two snapshots are compared object by object; each difference is one short line that names the
table, column, index or type, so that a failing check can say what changed.
"""

from __future__ import annotations

import atexit
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import MetaData, Table
    from sqlalchemy.engine import Connection

VERSION_TABLE = "alembic_version"
_T = TypeVar("_T")

#: One reflected object, as comparable data: ``{aspect: value}``.
Description = dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """A database's schema (and its ``alembic_version`` rows), reflected."""

    tables: Mapping[str, Mapping[str, Description]]
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sequences: frozenset[str] = frozenset()
    views: frozenset[str] = frozenset()
    versions: tuple[str, ...] = ()

    def only(self, keep: Callable[[str], bool]) -> Snapshot:
        """Just the tables whose names ``keep`` accepts."""
        return Snapshot(tables={name: t for name, t in self.tables.items() if keep(name)})


def reflect(connection: Connection, *, versions: bool = True) -> Snapshot:
    """Reflect everything scaffold compares, on any dialect (PostgreSQL types and sequences too)."""
    from sqlalchemy import inspect

    inspector = inspect(connection)
    dialect = connection.dialect
    names = sorted(n for n in inspector.get_table_names() if n != VERSION_TABLE)
    tables = _tables(connection, inspector, names)
    enums: dict[str, tuple[str, ...]] = {}
    sequences: frozenset[str] = frozenset()
    if dialect.name == "postgresql":
        for enum in inspector.get_enums():  # type: ignore[attr-defined]
            enums[str(enum["name"])] = tuple(enum["labels"])
        sequences = frozenset(inspector.get_sequence_names())
    found_versions: tuple[str, ...] = ()
    if versions and inspector.has_table(VERSION_TABLE):
        from sqlalchemy import text

        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        found_versions = tuple(sorted(str(r[0]) for r in rows))
    return Snapshot(
        tables=tables,
        enums=enums,
        sequences=sequences,
        views=frozenset(inspector.get_view_names()),
        versions=found_versions,
    )


#: Tables already reflected, by their shape in the catalog (:func:`shapes`): a table of that
#: shape is not reflected again (the host's tables in each copy of a template, a table no
#: revision touched since the last snapshot). Bounded: emptied when it holds this many.
_REFLECTED: dict[tuple[Any, ...], dict[str, Description]] = {}
_REFLECTED_LIMIT = 20_000


def _tables(
    connection: Connection, inspector: Any, names: list[str]
) -> dict[str, dict[str, Description]]:
    """Each table of ``names``, described; those whose shape was reflected before, from
    :data:`_REFLECTED` (unless ``SCAFFOLD_CACHE=off``)."""
    dialect = connection.dialect
    server, found = _server_shapes(connection)
    if found is None:
        aspects = _aspects(inspector, names)
        return {name: _table(aspects, name, dialect) for name in names}
    keys = {name: (*server, name, found[name]) for name in names if name in found}
    missing = [name for name in names if _REFLECTED.get(keys.get(name, ())) is None]
    kept = None
    if missing:
        # What earlier runs reflected on such a server, read once per process (and cache
        # folder); what this one reflects is added when it ends.
        from . import reflections

        kept = reflections.path_for(server)
        if kept not in _LOADED:
            _LOADED.add(kept)
            for (name, shape), described in reflections.load(kept).items():
                _REFLECTED.setdefault((*server, name, shape), described)
            missing = [name for name in names if _REFLECTED.get(keys.get(name, ())) is None]
    aspects = _aspects(inspector, missing)
    made = {name: _table(aspects, name, dialect) for name in missing}
    if len(_REFLECTED) + len(made) > _REFLECTED_LIMIT:
        _REFLECTED.clear()
    for name, described in made.items():
        if name in keys:
            _REFLECTED[keys[name]] = described
    if kept is not None and made:
        _save_at_exit()
        _UNSAVED.setdefault((kept, server), {}).update(
            {(n, found[n]): d for n, d in made.items() if n in found}
        )
    return {name: made[name] if name in made else _REFLECTED[keys[name]] for name in names}


#: The files of kept reflections this process has read (databases/reflections.py).
_LOADED: set[Path] = set()
#: What this process reflected, by file and server, kept when it ends (:func:`save_reflections`).
_UNSAVED: dict[tuple[Path, tuple[Any, ...]], dict[tuple[str, str], Description]] = {}


def _save_at_exit() -> None:
    """Have :func:`save_reflections` run when the process ends (registered once)."""
    global _SAVING
    if not _SAVING:
        _SAVING = True
        atexit.register(save_reflections)


_SAVING = False


def save_reflections() -> None:
    """Keep what this process reflected for the next runs (databases/reflections.py); called
    when the process ends."""
    from . import reflections

    while _UNSAVED:
        (path, server), made = _UNSAVED.popitem()
        reflections.save(path, server, made)
    while _TABLES_UNSAVED:
        server, path = _TABLES_UNSAVED.popitem()
        if server in _LAST_TABLES:
            reflections.save_tables(path, server, *_LAST_TABLES[server])


#: The tables :func:`reflected_tables` reflected last on each kind of server (and driver), and
#: the shapes of every table of that database; the first call on a server starts from what an
#: earlier process kept (databases/reflections.py).
_LAST_TABLES: dict[tuple[Any, ...], tuple[dict[str, str], MetaData]] = {}
#: The servers whose tables this process reflected, and the files to keep them in at its end.
_TABLES_UNSAVED: dict[tuple[Any, ...], Path] = {}


def in_order(metadata: MetaData) -> list[Table]:
    """``metadata``'s tables, each after those its foreign keys refer to where they can be so
    ordered. Tables that refer to each other (Rattail's ``product`` and ``product_price``) are
    a host's own design, not a fault of the plugin under test: SQLAlchemy's warning about them
    would land in the plugin's test report, so it is not shown."""
    import warnings

    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Cannot correctly sort tables", SAWarning)
        return list(metadata.sorted_tables)


def reflected_tables(connection: Connection, keep: Callable[[str], bool]) -> list[Table]:
    """The tables whose names ``keep`` accepts, as SQLAlchemy ``Table`` objects (to insert and
    select rows), each after the tables its foreign keys refer to.

    A table of the shape (:func:`shapes`) it had in the last call's database is taken from
    that call, not reflected again: the host's tables in every copy of a template. When none
    of those asked for changed, the last call's tables are returned as they are; when none of
    the last call's changed, the new ones are added to them. The first call of a process
    starts from the tables the last process kept."""
    from sqlalchemy import MetaData, inspect

    names = sorted(n for n in inspect(connection).get_table_names() if keep(n))
    server, found = _server_shapes(connection)
    if found is None:
        metadata = MetaData()
        metadata.reflect(connection, only=names)
        return [t for t in in_order(metadata) if keep(t.name)]
    server = (*server, connection.dialect.driver)
    if server not in _LAST_TABLES:
        _load_tables(server)
    metadata = MetaData()
    if server in _LAST_TABLES:
        last_shapes, last = _LAST_TABLES[server]

        def same(name: str) -> bool:
            return name in found and last_shapes.get(name) == found[name]

        if all(n in last.tables and same(n) for n in names):
            # Every table asked for as it was (and so what its foreign keys name): the same
            # objects, on which SQLAlchemy keeps the statements it compiled for them.
            wanted = set(names)
            return [t for t in in_order(last) if t.name in wanted]
        if all(same(n) for n in last.tables):
            metadata = last  # the new tables join them
        else:
            for name, table in last.tables.items():
                if same(name):
                    table.to_metadata(metadata)
    # What is not there yet (SQLAlchemy leaves the tables already in ``metadata`` as they are,
    # and reflects those the foreign keys of new ones refer to).
    metadata.reflect(connection, only=names)
    _LAST_TABLES[server] = (found, metadata)
    from . import reflections

    _save_at_exit()
    _TABLES_UNSAVED[server] = reflections.tables_path_for(server)
    return [t for t in in_order(metadata) if keep(t.name)]


def _load_tables(server: tuple[Any, ...]) -> None:
    """The tables an earlier process kept for ``server``, as the last call's (once per process
    and cache folder)."""
    from . import reflections

    path = reflections.tables_path_for(server)
    if path not in _LOADED:
        _LOADED.add(path)
        kept = reflections.load_tables(path)
        if kept is not None:
            _LAST_TABLES[server] = kept


def _server_shapes(connection: Connection) -> tuple[tuple[Any, ...], dict[str, str] | None]:
    """The kind and version of the connection's server, and its tables' :func:`shapes` (None
    with ``SCAFFOLD_CACHE=off``)."""
    from .templates import enabled

    dialect = connection.dialect
    server = (dialect.name, getattr(dialect, "server_version_info", None))
    return server, shapes(connection) if enabled() else None


def shapes(connection: Connection) -> dict[str, str] | None:
    """Each table's shape: a digest of everything its catalog entries say that :func:`reflect`
    reads (columns, defaults, constraints, indexes), and of the tables its foreign keys name.
    Two tables of one shape reflect alike. None where it cannot be read so (MySQL, MariaDB and
    other dialects, PostgreSQL before 12): everything is reflected each time there."""
    import hashlib

    dialect = connection.dialect
    if dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT tbl_name, type, name, sql FROM sqlite_master "
            "WHERE type IN ('table', 'index') ORDER BY tbl_name, type, name"
        ).all()
    elif dialect.name == "postgresql" and (dialect.server_version_info or (0,)) >= (12,):
        rows = connection.exec_driver_sql(_PG_SHAPES).all()
    else:
        return None
    own: dict[str, list[str]] = {}
    for table, *parts in rows:
        own.setdefault(str(table), []).append(repr(parts))
    text = {name: "\n".join(parts) for name, parts in own.items()}
    by_lower = {name.lower(): shape for name, shape in text.items()}
    found = {}
    for name, shape in text.items():
        # A foreign key written without its columns refers to the other table's primary key:
        # that table's shape is part of this one's.
        named = sorted({m.strip('"`[]').lower() for m in _REFERENCES.findall(shape)})
        related = [by_lower.get(other, "") for other in named if other != name.lower()]
        found[name] = hashlib.sha256("\n".join([shape, *related]).encode()).hexdigest()
    return found


_REFERENCES = re.compile(r"REFERENCES\s+(\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|[\w.]+)", re.IGNORECASE)

#: PostgreSQL: one row per table of the current schema with everything reflection reads.
_PG_SHAPES = """
SELECT c.relname,
  (SELECT string_agg(concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod),
            a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
            col_description(c.oid, a.attnum)), ', ' ORDER BY a.attnum)
     FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT string_agg(concat_ws(' ', con.conname, pg_get_constraintdef(con.oid)), ', '
            ORDER BY con.conname)
     FROM pg_constraint con WHERE con.conrelid = c.oid),
  (SELECT string_agg(pg_get_indexdef(i.indexrelid), ', ' ORDER BY i.indexrelid::regclass::text)
     FROM pg_index i WHERE i.indrelid = c.oid),
  obj_description(c.oid, 'pg_class')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
"""


#: What is reflected of each table, as the inspector's ``get_<aspect>`` names it; the last two
#: are not implemented by every dialect (counted as none there).
_ASPECTS = (
    "columns",
    "pk_constraint",
    "foreign_keys",
    "indexes",
    "unique_constraints",
    "check_constraints",
)
_OPTIONAL = ("unique_constraints", "check_constraints")

#: One aspect of one table, as the inspector gave it: ``(aspect, table) -> value``.
Aspects = Callable[[str, str], Any]


def _aspects(inspector: Any, names: list[str]) -> Aspects:
    """Each aspect of the tables ``names``: with SQLAlchemy 2's ``get_multi_<aspect>``, one
    call per aspect for all of them (one query each on PostgreSQL); with SQLAlchemy 1.4,
    table by table."""
    if not names or not hasattr(inspector, "get_multi_columns"):

        def one(aspect: str, name: str) -> Any:
            method = getattr(inspector, f"get_{aspect}")
            return _optional(method, name) if aspect in _OPTIONAL else method(name)

        return one
    found: dict[str, dict[str, Any]] = {}
    for aspect in _ASPECTS:
        method = getattr(inspector, f"get_multi_{aspect}")
        try:
            by_key = method(filter_names=names)
        except NotImplementedError:
            if aspect not in _OPTIONAL:
                raise
            by_key = {}
        found[aspect] = {table: value for (_schema, table), value in by_key.items()}

    def multi(aspect: str, name: str) -> Any:
        return found[aspect].get(name, {} if aspect == "pk_constraint" else [])

    return multi


def _table(aspects: Aspects, name: str, dialect: Any) -> dict[str, Description]:
    """``{"column x": {...}, "index y": {...}, ...}`` for one table."""
    found: dict[str, Description] = {}
    for column in aspects("columns", name):
        found[f"column {column['name']}"] = {
            "type": _type_text(column["type"], dialect),
            "nullable": bool(column.get("nullable", True)),
            "default": _sql_text(column.get("default")),
            **(
                {"computed": _sql_text(column["computed"]["sqltext"])}
                if column.get("computed")
                else {}
            ),
        }
    primary = aspects("pk_constraint", name)
    if primary and primary.get("constrained_columns"):
        found["primary key"] = {
            "name": primary.get("name"),
            "columns": tuple(primary["constrained_columns"]),
        }
    for fk in aspects("foreign_keys", name):
        options = {k: str(v).upper() for k, v in (fk.get("options") or {}).items() if v}
        key = f"foreign key {fk.get('name') or ','.join(fk['constrained_columns'])}"
        found[key] = {
            "columns": tuple(fk["constrained_columns"]),
            "references": f"{fk['referred_table']}({', '.join(fk['referred_columns'])})",
            **{k: v for k, v in sorted(options.items()) if k in ("ondelete", "onupdate")},
        }
    for index in aspects("indexes", name):
        columns = tuple(str(c) for c in index.get("column_names") or ())
        expressions = tuple(str(e) for e in index.get("expressions") or ())
        found[f"index {index.get('name') or ','.join(columns)}"] = {
            "columns": columns or expressions,
            "unique": bool(index.get("unique")),
        }
    for unique in aspects("unique_constraints", name):
        columns = tuple(unique["column_names"])
        found[f"unique constraint {unique.get('name') or ','.join(columns)}"] = {"columns": columns}
    for check in aspects("check_constraints", name):
        found[f"check constraint {check.get('name') or check['sqltext']}"] = {
            "sql": _sql_text(check["sqltext"])
        }
    return found


def _optional(method: Callable[[str], Iterable[Any]], name: str) -> list[Any]:
    """Reflections some dialects do not implement count as empty."""
    try:
        return list(method(name))
    except NotImplementedError:
        return []


def _type_text(type_: Any, dialect: Any) -> str:
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:  # a type the dialect cannot render back: its repr is still comparable
        return repr(type_)


def _sql_text(value: Any) -> str | None:
    if value is None:
        return None
    return re.sub(r"\s+", " ", str(value)).strip()


# --- differences ------------------------------------------------------------------------------


def differences(
    before: Snapshot, after: Snapshot, *, gone: str = "removed", new: str = "added"
) -> list[str]:
    """What changed from ``before`` to ``after``, one line per object, in a stable order.

    ``gone`` and ``new`` are the words for an object only in ``before`` or only in ``after``
    (e.g. "left behind" reads better than "added" after a downgrade).
    """
    lines: list[str] = []
    for name in sorted(before.tables.keys() | after.tables.keys()):
        if name not in after.tables:
            lines.append(f"table {name} {gone}")
        elif name not in before.tables:
            lines.append(f"table {name} {new}")
        else:
            lines.extend(
                f"table {name}: {line}"
                for line in _described(before.tables[name], after.tables[name], gone, new)
            )
    for enum in sorted(before.enums.keys() | after.enums.keys()):
        if enum not in after.enums:
            lines.append(f"PostgreSQL enum type {enum} {gone}")
        elif enum not in before.enums:
            lines.append(f"PostgreSQL enum type {enum} {new}")
        elif before.enums[enum] != after.enums[enum]:
            lines.append(
                f"PostgreSQL enum type {enum}: values {list(before.enums[enum])} "
                f"-> {list(after.enums[enum])}"
            )
    for kind, old, now in (
        ("sequence", before.sequences, after.sequences),
        ("view", before.views, after.views),
    ):
        lines.extend(f"{kind} {name} {gone}" for name in sorted(old - now))
        lines.extend(f"{kind} {name} {new}" for name in sorted(now - old))
    if before.versions != after.versions:
        lines.append(f"{VERSION_TABLE} rows {list(before.versions)} -> {list(after.versions)}")
    return lines


def _described(
    before: Mapping[str, Description], after: Mapping[str, Description], gone: str, new: str
) -> list[str]:
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            lines.append(f"{key} {gone}")
        elif key not in before:
            lines.append(f"{key} {new}")
        elif before[key] != after[key]:
            changed = [
                f"{aspect} {before[key].get(aspect)!r} -> {after[key].get(aspect)!r}"
                for aspect in sorted(before[key].keys() | after[key].keys())
                if before[key].get(aspect) != after[key].get(aspect)
            ]
            lines.append(f"{key}: {', '.join(changed)}")
    return lines


# --- rows -------------------------------------------------------------------------------------


def contents(connection: Connection, tables: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Every row of each table, as the driver returns them (to tell that rows were left intact).

    No table is reflected: the rows are compared with rows read the same way, and a check
    reads them after each revision.
    """
    from sqlalchemy import literal_column, select, table

    names = sorted(tables)
    if connection.dialect.name == "postgresql" and names:
        return _pg_contents(connection, names)
    found: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        query: Any = select(literal_column("*")).select_from(table(name))
        found[name] = [dict(row._mapping) for row in connection.execute(query)]
    return found


#: The tables one written-out statement asks about (host rows, empty tables).
TABLES_A_STATEMENT = 200


def batches(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``items`` in runs of :data:`TABLES_A_STATEMENT`."""
    for start in range(0, len(items), TABLES_A_STATEMENT):
        yield items[start : start + TABLES_A_STATEMENT]


def _pg_contents(connection: Connection, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """:func:`contents` on PostgreSQL: each table's rows as one JSON array, every table of a
    batch in one statement written out (a SELECT per table was most of the uninstall check on
    a host of 150 tables, and building the statement with SQLAlchemy 40-80 ms of each read).
    Rows read so compare exactly (numbers as decimals); values come as JSON gives them (dates
    as text), the same way each time."""
    import decimal
    import json

    quote = connection.dialect.identifier_preparer.quote
    found: dict[str, list[dict[str, Any]]] = {}
    for batch in batches(names):
        query = " UNION ALL ".join(
            f"SELECT {n}, (SELECT coalesce(json_agg(r.*), '[]')::text FROM {quote(name)} r)"
            for n, name in enumerate(batch)
        )
        for n, text in connection.exec_driver_sql(query):
            found[batch[n]] = json.loads(text, parse_float=decimal.Decimal)
    return found


def row_differences(
    before: Mapping[str, list[dict[str, Any]]], after: Mapping[str, list[dict[str, Any]]]
) -> list[str]:
    """Rows of ``before`` that ``after`` lost or changed, and rows it gained.

    Rows are compared on the columns ``before`` had: a column added since (a schema change,
    reported as such) does not make every row differ.
    """
    lines = []
    for name in sorted(before):
        if name not in after:
            lines.append(f"table {name} and its {len(before[name])} row(s) are gone")
            continue
        columns = list(before[name][0]) if before[name] else []
        old = sorted((tuple(r.get(c) for c in columns) for r in before[name]), key=repr)
        now = sorted((tuple(r.get(c) for c in columns) for r in after[name]), key=repr)
        if old == now:
            continue
        lost = [row for row in old if row not in now]
        added = [row for row in now if row not in old]
        detail = []
        if lost:
            detail.append(f"{len(lost)} row(s) lost or changed, e.g. {_short(lost[0])}")
        if added:
            detail.append(f"{len(added)} row(s) added or changed, e.g. {_short(added[0])}")
        lines.append(f"table {name}: " + "; ".join(detail or ["rows differ"]))
    return lines


def _short(row: tuple[Any, ...]) -> str:
    text = repr(row)
    return text if len(text) <= 120 else text[:117] + "..."
