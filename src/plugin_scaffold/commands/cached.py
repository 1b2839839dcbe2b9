"""Scratch databases that start from a cached template of the graph at some heads
(:mod:`..databases.templates`) instead of replaying every revision from empty: the key that
names a template, the heads it holds, and whether one run from empty can seed it.

The key holds the content of every revision file the heads need (down_revision and depends_on,
followed to the roots), the host's env.py, its host-init, the ``-x`` arguments, and the versions
of plugin-scaffold, SQLAlchemy and Alembic; the cache adds the dialect and the server's version.
"""

from __future__ import annotations

import contextlib
import hashlib
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import alembic_private
from ..databases import templates
from ..databases.servers import temporary_database
from ..graph import headers
from . import migrate

if TYPE_CHECKING:
    from alembic.script import Script

    from .workspace import Workspace

#: Bumped when what a template holds changes meaning.
FORMAT = "plugin-scaffold template 1"


#: Keys made for each ScriptDirectory (read once: the files it loaded are the ones digested),
#: by targets, env.py arguments and host-init: each check of a suite asks again.
_KEYS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], list[str]]] = (
    weakref.WeakKeyDictionary()
)


def key(ws: Workspace, targets: Sequence[str]) -> list[str]:
    """What a template of ``ws``'s graph at ``targets`` depends on, one line each."""
    asked = (tuple(sorted(targets)), tuple(ws.x_args), ws.host.init and ws.host.init.spec)
    made = _KEYS.setdefault(ws.script, {})
    if asked not in made:
        made[asked] = _key(ws, targets)
    return list(made[asked])


def _key(ws: Workspace, targets: Sequence[str]) -> list[str]:
    import alembic
    import sqlalchemy

    from .. import __version__

    script, graph = ws.script, ws.graph
    parts = [
        FORMAT,
        f"plugin-scaffold {__version__}, SQLAlchemy {sqlalchemy.__version__}, "
        f"Alembic {alembic.__version__}",
        "heads " + " ".join(sorted(targets)),
        "host-init " + (ws.host.init.spec if ws.host.init is not None else ""),
        "x " + " ".join(ws.x_args),
        "env.py " + _digest(Path(script.dir) / "env.py"),
    ]
    applied = graph.applied(targets)
    files = sorted((r.revision, r) for r in graph.revisions if r.revision in applied)
    parts += [f"{revision} {_file_digest(r)}" for revision, r in files]
    return parts


def _file_digest(revision: Script) -> str:
    """The digest of ``revision``'s file: its record's, when the graph was read from one (the
    file unchanged since it was recorded: graph/headers.py), else of the bytes read now."""
    return headers.recorded_digest(revision.module) or _digest(revision.path)


def _digest(path: str | Path) -> str:
    try:
        with open(path, "rb") as file:
            return hashlib.sha256(file.read()).hexdigest()
    except OSError:
        return "-"


def heads_without(ws: Workspace, plugin: str | None) -> tuple[str, ...]:
    """The version rows of every head but ``plugin``'s (all of them for None): what the
    MigrationSuite's checks start from, so that autogenerate shares their template."""
    script, graph = ws.script, ws.graph
    heads = [
        head
        for head in script.get_heads()
        if plugin is None or graph.owner(script.get_revision(head)) != plugin  # type: ignore[arg-type]
    ]
    return graph.version_rows(graph.applied(heads))


def first_from_empty(ws: Workspace, target: str, plugin: str) -> tuple[str, ...] | None:
    """The heads of what ``scaffold upgrade target`` runs on an empty database before
    ``plugin``'s first revision, when all of it runs before any of ``plugin``'s (so that a
    template there, then the rest, runs the same revisions in the same order); else None.

    The plan is the one :func:`migrate.upgrade` makes on an empty database.
    """
    graph = ws.graph
    init = migrate.HostInitRun(ws.host.init, graph) if ws.host.init is not None else None
    if init is not None:
        init.armed = True  # an empty database: the host's init runs, so all of the host
    ordered = [
        alembic_private.step_revision(s) for s in migrate.upgrade_steps(ws, init)(target, ())
    ]
    mine = {r.revision for r in graph.revisions_of(plugin)}
    seen_mine = False
    before: list[str] = []
    for revision in ordered:
        if revision.revision in mine:
            seen_mine = True
        elif seen_mine:
            return None
        else:
            before.append(revision.revision)
    return graph.version_rows(before)


@contextlib.contextmanager
def database_at(
    ws: Workspace,
    kind_or_url: str,
    targets: Sequence[str],
    build: Callable[[str], None],
    *,
    prefix: str = "scaffold",
    what: str = "",
) -> Iterator[str]:
    """A new scratch database at ``targets``: a copy of their template, built first by
    ``build(url)`` (which upgrades an empty database to ``targets``) when there is none."""
    if not targets:
        with temporary_database(kind_or_url, prefix=prefix) as url:
            yield url
        return
    with templates.scratch_copy(
        kind_or_url,
        key(ws, targets),
        build,
        prefix=prefix,
        about=about(ws, targets, what),
    ) as url:
        yield url


def about(ws: Workspace, targets: Sequence[str], what: str) -> Mapping[str, Any]:
    """What ``scaffold cache list`` says of a template."""
    return {"heads": sorted(targets), "what": what, "host": str(ws.host.script_location)}


def can_seed(ws: Workspace, kind_or_url: str, targets: Sequence[str]) -> bool:
    """Whether a run from empty should stop at ``targets`` to seed their template (the cache
    is on, has a template kind for this database, and has none there yet)."""
    return (
        bool(targets) and templates.enabled() and not templates.has(kind_or_url, key(ws, targets))
    )


def seed(ws: Workspace, kind_or_url: str, targets: Sequence[str], url: str, what: str) -> bool:
    return templates.seed(kind_or_url, key(ws, targets), url, about(ws, targets, what))
