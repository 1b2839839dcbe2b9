"""Template databases: a database brought to some revisions once, kept, and copied for each
scratch database that starts there, instead of replaying the same revisions again.

An entry is named by a key its caller makes (the content of every revision file involved, the
env.py, the versions of the tools) with the dialect and the server's version added here, so a
change to any of them makes a new entry. Where entries live:

- the cache folder, ``SCAFFOLD_CACHE_DIR``, else ``$XDG_CACHE_HOME/plugin-scaffold`` (default
  ``~/.cache/plugin-scaffold``): SQLite templates (``templates/<name>.db``, copied file by
  file), a ``<name>.json`` describing each entry, and the folder's own id;
- PostgreSQL: databases named ``scaffold_tpl_<folder id>_<key>`` on the server, with
  connections refused, cloned by ``CREATE DATABASE ... TEMPLATE``;
- MariaDB/MySQL: databases of the same names, copied table by table (``SHOW CREATE TABLE``,
  then ``INSERT ... SELECT``): faster than a replay (bench/README.md). A schema with what that
  copy would not carry (views, triggers, routines, events, sequences) is replayed instead.

``SCAFFOLD_CACHE=off`` turns the cache off. An entry is built under a temporary name owned by
its process, then renamed: a killed build leaves no entry (the next run builds again and
removes what the killed one left). Two runs building one entry take turns (a file lock, a
PostgreSQL advisory lock, a MariaDB ``GET_LOCK``); the second uses what the first built.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, MigrationError
from . import copies
from .locking import file_lock, lock_timeout
from .servers import (
    DriverMissing,
    _drop_database,
    _sweep_databases,
    admin_engine,
    check_server,
    engine_kept,
    host_tag,
    make_engine,
    normalize_kind,
    owner_gone,
    release,
    server_url,
    temporary_database,
    unique_name,
)
from .urls import DatabaseURL

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

CACHE_VARIABLE = "SCAFFOLD_CACHE"
FOLDER_VARIABLE = "SCAFFOLD_CACHE_DIR"
#: Server-side templates: ``scaffold_tpl_<folder id>_<key>``.
PREFIX = "scaffold_tpl_"
#: The kinds that have templates.
KINDS = ("sqlite", "postgresql", "mysql")
#: MariaDB: the table that says a template is whole (and what it holds), or that its schema
#: cannot be copied (views, triggers...), so scratch databases replay.
_DONE = "scaffold_template_done"
_REPLAY = "scaffold_template_replay"
#: The advisory lock of a PostgreSQL template's build: ("scaffold", templates), name's hash.
_PG_CLASS = 97185310
_BUILD_FILE = re.compile(r"\.build-([0-9]+)-([0-9a-f]{6})-.*")
_POLL = 0.2
#: Tries of a PostgreSQL clone while another session is on the template (it refuses them).
_CLONE_TRIES = 50


def enabled() -> bool:
    return os.environ.get(CACHE_VARIABLE, "").strip().lower() not in ("off", "0", "no", "false")


def folder() -> Path:
    """The cache folder: ``SCAFFOLD_CACHE_DIR``, else the XDG cache folder's plugin-scaffold."""
    given = os.environ.get(FOLDER_VARIABLE, "").strip()
    if given:
        return Path(given).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "plugin-scaffold"


def _templates() -> Path:
    where = folder() / "templates"
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cache folder {where}: {exc.strerror}; set {FOLDER_VARIABLE} to a writable folder "
            f"or {CACHE_VARIABLE}=off"
        ) from None
    return where


def folder_id() -> str:
    """Eight hex digits naming this cache folder in its server-side templates (made once)."""
    path = _templates() / "id"
    with contextlib.suppress(FileNotFoundError):
        found = path.read_text().strip()
        if re.fullmatch(r"[0-9a-f]{8}", found):
            return found
    made = path.with_name(f".id-{uuid.uuid4().hex}")
    made.write_text(uuid.uuid4().hex[:8] + "\n")
    try:
        os.link(made, path)  # the first folder id wins; a racing run reads it
    except FileExistsError:
        pass
    finally:
        made.unlink()
    return path.read_text().strip()


def server_version(engine: Engine) -> str:
    """The dialect and the server's version, as part of each key (SQLite: the library's)."""
    if engine.dialect.name == "sqlite":
        return f"sqlite {sqlite3.sqlite_version}"
    info = engine.dialect.server_version_info
    if info is None:  # read on the engine's first connection
        with engine.connect():
            info = engine.dialect.server_version_info or ()
    return f"{engine.dialect.name} {'.'.join(str(n) for n in info)}"


def entry_name(key: Sequence[str], server: str) -> str:
    digest = hashlib.sha256("\n".join([server, *key]).encode()).hexdigest()
    return f"{PREFIX}{folder_id()}_{digest[:32]}"


@dataclass(frozen=True)
class Entry:
    """One template: its name, its kind, where it is, and what it holds (as recorded)."""

    name: str
    kind: str
    where: str
    about: Mapping[str, Any]

    def line(self) -> str:
        holds = ", ".join(self.about.get("heads", [])) or "?"
        made = self.about.get("made", "?")
        what = self.about.get("what", "")
        return f"{self.name}  {self.kind}  {self.where}  at {holds}  {what}  made {made}".rstrip()


@contextlib.contextmanager
def scratch_copy(
    kind_or_url: str,
    key: Sequence[str],
    build: Callable[[str], None],
    *,
    prefix: str = "scaffold",
    about: Mapping[str, Any] | None = None,
) -> Iterator[str]:
    """Yield the URL of a new scratch database that is a copy of the template ``key`` names
    (built first when there is none: ``build(url)`` brings an empty database there); dropped
    afterwards. Without the cache, an empty scratch database that ``build`` brings there.
    """
    kind, base = _kind_and_base(kind_or_url)
    if not enabled() or kind not in KINDS:
        with temporary_database(kind_or_url, prefix=prefix) as url:
            build(url)
            yield url
        return
    if kind == "sqlite":
        template = _sqlite_template(key, build, about or {})
        with temporary_database("sqlite", prefix=prefix) as url:
            target = Path(DatabaseURL.parse(url).url.database or "")
            shutil.copyfile(template, target)
            yield url
        return
    with _server_copy(kind, base, kind_or_url, key, build, prefix, about or {}) as url:
        yield url


@contextlib.contextmanager
def empty_database(kind_or_url: str, *, prefix: str = "scaffold") -> Iterator[str]:
    """A new empty scratch database, as :func:`~.servers.temporary_database` makes, dropped
    afterwards; with the cache on PostgreSQL, one of the empty databases made ahead
    (copies.py), and dropped in the background."""
    kind, base = _kind_and_base(kind_or_url)
    if not enabled() or kind != "postgresql":
        with temporary_database(kind_or_url, prefix=prefix) as url:
            yield url
        return
    admin = admin_engine(base, from_variable="://" not in kind_or_url)
    # What a plain CREATE DATABASE copies.
    with _copy_of(admin, kind, base, "template1", prefix) as url:
        yield url


def has(kind_or_url: str, key: Sequence[str]) -> bool:
    """Whether the template ``key`` names exists (False without the cache)."""
    kind, base = _kind_and_base(kind_or_url)
    if not enabled() or kind not in KINDS:
        return False
    if kind == "sqlite":
        return _sqlite_path(key).is_file()
    admin = admin_engine(base, from_variable="://" not in kind_or_url)
    return _state(admin, kind, entry_name(key, server_version(admin))) is not None


def seed(kind_or_url: str, key: Sequence[str], url: str, about: Mapping[str, Any]) -> bool:
    """Make ``url``'s database (at the revisions ``key`` is for, no connection left open) the
    template ``key`` names, if there is none yet: a copy of it under a temporary name, then
    renamed. False when there is nothing to do."""
    kind, base = _kind_and_base(kind_or_url)
    if not enabled() or kind not in KINDS:
        return False
    source = DatabaseURL.parse(url).url.database or ""
    if kind == "sqlite":

        def copy(path: Path) -> None:
            shutil.copyfile(source, path)

        return _sqlite_publish(key, copy, about)
    admin = admin_engine(base, from_variable="://" not in kind_or_url)
    name = entry_name(key, server_version(admin))

    def make(build_name: str) -> None:
        release(url)
        _clone(admin, kind, source, build_name, tries=3)

    try:
        return _publish(admin, kind, base, name, make, about)
    except Exception:  # a connection env.py keeps to it: the next check builds one instead
        return False


def _kind_and_base(kind_or_url: str) -> tuple[str, DatabaseURL]:
    if "://" in kind_or_url or kind_or_url.startswith("sqlite:"):
        base = DatabaseURL.parse(kind_or_url)
        return base.kind, base
    kind = normalize_kind(kind_or_url)
    return kind, DatabaseURL.parse("sqlite://" if kind == "sqlite" else server_url(kind))


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def _write_about(name: str, kind: str, where: str, about: Mapping[str, Any]) -> None:
    record = {"kind": kind, "where": where, "made": _now(), **about}
    path = _templates() / f"{name}.json"
    staged = path.with_name(f".{name}-{uuid.uuid4().hex}.json")
    staged.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(staged, path)


# --- SQLite: files in the cache folder ---------------------------------------------------------


def _sqlite_path(key: Sequence[str]) -> Path:
    return _templates() / f"{entry_name(key, f'sqlite {sqlite3.sqlite_version}')}.db"


def _sqlite_template(
    key: Sequence[str], build: Callable[[str], None], about: Mapping[str, Any]
) -> Path:
    path = _sqlite_path(key)
    if not path.is_file():

        def make(staged: Path) -> None:
            build(f"sqlite:///{staged}")

        _sqlite_publish(key, make, about)
    return path


def _sqlite_publish(
    key: Sequence[str], make: Callable[[Path], None], about: Mapping[str, Any]
) -> bool:
    """Make the template file under a temporary name owned by this process, then rename it."""
    path = _sqlite_path(key)
    if path.is_file():
        return False
    templates = path.parent
    with file_lock(
        templates / f"{path.stem}.lock", what=f"template {path.stem}", timeout=lock_timeout()
    ):
        if path.is_file():
            return False  # another run built it while this one waited
        _sweep_build_files(templates)
        staged = templates / f".build-{os.getpid()}-{host_tag()}-{uuid.uuid4().hex[:8]}.db"
        try:
            make(staged)
            with open(staged, "rb") as written:
                os.fsync(written.fileno())
            _write_about(path.stem, "sqlite", str(path), about)
            os.replace(staged, path)
        finally:
            staged.unlink(missing_ok=True)
    return True


def _sweep_build_files(templates: Path) -> None:
    """Remove the build files of runs that were killed while building."""
    for entry in templates.iterdir():
        owned = _BUILD_FILE.fullmatch(entry.name)
        if owned and owner_gone(owned.group(2), int(owned.group(1))):
            entry.unlink(missing_ok=True)


# --- PostgreSQL and MariaDB: template databases on the server ---------------------------------


def _state(admin: Engine, kind: str, name: str) -> str | None:
    """``copy`` when template ``name`` is on the server, ``replay`` when it stands for a schema
    that cannot be copied (MariaDB), None when there is none (or only a half-made one)."""
    with admin.connect() as conn:
        if kind == "postgresql":
            found = conn.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}
            ).first()
            return "copy" if found is not None else None
        marks = {
            row[0]
            for row in conn.exec_driver_sql(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %(n)s "
                "AND TABLE_NAME IN (%(done)s, %(replay)s)",
                {"n": name, "done": _DONE, "replay": _REPLAY},
            )
        }
    return "copy" if _DONE in marks else "replay" if _REPLAY in marks else None


@contextlib.contextmanager
def _server_copy(
    kind: str,
    base: DatabaseURL,
    kind_or_url: str,
    key: Sequence[str],
    build: Callable[[str], None],
    prefix: str,
    about: Mapping[str, Any],
) -> Iterator[str]:
    admin = admin_engine(base, from_variable="://" not in kind_or_url)
    name = entry_name(key, server_version(admin))
    state = _state(admin, kind, name)
    if state is None:

        def make(build_name: str) -> None:
            quote = admin.dialect.identifier_preparer.quote
            with admin.connect() as conn:
                conn.exec_driver_sql(f"CREATE DATABASE {quote(build_name)}")
            build(base.with_database(build_name).text)

        _publish(admin, kind, base, name, make, about)
        state = _state(admin, kind, name)
    if state != "copy":  # a schema MariaDB cannot copy: replayed, as without the cache
        with temporary_database(kind_or_url, prefix=prefix) as url:
            build(url)
            yield url
        return
    with _copy_of(admin, kind, base, name, prefix) as url:
        yield url


@contextlib.contextmanager
def _copy_of(
    admin: Engine, kind: str, base: DatabaseURL, template: str, prefix: str
) -> Iterator[str]:
    """A scratch database copied from database ``template`` (on PostgreSQL one of its copies
    made ahead: copies.py), its engine kept while it is used, dropped soon after."""
    scratch = unique_name(prefix)
    _sweep_databases(admin, kind)  # what killed runs left (a drop they had not made yet)
    try:
        if kind == "postgresql":
            copies.take(
                admin,
                template,
                folder_id(),
                scratch,
                lambda made: _clone(admin, kind, template, made),
            )
        else:
            _clone(admin, kind, template, scratch)
        with engine_kept(base.with_database(scratch).text) as url:
            yield url
    finally:
        copies.drop_soon(admin, kind, scratch)


def _clone(admin: Engine, kind: str, template: str, name: str, tries: int = _CLONE_TRIES) -> None:
    """A new database ``name``, a copy of ``template``: ``CREATE DATABASE ... TEMPLATE`` on
    PostgreSQL (again while another session is on the template), table by table on MariaDB."""
    from sqlalchemy.exc import OperationalError

    quote = admin.dialect.identifier_preparer.quote
    if kind == "mysql":
        _copy_tables(admin, template, name)
        return
    for attempt in range(tries):
        try:
            with admin.connect() as conn:
                # The default strategy (WAL_LOG, PostgreSQL 15): faster here than FILE_COPY,
                # whose checkpoints cost more than the copy (bench/README.md).
                conn.exec_driver_sql(f"CREATE DATABASE {quote(name)} TEMPLATE {quote(template)}")
            return
        except OperationalError as exc:
            if "being accessed by other users" not in str(exc) or attempt + 1 == tries:
                raise
            time.sleep(_POLL)


class _Uncopyable(Exception):
    """A MariaDB schema holding what a copy of its tables would not carry."""


def _copyable(conn: Any, source: str) -> list[str]:
    """The tables of MariaDB database ``source`` (its marker left out), or :class:`_Uncopyable`
    when it holds views, sequences, system-versioned tables, triggers, routines or events."""
    tables = []
    for name, kind in conn.exec_driver_sql(
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %(s)s ORDER BY TABLE_NAME",
        {"s": source},
    ):
        if kind != "BASE TABLE":
            raise _Uncopyable(f"{name} is a {kind.lower()}")
        if name not in (_DONE, _REPLAY):
            tables.append(name)
    for what, table, column in (
        ("trigger", "TRIGGERS", "TRIGGER_SCHEMA"),
        ("routine", "ROUTINES", "ROUTINE_SCHEMA"),
        ("event", "EVENTS", "EVENT_SCHEMA"),
    ):
        found = conn.exec_driver_sql(
            f"SELECT COUNT(*) FROM information_schema.{table} WHERE {column} = %(s)s", {"s": source}
        ).scalar()
        if found:
            raise _Uncopyable(f"it has a {what}")
    return tables


def _copy_tables(admin: Engine, source: str, name: str) -> None:
    """Make database ``name`` with ``source``'s character set, then each table as ``SHOW CREATE
    TABLE`` says it (keys, foreign keys, checks, AUTO_INCREMENT), then its rows."""
    quote = admin.dialect.identifier_preparer.quote
    with admin.connect() as conn, _closed_after(conn):
        tables = _copyable(conn, source)
        charset, collation = conn.exec_driver_sql(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
            "information_schema.SCHEMATA WHERE SCHEMA_NAME = %(s)s",
            {"s": source},
        ).one()
        conn.exec_driver_sql(
            f"CREATE DATABASE {quote(name)} CHARACTER SET {charset} COLLATE {collation}"
        )
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
        conn.exec_driver_sql(f"USE {quote(name)}")
        for table in tables:
            ddl = conn.exec_driver_sql(f"SHOW CREATE TABLE {quote(source)}.{quote(table)}").one()
            conn.exec_driver_sql(ddl[1].replace("%", "%%"))
            columns = ", ".join(
                quote(row[0])
                for row in conn.exec_driver_sql(
                    "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                    "%(s)s AND TABLE_NAME = %(t)s AND COALESCE(GENERATION_EXPRESSION, '') = '' "
                    "ORDER BY ORDINAL_POSITION",
                    {"s": source, "t": table},
                )
            )
            conn.exec_driver_sql(
                f"INSERT INTO {quote(name)}.{quote(table)} ({columns}) "
                f"SELECT {columns} FROM {quote(source)}.{quote(table)}"
            )
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")


@contextlib.contextmanager
def _closed_after(conn: Any) -> Iterator[None]:
    """``conn`` closed when the block ends, not kept by the admin engine's pool: what the block
    set on its session (``USE``, ``FOREIGN_KEY_CHECKS``, a lock) goes with it."""
    try:
        yield
    finally:
        conn.invalidate()


def _publish(
    admin: Engine,
    kind: str,
    base: DatabaseURL,
    name: str,
    make: Callable[[str], None],
    about: Mapping[str, Any],
) -> bool:
    """Make template ``name`` under a name this process owns (``make(build_name)``), then
    rename it, holding the template's lock. False when it exists already (made while this run
    waited). PostgreSQL renames the database (closed to connections first); MariaDB moves its
    tables and a marker table in one ``RENAME TABLE``, which is atomic."""
    quote = admin.dialect.identifier_preparer.quote
    record = json.dumps({"made": _now(), **about})
    with _lock(admin, kind, name):
        if _state(admin, kind, name) is not None:
            return False
        _sweep_databases(admin, kind)
        build_name = unique_name("scaffold_tplbuild")
        try:
            make(build_name)
            with admin.connect() as conn:
                if kind == "postgresql":
                    conn.exec_driver_sql(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        f"WHERE datname = '{build_name}' AND pid <> pg_backend_pid()"
                    )
                    conn.exec_driver_sql(
                        f"ALTER DATABASE {quote(build_name)} ALLOW_CONNECTIONS false"
                    )
                    literal = record.replace("'", "''")
                    conn.exec_driver_sql(f"COMMENT ON DATABASE {quote(build_name)} IS '{literal}'")
                    conn.exec_driver_sql(
                        f"ALTER DATABASE {quote(build_name)} RENAME TO {quote(name)}"
                    )
                else:
                    _move_tables(conn, build_name, name, record, quote)
        finally:
            with contextlib.suppress(Exception):
                _drop_database(admin, kind, build_name)
    _write_about(name, kind, base.redacted, about)
    return True


def _move_tables(conn: Any, build: str, name: str, record: str, quote: Any) -> None:
    """MariaDB: the built tables, and the marker saying the template is whole, into ``name``."""
    try:
        tables = _copyable(conn, build)
        marker = _DONE
    except _Uncopyable:
        tables, marker = [], _REPLAY  # replayed each time: the marker alone says so
    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quote(name)}")  # a killed publish's
    conn.exec_driver_sql(f"CREATE DATABASE {quote(name)}")
    conn.exec_driver_sql(f"CREATE TABLE {quote(build)}.{marker} (about TEXT)")
    conn.exec_driver_sql(
        f"INSERT INTO {quote(build)}.{marker} (about) VALUES (%(r)s)", {"r": record}
    )
    moves = [*tables, marker]
    conn.exec_driver_sql(
        "RENAME TABLE "
        + ", ".join(f"{quote(build)}.{quote(t)} TO {quote(name)}.{quote(t)}" for t in moves)
    )


@contextlib.contextmanager
def _lock(admin: Engine, kind: str, name: str) -> Iterator[None]:
    """The template's lock, on a connection of its own (let go if this run dies): a PostgreSQL
    advisory lock, a MariaDB ``GET_LOCK``."""
    from .locking import _tell

    key = int(hashlib.sha256(name.encode()).hexdigest()[:7], 16)
    take, give = (
        (f"SELECT pg_try_advisory_lock({_PG_CLASS}, {key})", "SELECT pg_advisory_unlock"
         f"({_PG_CLASS}, {key})")
        if kind == "postgresql"
        else (f"SELECT GET_LOCK('{name}', 0)", f"SELECT RELEASE_LOCK('{name}')")
    )  # fmt: skip
    deadline = time.monotonic() + lock_timeout()
    told = False
    with admin.connect() as conn, _closed_after(conn):
        while not conn.exec_driver_sql(take).scalar():
            if time.monotonic() >= deadline:
                raise MigrationError(f"gave up waiting for another run building template {name}")
            if not told:
                _tell(f"waiting for another run building template {name}")
                told = True
            time.sleep(_POLL)
        try:
            yield
        finally:
            conn.exec_driver_sql(give)


# --- listing and clearing -----------------------------------------------------------------------


def _servers(urls: Sequence[str]) -> list[DatabaseURL]:
    """The servers whose templates are listed or cleared: ``urls``, else the ones
    ``SCAFFOLD_POSTGRES_URL`` and ``SCAFFOLD_MYSQL_URL`` name (or the defaults)."""
    chosen = [DatabaseURL.parse(u) for u in urls] or [
        DatabaseURL.parse(server_url(kind)) for kind in ("postgresql", "mysql")
    ]
    for url in chosen:
        if url.kind not in KINDS:
            raise ConfigError(f"{url.redacted}: templates are kept on PostgreSQL and MariaDB")
    return [u for u in chosen if u.kind != "sqlite"]


def _server_entries(admin: Engine, kind: str, mine: str) -> list[tuple[str, str | None]]:
    """This folder's whole templates on one server: name, and what its record says."""
    with admin.connect() as conn:
        if kind == "postgresql":
            rows = conn.exec_driver_sql(
                "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE starts_with(datname, %(p)s) ORDER BY datname",
                {"p": mine},
            ).all()
            return [(row[0], row[1]) for row in rows]
        quote = admin.dialect.identifier_preparer.quote
        marked = conn.exec_driver_sql(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE "
            "LEFT(TABLE_SCHEMA, %(n)s) = %(p)s AND TABLE_NAME IN (%(done)s, %(replay)s) "
            "ORDER BY TABLE_SCHEMA",
            {"n": len(mine), "p": mine, "done": _DONE, "replay": _REPLAY},
        ).all()
        return [
            (name, conn.exec_driver_sql(f"SELECT about FROM {quote(name)}.{marker}").scalar())
            for name, marker in marked
        ]


def entries(urls: Sequence[str] = (), notes: list[str] | None = None) -> list[Entry]:
    """Every template of this cache folder: its SQLite files, then its databases on each server
    (a server that does not answer is said in ``notes``)."""
    found: list[Entry] = []
    templates = _templates()
    for path in sorted(templates.glob(f"{PREFIX}*.db")):
        found.append(Entry(path.stem, "sqlite", str(path), _read_about(templates, path.stem)))
    mine = f"{PREFIX}{folder_id()}_"
    for server in _servers(urls):
        try:
            check_server(server, from_variable=not urls)
        except Exception as exc:
            if notes is None:
                continue
            if isinstance(exc, DriverMissing) and not urls:
                # A default server: not an install to make unless that server is used.
                notes.append(
                    f"templates on {server.redacted} not looked for: its driver "
                    f"{exc.module!r} is not installed in this environment"
                )
            else:
                notes.append(f"templates not looked for: {exc}")
            continue
        admin = make_engine(server, isolation_level="AUTOCOMMIT")
        try:
            rows = _server_entries(admin, server.kind, mine)
        finally:
            admin.dispose()
        for name, comment in rows:
            about: dict[str, Any] = {}
            with contextlib.suppress(TypeError, ValueError):
                about = dict(json.loads(comment or "{}"))
            found.append(Entry(name, server.kind, server.redacted, about))
    return found


def copies_ahead(urls: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The copies of this folder's templates made ahead (copies.py) on each PostgreSQL server
    that answers: name and server."""
    found = []
    for server in _servers(urls):
        if server.kind != "postgresql":
            continue
        try:
            check_server(server, from_variable=not urls)
        except Exception:  # entries() says so
            continue
        admin = make_engine(server, isolation_level="AUTOCOMMIT")
        try:
            found += [(name, server.redacted) for name in copies.on_server(admin, folder_id())]
        finally:
            admin.dispose()
    return found


def _named(notes: list[str], server: DatabaseURL) -> bool:
    """Whether ``notes`` says ``server`` did not answer."""
    return any(server.redacted in note for note in notes)


def _drop_half_made(admin: Engine) -> None:
    """MariaDB: this folder's template databases that a killed run left without a marker."""
    mine = f"{PREFIX}{folder_id()}_"
    with admin.connect() as conn:
        names = conn.exec_driver_sql(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE "
            "LEFT(SCHEMA_NAME, %(n)s) = %(p)s",
            {"n": len(mine), "p": mine},
        ).scalars()
    for name in list(names):
        with _lock(admin, "mysql", name):
            if _state(admin, "mysql", name) is None:
                _drop_database(admin, "mysql", name)


def _read_about(templates: Path, name: str) -> dict[str, Any]:
    try:
        return dict(json.loads((templates / f"{name}.json").read_text()))
    except (OSError, ValueError, TypeError):
        return {}


def clear(urls: Sequence[str] = (), notes: list[str] | None = None) -> list[Entry]:
    """Remove every template of this cache folder (files, and databases on the servers);
    the entries removed."""
    notes = [] if notes is None else notes
    removed = entries(urls, notes)
    templates = _templates()
    admins: dict[str, Any] = {}
    servers = {s.redacted: s for s in _servers(urls)}
    try:
        for where, server in servers.items():
            if server.kind == "postgresql" and not _named(notes, server):
                admins[where] = make_engine(server, isolation_level="AUTOCOMMIT")
                copies.forget(admins[where], folder_id())  # before the templates they copy
        for entry in removed:
            if entry.kind == "sqlite":
                with file_lock(
                    templates / f"{entry.name}.lock",
                    what=f"template {entry.name}",
                    timeout=lock_timeout(),
                ):
                    Path(entry.where).unlink(missing_ok=True)
            else:
                if entry.where not in admins:
                    admins[entry.where] = make_engine(
                        servers[entry.where], isolation_level="AUTOCOMMIT"
                    )
                admin = admins[entry.where]
                with _lock(admin, entry.kind, entry.name):
                    _drop_database(admin, entry.kind, entry.name)
            (templates / f"{entry.name}.json").unlink(missing_ok=True)
        for where, server in servers.items():
            if server.kind == "mysql" and not _named(notes, server):
                if where not in admins:
                    admins[where] = make_engine(server, isolation_level="AUTOCOMMIT")
                with contextlib.suppress(Exception):  # a courtesy: the next build drops it too
                    _drop_half_made(admins[where])
        _sweep_build_files(templates)
        for stale in templates.glob(f"{PREFIX}*.json"):
            kind = _read_about(templates, stale.stem).get("kind")
            if kind == "sqlite" and not (templates / f"{stale.stem}.db").is_file():
                stale.unlink(missing_ok=True)  # the record of a file no longer there
    finally:
        for admin in admins.values():
            admin.dispose()
    return removed
