"""What a revision file's source says, read with :mod:`ast`: its ``op.*`` calls and its downgrade.

Nothing here runs a revision's ``upgrade()`` or ``downgrade()``: the file is parsed, and the
table each operation targets is read from its literal arguments (or a module-level name bound to
a literal, or to ``sa.table("name", ...)`` for ``op.bulk_insert``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: ``op.<name>``: the positions (and keywords) of the table arguments a plugin must own.
#: ``create_foreign_key`` names its SOURCE table only: a referent in the host is fine.
TABLE_ARGUMENTS: dict[str, tuple[tuple[int, str], ...]] = {
    "create_table": ((0, "table_name"),),
    "drop_table": ((0, "table_name"),),
    "add_column": ((0, "table_name"),),
    "drop_column": ((0, "table_name"),),
    "alter_column": ((0, "table_name"),),
    "rename_table": ((0, "old_table_name"), (1, "new_table_name")),
    "batch_alter_table": ((0, "table_name"),),
    "create_table_comment": ((0, "table_name"),),
    "drop_table_comment": ((0, "table_name"),),
    "create_index": ((1, "table_name"),),
    "drop_index": ((1, "table_name"),),
    "create_foreign_key": ((1, "source_table"),),
    "create_unique_constraint": ((1, "table_name"),),
    "create_check_constraint": ((1, "table_name"),),
    "create_primary_key": ((1, "table_name"),),
    "create_exclude_constraint": ((1, "table_name"),),
    "drop_constraint": ((1, "table_name"),),
    "bulk_insert": ((0, "table"),),
}

#: Operations that bring a table into being: an unowned name there is a new, unprefixed table.
CREATING = {"create_table"}
_TABLE_FACTORIES = {"table", "Table"}
_TEXT_FACTORIES = {"text"}


@dataclass(frozen=True)
class TableOperation:
    """``op.<operation>(...)`` at ``line`` of a revision file, on ``table``."""

    operation: str
    table: str
    line: int
    creates: bool


@dataclass(frozen=True)
class LiteralSQL:
    """``op.execute(...)`` with SQL written out in the file (constant parts of an f-string too)."""

    sql: str
    line: int


@dataclass(frozen=True)
class RevisionSource:
    """What :func:`read` found in one revision file."""

    path: Path
    tables: tuple[TableOperation, ...]
    sql: tuple[LiteralSQL, ...]
    #: Line of ``def downgrade``, or None when the file has none.
    downgrade_line: int | None
    #: ``def downgrade`` holds nothing but ``pass``, ``...`` or a docstring.
    downgrade_empty: bool
    #: ``def upgrade`` is missing or holds nothing (a merge point, a label-only revision).
    upgrade_empty: bool
    #: ``irreversible = True`` at module level, or a downgrade that only raises.
    irreversible: bool


def read(path: Path) -> RevisionSource:
    """Parse ``path`` (a SyntaxError names the file and line, as Python gives it)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    constants = _module_constants(tree)
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    upgrade, downgrade = functions.get("upgrade"), functions.get("downgrade")
    tables: list[TableOperation] = []
    sql: list[LiteralSQL] = []
    for call in _op_calls(tree):
        name = call.func.attr  # type: ignore[attr-defined]
        if name == "execute":
            text = _sql_text(_argument(call, 0, "sqltext"), constants)
            if text:
                sql.append(LiteralSQL(text, call.lineno))
            continue
        for position, keyword in TABLE_ARGUMENTS.get(name, ()):
            table = _table_name(_argument(call, position, keyword), constants)
            if table is not None:
                creates = name in CREATING or (name == "rename_table" and position == 1)
                tables.append(TableOperation(name, table, call.lineno, creates))
    body = _statements(downgrade) if downgrade is not None else []
    return RevisionSource(
        path=path,
        tables=tuple(tables),
        sql=tuple(sql),
        downgrade_line=downgrade.lineno if downgrade is not None else None,
        downgrade_empty=downgrade is not None and not body,
        upgrade_empty=upgrade is None or not _statements(upgrade),
        irreversible=constants.get("irreversible") is True
        or (bool(body) and all(isinstance(s, ast.Raise) for s in body)),
    )


def commits_midway(path: Path) -> bool:
    """Whether the revision calls ``op.get_context().autocommit_block()`` (or any
    ``.autocommit_block()``): it commits the run's transaction and runs its statements outside
    one (``CREATE INDEX CONCURRENTLY`` needs that on PostgreSQL). False for a file that cannot be
    read or parsed (reading the graph reports those)."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return False
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "autocommit_block"
        for node in ast.walk(tree)
    )


def _statements(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    """The statements of ``function`` that do something (no docstring, ``pass`` or ``...``)."""
    return [
        s
        for s in function.body
        if not isinstance(s, ast.Pass)
        and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]


def _op_calls(tree: ast.Module) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "op"
        ):
            yield node


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    if position < len(call.args) and not any(
        isinstance(a, ast.Starred) for a in call.args[: position + 1]
    ):
        return call.args[position]
    return None


def _module_constants(tree: ast.Module) -> dict[str, object]:
    """Module-level ``NAME = <literal>`` and ``NAME = sa.table("x", ...)`` (as ``table:x``)."""
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        if isinstance(value, ast.Constant):
            found[target.id] = value.value
        elif (made := _made_table(value, found)) is not None:
            found[target.id] = _TableRef(made)
    # Names bound inside functions to sa.table(...) count too (bulk_insert's usual shape).
    for inner in ast.walk(tree):
        if isinstance(inner, ast.Assign) and len(inner.targets) == 1:
            bound = inner.targets[0]
            made = _made_table(inner.value, found)
            if isinstance(bound, ast.Name) and made is not None and bound.id not in found:
                found[bound.id] = _TableRef(made)
    return found


@dataclass(frozen=True)
class _TableRef:
    name: str


def _made_table(node: ast.expr, constants: dict[str, object]) -> str | None:
    """``sa.table("x", ...)`` / ``Table("x", ...)``: ``x``."""
    if isinstance(node, ast.Call) and _callee(node) in _TABLE_FACTORIES and node.args:
        name = _literal(node.args[0], constants)
        return name if isinstance(name, str) else None
    return None


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _literal(node: ast.expr | None, constants: dict[str, object]) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _table_name(node: ast.expr | None, constants: dict[str, object]) -> str | None:
    value = _literal(node, constants)
    if isinstance(value, _TableRef):
        return value.name
    if isinstance(value, str) and value:
        return value
    if node is not None:
        return _made_table(node, constants)
    return None


def _sql_text(node: ast.expr | None, constants: dict[str, object]) -> str | None:
    if isinstance(node, ast.Call) and _callee(node) in _TEXT_FACTORIES and node.args:
        node = node.args[0]
    if isinstance(node, ast.JoinedStr):
        return " ".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    value = _literal(node, constants)
    return value if isinstance(value, str) else None
