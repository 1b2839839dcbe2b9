"""Table reflections kept between runs: what schema.py reuses in one process, on disk.

A table is reflected once per shape (:func:`.schema.shapes`, a digest of its catalog entries):
the next process that meets a table of that shape, on a server of the same kind and version,
reads its description here instead of from the server. The first snapshot of a session on a
host of 156 tables (Rattail, SQLAlchemy 1.4: table by table) took 0.7 s.

One file per server kind and version, SQLAlchemy version and the code that describes tables
(``reflections/<digest>.json`` in the cache folder), each table's description by its name and
shape. Written whole or not at all; ``SCAFFOLD_CACHE=off`` keeps none; ``scaffold cache
clear`` removes them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from ..files import clear_kept_json, kept_json, write_kept_json

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
    import sqlalchemy

    text = repr((FORMAT, server, sqlalchemy.__version__, _code()))
    return folder() / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.json"


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


def kept() -> list[tuple[str, int]]:
    """Each server whose table reflections are kept, and how many tables."""
    return sorted(kept_json(folder(), lambda d: (str(d["server"]), len(d["tables"]))))


def clear() -> list[tuple[str, int]]:
    """Remove every kept reflection (and what killed runs staged); what was kept."""
    found = kept()
    clear_kept_json(folder())
    return found


def _tuples(value: Any) -> Any:
    """A description as :func:`.schema.reflect` makes it: JSON's lists back to tuples."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value
