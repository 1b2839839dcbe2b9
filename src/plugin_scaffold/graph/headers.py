"""What each revision file declares, kept between runs: a file unchanged since is not loaded.

To know the graph, Alembic loads every revision file (compiles and runs it as a module) for
four names: ``revision``, ``down_revision``, ``branch_labels``, ``depends_on`` (and the
docstring, for ``history``). On a host of thousands of revisions that is most of ``heads`` and
of ``upgrade --from-models``. Here the four values, the docstring and the digest of the bytes
(which the template cache's key holds) of each file are kept in
the cache folder (``revisions/<folder's hash>.json``, one per version folder), and a file whose
modification time, change time, size and inode are those recorded gets a stand-in instead of
being loaded: the file's module is loaded when something else is asked of it (its
``upgrade()``, when the revision runs).

A file is kept only when its source assigns each of the four names (when it does) once, at
its top, to a literal: then the same bytes give the same values. A file that computes one, or
imports ``*``, is loaded every time, as Alembic does. ``SCAFFOLD_CACHE=off`` turns this off with
the template databases.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from ..files import clear_kept_json, kept_json, write_kept_json

#: What a revision file declares, as Alembic reads it from the module.
DECLARED = ("revision", "down_revision", "branch_labels", "depends_on")
#: Names Alembic asks with ``hasattr``: answered from the record, without loading the file.
PROBED = ("_alembic_source_encoding",)
#: A file modified this recently is not recorded: the file system's clock may be coarse enough
#: that a second change within the same tick would leave its modification time as it was (as
#: git's index does with "racily clean" files).
RACY_NS = 50_000_000
#: The record's format; a record of another is read as empty.
FORMAT = 2

Value = str | tuple[str, ...] | None


class Declared:
    """A revision file's module, as far as what it declares; anything else loads the file.

    ``_declared_sha256`` is the digest of the file's bytes when it was recorded: what the
    template cache's key holds for the file (commands/cached.py), without reading it again.
    """

    def __init__(
        self, values: dict[str, Value], doc: str | None, sha256: str, load: Callable[[], Any]
    ):
        self.__dict__.update(values)
        self.__doc__ = doc
        self._declared_sha256 = sha256
        self._declared_load = load
        self._declared_module: ModuleType | None = None

    def __getattr__(self, name: str) -> Any:
        # Called only for names not set above: the module's functions, imports and the like.
        if name in PROBED:
            raise AttributeError(name)
        if name.startswith("_declared_"):
            raise AttributeError(name)
        if self._declared_module is None:
            self._declared_module = self._declared_load()
        return getattr(self._declared_module, name)


def recorded_digest(module: Any) -> str | None:
    """The digest of a revision file's bytes kept in its record, when ``module`` is its
    record's stand-in (:class:`Declared`: the file unchanged since); else None."""
    return module._declared_sha256 if isinstance(module, Declared) else None


class Headers:
    """The records of the version folders one command reads: ``load(path, load)`` is the loader
    :func:`plugin_scaffold.alembic_private.script_directory` takes; :meth:`save` writes what
    changed."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._records: dict[str, dict[str, Any]] = {}
        self._changed: set[str] = set()
        self._seen: dict[str, set[str]] = {}

    def load(self, path: str, load: Callable[[], ModuleType]) -> Any:
        where, name = os.path.split(path)
        record = self._records.get(where)
        if record is None:
            record = self._records[where] = self._read(where)
        self._seen.setdefault(where, set()).add(name)
        try:
            stat = _stat(path)
        except OSError:
            return load()
        kept = record.get(name)
        if kept is not None and kept["stat"] == stat:
            return Declared(_values(kept), kept["doc"], kept["sha256"], load)
        module = load()
        racy = time.time_ns() - stat[0] < RACY_NS
        header = header_of(Path(path), module) if name.endswith(".py") and not racy else None
        if header is not None:
            record[name] = {"stat": stat, **header}
            self._changed.add(where)
        elif record.pop(name, None) is not None:
            self._changed.add(where)
        return module

    def save(self) -> None:
        """Write the records of the folders whose files changed, were added or removed since
        (atomically; a folder that cannot be written is left: the next run loads its files)."""
        gone = {where for where, seen in self._seen.items() if self._records[where].keys() - seen}
        for where in sorted(self._changed | gone):
            seen = self._seen.get(where, set())
            files = {n: entry for n, entry in self._records[where].items() if n in seen}
            data = {"format": FORMAT, "folder": where, "files": files}
            write_kept_json(self._path(where), data)
        self._changed.clear()
        self._seen.clear()

    def _path(self, where: str) -> Path:
        return self.folder / f"{hashlib.sha256(where.encode()).hexdigest()[:32]}.json"

    def _read(self, where: str) -> dict[str, Any]:
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError, KeyError):
            data = json.loads(self._path(where).read_text())
            if data["format"] == FORMAT and data["folder"] == where:
                return {
                    name: entry
                    for name, entry in dict(data["files"]).items()
                    if isinstance(entry, dict) and _well_formed(entry)
                }
        return {}


def _stat(path: str) -> list[int]:
    found = os.stat(path)
    return [found.st_mtime_ns, found.st_ctime_ns, found.st_size, found.st_ino]


def _well_formed(entry: dict[str, Any]) -> bool:
    """A record as :meth:`Headers.load` wrote it (a hand-edited or truncated one is not)."""
    return (
        isinstance(entry.get("stat"), list)
        and isinstance(entry.get("revision"), str)
        and all(_keepable(entry.get(name)) for name in DECLARED)
        and (entry.get("doc") is None or isinstance(entry.get("doc"), str))
        and "doc" in entry
        and isinstance(entry.get("sha256"), str)
    )


def _values(kept: dict[str, Any]) -> dict[str, Value]:
    return {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in kept.items()
        if name in DECLARED
    }


def header_of(path: Path, module: ModuleType) -> dict[str, Any] | None:
    """What ``module`` (loaded from ``path``) declares, as kept: None when its source does not
    assign each declared name once, at its top, to a literal (or the module disagrees)."""
    try:
        source = path.read_bytes()
        tree = ast.parse(source, filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    # A function binds a module's name only through ``global``: without one, function bodies
    # are not searched (the cost of a first read of thousands of files).
    literals = _literal_assignments(tree, functions=b"global" in source)
    if literals is None or "revision" not in literals:
        return None
    header: dict[str, Any] = {}
    for name in DECLARED:
        value = getattr(module, name, None)
        if literals.get(name) != value or not _keepable(value):
            return None
        header[name] = list(value) if isinstance(value, tuple | list) else value
    doc = module.__doc__
    if doc is not None and not isinstance(doc, str):
        return None
    if any(hasattr(module, name) for name in PROBED):
        return None
    header["doc"] = doc
    header["sha256"] = hashlib.sha256(source).hexdigest()
    return header


def _literal_assignments(tree: ast.Module, *, functions: bool) -> dict[str, Any] | None:
    """The declared names the module's top assigns to a literal, once each; None when one is
    bound otherwise (twice, computed, in a block, by an import) or ``*`` is imported."""
    top: dict[str, Any] = {}
    statements: list[ast.AST] = list(tree.body)
    while statements:
        node = statements.pop()
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return None
        for target in _targets(node):
            if target not in DECLARED:
                continue
            if target in top or node not in tree.body:
                return None
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            if value is None:
                return None
            try:
                top[target] = ast.literal_eval(value)
            except ValueError:
                return None
        statements.extend(_inner_statements(node, functions))
    return top


def _inner_statements(node: ast.AST, functions: bool) -> list[ast.AST]:
    """The statements inside a block statement (a function's or a class's: only when asked)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and not functions:
        return []
    inner: list[ast.AST] = []
    for name in ("body", "orelse", "finalbody"):
        inner.extend(getattr(node, name, None) or ())
    for handler in getattr(node, "handlers", None) or ():
        inner.extend(handler.body)
    for case in getattr(node, "cases", None) or ():
        inner.extend(case.body)
    return inner


def _targets(node: ast.AST) -> list[str]:
    """The plain names the statement ``node`` binds."""
    if isinstance(node, ast.Expr | ast.Pass):
        return []
    if isinstance(node, ast.Assign):
        return [name for target in node.targets for name in _names(target)]
    if isinstance(node, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor):
        return _names(node.target)
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Global | ast.Nonlocal):
        return list(node.names)
    if isinstance(node, ast.With | ast.AsyncWith):
        return [
            name
            for item in node.items
            if item.optional_vars is not None
            for name in _names(item.optional_vars)
        ]
    return []


def _names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _keepable(value: Any) -> bool:
    if value is None or isinstance(value, str):
        return True
    return isinstance(value, tuple | list) and all(isinstance(v, str) for v in value)


def kept() -> Headers | None:
    """The records in the cache folder, or None when ``SCAFFOLD_CACHE=off``."""
    from ..databases import templates

    if not templates.enabled():
        return None
    return Headers(records_folder())


def records_folder() -> Path:
    """``revisions/`` of the cache folder (``SCAFFOLD_CACHE_DIR``...)."""
    from ..databases import templates

    return templates.folder() / "revisions"


def records() -> list[tuple[str, int]]:
    """Each version folder whose files are recorded, and how many are."""
    return sorted(kept_json(records_folder(), lambda d: (str(d["folder"]), len(d["files"]))))


def clear() -> list[tuple[str, int]]:
    """Remove every record (and what killed runs staged); what was recorded."""
    found = records()
    clear_kept_json(records_folder())
    return found
