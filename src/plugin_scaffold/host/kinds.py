"""The kinds of host environment that differ in how their Config is built or env.py is run.

The one place that knows them: a Config built in the host's own code (``module:function``),
a Flask application whose context Flask-Migrate's env.py needs, an env.py that migrates
through an async engine, and Alembic's multi-database template (refused); and the rows a host
lays down outside its migrations on a fresh database (``host-init``). The rest of the core
asks :class:`~plugin_scaffold.host.host.Host`, which asks this module.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, MigrationError, ScaffoldError, first_line

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

#: Names a config factory may declare, and what scaffold passes for each.
FACTORY_URL_PARAMETERS = ("url", "database_url", "db_url", "sqlalchemy_url")
FACTORY_FILE_PARAMETERS = ("config_file", "config_path", "path")


class UnsupportedHost(ConfigError):
    """A host environment scaffold refuses as it is (multidb), or cannot run without more
    answers (a Flask app): refused at render time as well as by the first command."""

    def __init__(self, message: str, *, question: str = "host_alembic") -> None:
        super().__init__(message)
        #: The template question whose answer is at fault.
        self.question = question


# --- how env.py runs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvStyle:
    """What the host's env.py needs, read from its source (it is not run to find out)."""

    #: env.py migrates through an async engine built from ``sqlalchemy.url``.
    is_async: bool = False
    #: env.py reads Flask's ``current_app`` (Flask-Migrate): it needs the app's context.
    needs_flask_app: bool = False
    #: Alembic's multidb template: revisions take ``engine_name``.
    multidb_engines: tuple[str, ...] | None = None

    @classmethod
    def of(cls, env_py: Path, databases_option: str | None = None) -> EnvStyle:
        try:
            source = env_py.read_text(encoding="utf-8")
        except OSError:
            return cls()
        try:
            tree = ast.parse(source, filename=str(env_py))
        except SyntaxError:
            return cls()  # reported when env.py runs, with its own line number
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom | ast.Import)
            for alias in node.names
        }
        keywords = {k.arg for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords}
        is_async = bool(
            {"async_engine_from_config", "create_async_engine", "AsyncEngine", "run_sync"}
            & (names | imported)
        )
        multidb: tuple[str, ...] | None = None
        if "engine_name" in keywords:
            multidb = tuple(
                name.strip() for name in (databases_option or "").split(",") if name.strip()
            )
        return cls(
            is_async=is_async,
            needs_flask_app="current_app" in (names | imported),
            multidb_engines=multidb,
        )

    def refuse_unsupported(self, env_py: Path) -> None:
        """Refuse, before anything runs, an env.py whose revisions scaffold cannot write."""
        if self.multidb_engines is not None:
            engines = ", ".join(self.multidb_engines) or "several engines"
            raise UnsupportedHost(
                f"host env.py ({env_py}) is Alembic's multi-database template ({engines}): its "
                "revisions take engine_name, which a plugin's revisions do not; plugin-scaffold "
                "does not support multi-database hosts (docs/multidb.md)"
            )


# --- a Config built in the host's own code --------------------------------------------------------


@dataclass(frozen=True)
class ConfigFactory:
    """``module:function`` returning an Alembic ``Config``, as many applications build theirs.

    The function is called with the keyword arguments it declares among ``url`` (the database
    scaffold is about to use, or None; also ``database_url``, ``db_url``, ``sqlalchemy_url``)
    and ``config_file`` (the host's own config file, e.g. mediagoblin.ini or rattail.conf; also
    ``config_path``, ``path``). A factory that takes ``url`` can hand scratch databases to an
    env.py that reads its database from the host's own configuration.
    """

    spec: str
    config_file: Path | None = None

    @property
    def function(self) -> Callable[..., Any]:
        return load_factory(self.spec)

    @property
    def takes_url(self) -> bool:
        return bool(self._parameters() & set(FACTORY_URL_PARAMETERS))

    def _parameters(self) -> set[str]:
        return keyword_parameters(self.function)

    def build(self, url: str | None) -> Config:
        from alembic.config import Config

        declared = self._parameters()
        kwargs: dict[str, Any] = {}
        for name in FACTORY_URL_PARAMETERS:
            if name in declared:
                kwargs[name] = url
        for name in FACTORY_FILE_PARAMETERS:
            if name in declared:
                if self.config_file is None:
                    raise ConfigError(
                        f"config factory {self.spec} needs the host's config file: set "
                        "host-config in [tool.plugin-scaffold] or pass --host-config"
                    )
                if not self.config_file.is_file():
                    raise ConfigError(
                        f"config factory {self.spec}: the host's config file {self.config_file} "
                        "(host-config, --host-config) does not exist"
                    )
                kwargs[name] = str(self.config_file)
        try:
            config = self.function(**kwargs)
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(f"config factory {self.spec} failed: {first_line(exc)}") from None
        if not isinstance(config, Config):
            raise ConfigError(
                f"config factory {self.spec} returned {type(config).__name__}, not an "
                "alembic.config.Config"
            )
        return config


@cache
def load_factory(spec: str) -> Callable[..., Any]:
    module_name, _, attribute = spec.partition(":")
    module = import_host_module(module_name, spec)
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
    if not callable(target):
        raise ConfigError(
            f"{spec}: {module_name} has neither a function {attribute!r} (module:function "
            f"building the Config) nor a folder {attribute!r} (package:path)"
        )
    return target  # type: ignore[no-any-return]


def keyword_parameters(function: Callable[..., Any]) -> set[str]:
    """The names ``function`` can be given as keyword arguments."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return set()
    return {
        name
        for name, p in signature.parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def import_host_module(name: str, spec: str) -> Any:
    """Import a module of the host, its own import error shown as it is (not a guess)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name or name.startswith(f"{exc.name}."):
            raise ConfigError(
                f"cannot import {name!r} named by {spec!r}: is the host installed?"
            ) from None
        raise ConfigError(_import_failed(name, spec, exc)) from None
    except Exception as exc:
        raise ConfigError(_import_failed(name, spec, exc)) from None


def _import_failed(name: str, spec: str, exc: BaseException) -> str:
    return f"importing {name!r} (named by {spec!r}) failed: {first_line(exc)}"


def is_factory_spec(spec: str) -> bool:
    """``module:function`` rather than ``package:folder``: the attribute is callable."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not all(p.isidentifier() for p in attribute.split(".")):
        return False
    try:
        found = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return False
    if found is None:
        return False
    for location in found.submodule_search_locations or ():
        if (Path(location) / attribute.replace(".", "/")).is_dir():
            return False  # a package resource: package:folder
    # A module (not a package) can only be named with a function; a package with neither the
    # folder nor the function is reported by load_factory naming the function.
    return True


# --- rows the host lays down outside its migrations ----------------------------------------------


@dataclass(frozen=True)
class HostInit:
    """``host-init = module:function``: what the host does to a fresh database once its
    migrations have run (MediaGoblin's ``gmg dbupdate`` adds its default privileges then).

    The function is called with the SQLAlchemy ``Connection`` of the run, inside the run's
    transaction, and with the keyword arguments it declares among ``config`` (the Alembic
    ``Config`` of the run) and ``config_file`` (the host's own config file, ``host-config``;
    also ``config_path``, ``path``; None when none is set). Whatever it returns is ignored.
    """

    spec: str
    config_file: Path | None = None

    @property
    def function(self) -> Callable[..., Any]:
        """The function, imported (a failure is one line naming it)."""
        return load_init(self.spec)

    def run(self, connection: Connection, config: Config | None) -> None:
        """Call the function on ``connection``; a failure is one line naming it (exit 1)."""
        from ..databases.urls import redact

        function = self.function
        declared = keyword_parameters(function)
        kwargs: dict[str, Any] = {}
        if "config" in declared:
            kwargs["config"] = config
        for name in FACTORY_FILE_PARAMETERS:
            if name in declared:
                kwargs[name] = str(self.config_file) if self.config_file is not None else None
        try:
            function(connection, **kwargs)
        except ScaffoldError:
            raise
        except Exception as exc:
            where = redact(connection.engine.url)
            raise MigrationError(
                f"host-init {self.spec} failed on {where}: {first_line(exc)}"
            ) from None


def is_function_spec(spec: str) -> bool:
    """``module.path:function`` (or ``module:Class.method``): identifiers on both sides."""
    module_name, sep, attribute = spec.partition(":")
    names = [*module_name.split("."), *attribute.split(".")]
    return bool(sep) and all(name.isidentifier() for name in names)


@cache
def load_init(spec: str) -> Callable[..., Any]:
    module_name, _, attribute = spec.partition(":")
    target: Any = import_host_module(module_name, f"host-init {spec}")
    for part in attribute.split("."):
        target = getattr(target, part, None)
    if not callable(target):
        raise ConfigError(f"host-init {spec}: {module_name} has no function {attribute!r}")
    return target  # type: ignore[no-any-return]


# --- a Flask application ------------------------------------------------------------------------


@dataclass(frozen=True)
class FlaskApp:
    """The Flask application a Flask-Migrate env.py reads through ``current_app``.

    Found as ``flask`` finds it: the project's ``host-app`` or ``FLASK_APP`` (``module:factory``,
    ``module:factory(args)`` or ``module:app``), through Flask's own ``ScriptInfo``.
    """

    spec: str

    @classmethod
    def find(cls, project_app: str | None, env_py: Path) -> FlaskApp:
        spec = project_app or os.environ.get("FLASK_APP")
        if not spec:
            raise UnsupportedHost(
                f"host env.py ({env_py}) needs its Flask application (Flask-Migrate): set "
                "host-app in [tool.plugin-scaffold] or FLASK_APP to module:create_app",
                question="host_app",
            )
        return cls(spec)

    @property
    def app(self) -> Any:
        return _load_app(self.spec)

    def migrate(self) -> Any:
        """Flask-Migrate's record of the app: ``.migrate`` (the Migrate object) and ``.db``."""
        migrate = self.app.extensions.get("migrate")
        if migrate is None:
            raise ConfigError(
                f"Flask app {self.spec} has no Flask-Migrate extension (Migrate(app, db))"
            )
        return migrate

    def config(self, directory: Path, x_args: list[str]) -> Config:
        """Flask-Migrate's own Config for ``directory`` (configure callbacks included)."""
        with self.app.app_context():
            config: Config = self.migrate().migrate.get_config(str(directory), x_arg=x_args or None)
            return config

    def url(self) -> str:
        """The database the application is configured with."""
        with self.app.app_context():
            engine = self.migrate().db.engine
            return str(engine.url.render_as_string(hide_password=False))

    @contextlib.contextmanager
    def context(self) -> Iterator[None]:
        """The app's context, in which Flask-Migrate's env.py runs (its engines connect to the
        database scaffold names: see redirect.py)."""
        with self.app.app_context():
            yield


@cache
def _load_app(spec: str) -> Any:
    try:
        from flask.cli import NoAppException, ScriptInfo
    except ModuleNotFoundError:
        raise ConfigError(f"host app {spec}: Flask is not installed") from None
    try:
        return ScriptInfo(app_import_path=spec).load_app()
    except NoAppException as exc:
        message = first_line(exc).removeprefix("NoAppException: ")
        raise ConfigError(f"host app {spec}: {message}") from None
    except Exception as exc:
        raise ConfigError(f"host app {spec} failed to load: {first_line(exc)}") from None
