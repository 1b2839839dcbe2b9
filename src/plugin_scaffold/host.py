"""The host application's Alembic environment: where its script directory, versions and ini are."""

from __future__ import annotations

import configparser
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

_SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}


def resolve_resource(spec: str) -> Path:
    """``package:path`` (how MediaGoblin and Rattail ship their environments) to a folder."""
    package, _, rel = spec.partition(":")
    try:
        found = importlib.util.find_spec(package)
    except (ImportError, ValueError):
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
    ini_section: str = "alembic"
    version_locations: tuple[Path, ...] = ()
    prepend_sys_path: tuple[Path, ...] = ()
    url: str | None = None
    described_as: str = ""
    unresolved: tuple[str, ...] = ()

    @classmethod
    def from_spec(cls, spec: str, *, base: Path) -> Host:
        """``host_alembic`` as the template records it: an ini path or a ``package:path``."""
        if is_resource(spec):
            return cls.from_script_location(spec)
        path = resolve_location(spec, base)
        if path.is_dir():
            if (path / "alembic.ini").is_file():
                return cls.from_ini(path / "alembic.ini")
            return cls.from_script_location(str(path))
        return cls.from_ini(path)

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
        options = dict(parser.items(section))
        location = options.get("script_location")
        if not location:
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
        url: str | None,
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
        if self.ini_path is not None:
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
            set_option(config, "sqlalchemy.url", url)
        return config


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


def set_option(config: Config, name: str, value: str) -> None:
    # Config options go through ConfigParser interpolation: a literal % must be doubled.
    config.set_section_option(config.config_ini_section, name, value.replace("%", "%%"))
