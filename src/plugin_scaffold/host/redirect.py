"""Every engine the host's env.py makes, pointed at the database scaffold names.

The commonest env.py in the wild takes its database from the application's settings or
environment (``create_engine(os.environ["DATABASE_URL"])``, ``settings.database_uri`` put into
the config section before ``engine_from_config``, Flask-Migrate 2.x's ``set_main_option`` of
``SQLALCHEMY_DATABASE_URI``), not from the connection or ``sqlalchemy.url`` scaffold hands in.
While env.py runs for a database scaffold names (``--url``, the project's ``url``, a scratch
database), SQLAlchemy's engine factories are wrapped: whatever URL env.py passes to
``create_engine``, ``engine_from_config``, ``create_async_engine`` or
``async_engine_from_config``, the engine is made for the named database (its async twin for an
async engine), and no ``creator`` or pool of env.py's can reach another one. Engines made before
the run (an app module's at import time, Flask-SQLAlchemy's) are redirected when they connect.
A raw DBAPI connection asked of such an engine cannot be redirected (it would be another
driver's) and is refused before it is opened. Offline (``--sql``), the named database's dialect
is used whatever URL env.py configures.

When scaffold names no database, env.py keeps choosing its own; only alembic init's placeholder
URL (``driver://user:pass@localhost/dbname``) is stopped, in one line.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..databases.servers import make_engine, missing_driver
from ..databases.urls import DatabaseURL
from ..errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: Where SQLAlchemy's engine factories are looked up by env.py files and the code they call:
#: (module, attribute, async). ``engine_from_config`` and ``async_engine_from_config`` call the
#: module-level names of their own modules, so wrapping those covers them too.
_FACTORIES = (
    ("sqlalchemy.engine.create", "create_engine", False),
    ("sqlalchemy.engine", "create_engine", False),
    ("sqlalchemy", "create_engine", False),
    ("sqlalchemy.ext.asyncio.engine", "create_async_engine", True),
    ("sqlalchemy.ext.asyncio", "create_async_engine", True),
    # SQLModel re-exports SQLAlchemy's (older releases wrap it): either way, its name too.
    ("sqlmodel", "create_engine", False),
)

#: Keyword arguments of env.py's that would connect elsewhere whatever the URL.
_ELSEWHERE = ("creator", "async_creator", "pool", "module")
_INVALID_ARGUMENTS = re.compile(r"Invalid argument\(s\) (.+?) sent to create_engine")


@dataclass
class Redirect:
    """What the run's engines are pointed at: ``url`` (as given: a sync or an async driver), or
    nothing (``url`` None: env.py chooses, only the placeholder is refused)."""

    url: DatabaseURL | None
    env_py: Path
    #: Where the named URL came from, for messages: ``--url``, the project's ``url``...
    #: None when it came from the host's own config (then a redirect is worth a warning).
    named_by: str | None = "scaffold"
    warn: Callable[[str], None] | None = None
    #: Engines made on the named database for engines made before the run, by original engine.
    _stand_ins: dict[int, Engine] = field(default_factory=dict)
    _warned: set[str] = field(default_factory=set)
    #: With no ``url``: the databases env.py made engines on or connected to, as it named them
    #: (with their passwords: a scratch database on the same server needs them).
    chosen: list[str] = field(default_factory=list)

    # --- at engine creation --------------------------------------------------------------------

    def create(
        self, original: Callable[..., Any], is_async: bool, url: Any, kw: dict[str, Any]
    ) -> Any:
        """``original(url, **kw)``, or the same call made for the named database."""
        asked = DatabaseURL.lenient(url)
        if self.url is None:
            if asked is not None and asked.is_placeholder:
                raise self.placeholder_error()
            if asked is not None and asked.text not in self.chosen:
                self.chosen.append(asked.text)
            return original(url, **kw)
        named = self.url
        wants_async = is_async or (asked is not None and asked.is_async)
        engine = "an async engine" if wants_async else "an engine"
        if asked is not None and asked.same_database(named):
            try:
                return original(url, **kw)
            except ModuleNotFoundError as exc:
                why = f" (host env.py ({self.where()}) makes {engine} on it)"
                raise ConfigError(missing_driver(exc.name or "?", asked, why)) from None
        target = named.twin(wants_async)
        self._note(asked)
        kw = {k: v for k, v in kw.items() if k not in _ELSEWHERE}
        if asked is None or asked.backend != named.backend:
            kw.pop("connect_args", None)
        for _ in range(len(kw) + 1):
            try:
                return original(target.text, **kw)
            except ModuleNotFoundError as exc:
                why = (
                    f" (host env.py ({self.where()}) makes {engine}, which scaffold points at "
                    f"{named.redacted})"
                )
                raise ConfigError(missing_driver(exc.name or "?", target, why)) from None
            except TypeError as exc:
                # Arguments of env.py's own dialect that the named database's refuses.
                invalid = _INVALID_ARGUMENTS.search(str(exc))
                if invalid is None:
                    raise
                names = re.findall(r"'([^']+)'", invalid.group(1))
                if not names or not set(names) & set(kw):
                    raise
                kw = {k: v for k, v in kw.items() if k not in names}
        return original(target.text, **kw)

    def _note(self, asked: DatabaseURL | None) -> None:
        """Warn once when the host's own sqlalchemy.url overrides a URL env.py computed."""
        if self.named_by is not None or self.warn is None or asked is None:
            return
        if asked.is_placeholder:
            return
        text = asked.redacted
        if text in self._warned:
            return
        self._warned.add(text)
        self.warn(
            f"host env.py ({self.env_py}) asked for {text}; scaffold migrates "
            f"{self.url.redacted if self.url else ''} (sqlalchemy.url of the host's config): "
            "pass --url to choose another database"
        )

    # --- engines made before the run ---------------------------------------------------------

    def stand_in(self, engine: Engine) -> Engine | None:
        """The engine to connect through instead of ``engine`` (None: ``engine`` itself)."""
        if self.url is None:
            connects = DatabaseURL.of(engine.url).text  # where env.py connects
            if connects not in self.chosen:
                self.chosen.append(connects)
            return None
        made_on = DatabaseURL.of(engine.url)
        if made_on.same_database(self.url):
            return None
        found = self._stand_ins.get(id(engine))
        if found is None:
            self._note(made_on)
            found = make_engine(self.url.twin(bool(getattr(engine.dialect, "is_async", False))))
            self._stand_ins[id(engine)] = found
        return found

    def refuse_raw(self, engine: Engine) -> ConfigError:
        where = self.where()
        return ConfigError(
            f"host env.py ({where}) asks an engine on {DatabaseURL.of(engine.url).redacted}, made "
            "before scaffold ran, for a raw DBAPI connection: scaffold cannot point it at "
            f"{self.url.redacted if self.url else ''}"
            "; let env.py connect through engine.connect(), config.attributes['connection'] or "
            "sqlalchemy.url (docs/hosts.md#hosts-whose-envpy-picks-its-own-database)"
        )

    # --- offline -------------------------------------------------------------------------------

    def offline(self, kw: dict[str, Any]) -> None:
        """``context.configure()``'s arguments in --sql mode: the named database's dialect."""
        asked = DatabaseURL.lenient(kw.get("url"))
        if self.url is None:
            if asked is not None and asked.is_placeholder:
                raise self.placeholder_error()
            return
        if asked is None and kw.get("dialect_name") is None:
            return
        kw["url"] = self.url.text
        kw.pop("dialect_name", None)

    # --- messages ------------------------------------------------------------------------------

    def placeholder_error(self) -> ConfigError:
        return ConfigError(
            f"no database to migrate: host env.py ({self.where()}) uses alembic init's "
            "placeholder URL driver://user:***@localhost/dbname; pass --url, set url in "
            "[tool.plugin-scaffold], or set sqlalchemy.url in the host's config"
        )

    def where(self) -> str:
        """env.py's file and the line of it running now (else the file alone)."""
        env_py = str(self.env_py)
        for frame in reversed(traceback.extract_stack()):
            if frame.filename == env_py:
                return f"{env_py}:{frame.lineno}"
        return env_py

    def close(self) -> None:
        for engine in self._stand_ins.values():
            engine.dispose()
        self._stand_ins.clear()


#: The redirect of the env.py run in progress (runs nest: autogenerate upgrades a scratch
#: database first; the innermost one is active).
_active: list[Redirect] = []
_saved: list[tuple[Any, str, Any]] = []


@contextlib.contextmanager
def redirected(redirect: Redirect) -> Iterator[Redirect]:
    """Run the body with SQLAlchemy's engine factories and Engine.connect pointed by
    ``redirect``; everything is put back afterwards."""
    if not _active:
        _install()
    _active.append(redirect)
    try:
        yield redirect
    finally:
        _active.pop()
        redirect.close()
        if not _active:
            _uninstall()


def _install() -> None:
    from sqlalchemy.engine import Engine

    for module_name, attribute, is_async in _FACTORIES:
        module = _module(module_name)
        original = getattr(module, attribute, None) if module is not None else None
        if original is None:
            continue
        _saved.append((module, attribute, original))
        setattr(module, attribute, _factory(getattr(original, "__wrapped__", original), is_async))
    for name, method in (("connect", _connect), ("raw_connection", _raw_connection)):
        original = Engine.__dict__[name]
        _saved.append((Engine, name, original))
        setattr(Engine, name, method(original))


def _uninstall() -> None:
    while _saved:
        owner, attribute, original = _saved.pop()
        setattr(owner, attribute, original)


def _module(name: str) -> Any:
    """The module, imported if it can be (SQLModel and asyncio support are optional)."""
    if name in sys.modules:
        return sys.modules[name]
    if name == "sqlmodel":
        return None  # not imported by anyone yet: env.py importing it later gets ours
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _factory(original: Callable[..., Any], is_async: bool) -> Callable[..., Any]:
    """``original`` pointed by the active redirect; itself once no run is active (a module that
    imported the name during a run keeps this function)."""

    def create(url: Any, **kw: Any) -> Any:
        if not _active:
            return original(url, **kw)
        return _active[-1].create(original, is_async, url, kw)

    create.__wrapped__ = original  # type: ignore[attr-defined]
    create.__name__ = original.__name__
    create.__doc__ = original.__doc__
    return create


def _connect(original: Callable[..., Any]) -> Callable[..., Any]:
    def connect(self: Engine, *args: Any, **kw: Any) -> Any:
        stand_in = _active[-1].stand_in(self) if _active else None
        return original(stand_in if stand_in is not None else self, *args, **kw)

    return connect


def _raw_connection(original: Callable[..., Any]) -> Callable[..., Any]:
    def raw_connection(self: Engine, *args: Any, **kw: Any) -> Any:
        if _active and _active[-1].stand_in(self) is not None:
            raise _active[-1].refuse_raw(self)
        return original(self, *args, **kw)

    return raw_connection
