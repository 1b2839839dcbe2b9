"""Database URLs: the value a URL is parsed into once, and the passwords no output shows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


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
        return self.driver in _SYNC_DRIVERS or "async" in self.driver

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
    lowered = text.lower()
    if "@" not in text and "pass" not in lowered and "pwd" not in lowered:
        return text  # nothing below can match (a line per revision goes through here)
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
