"""The host application's Alembic environment: where its script directory, versions and config are.

A host's Config comes from an ini file (alembic.ini, an application's own config file, or
Flask-Migrate's migrations/alembic.ini), from pyproject.toml's ``[tool.alembic]`` (Alembic >=
1.16), from a ``package:path`` resource, or from the host's own code (``module:function``); how
env.py must be run (a Flask app's context, an async engine) is read from env.py itself. The kinds
are told apart here and in :mod:`plugin_scaffold.host.kinds`, nowhere else.
"""

from __future__ import annotations

import configparser
import contextlib
import importlib.util
import os
import tomllib
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, first_line
from .kinds import ConfigFactory, EnvStyle, FlaskApp, HostInit, is_factory_spec

if TYPE_CHECKING:
    from alembic.config import Config

    from ..databases.urls import DatabaseURL

_SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}


def resolve_resource(spec: str) -> Path:
    """``package:path`` (how MediaGoblin and Rattail ship their environments) to a folder."""
    package, _, rel = spec.partition(":")
    try:
        found = importlib.util.find_spec(package)
    except Exception as exc:
        # find_spec imports the parent packages: the package itself (or a parent) missing is
        # "not installed"; anything else is the host's own import failing, shown as it is
        # (MediaGoblin without setuptools: No module named 'pkg_resources').
        missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        if not missing or not (package == missing or package.startswith(f"{missing}.")):
            raise ConfigError(
                f"importing {package!r} (named by {spec!r}) failed: {first_line(exc)}"
            ) from None
        found = None
    if found is None or not found.submodule_search_locations:
        raise ConfigError(f"cannot import package {package!r} named by {spec!r}: is it installed?")
    base = Path(next(iter(found.submodule_search_locations)))
    return (base / rel).resolve() if rel else base.resolve()


def is_resource(spec: str) -> bool:
    """True for ``package:path``; false for filesystem paths (including ``C:\\...``)."""
    head, sep, _ = spec.partition(":")
    return bool(sep) and len(head) > 1 and all(p.isidentifier() for p in head.split("."))


def resolve_location(value: str, base: Path) -> Path:
    """A script or version location: a resource, an absolute path or a path relative to ``base``."""
    if is_resource(value):
        return resolve_resource(value)
    path = Path(os.path.expanduser(value))
    return (path if path.is_absolute() else base / path).resolve()


@dataclass(frozen=True)
class Host:
    """A host's Alembic environment, read from its ini file or from a ``package:path`` resource.

    Relative paths in an ini are taken relative to the ini's folder, so ``scaffold -c`` works from
    anywhere (Alembic itself takes them relative to the shell's folder).
    """

    script_location: Path
    ini_path: Path | None = None
    #: pyproject.toml holding ``[tool.alembic]`` (Alembic >= 1.16); the ini, if any, beside it.
    toml_path: Path | None = None
    ini_section: str = "alembic"
    version_locations: tuple[Path, ...] = ()
    prepend_sys_path: tuple[Path, ...] = ()
    url: str | None = None
    described_as: str = ""
    unresolved: tuple[str, ...] = ()
    #: The Config is built by the host's own code.
    factory: ConfigFactory | None = None
    #: env.py runs inside this Flask application's context (Flask-Migrate).
    flask: FlaskApp | None = None
    style: EnvStyle = field(default_factory=EnvStyle)
    #: What the host does to a fresh database once its migrations have run (``host-init``).
    init: HostInit | None = None

    @classmethod
    def from_spec(
        cls,
        spec: str,
        *,
        base: Path,
        app: str | None = None,
        host_config: str | None = None,
        init: str | None = None,
    ) -> Host:
        """``host_alembic`` as the template records it: an ini or pyproject.toml path, a folder,
        a ``package:path`` resource or a ``module:function`` config factory.

        ``app`` is the host application env.py needs (Flask-Migrate), ``host_config`` the
        host's own config file handed to a config factory (and to ``init``), ``init`` the
        ``module:function`` run on a fresh database once the host is at its heads.
        """
        config_file = resolve_location(host_config, base) if host_config else None
        host_init = HostInit(init, config_file) if init else None
        if is_resource(spec) and is_factory_spec(spec):
            host = cls.from_factory(ConfigFactory(spec, config_file))
        elif is_resource(spec):
            host = cls.from_script_location(spec)
        else:
            path = resolve_location(spec, base)
            if path.is_dir():
                if (path / "alembic.ini").is_file():
                    host = cls.from_ini(path / "alembic.ini")
                elif _has_tool_alembic(path / "pyproject.toml"):
                    host = cls.from_pyproject(path / "pyproject.toml")
                else:
                    host = cls.from_script_location(str(path))
            elif path.name == "pyproject.toml":
                host = cls.from_pyproject(path)
            else:
                host = cls.from_ini(path)
        return replace(host.with_runtime(app), init=host_init)

    @classmethod
    def from_cwd(cls, cwd: Path, *, app: str | None = None, init: str | None = None) -> Host | None:
        """The host of the folder a command runs in: ./alembic.ini or ./pyproject.toml."""
        if (cwd / "alembic.ini").is_file():
            host = cls.from_ini(cwd / "alembic.ini")
        elif _has_tool_alembic(cwd / "pyproject.toml"):
            host = cls.from_pyproject(cwd / "pyproject.toml")
        else:
            return None
        return replace(host.with_runtime(app), init=HostInit(init) if init else None)

    def with_runtime(self, app: str | None) -> Host:
        """This host with what its env.py needs to run: refused, or given a Flask app."""
        env_py = self.script_location / "env.py"
        style = EnvStyle.of(env_py, self._main_option("databases"))
        style.refuse_unsupported(env_py)
        host = replace(self, style=style)
        if style.needs_flask_app and self.flask is None:
            flask = FlaskApp.find(app, env_py)
            host = replace(host, flask=flask, url=self.url or flask.url())
        return host

    def _main_option(self, name: str) -> str | None:
        if self.ini_path is None:
            return None
        parser = configparser.ConfigParser(defaults={"here": str(self.ini_path.parent)})
        try:
            parser.read(self.ini_path, encoding="utf-8")
            return parser.get(self.ini_section, name, fallback=None)
        except configparser.Error:
            return None

    @classmethod
    def from_factory(cls, factory: ConfigFactory) -> Host:
        """A host whose Config its own code builds (MediaGoblin adds enabled media types' and
        plugins' folders from its config file).

        The file the Config was made from (``config_file_name``, MediaGoblin's
        ``mediagoblin/db/migrations/alembic.ini``; ``toml_file_name``) is the host's ini or
        pyproject.toml, which ``scaffold wire`` edits.
        """
        config = factory.build(None)
        described = factory.spec + (f" ({factory.config_file})" if factory.config_file else "")
        location = config.get_main_option("script_location")
        if not location:
            raise ConfigError(f"config factory {described} set no script_location")
        script = resolve_location(location, Path.cwd())
        if not (script / "env.py").is_file():
            raise ConfigError(f"{described}: script_location {location!r} has no env.py")
        options = dict(config.get_section(config.config_ini_section) or {})
        cwd = Path.cwd()  # a Config built in code names paths as Alembic takes them
        versions = [resolve_location(e, cwd) for e in split_option(options, "version_locations")]
        prepend = [resolve_location(e, cwd) for e in split_option(options, "prepend_sys_path")]
        return cls(
            script_location=script,
            ini_path=_file_named(config.config_file_name),
            toml_path=_file_named(getattr(config, "toml_file_name", None)),
            ini_section=config.config_ini_section,
            version_locations=tuple(versions) or (script / "versions",),
            prepend_sys_path=tuple(prepend),
            url=options.get("sqlalchemy.url") or None,
            described_as=described,
            factory=factory,
        )

    @classmethod
    def from_pyproject(cls, toml: Path, ini: Path | None = None) -> Host:
        """Alembic >= 1.16's ``[tool.alembic]``; the URL and logging in the alembic.ini by it."""
        from alembic.config import Config

        toml = toml.resolve()
        if not hasattr(Config, "get_alembic_option"):
            import alembic

            raise ConfigError(
                f"{toml}: [tool.alembic] needs Alembic >= 1.16 (installed: {alembic.__version__})"
            )
        table = _tool_alembic(toml)
        if table is None:
            raise ConfigError(f"{toml}: no [tool.alembic] table")
        here = {"here": str(toml.parent)}

        def paths(name: str) -> list[Path]:
            value = table.get(name) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{toml}: [tool.alembic] {name} must be a list of strings")
            return [resolve_location(v % here, toml.parent) for v in value]

        location = table.get("script_location")
        if not isinstance(location, str) or not location:
            raise ConfigError(f"{toml}: [tool.alembic] has no script_location")
        script = resolve_location(location % here, toml.parent)
        if not (script / "env.py").is_file():
            raise ConfigError(f"{toml}: script_location {location!r} has no env.py ({script})")
        if ini is None and (toml.parent / "alembic.ini").is_file():
            ini = toml.parent / "alembic.ini"
        url = None
        if ini is not None:
            parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
            parser.read(ini, encoding="utf-8")
            if parser.has_section("alembic"):
                url = ini_options(parser, "alembic", ini).get("sqlalchemy.url") or None
        return cls(
            script_location=script,
            ini_path=ini.resolve() if ini is not None else None,
            toml_path=toml,
            version_locations=tuple(paths("version_locations")) or (script / "versions",),
            prepend_sys_path=tuple(paths("prepend_sys_path")),
            url=url,
            described_as=str(toml),
        )

    @classmethod
    def from_script_location(cls, location: str) -> Host:
        folder = resolve_location(location, Path.cwd())
        if not (folder / "env.py").is_file():
            raise ConfigError(f"{location}: no env.py in {folder}: not an Alembic script directory")
        # MediaGoblin keeps an alembic.ini next to env.py; use it as the config file when present.
        ini = folder / "alembic.ini"
        if ini.is_file():
            host = cls.from_ini(ini)
            return host if host.script_location == folder else cls._bare(folder, location)
        return cls._bare(folder, location)

    @classmethod
    def _bare(cls, folder: Path, location: str) -> Host:
        return cls(
            script_location=folder,
            version_locations=(folder / "versions",),
            described_as=location,
        )

    @classmethod
    def from_ini(cls, ini: Path, section: str = "alembic") -> Host:
        ini = ini.resolve()
        if not ini.is_file():
            raise ConfigError(f"{ini}: no such Alembic config file (pass -c/--config)")
        parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
        try:
            parser.read(ini, encoding="utf-8")
        except configparser.Error as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(f"{ini}: cannot be read as an ini file ({first})") from None
        if not parser.has_section(section):
            raise ConfigError(f"{ini}: no [{section}] section")
        options = ini_options(parser, section, ini)
        location = options.get("script_location")
        if not location:
            if _has_tool_alembic(ini.parent / "pyproject.toml"):
                # `alembic init -t pyproject`: the ini holds the URL and logging only
                return cls.from_pyproject(ini.parent / "pyproject.toml", ini)
            if (ini.parent / "env.py").is_file():
                # Flask-Migrate: its migrations/alembic.ini sits in the script directory,
                # which Flask-Migrate names in code
                location = str(ini.parent)
            else:
                raise ConfigError(f"{ini}: [{section}] has no script_location")
        script = resolve_location(location, ini.parent)
        if not (script / "env.py").is_file():
            raise ConfigError(f"{ini}: script_location {location!r} has no env.py ({script})")
        versions: list[Path] = []
        unresolved: list[str] = []
        for entry in split_option(options, "version_locations"):
            try:
                versions.append(resolve_location(entry, ini.parent))
            except ConfigError:
                # e.g. a wired plugin that is not installed: reported when the graph is
                # needed, so that `scaffold unwire` still works
                unresolved.append(entry)
        return cls(
            script_location=script,
            ini_path=ini,
            ini_section=section,
            version_locations=tuple(versions) or (script / "versions",),
            unresolved=tuple(unresolved),
            prepend_sys_path=tuple(
                resolve_location(p, ini.parent) for p in split_option(options, "prepend_sys_path")
            ),
            url=options.get("sqlalchemy.url") or None,
            described_as=str(ini),
        )

    def config(
        self,
        *,
        extra_locations: list[Path],
        url: DatabaseURL | None,
        quiet: bool = False,
        x_args: list[str] | None = None,
    ) -> Config:
        """An Alembic ``Config`` for this host with the plugins' folders added to its versions."""
        from argparse import Namespace

        from alembic.config import Config

        if self.unresolved:
            entry = self.unresolved[0]
            raise ConfigError(
                f"{self.described_as}: version_locations entry {entry!r} cannot be imported "
                f"(install its package, or `scaffold unwire` the plugin it belongs to)"
            )

        # What alembic's own command line would have parsed: env.py files read -x from here.
        options = Namespace(quiet=quiet, x=list(x_args or []))
        if self.factory is not None:
            config = self.factory.build(url.text if url is not None else None)
            config.cmd_opts = options
        elif self.flask is not None:
            config = self.flask.config(self.script_location, list(x_args or []))
            config.cmd_opts = options
        elif self.toml_path is not None:
            config = Config(
                str(self.ini_path) if self.ini_path else None,
                ini_section=self.ini_section,
                toml_file=str(self.toml_path),
                cmd_opts=options,
            )
        elif self.ini_path is not None:
            config = Config(str(self.ini_path), ini_section=self.ini_section, cmd_opts=options)
        else:
            config = Config(ini_section=self.ini_section, cmd_opts=options)
        seen: dict[Path, None] = {}
        for location in (*self.version_locations, *extra_locations):
            seen.setdefault(location.resolve(), None)
        # Paths are absolute from here on, so the OS separator is unambiguous; both option names
        # are set so old (version_path_separator) and new (path_separator) Alembic agree.
        set_option(config, "path_separator", "os")
        set_option(config, "version_path_separator", "os")
        set_option(config, "script_location", str(self.script_location))
        set_option(config, "version_locations", os.pathsep.join(str(p) for p in seen))
        if self.prepend_sys_path:
            set_option(
                config, "prepend_sys_path", os.pathsep.join(str(p) for p in self.prepend_sys_path)
            )
        if url is not None:
            set_option(config, "sqlalchemy.url", env_url(url, self.style))
        return config

    def running(self) -> contextlib.AbstractContextManager[None]:
        """The context env.py runs in: the Flask app's; else nothing to enter."""
        if self.flask is not None:
            return self.flask.context()
        return nullcontext()

    def connection_url(self, url: DatabaseURL) -> DatabaseURL:
        """The URL scaffold opens itself (a synchronous driver, whatever env.py uses)."""
        return url.twin(False) if self.style.is_async else url


def env_url(url: DatabaseURL, style: EnvStyle) -> str:
    """The URL env.py is given in ``sqlalchemy.url``: an async driver for an async env.py."""
    return (url.twin(True) if style.is_async else url).text


def _file_named(name: object) -> Path | None:
    """A Config's ``config_file_name``/``toml_file_name``, when it names a file."""
    if not isinstance(name, str | os.PathLike) or not name:
        return None
    path = Path(name)
    return path.resolve() if path.is_file() else None


def _tool_alembic(toml: Path) -> dict[str, object] | None:
    try:
        data = tomllib.loads(toml.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    table = data.get("tool", {}).get("alembic")
    return table if isinstance(table, dict) else None


def _has_tool_alembic(toml: Path) -> bool:
    return toml.is_file() and _tool_alembic(toml) is not None


def split_option(options: dict[str, str], name: str) -> list[str]:
    """Split a list-valued ini option the way Alembic does, honouring its separator settings."""
    value = options.get(name)
    if not value:
        return []
    separator = options.get("path_separator") or options.get("version_path_separator")
    if separator is not None:
        # Alembic 1.13's own `alembic init` writes "os  # Use os.pathsep. ..." here.
        separator = separator.split("#", 1)[0].strip()
    if separator is None:
        import re

        splitter = r", *|(?: +)" if name == "version_locations" else r", *|(?: +)|\:"
        return [part for part in re.split(splitter, value.strip()) if part]
    if separator not in _SEPARATORS:
        raise ConfigError(f"path_separator {separator!r} is not one Alembic knows")
    return [part.strip() for part in value.split(_SEPARATORS[separator]) if part.strip()]


def ini_options(parser: configparser.ConfigParser, section: str, ini: Path) -> dict[str, str]:
    """The options of ``section``, interpolated; a value that cannot be is one line naming the
    option, never its value (a URL's password is in it).

    The URL's password is remembered as written first, so that nothing prints it later.
    """
    from ..databases.urls import remember_secrets

    raw = parser.get(section, "sqlalchemy.url", raw=True, fallback=None)
    if raw:
        remember_secrets(raw)
        remember_secrets(raw.replace("%%", "%"))
    try:
        return dict(parser.items(section))
    except configparser.InterpolationSyntaxError as exc:
        raise ConfigError(
            f"{ini}: [{section}] {exc.option}: a '%' is written '%%' in an ini file "
            "(a percent-encoded URL's too: %40 as %%40)"
        ) from None
    except configparser.InterpolationError as exc:
        raise ConfigError(
            f"{ini}: [{section}] {exc.option}: cannot be interpolated ({type(exc).__name__})"
        ) from None


def set_option(config: Config, name: str, value: str) -> None:
    # Config options go through ConfigParser interpolation: a literal % must be doubled.
    config.set_section_option(config.config_ini_section, name, value.replace("%", "%%"))
