"""Engines, the servers tests use, and throw-away databases on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import tempfile
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, first_line
from .urls import DatabaseURL

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine


#: The servers tests and scratch databases use, and the variable that points at each.
SERVER_URL_VARIABLES = {
    "postgresql": "SCAFFOLD_POSTGRES_URL",
    "mysql": "SCAFFOLD_MYSQL_URL",
}
DEFAULT_SERVER_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}
#: Names accepted where a database kind is asked for (``--db``, ``SCAFFOLD_TEST_DB``).
KINDS = ("sqlite", "postgresql", "mysql")
_KIND_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "mariadb": "mysql"}


#: How much of a server's error a skip reason quotes (see :func:`check_server`).
SERVER_ERROR_WIDTH = 160


class ServerUnavailable(Exception):
    """A database server that a test or a scratch database needs does not answer."""


class DriverMissing(ServerUnavailable):
    """The driver of a server's URL is not installed: the environment's fault, not the
    server's (a test fails on it, in CI or not). ``module``: the one missing."""

    def __init__(self, message: str, module: str = "") -> None:
        super().__init__(message)
        self.module = module


def normalize_kind(name: str) -> str:
    kind = _KIND_ALIASES.get(name.lower(), name.lower())
    if kind not in KINDS:
        raise ConfigError(f"unknown database {name!r}: choose one of {', '.join(KINDS)}")
    return kind


def server_url(kind: str) -> str:
    """The administrative URL of the server for ``kind``, from its variable or the default."""
    kind = normalize_kind(kind)
    return os.environ.get(SERVER_URL_VARIABLES[kind]) or DEFAULT_SERVER_URLS[kind]


def make_engine(url: str | URL | DatabaseURL, **kwargs: Any) -> Engine:
    """An engine for ``url``; on SQLite, DDL runs in real transactions so a failed run rolls back.

    pysqlite commits implicitly before DDL; with the driver's own transaction handling
    switched off and an explicit BEGIN, SQLite keeps schema changes transactional.
    """
    from sqlalchemy import create_engine, event, pool

    # scaffold's own engines go where they are told, even while env.py's are redirected.
    create_engine = getattr(create_engine, "__wrapped__", create_engine)
    parsed = DatabaseURL.of(url)
    kwargs.setdefault("poolclass", pool.NullPool)
    if parsed.backend != "sqlite":
        return create_engine(parsed.url, **kwargs)
    engine = create_engine(parsed.url, **kwargs)

    @event.listens_for(engine, "connect")
    def _no_implicit_commits(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


#: The engine of each scratch database while it exists, by URL (see :func:`engine_kept`).
_kept: dict[str, Engine | None] = {}


@contextlib.contextmanager
def engine_kept(url: str) -> Iterator[str]:
    """While the block runs, :func:`engine_for` ``url`` gives one engine, made on first use:
    its dialect is set up, and the statements it compiles cached, once for the database's
    every snapshot and run, not once each; on a server, its connection too. Disposed when the
    block ends."""
    key = DatabaseURL.of(url).text
    _kept[key] = None
    try:
        yield url
    finally:
        engine = _kept.pop(key, None)
        if engine is not None:
            engine.dispose()


@contextlib.contextmanager
def engine_for(url: str | DatabaseURL) -> Iterator[Engine]:
    """An engine for ``url``: the one kept for its scratch database (:func:`engine_kept`), else
    a new one, disposed afterwards."""
    key = DatabaseURL.of(url).text
    if key not in _kept:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    kept = _kept[key]
    if kept is None:
        kept = _kept[key] = _scratch_engine(url)
    yield kept


def release(url: str | DatabaseURL) -> None:
    """Close the connection pooled for scratch database ``url`` (none is left to it: it can
    then be copied, as a template is)."""
    kept = _kept.get(DatabaseURL.of(url).text)
    if kept is not None:
        kept.dispose()


def _scratch_engine(url: str | DatabaseURL) -> Engine:
    """The engine kept for a scratch database: on a server, one connection pooled between
    its uses (its every env.py run and snapshot), so that each does not pay a new session and
    its cold catalog caches; the pool is emptied before the database is dropped."""
    from sqlalchemy import pool

    if DatabaseURL.of(url).backend == "sqlite":
        return make_engine(url)
    return make_engine(url, poolclass=pool.QueuePool, pool_size=1, max_overflow=-1)


def check_server(url: str | URL | DatabaseURL, *, from_variable: bool = True) -> None:
    """Raise :class:`ServerUnavailable` with a one-line reason if the server does not answer."""
    from sqlalchemy import text

    url = DatabaseURL.of(url)
    kind = url.kind
    try:
        engine = make_engine(url, connect_args=_connect_timeout(kind))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except ModuleNotFoundError as exc:
        module = exc.name or kind
        raise DriverMissing(missing_driver(module, url), module) from None
    except Exception as exc:  # any driver error means "does not answer"
        variable = SERVER_URL_VARIABLES.get(kind) if from_variable else None
        where = f"set {variable} to point at one" if variable else "check the URL given"
        # A skip reason: kept short, and cut between words, never in one.
        said = textwrap.shorten(first_line(exc), SERVER_ERROR_WIDTH, placeholder=" ...")
        raise ServerUnavailable(
            f"{kind} server at {url.redacted} does not answer ({said}); {where}"
        ) from None


#: Each server's administrative engine, once the server answered, by URL (see
#: :func:`admin_engine`).
_admins: dict[str, Engine] = {}


#: Databases a connection must not stay on: PostgreSQL copies them for a new database, and
#: refuses while another session is connected.
_COPIED = {"template0", "template1"}


def admin_engine(base: DatabaseURL, *, from_variable: bool = True) -> Engine:
    """The engine that makes and drops databases on ``base``'s server (autocommit): the
    server checked (:func:`check_server`) and the engine made on first use, then kept for the
    process, with its dialect set up once. It keeps one connection between uses (a new session
    costs a PostgreSQL server a process: about 5 ms, several times per check), checked before
    each use; others, opened while it is busy (copies made ahead), are closed after use. None
    stays on a database PostgreSQL copies (``template1``): there it keeps none."""
    admin = _admins.get(base.text)
    if admin is None:
        from sqlalchemy import pool

        check_server(base, from_variable=from_variable)
        kept: dict[str, Any] = {"poolclass": pool.NullPool}
        if base.url.database not in _COPIED:
            kept = {"poolclass": pool.QueuePool, "pool_size": 1, "max_overflow": -1}
        admin = _admins[base.text] = make_engine(
            base, isolation_level="AUTOCOMMIT", pool_pre_ping=True, **kept
        )
    return admin


@atexit.register
def _close_admins() -> None:
    """The connections admin engines keep, closed as the process ends (after what
    copies.py still drops and makes at exit: atexit runs the last registered first)."""
    for admin in list(_admins.values()):
        admin.dispose()


#: The extra of plugin-scaffold that installs a driver, by the module the dialect imports.
_DRIVER_EXTRAS = {"psycopg": "postgresql", "pymysql": "mysql"}
#: What pip installs for other drivers whose distribution is not named as their module.
_DRIVER_DISTRIBUTIONS = {"psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient"}


def missing_driver(module: str, url: str | URL | DatabaseURL, why: str = "") -> str:
    """One line: the driver ``module`` that ``url``'s dialect imports is not installed, then
    ``why`` (who asked for it) and the ``pip install`` that brings it — the extra of
    plugin-scaffold for the drivers the extras bring, which another driver's line offers too."""
    from ..resources import install_command

    top = module.split(".")[0]
    url = DatabaseURL.of(url)
    kind = url.kind
    extra = _DRIVER_EXTRAS.get(top)
    if extra is not None:
        how = install_command(extra)
    else:
        how = f"pip install {_DRIVER_DISTRIBUTIONS.get(top, top)}"
        ours = {kind: module for module, kind in _DRIVER_EXTRAS.items()}.get(kind)
        if ours is not None:
            how += f", or name {kind}+{ours}:// and {install_command(kind)}"
    return f"database driver {module!r} for {url.redacted} is not installed{why}: {how}"


def _connect_timeout(kind: str) -> dict[str, Any]:
    # both psycopg and PyMySQL take connect_timeout; SQLite has nothing to wait for
    return {"connect_timeout": 5} if kind in ("postgresql", "mysql") else {}


def unique_name(prefix: str = "scaffold") -> str:
    """``<prefix>_<random>_<host>_<pid>``: unique, and naming its owner for :func:`sweep`.

    At most 63 characters, PostgreSQL's limit for a name (MariaDB's is 64).
    """
    return f"{prefix[:34]}_{uuid.uuid4().hex[:12]}_{host_tag()}_{os.getpid()}"


def host_tag() -> str:
    """Six hex digits naming this machine in the names of scratch databases and folders."""
    import hashlib
    import socket

    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


#: A scratch resource's name ends with its owner: ``…_<random>_<host>_<pid>`` (databases) or
#: ``…-<pid>-<host>-…`` (folders).
_OWNED_DATABASE = re.compile(r"scaffold\w*_[0-9a-f]{12}_([0-9a-f]{6})_([0-9]+)")
_OWNED_FOLDER = re.compile(r"\.?scaffold-([0-9]+)-([0-9a-f]{6})-.*")


def owner_gone(host: str, pid: int) -> bool:
    """True when the process that made a scratch resource on this machine has ended.

    Resources made on another machine (a shared server) are never judged: their owner's pid
    means nothing here.
    """
    if host != host_tag() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def folder_prefix(prefix: str = "scaffold") -> str:
    """The name prefix of a scratch folder this process owns: ``scaffold-<pid>-<host>-``."""
    return f"{prefix}-{os.getpid()}-{host_tag()}-"


def sweep_folders(parent: Path) -> list[Path]:
    """Remove the scratch folders in ``parent`` that a killed scaffold run left behind."""
    import shutil

    swept = []
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            owned = _OWNED_FOLDER.fullmatch(entry.name)
            if owned and entry.is_dir() and owner_gone(owned.group(2), int(owned.group(1))):
                shutil.rmtree(entry, ignore_errors=True)
                swept.append(entry)
    return swept


def database_names(admin: Engine, kind: str) -> list[str]:
    """Every database on ``admin``'s server (PostgreSQL) or schema (MariaDB, MySQL)."""
    query = (
        "SELECT datname FROM pg_database"
        if kind == "postgresql"
        else "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
    )
    with admin.connect() as conn:
        return [str(row[0]) for row in conn.exec_driver_sql(query)]


def _sweep_databases(admin: Engine, kind: str) -> list[str]:
    """Drop the scratch databases on this server whose owner (on this machine) has ended."""
    try:
        names = database_names(admin, kind)
    except Exception:
        return []  # sweeping is a courtesy: never the reason a run fails
    swept = []
    for name in names:
        owned = _OWNED_DATABASE.fullmatch(name)
        if owned and owner_gone(owned.group(1), int(owned.group(2))):
            with contextlib.suppress(Exception):
                _drop_database(admin, kind, name)
                swept.append(name)
    return swept


def _drop_database(admin: Engine, kind: str, name: str) -> None:
    quote = admin.dialect.identifier_preparer.quote
    with admin.connect() as conn:
        if kind == "postgresql":
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            if (conn.dialect.server_version_info or (0,)) >= (13,):
                # A terminated session may not have ended yet: FORCE ends it, and drops.
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")
                return
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote(name)}")


@contextlib.contextmanager
def temporary_database(kind_or_url: str, *, prefix: str = "scaffold") -> Iterator[str]:
    """Yield the URL of a new, uniquely named, empty database; drop it afterwards, even on failure.

    ``kind_or_url`` is a kind (``sqlite``, ``postgresql``, ``mysql``), whose server comes from
    :func:`server_url`, or a URL whose server (and credentials) the new database is made on.
    An existing database is never touched. Its name carries its owner (machine and pid): what a
    killed run left behind is dropped by the next run that makes one on that server.
    """
    given = "://" in kind_or_url or kind_or_url.startswith("sqlite:")
    if given:
        base = DatabaseURL.parse(kind_or_url)
        kind = base.kind
    else:
        kind = normalize_kind(kind_or_url)
        base = DatabaseURL.parse("sqlite://" if kind == "sqlite" else server_url(kind))
    if kind == "sqlite":
        sweep_folders(Path(tempfile.gettempdir()))
        with (
            tempfile.TemporaryDirectory(prefix=folder_prefix(prefix)) as folder,
            engine_kept(f"sqlite:///{Path(folder) / 'database.db'}") as url,
        ):
            yield url
        return
    if kind not in ("postgresql", "mysql"):
        raise ConfigError(f"cannot make a scratch database on {kind} ({base.redacted})")
    admin = admin_engine(base, from_variable=not given)
    name = unique_name(prefix)
    _sweep_databases(admin, kind)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {admin.dialect.identifier_preparer.quote(name)}")
        with engine_kept(base.with_database(name).text) as url:
            yield url
    finally:
        _drop_database(admin, kind, name)
