"""Waiting for the locks a migration takes: ``--lock-timeout`` and ``--trace-locks``.

A plugin's revision runs beside the host's busiest tables. An ``ALTER TABLE`` queued behind a
long transaction holds every later query of the site behind it; with a lock timeout the
migration gives up instead, and says who held the lock. ``--trace-locks`` reads what each
revision locks on PostgreSQL (``pg_locks``) inside a transaction that is rolled back.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UsageError, first_line
from .urls import DatabaseURL

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "min": 60.0}


def parse_duration(text: str) -> float:
    """``--lock-timeout``'s DURATION in seconds: ``5s``, ``500ms``, ``2m``, or seconds."""
    match = _DURATION.match(text)
    if match is None or float(match[1]) <= 0:
        raise UsageError(
            f"--lock-timeout {text!r}: give a duration such as 5s, 500ms or 2m (more than 0)"
        )
    return float(match[1]) * _UNIT[match[2]]


def shown(seconds: float) -> str:
    return f"{seconds * 1000:g}ms" if seconds < 1 else f"{seconds:g}s"


def set_lock_timeout(connection: Connection, seconds: float) -> None:
    """Make a statement of this session that waits longer than ``seconds`` for a lock fail.

    PostgreSQL: ``lock_timeout``. MariaDB and MySQL: ``lock_wait_timeout`` (table metadata,
    which DDL waits for) and ``innodb_lock_wait_timeout`` (rows), whole seconds, at least 1.
    SQLite: ``busy_timeout``, for the lock on the whole file.
    """
    from sqlalchemy import text

    name = connection.dialect.name
    if name == "postgresql":
        connection.execute(text(f"SET lock_timeout = '{max(1, round(seconds * 1000))}ms'"))
    elif name in ("mysql", "mariadb"):
        whole = max(1, math.ceil(seconds))
        connection.execute(text(f"SET SESSION lock_wait_timeout = {whole}"))
        connection.execute(text(f"SET SESSION innodb_lock_wait_timeout = {whole}"))
    elif name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {max(1, round(seconds * 1000))}")


@contextlib.contextmanager
def every_connection(seconds: float | None) -> Iterator[None]:
    """While the block runs, every new connection of any engine (those env.py makes on its own)
    gets the lock timeout, set and committed before env.py begins its transaction."""
    if seconds is None:
        yield
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def connected(connection: Connection, *args: Any) -> None:
        set_lock_timeout(connection, seconds)
        # SQLAlchemy 2 began a transaction for it: end it, or env.py's begin() would be taken
        # for a nested one and its migrations never committed (1.4 autocommits it itself).
        if connection.in_transaction() and hasattr(connection, "commit"):
            connection.commit()

    event.listen(Engine, "engine_connect", connected)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", connected)


def is_lock_timeout(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it was raised from) is a statement giving up on a lock."""
    while exc is not None:
        orig = getattr(exc, "orig", None)
        if orig is not None:
            if getattr(orig, "sqlstate", None) == "55P03" or getattr(orig, "pgcode", None) == (
                "55P03"
            ):
                return True
            args = getattr(orig, "args", ())
            if args and args[0] == 1205:  # MariaDB/MySQL: lock wait timeout exceeded
                return True
            if "database is locked" in str(orig):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def failing_statement(exc: BaseException | None) -> str | None:
    while exc is not None:
        statement = getattr(exc, "statement", None)
        if statement:
            return str(statement)
        exc = exc.__cause__ or exc.__context__
    return None


_TABLE = re.compile(
    r"""^\s*(?:
        ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<a>[\w."`]+)
      | CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?
            (?:[\w."`]+\s+)?ON\s+(?:ONLY\s+)?(?P<b>[\w."`]+)
      | DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<c>[\w."`]+)
      | (?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|LOCK\s+TABLE|TRUNCATE(?:\s+TABLE)?)\s+(?P<d>[\w."`]+)
      | DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?[\w."`]+\s+ON\s+(?P<e>[\w."`]+)
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def table_of(statement: str | None) -> str | None:
    """The table a DDL or DML statement acts on, as it names it (quotes removed)."""
    if not statement:
        return None
    match = _TABLE.match(statement)
    if match is None:
        return None
    name = next(value for value in match.groupdict().values() if value)
    return name.replace('"', "").replace("`", "")


@dataclass(frozen=True)
class Holder:
    """Another session holding a lock the migration waited for."""

    session: str
    state: str
    query: str

    def __str__(self) -> str:
        query = f": {self.query}" if self.query else ""
        return f"session {self.session} ({self.state}{query})"


def holders(url: DatabaseURL, table: str | None) -> list[Holder]:
    """The other sessions holding a lock on ``table`` (PostgreSQL), or an open transaction
    (MariaDB and MySQL, where who holds a table's metadata lock is not always readable); read
    on a connection of its own, after the migration's has gone. Empty when unknown."""
    from sqlalchemy import text

    from .servers import make_engine

    kind = url.kind
    if kind not in ("postgresql", "mysql"):
        return []
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if kind == "postgresql":
                if table is None:
                    return []
                rows = connection.execute(
                    text(
                        "SELECT DISTINCT a.pid, a.state, "
                        "extract(epoch FROM now() - a.xact_start)::int, left(a.query, 80) "
                        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE l.granted AND l.relation = to_regclass(:table) "
                        "AND a.pid <> pg_backend_pid() ORDER BY a.pid"
                    ),
                    {"table": table},
                ).all()
                return [
                    Holder(
                        f"pid {pid}",
                        f"{state or 'unknown'} for {seconds}s" if seconds is not None else state,
                        " ".join((query or "").split()),
                    )
                    for pid, state, seconds, query in rows
                ]
            rows = connection.execute(
                text(
                    "SELECT p.ID, p.COMMAND, p.TIME, LEFT(COALESCE(p.INFO, ''), 80) "
                    "FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p "
                    "ON p.ID = t.trx_mysql_thread_id WHERE p.ID <> CONNECTION_ID() ORDER BY p.ID"
                )
            ).all()
            return [
                Holder(f"id {pid}", f"{command} for {seconds}s, transaction open", info)
                for pid, command, seconds, info in rows
            ]
    except Exception as exc:  # the explanation is a courtesy: never hide the failure itself
        return [Holder("?", f"not readable: {first_line(exc)}", "")]
    finally:
        engine.dispose()


def explain(exc: BaseException, url: DatabaseURL | None, seconds: float) -> str:
    """What waited on what, for the end of the error line of a migration that timed out."""
    table = table_of(failing_statement(exc))
    found = holders(url, table) if url is not None else []
    if url is not None and url.kind == "sqlite":
        on = " for the lock on the database file, which another connection held"
    else:
        on = f" for a lock on table {table}" if table else " for a lock"
    held = f", held by {'; '.join(str(h) for h in found)}" if found else ""
    return f"; it waited over {shown(seconds)} (--lock-timeout){on}{held}"


#: PostgreSQL's table lock modes, weakest first (pg_locks' name: the SQL name, and what other
#: sessions wait for while it is held).
MODES = {
    "AccessShareLock": ("ACCESS SHARE", "blocks only ACCESS EXCLUSIVE"),
    "RowShareLock": ("ROW SHARE", "blocks EXCLUSIVE and ACCESS EXCLUSIVE"),
    "RowExclusiveLock": ("ROW EXCLUSIVE", "blocks schema changes and explicit locks"),
    "ShareUpdateExclusiveLock": ("SHARE UPDATE EXCLUSIVE", "blocks schema changes and VACUUM"),
    "ShareLock": ("SHARE", "blocks writes"),
    "ShareRowExclusiveLock": ("SHARE ROW EXCLUSIVE", "blocks writes"),
    "ExclusiveLock": ("EXCLUSIVE", "blocks writes and SELECT ... FOR UPDATE"),
    "AccessExclusiveLock": ("ACCESS EXCLUSIVE", "blocks every read and write"),
}
_ORDER = list(MODES)


@dataclass(frozen=True)
class HeldLock:
    """A lock a PostgreSQL session holds on a table."""

    table: str
    mode: str

    @property
    def sql_mode(self) -> str:
        return MODES.get(self.mode, (self.mode, ""))[0]

    @property
    def blocks(self) -> str:
        return MODES.get(self.mode, ("", "?"))[1]

    @property
    def strength(self) -> int:
        return _ORDER.index(self.mode) if self.mode in MODES else len(MODES)


def strongest(locks: list[HeldLock]) -> list[HeldLock]:
    """The strongest lock of each table, by table name."""
    best: dict[str, HeldLock] = {}
    for lock in locks:
        if lock.table not in best or lock.strength > best[lock.table].strength:
            best[lock.table] = lock
    return [best[table] for table in sorted(best)]


def held_locks(connection: Connection) -> set[HeldLock]:
    """The locks this PostgreSQL session holds on tables (system catalogs left out)."""
    from sqlalchemy import text

    rows = connection.execute(
        text(
            "SELECT n.nspname, c.relname, l.mode FROM pg_locks l "
            "JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE l.pid = pg_backend_pid() AND l.granted AND l.locktype = 'relation' "
            "AND c.relkind IN ('r', 'p') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        )
    ).all()
    return {HeldLock(_qualified(schema, name), mode) for schema, name, mode in rows}


def existing_tables(connection: Connection) -> set[str]:
    """The tables of a PostgreSQL database, named as :func:`held_locks` names them."""
    from sqlalchemy import text

    rows = connection.execute(
        text(
            "SELECT n.nspname, c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        )
    ).all()
    return {_qualified(schema, name) for schema, name in rows}


def _qualified(schema: str, name: str) -> str:
    """A table's name as a revision names it: with its schema unless it is ``public``."""
    return name if schema == "public" else f"{schema}.{name}"


@dataclass
class TracedRevision:
    """The locks one revision took, that the run did not hold before it."""

    revision: str
    locks: list[HeldLock]


@dataclass
class LockTrace:
    """What each revision of a run locks, read from ``pg_locks`` after each one is applied.

    Locks are held until the transaction ends, so each revision is shown the locks the run
    did not hold before it: a lock an earlier revision of the run already took is listed
    under that one. ``ignored``: the version table, which every revision writes.
    ``host_tables``: the tables that existed before and belong to no plugin (set by the
    caller); ``stopped_before``: the revision the trace stopped before (it commits midway).
    """

    ignored: str = "alembic_version"
    before: set[str] = field(default_factory=set)
    held: set[HeldLock] = field(default_factory=set)
    revisions: list[TracedRevision] = field(default_factory=list)
    host_tables: set[str] = field(default_factory=set)
    stopped_before: str | None = None

    def start(self, connection: Connection) -> None:
        self.before = existing_tables(connection)
        self.held = held_locks(connection)

    def applied(self, *, ctx: Any, step: Any, **_: Any) -> None:
        """Alembic's ``on_version_apply``."""
        now = held_locks(ctx.connection)
        new = sorted(
            (lock for lock in now - self.held if lock.table != self.ignored),
            key=lambda lock: (lock.table, lock.mode),
        )
        self.held = now
        self.revisions.append(TracedRevision(step.up_revision_id or "", new))

    def is_new(self, table: str) -> bool:
        """Whether the run created ``table`` (nobody else can see it: its locks wait on none)."""
        return table not in self.before

    def findings(self) -> list[tuple[str, str]]:
        """(revision, table) where a revision takes ACCESS EXCLUSIVE on a host table: every
        query of the site on that table waits for the rest of the run."""
        return [
            (traced.revision, lock.table)
            for traced in self.revisions
            for lock in traced.locks
            if lock.mode == "AccessExclusiveLock" and lock.table in self.host_tables
        ]
