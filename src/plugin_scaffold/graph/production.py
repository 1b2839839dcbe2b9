"""Production-safety rules of ``scaffold check``: what a plugin revision's ``upgrade()`` does to a
live table, read from its ``op.*`` calls with :mod:`ast` (nothing runs).

A table is *new* when the same revision creates it (``op.create_table``, or ``CREATE TABLE`` in
SQL); every other table is taken to exist in production, with rows and with the previous
release's code reading it. The rules look at everything in the file but ``downgrade()``: the
``op.*`` and ``batch_op.*`` calls, the literal SQL handed to any ``.execute()``, and the reads of
a data migration. They judge only the plugin's own tables (an ``op.*`` call on a host table is
check's ``foreign-table`` error already), but for SQL that changes a host table's structure
(``foreign-ddl``). Which rules apply depends on the databases the plugin runs on (``databases``
in ``[tool.plugin-scaffold]``; all three by default).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..plugin.project import DATABASES
from .sources import _literal, _module_constants, _sql_text, _table_name

INDEX = "index-not-concurrent"
NOT_NULL = "not-null-no-default"
SET_NOT_NULL = "set-not-null"
REWRITE = "type-rewrite"
CONSTRAINT = "constraint-not-valid"
RENAME = "rename-in-use"
DROP = "drop-in-use"
NO_WHERE = "sql-without-where"
FOREIGN_DDL = "foreign-ddl"
WHOLE_TABLE = "whole-table-read"

#: Every code these rules report, in the order docs/check.md lists them.
CODES = (
    INDEX,
    NOT_NULL,
    SET_NOT_NULL,
    REWRITE,
    CONSTRAINT,
    RENAME,
    DROP,
    NO_WHERE,
    FOREIGN_DDL,
    WHOLE_TABLE,
)

#: ``op.<name>`` parameters in order; ``batch_op.<name>`` takes the same without the table.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "create_table": ("table_name",),
    "drop_table": ("table_name",),
    "rename_table": ("old_table_name", "new_table_name"),
    "add_column": ("table_name", "column"),
    "alter_column": ("table_name", "column_name"),
    "drop_column": ("table_name", "column_name"),
    "create_index": ("index_name", "table_name", "columns"),
    "drop_index": ("index_name", "table_name"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "create_foreign_key": (
        "constraint_name",
        "source_table",
        "referent_table",
        "local_cols",
        "remote_cols",
    ),
    "create_check_constraint": ("constraint_name", "table_name", "condition"),
}
TABLE_PARAMETER = {
    name: next(p for p in params if p in ("table_name", "source_table", "old_table_name"))
    for name, params in PARAMETERS.items()
}
_STRING_TYPES = {"String", "VARCHAR", "Unicode", "NVARCHAR"}
_TEXT_TYPES = {"Text", "TEXT", "UnicodeText", "CLOB"}
_WHOLE_READS = {"read_sql", "read_sql_query", "read_sql_table"}
#: What bounds a query's rows (a filter, a limit) or streams them.
_BOUNDED = {
    "limit",
    "yield_per",
    "stream_results",
    "fetchmany",
    "partitions",
    "slice",
    "where",
    "filter",
    "filter_by",
    "get",
    "first",
    "one",
    "scalar",
}
#: The calls whose arguments name what a query reads.
_READERS = {"query", "select", "table", "read_sql_table", "scalars"}
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LIMIT = re.compile(r"\b(LIMIT|FETCH\s+FIRST|TOP|WHERE)\b", re.I)
_QUOTED = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.S)
_NAME = r"[`\"\[]?([A-Za-z_][\w$]*)[`\"\]]?(?:\s*\.\s*[`\"\[]?([A-Za-z_][\w$]*)[`\"\]]?)?"
_FROM = re.compile(rf"\bFROM\s+{_NAME}", re.I)
_DML = re.compile(
    rf"^\s*(?:WITH\b.*?\)\s*)?(UPDATE|DELETE\s+FROM)\s+(?:ONLY\s+)?{_NAME}", re.I | re.S
)
_DDL = [
    re.compile(rf"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_NAME}", re.I),
    re.compile(rf"\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?{_NAME}", re.I),
    re.compile(rf"\bTRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?{_NAME}", re.I),
    re.compile(rf"\bRENAME\s+TABLE\s+{_NAME}", re.I),
    re.compile(rf"\bCREATE\s+(?:UNIQUE\s+)?INDEX\b[^;]*?\bON\s+(?:ONLY\s+)?{_NAME}", re.I),
    re.compile(rf"\bCREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER\b[^;]*?\bON\s+{_NAME}", re.I),
    re.compile(rf"\bCOMMENT\s+ON\s+(?:TABLE|COLUMN)\s+{_NAME}", re.I),
]
_SQL_INDEX = re.compile(
    r"^\s*(CREATE\s+(?:UNIQUE\s+)?INDEX|DROP\s+INDEX)\b(\s+CONCURRENTLY\b)?", re.I
)
_ON = re.compile(rf"\bON\s+(?:ONLY\s+)?{_NAME}", re.I)
_PARENTHESES = re.compile(r"\([^()]*\)")
_VALIDATE = re.compile(rf"\bVALIDATE\s+CONSTRAINT\s+{_NAME}", re.I)
_CREATE_TABLE = re.compile(rf"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{_NAME}", re.I)
_ALTER_TABLE = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_NAME}\s+(.*)$", re.I | re.S
)
_DROP_TABLE = re.compile(rf"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?{_NAME}", re.I)
_RENAME_TABLE = re.compile(rf"^\s*RENAME\s+TABLE\s+{_NAME}", re.I)
_ADD_CONSTRAINT = re.compile(
    rf"^ADD\s+(?:CONSTRAINT\s+{_NAME}\s+)?(FOREIGN\s+KEY|CHECK|UNIQUE|PRIMARY\s+KEY)\b", re.I
)
_ADD_COLUMN = re.compile(rf"^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?{_NAME}\s", re.I)
_ALTER_TYPE = re.compile(
    rf"^(?:ALTER\s+(?:COLUMN\s+)?{_NAME}\s+(?:SET\s+DATA\s+)?TYPE\b|MODIFY\b|CHANGE\b)", re.I
)
_SET_NOT_NULL = re.compile(rf"^ALTER\s+(?:COLUMN\s+)?{_NAME}\s+SET\s+NOT\s+NULL\b", re.I)
_RENAME = re.compile(r"^RENAME\b", re.I)
_RENAME_COLUMN = re.compile(rf"^RENAME\s+(?:COLUMN\s+)?(?!TO\b){_NAME}\s+TO\b", re.I)
_DROP_COLUMN = re.compile(rf"^DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?{_NAME}", re.I)
_DROP_NOT_COLUMN = re.compile(
    r"^DROP\s+(CONSTRAINT|INDEX|KEY|FOREIGN|PRIMARY|CHECK|DEFAULT)\b", re.I
)


@dataclass(frozen=True)
class Hazard:
    """One unsafe operation at ``line``: ``message`` names the table and the safe rewrite."""

    code: str
    line: int
    message: str
    severity: str = "warning"


@dataclass(frozen=True)
class Context:
    """What the rules know of the plugin besides its revision files."""

    #: Whether the plugin owns a table (its prefix, or its models declare it).
    owns: Callable[[str], bool]
    #: The host's tables (DDL on them in raw SQL is ``foreign-ddl``).
    host: Collection[str] = ()
    #: The columns the plugin's current models declare, by table.
    declared: Mapping[str, Collection[str]] = field(default_factory=dict)
    #: The database kinds the plugin runs on (:data:`DATABASES`).
    databases: Collection[str] = DATABASES

    @property
    def postgresql(self) -> bool:
        return "postgresql" in self.databases

    @property
    def mysql(self) -> bool:
        return "mysql" in self.databases


def lint(paths: Sequence[Path], context: Context) -> dict[Path, list[Hazard]]:
    """The hazards of each of a plugin's revision files ``paths``, by line."""
    return {
        path: sorted(_Revision.read(path).hazards(context), key=lambda h: (h.line, h.code))
        for path in paths
    }


@dataclass(frozen=True)
class _Op:
    """``op.<name>(...)`` or ``batch_op.<name>(...)`` (``table`` from its batch)."""

    name: str
    call: ast.Call
    table: str | None
    batch: bool
    autocommit: bool

    def argument(self, parameter: str) -> ast.expr | None:
        for keyword in self.call.keywords:
            if keyword.arg == parameter:
                return keyword.value
        params = PARAMETERS.get(self.name, ())
        if self.batch:
            params = tuple(p for p in params if p != TABLE_PARAMETER.get(self.name))
        if parameter in params:
            position = params.index(parameter)
            if position < len(self.call.args) and not any(
                isinstance(a, ast.Starred) for a in self.call.args[: position + 1]
            ):
                return self.call.args[position]
        return None

    def keyword(self, name: str) -> ast.expr | None:
        return next((k.value for k in self.call.keywords if k.arg == name), None)

    @property
    def line(self) -> int:
        return self.call.lineno

    @property
    def shown(self) -> str:
        return f"{'batch_op' if self.batch else 'op'}.{self.name}"


@dataclass
class _Revision:
    path: Path
    constants: dict[str, object]
    ops: list[_Op]
    #: ``(constraint name, line, inside an autocommit_block)`` of each VALIDATE CONSTRAINT.
    validations: list[tuple[str, int, bool]]
    #: ``(sql, line, inside an autocommit_block)`` of each literal SQL statement executed.
    sql: list[tuple[str, int, bool]]
    nodes: list[ast.AST]
    assigned: dict[str, ast.expr]

    @classmethod
    def read(cls, path: Path) -> _Revision:
        tree = ast.parse(path.read_bytes(), filename=str(path))
        constants = _module_constants(tree)
        nodes: list[ast.AST] = []
        ops: list[_Op] = []
        sql: list[tuple[str, int, bool]] = []
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and (
                statement.name == "downgrade"
            ):
                continue
            _walk(statement, constants, {}, False, ops, nodes)
        assigned: dict[str, ast.expr] = {}
        for node in nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    assigned[target.id] = node.value
        for node in nodes:
            if isinstance(node, ast.Call) and _attr(node) in ("execute", "exec_driver_sql"):
                argument = node.args[0] if node.args else None
                if argument is None:
                    argument = next((k.value for k in node.keywords if k.arg == "sqltext"), None)
                if isinstance(argument, ast.Name) and argument.id in assigned:
                    argument = assigned[argument.id]
                text = _sql_of(argument, constants)
                if text:
                    inside = _in_autocommit(node, nodes)
                    for statement_sql in _statements(text):
                        sql.append((statement_sql, node.lineno, inside))
        validations = [
            (match.group(2) or match.group(1), line, inside)
            for text, line, inside in sql
            for match in _VALIDATE.finditer(text)
        ]
        return cls(path, constants, ops, validations, sql, nodes, assigned)

    # --- the rules --------------------------------------------------------------------------

    def hazards(self, context: Context) -> Iterator[Hazard]:
        new = {o.table for o in self.ops if o.name == "create_table" and o.table}
        for text, _, _ in self.sql:
            if made := _CREATE_TABLE.match(_QUOTED.sub("''", text)):
                new.add(_table_of(made))
        for op in self.ops:
            table = op.table
            if op.name == "create_table" or (table is not None and table in new):
                continue
            if table is not None and not context.owns(table):
                continue  # check's foreign-table error says it
            if op.name == "rename_table":
                target = _literal_str(op.argument("new_table_name"), self.constants)
                if target is not None and not context.owns(target):
                    continue  # renamed into a table it does not own: foreign-table too
            yield from self._op_hazards(op, table, context)
        yield from self._sql_hazards(context, new)
        yield from self._reads()

    def _op_hazards(self, op: _Op, table: str | None, context: Context) -> Iterator[Hazard]:
        shown = table or "its table"
        name = op.name
        if name in ("create_index", "drop_index") and context.postgresql:
            concurrent = _true(op.keyword("postgresql_concurrently"))
            verb = "CREATE" if name == "create_index" else "DROP"
            if not concurrent:
                yield Hazard(
                    INDEX,
                    op.line,
                    f"{op.shown} on {shown} without CONCURRENTLY blocks its writes on "
                    f"PostgreSQL while the index is {'built' if verb == 'CREATE' else 'dropped'}: "
                    f"pass postgresql_concurrently=True inside "
                    f"`with op.get_context().autocommit_block():`",
                )
            elif not op.autocommit:
                yield Hazard(
                    INDEX,
                    op.line,
                    f"{op.shown} on {shown}: {verb} INDEX CONCURRENTLY cannot run in a "
                    f"transaction: put it inside `with op.get_context().autocommit_block():`",
                )
        elif name in ("create_unique_constraint", "create_primary_key") and context.postgresql:
            yield Hazard(
                INDEX,
                op.line,
                f"{op.shown} on {shown} builds its index while blocking writes on PostgreSQL: "
                f"create a unique index with postgresql_concurrently=True in an "
                f"autocommit_block, then op.execute('ALTER TABLE {shown} ADD CONSTRAINT ... "
                f"{'UNIQUE' if name == 'create_unique_constraint' else 'PRIMARY KEY'} "
                f"USING INDEX ...')",
            )
        elif name == "add_column":
            column = op.argument("column")
            if _not_null_without_default(column):
                yield Hazard(
                    NOT_NULL,
                    op.line,
                    f"{op.shown} adds NOT NULL column {_column_name(column)} to {shown} "
                    f"without a server default: the rows already there make it fail; give it "
                    f"server_default=..., or add it nullable, fill it, then set NOT NULL",
                )
        elif name == "alter_column":
            yield from self._alter(op, shown, context)
        elif name in ("create_foreign_key", "create_check_constraint") and context.postgresql:
            yield from self._constraint(op, shown)
        elif name == "rename_table":
            new = _literal_str(op.argument("new_table_name"), self.constants)
            yield Hazard(
                RENAME,
                op.line,
                f"{op.shown} {shown} to {new or '...'}: the running release's code still "
                f"uses {shown} and fails: create the new table, write both, move the readers, "
                f"drop the old one a release later",
            )
        elif name == "drop_table" and table is not None:
            yield from _dropped(op.shown, op.line, table, None, context)
        elif name == "drop_column" and table is not None:
            column_name = _literal_str(op.argument("column_name"), self.constants)
            if column_name is not None:
                yield from _dropped(op.shown, op.line, table, column_name, context)

    def _alter(self, op: _Op, table: str, context: Context) -> Iterator[Hazard]:
        column = _literal_str(op.argument("column_name"), self.constants) or "a column"
        renamed = _literal_str(op.keyword("new_column_name"), self.constants)
        if renamed:
            yield Hazard(
                RENAME,
                op.line,
                f"{op.shown} renames {table}.{column} to {renamed}: the running release's code "
                f"still uses {column} and fails: add {renamed}, write both, move the readers, "
                f"drop {column} a release later",
            )
        new_type = op.keyword("type_")
        if new_type is not None:
            where = _rewrites(op.keyword("existing_type"), new_type, context)
            if where:
                yield Hazard(
                    REWRITE,
                    op.line,
                    f"{op.shown} changes the type of {table}.{column}: {' and '.join(where)} "
                    f"rewrite the table under an exclusive lock: add a column of the new type, "
                    f"fill it in batches, switch the code, drop the old one",
                )
        if _false(op.keyword("nullable")) and context.postgresql:
            yield Hazard(
                SET_NOT_NULL,
                op.line,
                f"{op.shown} sets {table}.{column} NOT NULL: PostgreSQL scans the table under "
                f"an exclusive lock: add CHECK ({column} IS NOT NULL) NOT VALID, VALIDATE it "
                f"later, then set NOT NULL (PostgreSQL 12+ skips the scan) and drop the check",
            )

    def _constraint(self, op: _Op, table: str) -> Iterator[Hazard]:
        kind = "foreign key" if op.name == "create_foreign_key" else "check constraint"
        name = _literal_str(_unwrap_f(op.argument("constraint_name")), self.constants)
        also = ""
        if op.name == "create_foreign_key":
            referent = _literal_str(op.argument("referent_table"), self.constants)
            also = f" and {referent}" if referent and referent != table else ""
        if not _true(op.keyword("postgresql_not_valid")):
            yield Hazard(
                CONSTRAINT,
                op.line,
                f"{op.shown} adds {kind} {name or '(unnamed)'} to {table}: PostgreSQL checks "
                f"every row while blocking writes to {table}{also}: pass "
                f"postgresql_not_valid=True, then VALIDATE CONSTRAINT in a later release",
            )
        elif name is not None:
            yield from self._validated_under_lock(name, table)

    def _validated_under_lock(self, name: str, table: str) -> Iterator[Hazard]:
        """A constraint added NOT VALID, then validated in the same transaction."""
        under_lock = [
            at for n, at, inside in self.validations if n.lower() == name.lower() and not inside
        ]
        if under_lock:
            yield Hazard(
                CONSTRAINT,
                min(under_lock),
                f"VALIDATE CONSTRAINT {name} on {table} in the transaction that added it keeps "
                f"the writes blocked while every row is checked: validate it in a later "
                f"release, or inside `with op.get_context().autocommit_block():`",
            )

    def _sql_structure(
        self, bare: str, line: int, context: Context, new: set[str]
    ) -> Iterator[Hazard]:
        """ALTER TABLE, DROP TABLE and RENAME TABLE written as SQL, on the plugin's live tables."""
        for pattern in (_DROP_TABLE, _RENAME_TABLE):
            if (match := pattern.match(bare)) is not None:
                table = _table_of(match)
                if table in new or not context.owns(table):
                    return
                if pattern is _DROP_TABLE:
                    yield from _dropped("SQL DROP TABLE", line, table, None, context)
                else:
                    yield Hazard(RENAME, line, _rename_message("SQL RENAME TABLE", table))
                return
        altered = _ALTER_TABLE.match(bare)
        if altered is None:
            return
        table = _table_of(altered)
        if table in new or not context.owns(table):
            return
        shown = "SQL ALTER TABLE"
        for action in _actions(altered.group(3)):
            if constraint := _ADD_CONSTRAINT.match(action):
                kind = " ".join(constraint.group(3).upper().split())
                name = _table_of(constraint) if constraint.group(1) else None
                if kind in ("UNIQUE", "PRIMARY KEY"):
                    if context.postgresql and not re.search(r"\bUSING\s+INDEX\b", action, re.I):
                        yield Hazard(
                            INDEX,
                            line,
                            f"{shown} {table} ADD {kind} builds its index while blocking writes "
                            f"on PostgreSQL: build a unique index CONCURRENTLY in an "
                            f"autocommit_block, then ADD CONSTRAINT ... {kind} USING INDEX",
                        )
                elif context.postgresql:
                    label = "foreign key" if kind == "FOREIGN KEY" else "check constraint"
                    if not re.search(r"\bNOT\s+VALID\b", action, re.I):
                        yield Hazard(
                            CONSTRAINT,
                            line,
                            f"{shown} {table} adds a {label}: PostgreSQL checks every row while "
                            f"blocking writes: add it NOT VALID, then VALIDATE CONSTRAINT in a "
                            f"later release",
                        )
                    elif name is not None:
                        yield from self._validated_under_lock(name, table)
            elif added := _ADD_COLUMN.match(action):
                outside = _outside_parentheses(action)
                if re.search(r"\bNOT\s+NULL\b", outside, re.I) and not re.search(
                    r"\b(DEFAULT|GENERATED|AUTO_INCREMENT|SERIAL|BIGSERIAL)\b", outside, re.I
                ):
                    column = _table_of(added)
                    yield Hazard(
                        NOT_NULL,
                        line,
                        f"{shown} adds NOT NULL column {column} to {table} without a default: "
                        f"the rows already there make it fail; give it a DEFAULT, or add it "
                        f"nullable, fill it, then set NOT NULL",
                    )
            elif (changed := _ALTER_TYPE.match(action)) and (context.postgresql or context.mysql):
                column = _table_of(changed) if changed.group(1) else "a column"
                yield Hazard(
                    REWRITE,
                    line,
                    f"{shown} {table} changes the type of {column}, which may rewrite the table "
                    f"under an exclusive lock: add a column of the new type, fill it in batches, "
                    f"switch the code, drop the old one (mark the line for a VARCHAR widened)",
                )
            elif (required := _SET_NOT_NULL.match(action)) and context.postgresql:
                column = _table_of(required)
                yield Hazard(
                    SET_NOT_NULL,
                    line,
                    f"{shown} {table} sets {column} NOT NULL: PostgreSQL scans the table under "
                    f"an exclusive lock: add CHECK ({column} IS NOT NULL) NOT VALID, VALIDATE it "
                    f"later, then set NOT NULL (PostgreSQL 12+ skips the scan)",
                )
            elif _RENAME.match(action):
                renamed = _RENAME_COLUMN.match(action)
                what = f"{table}.{_table_of(renamed)}" if renamed else table
                yield Hazard(RENAME, line, _rename_message(shown, what))
            elif (dropped := _DROP_COLUMN.match(action)) and not _DROP_NOT_COLUMN.match(action):
                column = _table_of(dropped)
                yield from _dropped(shown, line, table, column, context)

    def _sql_hazards(self, context: Context, new: set[str]) -> Iterator[Hazard]:
        host = {t.lower() for t in context.host if not context.owns(t)}
        for text, line, inside in self.sql:
            bare = _QUOTED.sub("''", text)
            named = sorted(
                {
                    _table_of(match)
                    for pattern in _DDL
                    for match in pattern.finditer(bare)
                    if _table_of(match).lower() in host or _foreign(_table_of(match), context)
                }
            )
            if named:
                yield Hazard(
                    FOREIGN_DDL,
                    line,
                    f"op.execute SQL changes the structure of host table(s) {', '.join(named)}: "
                    f"a plugin never alters a host table (extend it with a side table)",
                    severity="error",
                )
                continue
            dml = _DML.match(bare)
            if dml and not re.search(r"\bWHERE\b", _outside_parentheses(bare), re.I):
                table = _table_of(dml, 2)
                if table not in new and (context.owns(table) or table.lower() not in host):
                    verb = dml.group(1).split()[0].upper()
                    yield Hazard(
                        NO_WHERE,
                        line,
                        f"SQL {verb} of {table} without WHERE changes every row in one "
                        f"transaction, locking them all: work in batches by key range (WHERE id "
                        f"BETWEEN ...), or mark the line if the table is small",
                    )
            yield from self._sql_structure(bare, line, context, new)
            index = _SQL_INDEX.match(bare)
            if index and context.postgresql:
                on = _ON.search(bare)
                indexed = _table_of(on) if on else None
                if indexed is not None and (indexed in new or not context.owns(indexed)):
                    continue
                verb = index.group(1).split()[0].upper()
                if not index.group(2):
                    yield Hazard(
                        INDEX,
                        line,
                        f"SQL {verb} INDEX on {indexed or 'a table'} without CONCURRENTLY blocks "
                        f"its writes on PostgreSQL: {verb} INDEX CONCURRENTLY inside "
                        f"`with op.get_context().autocommit_block():`",
                    )
                elif not inside:
                    yield Hazard(
                        INDEX,
                        line,
                        f"SQL {verb} INDEX CONCURRENTLY on {indexed or 'a table'} cannot run in a "
                        f"transaction: put it inside `with op.get_context().autocommit_block():`",
                    )
        for node in self.nodes:
            if isinstance(node, ast.Call) and _attr(node) == "execute" and node.args:
                yield from self._core_dml(node.args[0], node.lineno, new, context)

    def _core_dml(
        self, expression: ast.expr, line: int, new: set[str], context: Context
    ) -> Iterator[Hazard]:
        """``op.execute(t.update().values(...))`` / ``sa.delete(t)`` without ``.where()``."""
        chain = list(_chain(expression, self.assigned))
        names = [_attr(c) or _callee(c) for c in chain]
        verb = next((n for n in names if n in ("update", "delete")), None)
        if verb is None or "where" in names or "filter" in names or "filter_by" in names:
            return
        root = chain[names.index(verb)]
        target: ast.expr | None = root.args[0] if root.args else None
        if isinstance(root.func, ast.Attribute) and not root.args:
            target = root.func.value
        table = _table_name(target, self.constants)
        if table is None or table in new or not context.owns(table):
            return
        yield Hazard(
            NO_WHERE,
            line,
            f"{verb}() of {table} without .where() changes every row in one transaction, "
            f"locking them all: work in batches by key range, or mark the line if the table is "
            f"small",
        )

    def _reads(self) -> Iterator[Hazard]:
        """Whole tables read into memory by a data migration."""
        for node in self.nodes:
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                receiver = node.func.value
                if name == "fetchall" or (name == "all" and self._executes(receiver)):
                    if not node.args and not self._bounded(receiver):
                        yield self._read(node.lineno, f".{name}()", receiver)
                    continue
            if isinstance(node, ast.Call) and (_attr(node) or _callee(node)) in _WHOLE_READS:
                if not any(k.arg == "chunksize" for k in node.keywords) and not (
                    node.args and self._bounded(node.args[0])
                ):
                    yield self._read(node.lineno, f"{_attr(node) or _callee(node)}()", node)
            elif isinstance(node, ast.Call) and _callee(node) == "list" and node.args:
                if self._unbounded_result(node.args[0]):
                    yield self._read(node.lineno, "list() of a result", node.args[0])
            elif isinstance(node, ast.For) and self._unbounded_result(node.iter):
                yield self._read(node.lineno, "a loop over a result", node.iter)
            elif isinstance(node, _COMPREHENSIONS):
                for generator in node.generators:
                    if self._unbounded_result(generator.iter):
                        what = "a comprehension over a result"
                        yield self._read(node.lineno, what, generator.iter)
                        break

    def _read_table(self, expression: ast.expr) -> str | None:
        """The table (or model) a query reads, where the file says it."""
        for node in self._nodes(expression, 0):
            text = _sql_of(node, self.constants) if isinstance(node, ast.expr) else None
            if text and (found := _FROM.search(_QUOTED.sub("''", text))):
                return _table_of(found)
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "query"
                and isinstance(node.value, ast.Name)
            ):
                return node.value.id  # Flask-SQLAlchemy's Model.query
            if isinstance(node, ast.Call) and (_attr(node) or _callee(node)) in _READERS:
                for argument in node.args:
                    named = _table_name(argument, self.constants)
                    if named is not None:
                        return named
                    if isinstance(argument, ast.Name):
                        return argument.id
        return None

    def _unbounded_result(self, expression: ast.expr) -> bool:
        """A query's result read whole (not already reported at its ``.fetchall()``)."""
        return (
            self._executes(expression)
            and not self._materialized(expression)
            and not self._bounded(expression)
        )

    def _materialized(self, expression: ast.expr) -> bool:
        """The rows were already read with ``.fetchall()`` / ``.all()`` (reported there)."""
        return any(_attr(c) in ("fetchall", "all") for c in _chain(expression, self.assigned))

    def _read(self, line: int, what: str, query: ast.expr) -> Hazard:
        table = self._read_table(query)
        return Hazard(
            WHOLE_TABLE,
            line,
            f"{what} loads every row of {table or 'the query'} into memory at once: read in "
            f"batches (.execution_options(yield_per=1000), or WHERE id > :last ORDER BY id "
            f"LIMIT 1000), or do it in SQL (UPDATE ... FROM)",
        )

    def _executes(self, expression: ast.expr) -> bool:
        """``expression`` reads a query's result (``conn.execute(...)``, ``session.query(X)``,
        ``Model.query``)."""
        return bool({"execute", "query", "scalars", "exec_driver_sql"} & self._names(expression, 0))

    def _names(self, expression: ast.expr, depth: int) -> set[str]:
        """The attribute and function names in ``expression``, through the names bound in the
        file."""
        found: set[str] = set()
        for node in ast.walk(expression):
            if isinstance(node, ast.Attribute):
                found.add(node.attr)
            elif isinstance(node, ast.Name):
                found.add(node.id)
                if node.id in self.assigned and depth < 5:
                    found |= self._names(self.assigned[node.id], depth + 1)
        return found

    def _bounded(self, expression: ast.expr) -> bool:
        """The query has a filter or a limit, or its rows are streamed."""
        if _BOUNDED & self._names(expression, 0):
            return True
        for node in self._nodes(expression, 0):
            if isinstance(node, ast.Call) and any(k.arg in _BOUNDED for k in node.keywords):
                return True
            text = _sql_of(node, self.constants) if isinstance(node, ast.expr) else None
            if text and _LIMIT.search(_QUOTED.sub("''", text)):
                return True
        return False

    def _nodes(self, expression: ast.expr, depth: int) -> Iterator[ast.AST]:
        for node in ast.walk(expression):
            yield node
            if isinstance(node, ast.Name) and node.id in self.assigned and depth < 5:
                yield from self._nodes(self.assigned[node.id], depth + 1)


def _walk(
    node: ast.AST,
    constants: dict[str, object],
    batches: dict[str, str | None],
    autocommit: bool,
    ops: list[_Op],
    nodes: list[ast.AST],
) -> None:
    """Collect the ``op``/``batch_op`` calls under ``node``, knowing the enclosing blocks."""
    nodes.append(node)
    if isinstance(node, ast.With | ast.AsyncWith):
        inner_batches = dict(batches)
        inner_autocommit = autocommit
        for item in node.items:
            _walk(item.context_expr, constants, batches, autocommit, ops, nodes)
            expr = item.context_expr
            if isinstance(expr, ast.Call) and _attr(expr) == "autocommit_block":
                inner_autocommit = True
            if (
                isinstance(expr, ast.Call)
                and _attr(expr) == "batch_alter_table"
                and isinstance(item.optional_vars, ast.Name)
            ):
                table = _table_name(
                    expr.args[0] if expr.args else _kw(expr, "table_name"), constants
                )
                inner_batches[item.optional_vars.id] = table
        for statement in node.body:
            _walk(statement, constants, inner_batches, inner_autocommit, ops, nodes)
        return
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
    ):
        receiver, name = node.func.value.id, node.func.attr
        if receiver == "op" and name in PARAMETERS:
            parameter = TABLE_PARAMETER[name]
            table = _table_name(
                _Op(name, node, None, False, autocommit).argument(parameter), constants
            )
            ops.append(_Op(name, node, table, False, autocommit))
        elif receiver in batches and name in PARAMETERS:
            ops.append(_Op(name, node, batches[receiver], True, autocommit))
    for child in ast.iter_child_nodes(node):
        _walk(child, constants, batches, autocommit, ops, nodes)


def _in_autocommit(target: ast.AST, nodes: list[ast.AST]) -> bool:
    for node in nodes:
        if (
            isinstance(node, ast.With | ast.AsyncWith)
            and any(
                isinstance(i.context_expr, ast.Call) and _attr(i.context_expr) == "autocommit_block"
                for i in node.items
            )
            and any(inner is target for inner in ast.walk(node))
        ):
            return True
    return False


def _statements(sql: str) -> list[str]:
    """``sql`` split at its semicolons (those outside quotes)."""
    parts, start = [], 0
    for match in re.finditer(r"'(?:[^']|'')*'|;", sql):
        if match.group() == ";":
            parts.append(sql[start : match.start()])
            start = match.end()
    parts.append(sql[start:])
    return [p.strip() for p in parts if p.strip()]


def _sql_of(node: ast.expr | None, constants: dict[str, object]) -> str | None:
    """The SQL written in ``node``: a string, ``sa.text(...)``, or an f-string whose fields are
    names bound to literals or tables (``f"UPDATE {TABLE} SET ..."``)."""
    if isinstance(node, ast.Call) and (_attr(node) or _callee(node)) == "text" and node.args:
        node = node.args[0]
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                named = _table_name(value.value, constants)
                parts.append(named if named is not None else "?")
        return "".join(parts)
    return _sql_text(node, constants)


def _outside_parentheses(sql: str) -> str:
    """``sql`` without its parenthesized parts (subqueries)."""
    while True:
        shorter = _PARENTHESES.sub(" ", sql)
        if shorter == sql:
            return sql
        sql = shorter


def _table_of(match: re.Match[str], group: int = 1) -> str:
    """The table a pattern matched (``schema.table``: the table)."""
    return match.group(group + 1) or match.group(group)


def _foreign(table: str, context: Context) -> bool:
    """Another owner's prefix (``core__x``, ``other__x``) on a table the plugin does not own."""
    owner, sep, _ = table.partition("__")
    return bool(sep and owner) and not context.owns(table)


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _attr(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _callee(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else None


def _chain(
    expression: ast.expr, assigned: Mapping[str, ast.expr], depth: int = 0
) -> Iterator[ast.Call]:
    """The calls of a method chain (``a.b(...).c(...)``), following names bound in the file."""
    node: ast.expr | None = expression
    while node is not None:
        if isinstance(node, ast.Call):
            yield node
            node = node.func.value if isinstance(node.func, ast.Attribute) else None
        elif isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Name) and node.id in assigned and depth < 5:
            yield from _chain(assigned[node.id], assigned, depth + 1)
            return
        else:
            return


def _unwrap_f(node: ast.expr | None) -> ast.expr | None:
    """``op.f("name")`` / ``batch_op.f("name")``: the literal inside."""
    if isinstance(node, ast.Call) and _attr(node) == "f" and node.args:
        return node.args[0]
    return node


def _literal_str(node: ast.expr | None, constants: dict[str, object]) -> str | None:
    value = _literal(node, constants)
    return value if isinstance(value, str) and value else None


def _true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _column_call(node: ast.expr | None) -> ast.Call | None:
    if isinstance(node, ast.Call) and (_attr(node) or _callee(node)) == "Column":
        return node
    return None


def _column_name(node: ast.expr | None) -> str:
    call = _column_call(node)
    if call and call.args and isinstance(call.args[0], ast.Constant):
        return str(call.args[0].value)
    return "(a column)"


def _not_null_without_default(node: ast.expr | None) -> bool:
    call = _column_call(node)
    if call is None:
        return False
    nullable = _kw(call, "nullable")
    primary = _true(_kw(call, "primary_key"))
    if not (_false(nullable) or (primary and nullable is None)):
        return False
    default = _kw(call, "server_default")
    if default is not None and not (isinstance(default, ast.Constant) and default.value is None):
        return False
    # sa.Computed / sa.Identity fill the column themselves.
    return not any(
        isinstance(a, ast.Call) and (_attr(a) or _callee(a)) in ("Computed", "Identity")
        for a in call.args
    )


def _type(node: ast.expr | None) -> tuple[str, int | None] | None:
    """``sa.String(length=50)`` / ``sa.VARCHAR(50)`` / ``sa.Text()``: name and length."""
    if isinstance(node, ast.Attribute):
        return node.attr, None
    if isinstance(node, ast.Name):
        return node.id, None
    if not isinstance(node, ast.Call):
        return None
    name = _attr(node) or _callee(node)
    if name is None:
        return None
    length = node.args[0] if node.args else _kw(node, "length")
    value = length.value if isinstance(length, ast.Constant) else None
    return name, value if isinstance(value, int) else None


def _rewrites(old: ast.expr | None, new: ast.expr, context: Context) -> list[str]:
    """The databases on which changing ``old`` to ``new`` rewrites the table."""
    before, after = _type(old), _type(new)
    found = []
    strings = (
        before is not None
        and after is not None
        and before[0] in _STRING_TYPES | _TEXT_TYPES
        and after[0] in _STRING_TYPES | _TEXT_TYPES
    )
    if context.postgresql:
        # VARCHAR widened, or made TEXT, needs no rewrite on PostgreSQL.
        safe = (
            strings
            and before is not None
            and after is not None
            and before[0] not in _TEXT_TYPES
            and (
                after[0] in _TEXT_TYPES
                or after[1] is None
                or (before[1] is not None and after[1] >= before[1])
            )
        )
        if not safe:
            found.append("PostgreSQL")
    if context.mysql:
        # MariaDB (10.4+) widens a VARCHAR in place unless it grows from at most 127 bytes to
        # over 255 (utf8mb4: 4 bytes a character, so from under 32 characters to over 63).
        safe = (
            strings
            and before is not None
            and after is not None
            and before[0] in _STRING_TYPES
            and after[0] in _STRING_TYPES
            and before[1] is not None
            and after[1] is not None
            and after[1] >= before[1]
            and (before[1] >= 32 or after[1] <= 63)
        )
        if not safe:
            found.append("MariaDB/MySQL")
    return found


def _rename_message(shown: str, what: str) -> str:
    return (
        f"{shown} renames {what}: the running release's code still uses the old name and "
        f"fails: add the new one, write both, move the readers, drop the old one a release later"
    )


def _dropped(
    shown: str, line: int, table: str, column: str | None, context: Context
) -> Iterator[Hazard]:
    """A table or column dropped that the plugin's current models still declare.

    The previous release's code is not there to read: the rule knows only that code which
    still declares the column fails once it is gone. A drop of what the models no longer
    declare is the contract step of expand/contract, safe once the release that stopped using
    it runs everywhere (the docs say to ship it a release later).
    """
    declared = context.declared.get(table)
    if declared is None or (column is not None and column not in declared):
        return
    what = f"table {table}" if column is None else f"column {table}.{column}"
    yield Hazard(
        DROP,
        line,
        f"{shown} drops {what}, which the plugin's models still declare: the running code "
        f"fails once it is gone: remove it from the models, release that, and drop it in the "
        f"release after",
    )


def _actions(sql: str) -> list[str]:
    """The comma-separated actions of an ALTER TABLE (commas inside parentheses kept)."""
    actions, depth, start = [], 0, 0
    for at, char in enumerate(sql):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            actions.append(sql[start:at])
            start = at + 1
    actions.append(sql[start:])
    return [a.strip() for a in actions if a.strip()]
