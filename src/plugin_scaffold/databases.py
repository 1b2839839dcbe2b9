"""Database URLs, engines and throw-away databases on SQLite, PostgreSQL and MariaDB/MySQL."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, first_line

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


@dataclass(frozen=True)
class DatabaseURL:
    """A database URL, parsed once where it enters (``--url``, a config, a scratch database):
    its kind, driver, sync/async twin, printable text and "same database as" in one place.

    Its password is kept (:attr:`text` connects) and never shown (:attr:`redacted`).
    """

    #: SQLAlchemy's URL, as this SQLAlchemy can use it.
    url: URL

    @classmethod
    def parse(cls, text: str) -> DatabaseURL:
        """Parse ``text``; a malformed URL is a configuration error naming it (without password).

        SQLAlchemy 1.4 has no ``psycopg`` (3) dialect: there, ``postgresql+psycopg`` URLs — the
        defaults of this project — are read as ``postgresql+psycopg2``.
        """
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        remember_secrets(text)
        try:
            parsed = make_url(_query_at_encoded(text))
        except (ArgumentError, ValueError):
            raise ConfigError(f"not a database URL: {redact_text(text)!r}") from None
        remember_secrets(parsed)
        authority = text.split("://", 1)[-1].split("?", 1)[0]
        if parsed.get_backend_name() != "sqlite" and authority.count("@") > 1:
            # SQLAlchemy splits at the first '@': the rest of the password would become the host.
            raise ConfigError(
                f"database URL {redact_text(text)!r} has an '@' in its password: percent-encode "
                "it ('@' as %40, '/' as %2F)"
            )
        if parsed.drivername == "postgresql+psycopg" and _sqlalchemy_major() < 2:
            parsed = parsed.set(drivername="postgresql+psycopg2")
        return cls(parsed)

    @classmethod
    def of(cls, url: str | URL | DatabaseURL) -> DatabaseURL:
        """``url`` as a value: a string is parsed, an engine's URL taken as it is."""
        if isinstance(url, DatabaseURL):
            return url
        if isinstance(url, str):
            return cls.parse(url)
        return cls(url)

    @classmethod
    def lenient(cls, url: Any) -> DatabaseURL | None:
        """What an env.py passed as a URL, as SQLAlchemy reads it (no check, no secret
        remembered, no driver replaced); None when it is no URL SQLAlchemy can read."""
        if url is None:
            return None
        from sqlalchemy.engine import URL, make_url

        if isinstance(url, URL):
            return cls(url)
        try:
            return cls(make_url(str(url)))
        except Exception:
            return None

    @property
    def text(self) -> str:
        """The URL to connect with, password kept: never printed (see :attr:`redacted`)."""
        return self.url.render_as_string(hide_password=False)

    @property
    def redacted(self) -> str:
        """The URL as it may be printed: never with its password, wherever the URL holds it."""
        remember_secrets(self.url)
        # render_as_string hides the userinfo password only, not ``?password=`` in the query.
        return redact_text(self.url.render_as_string(hide_password=True))

    @property
    def driver(self) -> str:
        """``dialect+driver`` as written (``postgresql+psycopg``, ``sqlite``)."""
        return self.url.drivername

    @property
    def backend(self) -> str:
        """The dialect's name (``mariadb`` stays ``mariadb``; see :attr:`kind`)."""
        return self.url.get_backend_name()

    @property
    def kind(self) -> str:
        """``sqlite``, ``postgresql``, ``mysql`` (MariaDB included) or the dialect's own name."""
        name = self.backend
        return "mysql" if name == "mariadb" else name

    @property
    def is_async(self) -> bool:
        """True for a dialect+driver that only an async engine can use (asyncpg, aiosqlite...)."""
        return is_async_driver(self.driver)

    @property
    def is_placeholder(self) -> bool:
        """True for alembic init's ``driver://user:pass@localhost/dbname``: no URL at all."""
        return is_placeholder(self.url)

    @property
    def port(self) -> int | None:
        """The port the server listens on: the URL's, else the server's default."""
        return self.url.port or DEFAULT_PORTS.get(self.kind)

    @property
    def sqlite_file(self) -> Path | None:
        """The file a SQLite URL names (None: another database, in memory, or a ``file:`` URI)."""
        if self.backend != "sqlite":
            return None
        database = self.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return Path(database)

    @property
    def missing_sqlite_file(self) -> Path | None:
        """The file a SQLite URL names when it does not exist yet (connecting would create it)."""
        path = self.sqlite_file
        return None if path is None or path.exists() else path

    def with_database(self, name: str) -> DatabaseURL:
        """Another database on the same server, with the same credentials."""
        return DatabaseURL(self.url.set(database=name))

    def twin(self, is_async: bool) -> DatabaseURL:
        """This URL with a driver of the kind asked for: itself when it is of that kind
        (``postgresql+asyncpg`` stays), else its async or sync twin (psycopg's async side
        named)."""
        if self.is_async == is_async:
            return self
        wanted = (_ASYNC_DRIVERS if is_async else _SYNC_DRIVERS).get(self.driver)
        if wanted is None:
            return self
        return DatabaseURL.parse(self.url.set(drivername=wanted).render_as_string(False))

    def same_database(self, other: DatabaseURL) -> bool:
        """True when both name one database: the same backend (whatever the driver, sync or
        async), host, port (the server's default filled in), database and user; for SQLite,
        the same file."""
        if self.kind != other.kind:
            return False
        if self.kind == "sqlite":
            return _sqlite_path(self.url.database) == _sqlite_path(other.url.database)
        a, b = self.url, other.url
        return (a.host, self.port, a.database, a.username) == (
            b.host,
            other.port,
            b.database,
            b.username,
        )


def _query_at_encoded(url: str) -> str:
    """``url`` with a raw ``@`` in its query string percent-encoded.

    SQLAlchemy reads the user name up to a ``:`` and the password up to the first ``@``, also
    past a ``/`` or ``?``: ``postgresql://u@h:5432/db?password=Pa@x`` would become user
    ``u@h``, password ``5432/db?password=Pa`` and host ``x``. A query value is decoded
    (``%40`` is ``@``), so encoding it changes nothing else. The query starts at the first
    ``?`` followed by ``key=`` (a ``?`` in a userinfo password is left alone).
    """
    query = re.search(r"\?(?=[\w.+-]+=)", url.partition("://")[2])
    if query is None:
        return url
    start = len(url.partition("://")[0]) + 3 + query.start()
    return url[:start] + url[start:].replace("@", "%40")


# --- secrets: what no output of scaffold shows -----------------------------------------------

#: The query-string keys a driver takes a password from.
_PASSWORD_KEYS = ("password", "passwd", "pwd")
#: Secrets shorter than this are hidden where a URL, a conninfo or a keyword shows them, not
#: wherever they appear (a password ``pw`` would hide every ``pw`` of every message).
SHORTEST_SECRET = 3
#: Every spelling of every password this process was given, longest first (see
#: :func:`remember_secrets`), and the pattern that finds them.
_secrets: list[str] = []
_secrets_pattern: re.Pattern[str] | None = None


def remember_secrets(url: str | URL | None) -> None:
    """Hide the passwords ``url`` holds from every later output, by value: in each spelling a
    message could show them in (as written, percent-decoded and -encoded the ways SQLAlchemy,
    drivers and browsers do, and quoted as ``repr``, JSON or a libpq conninfo would), wherever
    they appear — a driver's or env.py's own error text, a traceback, a URL taken apart.

    A string is read leniently, so that a URL that does not parse (a bad port, a space, a raw
    ``@``) still gives up its password.
    """
    global _secrets_pattern
    if url is None or is_placeholder(url):  # alembic init's ``user:pass``: no secret
        return
    found = _written_passwords(url) if isinstance(url, str) else _url_passwords(url)
    spellings = {form for secret in found for form in _spellings(secret)}
    new = {s for s in spellings if len(s) >= SHORTEST_SECRET} - set(_secrets)
    if not new:
        return
    _secrets[:] = sorted({*_secrets, *new}, key=lambda s: (-len(s), s))
    _secrets_pattern = re.compile("|".join(_bounded(s) for s in _secrets))


def _written_passwords(url: str) -> set[str]:
    """The passwords a URL string holds, found without parsing it as SQLAlchemy does."""
    scheme = re.match(r"\s*[A-Za-z][\w+.-]*://", url)
    if scheme is None:
        return set()
    rest = url[scheme.end() :]
    keys = "|".join(_PASSWORD_KEYS)
    found = {m.group(1) for m in re.finditer(rf"[?&](?:{keys})=([^&#]*)", rest, re.IGNORECASE)}
    user = re.match(r"[^:/@?#]*:", rest)
    if user is not None:
        after = rest[user.end() :]
        ats = [i for i, c in enumerate(after) if c == "@"]
        # SQLAlchemy's password ends at the first '@'; with a raw '@' in it, at a later one.
        for end in {ats[0], ats[-1]} if ats else set():
            if not re.search(r"[?&][\w.+-]+=", after[:end]):
                found.add(after[:end])
    return found


def _url_passwords(url: URL) -> set[str]:
    found = {str(url.password)} if url.password else set()
    for key, value in url.query.items():
        if key.lower() in _PASSWORD_KEYS:
            found.update(str(v) for v in (value if isinstance(value, tuple) else (value,)))
    return found


def _spellings(secret: str) -> set[str]:
    """``secret`` (as written in a URL) in the spellings output may show it in."""
    from urllib.parse import quote, quote_plus, unquote, unquote_plus

    plain = {secret, unquote(secret), unquote_plus(secret)}
    encoded = set()
    for text in plain:
        encoded |= {
            quote(text, safe=""),
            quote(text, safe=" +"),  # SQLAlchemy 2's userinfo
            quote(text),
            quote_plus(text),  # a query string
            re.sub(r"[:@/]", lambda m: f"%{ord(m.group(0)):X}", text),  # SQLAlchemy 1.4's
        }
    forms = plain | encoded
    for text in list(forms):
        forms |= {
            repr(text)[1:-1],
            json.dumps(text)[1:-1],
            text.replace("\\", "\\\\").replace("'", "\\'"),  # a libpq conninfo value
        }
    return forms


def _bounded(secret: str) -> str:
    """A pattern for ``secret`` that does not match inside a longer word (``postgres`` the
    password, not ``postgresql`` the dialect)."""
    before = r"(?<!\w)" if re.match(r"\w", secret) else ""
    after = r"(?!\w)" if re.search(r"\w\Z", secret) else ""
    return before + re.escape(secret) + after


#: ``scheme://user:password@`` — the password runs to the last ``@`` of the URL, so that an
#: unencoded ``@`` or ``/`` in it is hidden too; else, with spaces in it, to the first ``@``.
_URL_USERINFO = re.compile(
    r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"/?#@:]*:)(?:[^\s'\"]*@|[^'\"\n@]*@)"
)
#: ``?password=…`` in a URL: the value runs to the next parameter (commas and all).
_QUERY_PASSWORD = re.compile(r"([?&](?:password|passwd|pwd)=)(?!\*\*\*)[^&#\s'\"]*", re.IGNORECASE)
#: ``user:password@host`` without a scheme (libpq and driver messages, bare netlocs).
_BARE_USERINFO = re.compile(r"(\b[\w.%+-]+:)(?!//)[^\s'\"@:]+@(?=[\w.\[-])")
#: ``?password=…`` in a query string, ``password=…`` in a libpq conninfo, and a dict's
#: ``'password': '…'`` (driver keyword arguments in a traceback).
_KEYWORD = re.compile(
    r"(\b(?:password|passwd|pwd)\s*=\s*)(?!\*\*\*)('[^']*'|\"[^\"]*\"|[^\s&;,'\")]+)",
    re.IGNORECASE,
)
_DICT_ITEM = re.compile(
    r"""(['"](?:password|passwd|pwd)['"]\s*:\s*)('[^']*'|"[^"]*"|b'[^']*')""", re.IGNORECASE
)


def redact_text(text: str) -> str:
    """Hide every password in a free-form string (URLs, DSNs, tracebacks): the passwords this
    process was given by value (:func:`remember_secrets`), then anything placed like one."""
    if _secrets_pattern is not None:
        text = _secrets_pattern.sub("***", text)
    text = _URL_USERINFO.sub(r"\1***@", text)
    text = _QUERY_PASSWORD.sub(r"\1***", text)
    text = _BARE_USERINFO.sub(r"\1***@", text)
    text = _KEYWORD.sub(r"\1***", text)
    return _DICT_ITEM.sub(r"\1'***'", text)


def _sqlalchemy_major() -> int:
    import sqlalchemy

    return int(sqlalchemy.__version__.split(".", 1)[0])


def redact(url: str | URL | DatabaseURL) -> str:
    """The URL as it may be printed: never with its password, wherever the URL holds it."""
    try:
        return DatabaseURL.of(url).redacted
    except ConfigError:
        return redact_text(str(url))


def kind_of(url: str | URL | DatabaseURL) -> str:
    """``sqlite``, ``postgresql``, ``mysql`` (MariaDB included) or the dialect's own name."""
    return DatabaseURL.of(url).kind


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
        raise ServerUnavailable(missing_driver(exc.name or kind, url)) from None
    except Exception as exc:  # any driver error means "does not answer"
        variable = SERVER_URL_VARIABLES.get(kind) if from_variable else None
        where = f"set {variable} to point at one" if variable else "check the URL given"
        # A skip reason: kept short, and cut between words, never in one.
        said = textwrap.shorten(first_line(exc), SERVER_ERROR_WIDTH, placeholder=" ...")
        raise ServerUnavailable(
            f"{kind} server at {url.redacted} does not answer ({said}); {where}"
        ) from None


#: The extra of plugin-scaffold that installs a driver, by the module the dialect imports.
_DRIVER_EXTRAS = {"psycopg": "postgresql", "pymysql": "mysql"}
#: What pip installs for other drivers whose distribution is not named as their module.
_DRIVER_DISTRIBUTIONS = {"psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient"}


def missing_driver(module: str, url: str | URL | DatabaseURL, why: str = "") -> str:
    """One line: the driver ``module`` that ``url``'s dialect imports is not installed, then
    ``why`` (who asked for it) and the ``pip install`` that brings it — the extra of
    plugin-scaffold for the drivers the extras bring, which another driver's line offers too."""
    from .resources import install_command

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


def _sweep_databases(admin: Engine, kind: str) -> list[str]:
    """Drop the scratch databases on this server whose owner (on this machine) has ended."""
    query = (
        "SELECT datname FROM pg_database"
        if kind == "postgresql"
        else "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
    )
    try:
        with admin.connect() as conn:
            names = [row[0] for row in conn.exec_driver_sql(query)]
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
        with tempfile.TemporaryDirectory(prefix=folder_prefix(prefix)) as folder:
            yield f"sqlite:///{Path(folder) / 'database.db'}"
        return
    if kind not in ("postgresql", "mysql"):
        raise ConfigError(f"cannot make a scratch database on {kind} ({base.redacted})")
    check_server(base, from_variable=not given)
    name = unique_name(prefix)
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    try:
        _sweep_databases(admin, kind)
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(
                    f"CREATE DATABASE {admin.dialect.identifier_preparer.quote(name)}"
                )
            yield base.with_database(name).text
        finally:
            _drop_database(admin, kind, name)
    finally:
        admin.dispose()


#: Async drivers an async env.py is given for a URL scaffold opens with a synchronous one, and
#: back. psycopg (3) serves both; asyncpg, aiosqlite and aiomysql only async.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    # psycopg 3 serves both, but only create_async_engine picks its async side by itself: an
    # env.py wrapping engine_from_config in AsyncEngine needs it named.
    "postgresql+psycopg": "postgresql+psycopg_async",
    "mysql": "mysql+aiomysql",
    "mysql+pymysql": "mysql+aiomysql",
    "mariadb+pymysql": "mariadb+aiomysql",
}
_SYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
    "mysql+aiomysql": "mysql+pymysql",
    "mysql+asyncmy": "mysql+pymysql",
    "mariadb+aiomysql": "mariadb+pymysql",
    "mariadb+asyncmy": "mariadb+pymysql",
}


def is_async_driver(drivername: str) -> bool:
    """True for a dialect+driver that only an async engine can use (asyncpg, aiosqlite...)."""
    return drivername in _SYNC_DRIVERS or "async" in drivername


#: The URL ``alembic init`` writes into alembic.ini, for the user to replace.
PLACEHOLDER_DRIVER = "driver"


def is_placeholder(url: str | URL) -> bool:
    """True for alembic init's ``driver://user:pass@localhost/dbname``: no URL at all."""
    if isinstance(url, str):
        return url.strip().split("://", 1)[0] == PLACEHOLDER_DRIVER
    return url.drivername == PLACEHOLDER_DRIVER


#: The port a server listens on when a URL names none.
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


def _sqlite_path(database: str | None) -> str:
    if not database or database == ":memory:":
        return ":memory:"
    return str(Path(database).resolve())
