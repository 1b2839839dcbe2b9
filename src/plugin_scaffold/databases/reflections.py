"""Table reflections kept between runs: what schema.py reuses in one process, on disk.

A table is reflected once per shape (:func:`.schema.shapes`, a digest of its catalog entries):
the next process that meets a table of that shape, on a server of the same kind and version,
reads its description here instead of from the server. The first snapshot of a session on a
host of 156 tables (Rattail, SQLAlchemy 1.4: table by table) took 0.7 s.

One file per server kind and version, SQLAlchemy version and the code that describes tables
(``reflections/<digest>.json`` in the cache folder), each table's description by its name and
shape. Written whole or not at all; ``SCAFFOLD_CACHE=off`` keeps none; ``scaffold cache
clear`` removes them.

Beside them, the SQLAlchemy ``Table`` objects the checks insert sample rows with
(:func:`.schema.reflected_tables`), the last ones a process reflected on a kind of server and
driver, with every table's shape (``reflections/<digest>.tables``, a pickle: SQLAlchemy's types
are objects). On Rattail (156 tables, SQLAlchemy 1.4) reflecting them took 1.3 s, loading them
0.03 s. A file that cannot be read, or was written by another Python, is reflected anew.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..files import clear_kept_json, kept_json, write_kept, write_kept_json

if TYPE_CHECKING:
    from sqlalchemy import MetaData

#: Bumped when what a file holds changes meaning.
FORMAT = 1
#: Descriptions kept per file (a host of hundreds of tables, in the states its revisions leave
#: them): a file that would hold more starts afresh.
LIMIT = 2_000


def folder() -> Path:
    """``reflections/`` of the cache folder."""
    from .templates import folder as cache_folder

    return cache_folder() / "reflections"


def path_for(server: tuple[Any, ...]) -> Path:
    """The file of ``server``'s reflections in the cache folder named now."""
    return _named((server, _code()), ".json")


def _named(parts: tuple[Any, ...], suffix: str) -> Path:
    """A file of this folder named by ``parts``, the format and SQLAlchemy's version."""
    import sqlalchemy

    text = repr((FORMAT, *parts, sqlalchemy.__version__))
    return folder() / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}{suffix}"


@functools.cache
def _code() -> str:
    """The digest of the code that turns a reflection into a description: a change to it is a
    new file."""
    return hashlib.sha256(Path(__file__).with_name("schema.py").read_bytes()).hexdigest()


def load(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The descriptions kept in ``path`` (:func:`path_for`), by table name and shape."""
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError, KeyError):
        data = json.loads(path.read_text())
        if data["format"] == FORMAT:
            return {
                (str(name), str(shape)): _tuples(described)
                for name, shape, described in data["tables"]
                if isinstance(described, dict)
            }
    return {}


def save(path: Path, server: tuple[Any, ...], made: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Add ``made`` to what ``path`` keeps for ``server`` (a file that cannot be written is
    left as it was)."""
    if not made:
        return
    kept = load(path)
    if len(kept) + len(made) > LIMIT:
        kept = {}
    kept.update(made)
    data = {
        "format": FORMAT,
        "server": repr(server),
        "tables": [[name, shape, described] for (name, shape), described in kept.items()],
    }
    write_kept_json(path, data)


def tables_path_for(server: tuple[Any, ...]) -> Path:
    """The file of the ``Table`` objects kept for ``server`` (kind, version and driver): a
    pickle, by Python's version too."""
    return _named((server, sys.version_info[:2]), ".tables")


def load_tables(path: Path) -> tuple[dict[str, str], MetaData] | None:
    """The shapes of a database's tables and the ``Table`` objects reflected of it, as kept in
    ``path`` (:func:`tables_path_for`); None when there are none (or they cannot be read)."""
    kept = _unpickled(path)
    return None if kept is None else (kept[2], kept[3])


def save_tables(
    path: Path, server: tuple[Any, ...], shapes: dict[str, str], metadata: MetaData
) -> None:
    """Keep ``metadata``'s tables, reflected of a database whose tables had ``shapes``."""
    with contextlib.suppress(Exception):  # a type that cannot be pickled: none kept
        data = pickle.dumps((FORMAT, repr(server), shapes, metadata), pickle.HIGHEST_PROTOCOL)
        write_kept(path, data, mode=0o600)


def _unpickled(path: Path) -> tuple[int, str, dict[str, str], MetaData] | None:
    """What ``path`` keeps; None when it is missing, cannot be read, or is not this user's
    alone (loading a pickle runs what it names: only a file no one else could write)."""
    try:
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            getuid = getattr(os, "getuid", None)
            if getuid is not None and (status.st_uid != getuid() or status.st_mode & 0o022):
                return None
            kept = pickle.loads(handle.read())
    except Exception:  # missing, cut short, or of a SQLAlchemy this process does not have
        return None
    if isinstance(kept, tuple) and len(kept) == 4 and kept[0] == FORMAT:
        return kept
    return None


def kept() -> list[tuple[str, str]]:
    """Each server whose table reflections are kept, and how many: ``N table(s)`` described,
    ``N table object(s)`` kept as SQLAlchemy's."""
    found = kept_json(folder(), lambda d: (str(d["server"]), f"{len(d['tables'])} table(s)"))
    for path in sorted(folder().glob("[!.]*.tables")):
        tables = _unpickled(path)
        if tables is not None:
            found.append((tables[1], f"{len(tables[3].tables)} table object(s)"))
    return sorted(found)


def clear() -> list[tuple[str, str]]:
    """Remove every kept reflection (and what killed runs staged); what was kept."""
    found = kept()
    clear_kept_json(folder(), "*.tables")
    return found


def _tuples(value: Any) -> Any:
    """A description as :func:`.schema.reflect` makes it: JSON's lists back to tuples."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value
