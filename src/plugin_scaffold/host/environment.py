"""Running the host's own ``env.py`` against the database scaffold was asked to use.

scaffold hands the host a connection in the two ways hosts take one — Alembic's cookbook
``config.attributes["connection"]`` and MediaGoblin's ``config.attributes["session"]`` — and sets
``sqlalchemy.url`` for env.py files that build their own engine; an env.py that builds its engine
from somewhere else (the application's settings, Rattail's own config file) has it pointed at the
same database (redirect.py). Before any migration runs it checks that env.py really is on that
database; a connection no redirect could reach is refused in one line.
"""

from __future__ import annotations

import contextlib
import re
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import alembic_private
from ..databases.servers import engine_for, missing_driver
from ..databases.urls import DatabaseURL
from ..errors import ConfigError, MigrationError, ScaffoldError, UsageError, first_line

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

    from .redirect import Redirect

MigrationFn = Callable[[Any, "MigrationContext"], Sequence[Any]]


@contextlib.contextmanager
def handed_in(
    config: Config,
    url: DatabaseURL | None,
    *,
    lock: bool = False,
    on_wait: Callable[[], None] | None = None,
    shown: DatabaseURL | None = None,
    lock_timeout: float | None = None,
    commit: bool = True,
) -> Iterator[Connection | None]:
    """Open ``url`` and hand the connection to env.py; commit on success, roll back on error.

    ``lock``: hold the database's migration lock (see locking.py) from before the run's
    transaction begins until it has ended, so that the next run reads what this one did;
    ``on_wait`` is called when another run holds it and this one waits. ``shown``: the URL
    as the user gave it (an async driver's), which messages name instead of ``url``. Every
    PostgreSQL session of the run, env.py's too, has its server check that this process is
    still there (:func:`~.locking.client_checks`).

    ``lock_timeout``: seconds a statement of the run may wait for a lock (waits.py), set once
    the migration lock is held. ``commit``: False to roll the run back when it succeeds too
    (``--trace-locks``).
    """
    if url is None:
        yield None
        return
    from ..databases.locking import client_checks

    with (
        client_checks(),
        _handed_in(
            config,
            url,
            lock=lock,
            on_wait=on_wait,
            shown=shown or url,
            lock_timeout=lock_timeout,
            commit=commit,
        ) as connection,
    ):
        yield connection


def _end(connection: Connection, session: Any, *, commit: bool) -> None:
    """Commit the run's transaction (and env.py's session), or roll both back."""
    if commit:
        session.commit()
    else:
        session.rollback()
    transaction = connection.get_transaction()
    if transaction is not None and transaction.is_active:
        (transaction.commit if commit else transaction.rollback)()


@contextlib.contextmanager
def _handed_in(
    config: Config,
    url: DatabaseURL,
    *,
    lock: bool,
    on_wait: Callable[[], None] | None,
    shown: DatabaseURL,
    lock_timeout: float | None,
    commit: bool,
) -> Iterator[Connection]:
    from sqlalchemy.exc import NoSuchModuleError
    from sqlalchemy.orm import Session

    engines = contextlib.ExitStack()  # the database's own engine, if kept (scratch databases)
    try:
        engine = engines.enter_context(engine_for(url))
        connection = engine.connect()
    except NoSuchModuleError:
        raise ConfigError(
            f"SQLAlchemy has no dialect for {shown.redacted}: check the URL's dialect+driver"
        ) from None
    except ModuleNotFoundError as exc:
        raise ConfigError(missing_driver(exc.name or "?", shown)) from None
    except Exception as exc:
        engines.close()
        raise MigrationError(f"cannot connect to {shown.redacted}: {first_line(exc)}") from None
    held = contextlib.ExitStack()
    if lock:
        from ..databases.locking import migration_lock

        try:
            held.enter_context(migration_lock(connection, url, on_wait=on_wait))
        except BaseException:
            connection.close()
            engines.close()
            raise
    # One transaction for the whole run, begun here: Alembic then leaves it to us, and a failing
    # revision rolls back every revision of the run (SQLite included; MySQL commits DDL itself).
    connection.begin()
    if lock_timeout is not None:
        from ..databases.waits import set_lock_timeout

        set_lock_timeout(connection, lock_timeout)
    session = Session(bind=connection)
    config.attributes["connection"] = connection
    config.attributes["session"] = session
    try:
        try:
            yield connection
        except BaseException:
            _end(connection, session, commit=False)
            raise
        _end(connection, session, commit=commit)
    finally:
        config.attributes.pop("connection", None)
        config.attributes.pop("session", None)
        session.close()
        held.close()
        connection.close()
        engines.close()


def run_env(
    config: Config,
    script: ScriptDirectory,
    fn: MigrationFn,
    *,
    connection: Connection | None,
    url: DatabaseURL | None,
    as_sql: bool = False,
    before_configure: Callable[[], None] | None = None,
    heads_filter: Callable[[tuple[str, ...]], tuple[str, ...]] | None = None,
    on_applied: Callable[..., None] | None = None,
    redirect: Redirect | None = None,
    **kwargs: Any,
) -> None:
    """Run the host's env.py with ``fn`` as the migration callback, as ``alembic.command`` does.

    ``redirect``: where every engine env.py makes connects (see redirect.py); by default the
    database of ``url``, or none (env.py chooses) without one.

    ``before_configure`` runs when env.py calls ``context.configure()``: env.py has set up the
    host by then (imported its models, read its config), and nothing has touched the database.

    ``heads_filter``: what Alembic takes the version table to hold, from what it holds. Alembic
    reads the table once per run (``get_current_heads``) and plans, and keeps the table, from
    that alone: rows left out there are neither planned from nor written (see orphans.py).

    ``on_applied``: added to env.py's own ``on_version_apply`` callbacks (the progress line).
    """
    from alembic.runtime.environment import EnvironmentContext

    from .redirect import Redirect, redirected

    if redirect is None:
        redirect = Redirect(url, Path(script.dir) / "env.py")
    environment = EnvironmentContext(config, script, fn=fn, as_sql=as_sql, **kwargs)
    configure = environment.configure
    progress = Progress()

    def guarded_configure(*args: Any, **kw: Any) -> None:
        if before_configure is not None:
            before_configure()
        if connection is not None and not as_sql:
            kw["on_version_apply"] = [*_as_list(kw.get("on_version_apply")), progress.applied]
        if on_applied is not None and not as_sql:
            kw["on_version_apply"] = [*_as_list(kw.get("on_version_apply")), on_applied]
        if as_sql:
            redirect.offline(kw)
        # Checked inside configure(), before Alembic creates its version table or runs anything.
        configure(*args, **kw)
        if connection is not None and url is not None and not as_sql:
            _check_same_database(environment.get_context(), connection, url, script)
        if connection is not None and not as_sql:
            alembic_private.hand_over_transaction(environment.get_context(), connection)
        if not as_sql:
            alembic_private.bind_version_writes(environment.get_context())
        if heads_filter is not None and not as_sql:
            context = environment.get_context()
            read = context.get_current_heads
            context.get_current_heads = lambda: heads_filter(read())  # type: ignore[method-assign]

    environment.configure = guarded_configure  # type: ignore[method-assign]
    try:
        with environment, progress.watching(connection), redirected(redirect):
            script.run_env()
    except (ScaffoldError, BrokenPipeError):
        raise  # BrokenPipeError: stdout's reader has gone (--sql | head), the CLI ends quietly
    except (Exception, SystemExit) as exc:
        # SystemExit too: an env.py (or a revision) calling sys.exit() would otherwise end
        # scaffold with that code and no word of why.
        requested = {kwargs.get("destination_rev"), kwargs.get("starting_rev")}
        raise translate(
            exc,
            script,
            url or redirect.url,
            requested={r for r in requested if r},
            done=progress.statements,
            as_sql=as_sql,
        ) from exc


class Progress:
    """The DDL statements run since the last revision was recorded in ``alembic_version``.

    On MariaDB each of them has committed by itself: when a revision fails, they are what it had
    already done, and what the error line lists.
    """

    def __init__(self) -> None:
        self.statements: list[str] = []

    @contextlib.contextmanager
    def watching(self, connection: Connection | None) -> Iterator[None]:
        if connection is None:
            yield
            return
        from sqlalchemy import event

        event.listen(connection, "after_cursor_execute", self._executed)
        try:
            yield
        finally:
            event.remove(connection, "after_cursor_execute", self._executed)

    def _executed(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _DDL.match(statement):
            self.statements.append(" ".join(statement.split()))

    def applied(self, **kw: Any) -> None:
        """Alembic's ``on_version_apply``: a revision has run and its row is written."""
        self.statements.clear()


_DDL = re.compile(r"\s*(CREATE|ALTER|DROP|RENAME|TRUNCATE)\b", re.IGNORECASE)


def target_metadatas(context: MigrationContext) -> list[Any]:
    """The MetaData objects env.py configured its context with (``target_metadata``)."""
    target = context.opts.get("target_metadata")
    if target is None:
        return []
    return list(target) if isinstance(target, list | tuple) else [target]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def translate(
    exc: BaseException,
    script: ScriptDirectory,
    url: DatabaseURL | None,
    *,
    requested: set[str] | frozenset[str] = frozenset(),
    done: Sequence[str] = (),
    as_sql: bool = False,
) -> ScaffoldError:
    """One line for an exception escaping Alembic, naming the revision or file at fault.

    ``done``: the DDL statements the failing revision had run (see :class:`Progress`); on
    MariaDB, whose DDL commits at once, the line lists them and says how to recover.
    """
    from alembic.util import CommandError

    if as_sql:
        # Offline nothing is connected to: a revision that reads the database cannot run.
        where = f"writing SQL for {url.redacted}" if url else "writing SQL (--sql)"
        where += " (--sql: no database is connected)"
    else:
        where = f"on {url.redacted}" if url else "on the host's database"
    missing = unknown_revision(exc)
    if missing is not None and any(missing in target for target in requested):
        return UsageError(no_such_revision(missing))
    if missing is not None:
        return UsageError(not_configured(missing))
    if isinstance(exc, CommandError):
        return UsageError(str(exc).splitlines()[0] if str(exc) else "alembic command failed")
    not_a_database = _not_a_database(exc, url)
    if not_a_database is not None:
        return not_a_database
    what = f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else first_line(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    env_py = str(script.env_py_location) if hasattr(script, "env_py_location") else ""
    version_dirs = [str(Path(p)) for p in _version_dirs(script)]
    for frame in reversed(frames):
        filename = frame.filename
        if any(filename.startswith(d) for d in version_dirs) and filename.endswith(".py"):
            revision = Path(filename).name.split("_", 1)[0]
            return MigrationError(
                f"revision {revision} ({filename}:{frame.lineno}) failed {where}: "
                f"{what}{_not_rolled_back(url, revision, exc, done)}"
            )
        if filename == env_py or (
            filename.endswith("env.py") and filename.startswith(str(script.dir))
        ):
            hint = (
                ""
                if url
                else " (scaffold handed in no database URL; if env.py needs one, pass --url "
                "or set sqlalchemy.url)"
            )
            return ConfigError(f"host env.py ({filename}:{frame.lineno}) failed: {what}{hint}")
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).name == "env.py":
        # Raised while Alembic loads env.py, so no frame of env.py is on the traceback.
        return ConfigError(
            f"host env.py ({exc.filename}:{exc.lineno}) failed: syntax error: {exc.msg}"
        )
    return MigrationError(f"migration failed {where}: {what}")


def _not_a_database(exc: BaseException, url: DatabaseURL | None) -> UsageError | None:
    """The SQLite file that is no database (SQLite says so at the first query, which env.py
    makes: blaming env.py would send the user to the wrong file)."""
    import sqlite3

    orig = getattr(exc, "orig", None)
    if url is None or not isinstance(orig, sqlite3.DatabaseError):
        return None
    if "not a database" not in str(orig):
        return None
    if url.backend != "sqlite":
        return None
    path = Path(url.url.database or "")
    return UsageError(f"{path.resolve()}: not an SQLite database ({orig})")


#: MariaDB's errors for DDL that finds its work already done (or undone): table, column, key or
#: constraint exists, or a name to drop is not there.
_ALREADY = {1050, 1060, 1061, 1091, 1826}


def _not_rolled_back(
    url: DatabaseURL | None, revision: str, exc: BaseException, done: Sequence[str]
) -> str:
    """What a revision that failed on MariaDB leaves behind, and how to recover ('' elsewhere)."""
    if url is None or url.kind != "mysql":
        return ""
    guide = "docs/safety.md#mariadb-non-transactional-ddl"
    if done:
        shown = "; ".join(s if len(s) <= 160 else s[:157] + "..." for s in done)
        return (
            f"; MariaDB commits DDL at once: {len(done)} statement(s) of {revision} stay done "
            f"({shown}) while alembic_version does not name {revision}: undo them by hand, or "
            f"finish the revision by hand and run `alembic stamp {revision}`, before the next "
            f"upgrade ({guide})"
        )
    error_args = getattr(getattr(exc, "orig", None), "args", ())
    if error_args and error_args[0] in _ALREADY:
        return (
            f"; on MariaDB this usually means an earlier run of {revision} failed half way and "
            f"left its first statements done (DDL commits at once): compare the tables with "
            f"{revision}'s upgrade(), undo what it did, then upgrade again ({guide})"
        )
    return ""


_CANT_LOCATE = re.compile(r"Can't locate revision identified by '([^']+)'")


def unknown_revision(exc: BaseException) -> str | None:
    """The revision id of Alembic's "Can't locate revision identified by" error, else None."""
    found = _CANT_LOCATE.search(str(exc))
    return found.group(1) if found else None


def no_such_revision(revision: str) -> str:
    """A revision a command was asked for that no configured folder holds."""
    return f"no revision {revision!r} in this host or its plugins (scaffold history)"


def not_configured(revision: str) -> str:
    """What it means when the database is at a revision that no configured folder holds."""
    return (
        f"revision {revision} is in the database but not configured: no version location "
        "holds it (a media type or plugin the host enables in its own config? name the host's "
        "config as it builds it: -c module:function --host-config FILE, or add its folder to "
        "version-locations; a plugin removed without `scaffold downgrade --plugin`? "
        "`scaffold plugins` shows it, `scaffold forget NAME` removes it: docs/orphans.md)"
    )


def _version_dirs(script: ScriptDirectory) -> list[Path]:
    try:
        return alembic_private.version_folders(script)
    except Exception:
        return []


def _check_same_database(
    context: MigrationContext, expected: Connection, url: DatabaseURL, script: ScriptDirectory
) -> None:
    actual = context.connection
    if actual is None or actual is expected:
        return
    on = DatabaseURL.of(actual.engine.url)
    if on.same_database(url):
        return
    raise ConfigError(
        f"host env.py ({Path(script.dir) / 'env.py'}) migrates a connection to "
        f"{on.redacted} that scaffold could not point at {url.redacted} (opened "
        "before scaffold ran?): let env.py take config.attributes['connection'] or make its "
        "engine when it runs (docs/hosts.md#hosts-whose-envpy-picks-its-own-database)"
    )
