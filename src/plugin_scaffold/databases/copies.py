"""PostgreSQL copies of a template made ahead of need, and scratch databases dropped after use,
both in the background, so that neither is on a check's clock.

A ``CREATE DATABASE … TEMPLATE`` costs the server about as much whatever the template holds
(0.1-0.4 s here, its catalogs copied and synced: bench/README.md); a suite of checks makes six.
So each time a copy of a template is taken, the next ones are started on threads of their own:
``scaffold_spr_<folder id>_<24 hex digits of the template's name>_<random>``, made whole or not
at all by the server (a killed run leaves a whole copy or none). A copy that no check of this
run took stays on the server, ready for the next run: the first check of the next session takes
it instead of waiting for a clone. Taking one is renaming it to the check's own scratch name
(``ALTER DATABASE … RENAME``, which two sessions cannot both do). ``scaffold cache clear``
drops them with their templates; at most :data:`AHEAD` are kept per template.

Scratch copies are dropped in batches (:func:`drop_soon`), the last when the process exits,
which also waits for the copies still being made (a killed run leaves its scratch databases to
the next run's sweep, as before). At the end of a test session or of a command that was not
interrupted, the last batch is handed to a process of its own (:func:`hand_off_drops`), which
drops it while this one ends: each ``DROP DATABASE`` waits for a checkpoint (0.1-0.5 s a
session here).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from .servers import _drop_database

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: The names of ready copies: ``scaffold_spr_<folder id>_<24 hex digits>_<8 hex digits>``.
PREFIX = "scaffold_spr_"
#: Ready copies kept per template (made while the checks run, kept for the next run).
AHEAD = 2
#: The template prefix, ``scaffold_tpl_`` (templates.PREFIX), whose names copies follow.
_TEMPLATE_PREFIX = "scaffold_tpl_"


def prefix_of(template: str, folder: str) -> str:
    """What the names of ``template``'s ready copies start with: the folder id and 24 hex
    digits of the template's key, or ``empty`` for new empty databases (``template1``'s)."""
    if not template.startswith(_TEMPLATE_PREFIX):
        return f"{PREFIX}{folder}_empty_"
    tail = template[len(_TEMPLATE_PREFIX) :]
    return f"{PREFIX}{tail[:33]}_"  # folder id (8), "_", 24 hex digits of the key's digest


class _Making:
    """One copy being made on a thread: its name, and the error if it failed."""

    def __init__(self, admin: Engine, template: str, prefix: str) -> None:
        self.name = f"{prefix}{uuid.uuid4().hex[:8]}"
        self.error: BaseException | None = None
        self.done = threading.Event()
        threading.Thread(target=self._make, args=(admin, template), daemon=True).start()

    def _make(self, admin: Engine, template: str) -> None:
        quote = admin.dialect.identifier_preparer.quote
        try:
            with admin.connect() as conn:
                # PostgreSQL 15's default, WAL_LOG, copies through shared buffers: each later
                # checkpoint (every DROP DATABASE forces one) writes the copy out again.
                # FILE_COPY copies the files and their checkpoints come now, off every clock:
                # the drops at the end of a session then take half the time (bench/README.md).
                version = conn.dialect.server_version_info or (0,)
                strategy = " STRATEGY FILE_COPY" if version >= (15,) else ""
                conn.exec_driver_sql(
                    f"CREATE DATABASE {quote(self.name)} TEMPLATE {quote(template)}{strategy}"
                )
        except BaseException as exc:  # told to the taker, who clones instead
            self.error = exc
        finally:
            self.done.set()


#: The copies this process is making, by (server, template).
_making: dict[tuple[str, str], list[_Making]] = {}
_lock = threading.Lock()
#: Scratch databases to drop (see :func:`drop_soon`), and the threads dropping a batch.
_pending: list[tuple[Engine, str, str]] = []
_dropping: list[threading.Thread] = []
#: Scratch databases dropped together, on a thread, while a run goes on.
BATCH = 8


def take(
    admin: Engine, template: str, folder: str, name: str, clone: Callable[[str], None]
) -> None:
    """Make database ``name`` a copy of PostgreSQL template ``template`` (of cache folder
    ``folder``): a ready copy renamed (a finished one of this run's, else one an earlier run
    left, else the oldest still being made), or else ``clone(name)``. Then start as many copies
    as are missing of :data:`AHEAD`."""
    prefix = prefix_of(template, folder)
    key = (str(admin.url), template)
    with _lock:
        mine = _making.setdefault(key, [])
        finished = [m for m in mine if m.done.is_set()]
    taken = False
    for making in finished:
        with _lock:
            mine.remove(making)
        if making.error is None and _rename(admin, making.name, name):
            taken = True
            break
    ready = [] if taken else _ready(admin, prefix, {m.name for m in mine})
    for spare in ready:
        if _rename(admin, spare, name):
            ready.remove(spare)
            taken = True
            break
    while not taken:
        with _lock:
            oldest = mine.pop(0) if mine else None
        if oldest is None:
            break
        oldest.done.wait()
        taken = oldest.error is None and _rename(admin, oldest.name, name)
    if not taken:
        clone(name)
    with _lock:
        for _ in range(AHEAD - len(mine) - len(ready)):
            mine.append(_Making(admin, template, prefix))


def _ready(admin: Engine, prefix: str, making: set[str]) -> list[str]:
    """The copies named ``prefix…`` on the server that no one is making (whole ones)."""
    with admin.connect() as conn:
        names = conn.exec_driver_sql(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %(p)s) ORDER BY oid",
            {"p": prefix},
        ).scalars()
        return [n for n in names if n not in making]


def _rename(admin: Engine, spare: str, name: str) -> bool:
    """Take ``spare``: False when another run took it first."""
    from sqlalchemy.exc import DBAPIError

    quote = admin.dialect.identifier_preparer.quote
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER DATABASE {quote(spare)} RENAME TO {quote(name)}")
    except DBAPIError:
        return False
    return True


def drop_soon(admin: Engine, kind: str, name: str) -> None:
    """Drop scratch database ``name`` later: with the next :data:`BATCH` (on a thread), or when
    the process ends. On PostgreSQL each ``DROP DATABASE`` forces a checkpoint, which writes
    out what every session has changed: one after another, at the end, the later ones find
    little to write, and none slows a check that is running."""
    with _lock:
        _dropping[:] = [t for t in _dropping if t.is_alive()]
        _pending.append((admin, kind, name))
        if len(_pending) < BATCH:
            return
        batch = list(_pending)
        _pending.clear()
    thread = threading.Thread(target=_drop_all, args=(batch,), daemon=True)
    thread.start()
    with _lock:
        _dropping.append(thread)


def _drop_all(batch: list[tuple[Engine, str, str]]) -> None:
    """Drop every database of ``batch`` at once, each from a session of its own: on PostgreSQL
    each ``DROP DATABASE`` waits for a checkpoint, and the server answers every request made
    while one is being written with the next one (seven drops: 0.16-0.20 s one after another
    here, 0.10 s at once)."""
    if len(batch) < 2:
        for item in batch:
            _drop_one(*item)
        return
    threads = [threading.Thread(target=_drop_one, args=item, daemon=True) for item in batch]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _drop_one(admin: Engine, kind: str, name: str) -> None:
    with contextlib.suppress(Exception):  # else the next run's sweep drops it
        _drop_database(admin, kind, name)


def finish_drops() -> None:
    """Drop the scratch databases waiting to be dropped, and wait for the batches being dropped
    (what the process does when it exits)."""
    with _lock:
        batch = list(_pending)
        _pending.clear()
        threads = list(_dropping)
    _drop_all(batch)
    for thread in threads:
        thread.join(timeout=60)


#: The processes :func:`hand_off_drops` started, still dropping.
_handed_off: list[subprocess.Popen[bytes]] = []


def hand_off_drops() -> None:
    """Give the scratch databases waiting to be dropped to a process of their own, which drops
    them while this one goes on or ends (a test session's, a command's end). Where one cannot be
    started (not POSIX, no interpreter), they are dropped now; if it is killed, the next
    run's sweep drops what it left."""
    with _lock:
        batch = list(_pending)
        _pending.clear()
    if batch and not _start_dropper(batch):
        _drop_all(batch)


def _start_dropper(batch: list[tuple[Engine, str, str]]) -> bool:
    if os.name != "posix":
        return False
    # URLs with their passwords: on the child's stdin, never its command line
    given = [[a.url.render_as_string(hide_password=False), k, n] for a, k, n in batch]
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "plugin_scaffold.databases.dropper"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not ended with this process's group (Ctrl-C)
            # what this process imports scaffold and the drivers from, however it was set up
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )
        assert child.stdin is not None
        child.stdin.write(json.dumps(given).encode())
        child.stdin.close()
    except (OSError, ValueError):
        return False
    _handed_off.append(child)
    return True


def wait_handed_off(timeout: float = 60.0) -> None:
    """Wait for the processes :func:`hand_off_drops` started (a benchmark between runs)."""
    while _handed_off:
        with contextlib.suppress(subprocess.TimeoutExpired):
            _handed_off.pop().wait(timeout)


def settle(timeout: float | None = None) -> None:
    """:func:`finish_drops`, and wait for the copies being made (at most ``timeout`` seconds
    in all): nothing left running."""
    finish_drops()
    with _lock:
        waiting = [m.done for ms in _making.values() for m in ms]
    deadline = None if timeout is None else time.monotonic() + timeout
    for event in waiting:
        event.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))


def on_server(admin: Engine, folder: str) -> list[str]:
    """The ready copies of cache folder ``folder``'s templates on ``admin``'s server."""
    with admin.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %(p)s) ORDER BY 1",
                {"p": f"{PREFIX}{folder}_"},
            ).scalars()
        )


def forget(admin: Engine, folder: str) -> list[str]:
    """Drop every ready copy of this cache folder's templates on ``admin``'s server (after
    waiting for the ones this process is making); their names."""
    settle()
    with _lock:
        for key in [k for k in _making if k[0] == str(admin.url)]:
            del _making[key]
    names = on_server(admin, folder)
    for name in names:
        _drop_database(admin, "postgresql", name)
    return names


# When the process ends: the drops, then the copies still being made (a copy the server
# finished after this run's cache folder was cleared would be left to no one).
atexit.register(settle, 60.0)
