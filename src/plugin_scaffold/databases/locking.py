"""Locks that keep two scaffold runs apart: migrating one database, writing one plugin's revision.

Migrating takes the database's own lock where it has one, as Flyway and Liquibase do: a
PostgreSQL session-level advisory lock, MariaDB/MySQL ``GET_LOCK``; SQLite, an embedded file,
takes a file lock beside it. A run that has to wait says once who holds the lock; a wait longer
than ``SCAFFOLD_LOCK_TIMEOUT`` seconds (default 10 minutes) fails naming the holder.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, MigrationError
from .urls import DatabaseURL, kind_of, redact

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection

TIMEOUT_VARIABLE = "SCAFFOLD_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 600.0
#: The PostgreSQL advisory lock, two int4 keys ("scaffold", migrations), as SQL arguments.
_PG_KEY = "97185309, 1"
_PG_TAG = "l.classid = 97185309 AND l.objid = 1 AND l.objsubid = 2"
_POLL = 0.2
#: Milliseconds between the checks a PostgreSQL server (14 and later) makes, during a statement,
#: that the client is still there. A killed scaffold's session then ends within about a second
#: (rolled back, the migration lock let go) instead of when its statement would have ended.
CLIENT_CHECK_INTERVAL_MS = 1000

Notify = Callable[[str], None]


def lock_timeout() -> float:
    """Seconds a run waits for a lock: ``SCAFFOLD_LOCK_TIMEOUT``, else 10 minutes."""
    raw = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise ConfigError(f"{TIMEOUT_VARIABLE}={raw!r}: give the seconds to wait, e.g. 600")
    return value


def _tell(line: str) -> None:
    print(f"scaffold: {line}", file=sys.stderr, flush=True)


def who_am_i() -> str:
    """How this process names itself to other runs: ``scaffold pid N on HOST``."""
    return f"scaffold pid {os.getpid()} on {socket.gethostname()}"


def is_gone(name: str) -> bool:
    """True when ``name`` (:func:`who_am_i` of another run) is a process of this machine that no
    longer exists; a run on another machine is never judged."""
    import re

    found = re.fullmatch(r"scaffold pid (\d+) on (\S+)", name)
    if found is None or found.group(2) != socket.gethostname():
        return False
    try:
        os.kill(int(found.group(1)), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


@contextlib.contextmanager
def client_checks() -> Iterator[None]:
    """Meanwhile, every PostgreSQL connection this process opens (scaffold's own and the ones
    the host's env.py makes) asks its server to check, during long statements too, that the
    client is still there: see :data:`CLIENT_CHECK_INTERVAL_MS`."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "engine_connect", _check_client)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", _check_client)


def _check_client(connection: Connection, *_: Any) -> None:
    if connection.dialect.name != "postgresql":
        return
    proxied = connection.connection
    if proxied.info.get("scaffold_checks_client"):
        return
    proxied.info["scaffold_checks_client"] = True
    dbapi = getattr(proxied, "dbapi_connection", None) or proxied.connection  # SQLAlchemy 1.4
    cursor = dbapi.cursor()
    try:
        cursor.execute(f"SET client_connection_check_interval = {CLIENT_CHECK_INTERVAL_MS}")
        dbapi.commit()
    except Exception:  # before PostgreSQL 14, or a platform without the check: as before
        dbapi.rollback()
    finally:
        cursor.close()


@contextlib.contextmanager
def migration_lock(
    connection: Connection,
    url: str | URL | DatabaseURL,
    *,
    timeout: float | None = None,
    notify: Notify = _tell,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold the database's migration lock, taken on ``connection`` outside any transaction.

    Taken before the run's transaction begins and released after it ends, so that the next
    run reads the version table as this one left it. ``on_wait``: called when another run
    holds the lock and this one waits for it.
    """
    if on_wait is not None:
        notify = _also(on_wait, notify)
    shown = redact(url)
    kind = kind_of(connection.engine.url)
    if kind == "sqlite":
        database = connection.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            yield  # nobody else can see this database
            return
        with _sqlite_lock(connection, Path(database), shown, timeout, notify):
            yield
        return
    timeout = lock_timeout() if timeout is None else timeout
    if kind == "postgresql":
        with _server_lock(_Postgres(connection), shown, timeout, notify):
            yield
    elif kind == "mysql":
        with _server_lock(_MySQL(connection), shown, timeout, notify):
            yield
    else:
        yield  # a database scaffold knows no lock for: as Alembic itself


def _also(first: Callable[[], None], notify: Notify) -> Notify:
    def both(line: str) -> None:
        first()
        notify(line)

    return both


# --- PostgreSQL and MariaDB: the server's own named locks ----------------------------------


def _scalar(connection: Connection, sql: str, **params: Any) -> Any:
    """One statement in its own transaction: the run's transaction has not begun yet."""
    from sqlalchemy import text

    value = connection.execute(text(sql), params).scalar()
    if connection.in_transaction():
        connection.commit()
    return value


class _Postgres:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def try_lock(self, wait: float) -> bool:
        # With each try, what pg_stat_activity shows to a run that waits for this one: one
        # statement (each is a transaction of its own here), every column evaluated.
        return bool(
            _scalar(
                self.connection,
                f"SELECT pg_try_advisory_lock({_PG_KEY}), "
                "set_config('application_name', :name, false)",
                name=who_am_i(),
            )
        )

    def holder(self) -> str:
        """The holding session, its client (and whether that process is gone), and what the
        session is doing: what this run waits for."""
        row = self.connection.exec_driver_sql(
            "SELECT a.pid, a.application_name, a.state, a.query, "
            "extract(epoch FROM now() - coalesce(a.query_start, a.state_change)) "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE l.locktype = 'advisory' AND l.granted AND {_PG_TAG} AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        ).first()
        if self.connection.in_transaction():
            self.connection.commit()
        if row is None:
            return "a session that has just let go"
        pid, name, state, query, seconds = row
        gone = bool(name) and is_gone(name)
        text = f"server pid {pid}" + (f", {name}" if name else "")
        if gone:
            text += " (that process is gone: the server has not noticed yet)"
        doing = " ".join(str(query or "").split())
        doing = doing if len(doing) <= 80 else doing[:77] + "..."
        since = f" for {float(seconds or 0):.0f}s"
        if state == "active" and doing:
            text += f"; it is running {doing}{since}"
        elif state:
            text += f"; it is {state}{since}"
        if gone:
            text += f"; SELECT pg_terminate_backend({pid}) ends it now"
        return text

    def unlock(self) -> None:
        _scalar(self.connection, f"SELECT pg_advisory_unlock({_PG_KEY})")


class _MySQL:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        # GET_LOCK names are server-wide: one per database, at most 64 characters.
        database = _scalar(connection, "SELECT DATABASE()") or ""
        self.name = f"scaffold-migrate:{database}"[:64]

    def try_lock(self, wait: float) -> bool:
        # GET_LOCK waits in whole seconds on older servers: 0 tries once.
        got = _scalar(self.connection, "SELECT GET_LOCK(:name, :wait)", name=self.name, wait=wait)
        if got is None:
            raise MigrationError(f"GET_LOCK({self.name!r}) failed on the server")
        return bool(got)

    def holder(self) -> str:
        holder = _scalar(self.connection, "SELECT IS_USED_LOCK(:name)", name=self.name)
        if holder is None:
            return "a connection that has just let go"
        where = _scalar(
            self.connection,
            "SELECT CONCAT(USER, '@', HOST) FROM information_schema.PROCESSLIST WHERE ID = :id",
            id=holder,
        )
        return f"connection {holder}" + (f", {where}" if where else "")

    def unlock(self) -> None:
        _scalar(self.connection, "SELECT RELEASE_LOCK(:name)", name=self.name)


@contextlib.contextmanager
def _server_lock(
    lock: _Postgres | _MySQL, shown: str, timeout: float, notify: Notify
) -> Iterator[None]:
    deadline = time.monotonic() + timeout
    if not lock.try_lock(0):
        holder = lock.holder()
        notify(f"waiting for the migration lock on {shown} (held by {holder})")
        while not lock.try_lock(1 if isinstance(lock, _MySQL) else 0):
            if time.monotonic() >= deadline:
                raise MigrationError(
                    f"gave up after {timeout:g}s waiting for the migration lock on {shown}: "
                    f"held by {lock.holder()} (set {TIMEOUT_VARIABLE} to wait longer)"
                )
            if isinstance(lock, _Postgres):
                time.sleep(_POLL)
    try:
        yield
    finally:
        # Closing the connection releases it too: a failed unlock on a broken one is harmless.
        with contextlib.suppress(Exception):
            lock.unlock()


# --- SQLite and plugin folders: file locks -------------------------------------------------


@contextlib.contextmanager
def file_lock(path: Path, *, what: str, timeout: float, notify: Notify = _tell) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created, and removed when released).

    The file holds the holder's pid and host for waiters to name. Removing it on release is
    safe because a run that locked a file someone has since removed starts over on the new one.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no flock; one run at a time is then the user's to ensure
        yield
        return
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise MigrationError(f"cannot take the lock {path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            if time.monotonic() >= deadline:
                raise MigrationError(
                    f"gave up after {timeout:g}s waiting for {what}: held by {holder} "
                    f"(lock file {path}; set {TIMEOUT_VARIABLE} to wait longer)"
                ) from None
            if not announced:
                notify(f"waiting for {what} (held by {holder})")
                announced = True
            time.sleep(_POLL / 2)
            continue
        if _same_file(fd, path):
            break
        os.close(fd)  # removed by the run before us as it let go: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{who_am_i()}\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode(errors="replace").strip()
    except OSError:
        text = ""
    return text or "another process"


@contextlib.contextmanager
def _sqlite_lock(
    connection: Connection, database: Path, shown: str, timeout: float | None, notify: Notify
) -> Iterator[None]:
    """The file lock beside ``database``; a run that wrote nothing leaves no file it created.

    Connecting created the file when there was none. A run that succeeded wrote a row in the
    version table; one that failed left no row anywhere (rolled back, or stopped before its
    first revision committed): the file it made is removed, under the lock only, since a run
    holding the lock may be about to write into it.
    """
    lock_path = database.with_name(database.name + ".scaffold-lock")
    what = f"the migration lock on {shown}"
    entered = False
    try:
        seconds = lock_timeout() if timeout is None else timeout
        with file_lock(lock_path, what=what, timeout=seconds, notify=notify):
            if not database.exists():
                raise MigrationError(
                    f"{database} was removed while this run waited for the migration lock "
                    "(the run before it failed on the new, empty file): run again"
                )
            empty_before = database.stat().st_size == 0
            entered = True
            try:
                yield
            finally:
                if empty_before and _holds_no_row(connection):
                    with contextlib.suppress(OSError):
                        database.unlink()
    except BaseException:
        if not entered:
            with (
                contextlib.suppress(MigrationError),
                file_lock(lock_path, what=what, timeout=0, notify=lambda _: None),
            ):
                _remove_if_empty(database)
        raise


def _holds_no_row(connection: Connection) -> bool:
    """True when no table of the SQLite database has a row (after the run's transaction)."""
    try:
        names = [
            row[0]
            for row in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        ]
        quote = connection.dialect.identifier_preparer.quote
        return not any(
            connection.exec_driver_sql(f"SELECT 1 FROM {quote(name)} LIMIT 1").first()
            for name in names
        )
    except Exception:
        return False  # cannot tell: keep the file
    finally:
        with contextlib.suppress(Exception):
            if connection.in_transaction():
                connection.rollback()


def _remove_if_empty(database: Path) -> None:
    with contextlib.suppress(OSError):
        if database.stat().st_size == 0:
            database.unlink()


@contextlib.contextmanager
def revision_lock(migrations: Path, *, timeout: float | None = None) -> Iterator[None]:
    """Serialize ``scaffold revision`` in one plugin: from reading the graph to publishing."""
    timeout = lock_timeout() if timeout is None else timeout
    with file_lock(
        migrations / ".scaffold-revision.lock",
        what=f"the revision lock of {migrations}",
        timeout=timeout,
    ):
        yield
