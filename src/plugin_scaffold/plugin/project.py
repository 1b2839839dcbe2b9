"""A plugin project on disk: the ``[tool.plugin-scaffold]`` table of its ``pyproject.toml``."""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

ENTRY_POINT_GROUP = "plugin_scaffold.plugins"
#: The databases a plugin may run on (``databases``; ``mariadb`` is ``mysql``): all by default.
DATABASES = ("sqlite", "postgresql", "mysql")


@dataclass(frozen=True)
class Project:
    """Where a plugin's source lives and which host it is written for."""

    root: Path
    plugin: str
    package: str
    host_alembic: str | None
    host_base: str | None
    url: str | None
    #: More folders of revisions the host loads at run time (``package:path`` or paths), e.g.
    #: the other MediaGoblin plugins enabled in mediagoblin.ini.
    version_locations: tuple[str, ...] = ()
    #: The host application whose context its env.py needs (``module:factory``, Flask-Migrate).
    host_app: str | None = None
    #: Folders holding the host's code when it is not an installed package (``host-path``: one
    #: path or a list, relative to the project), put on ``sys.path`` before the host is read.
    host_path: tuple[Path, ...] = ()
    #: The host's own config file handed to a ``module:function`` config factory.
    host_config: str | None = None
    #: ``module:function`` run on a fresh database once the host is at its heads: the rows the
    #: host lays down outside its migrations (MediaGoblin's default privileges).
    host_init: str | None = None
    #: The databases the plugin runs on in production (``databases``): the safety rules of
    #: ``scaffold check`` that apply are theirs.
    databases: tuple[str, ...] = DATABASES

    @property
    def pyproject(self) -> Path:
        return self.root / "pyproject.toml"

    @classmethod
    def find(cls, start: Path) -> Project | None:
        """The nearest project at or above ``start`` with ``[tool.plugin-scaffold]``."""
        for folder in (start, *start.parents):
            candidate = folder / "pyproject.toml"
            if candidate.is_file():
                project = cls.load(candidate)
                if project is not None:
                    return project
        return None

    @classmethod
    def load(cls, pyproject: Path) -> Project | None:
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{pyproject}: not valid TOML ({exc})") from None
        table = data.get("tool", {}).get("plugin-scaffold")
        if table is None:
            return None
        plugin = table.get("plugin")
        if not isinstance(plugin, str) or not plugin.isidentifier():
            raise ConfigError(f'{pyproject}: [tool.plugin-scaffold] needs plugin = "<name>"')
        entry_points = data.get("project", {}).get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
        package = entry_points.get(plugin, plugin)
        root = pyproject.parent.resolve()
        return cls(
            root=root,
            plugin=plugin,
            package=package.split(":")[0],
            host_alembic=table.get("host-alembic"),
            host_base=table.get("host-base"),
            url=_resolve_sqlite(table.get("url"), root),
            version_locations=tuple(_strings(table.get("version-locations", []), pyproject)),
            host_app=table.get("host-app") or None,
            host_config=table.get("host-config") or None,
            host_path=_host_path(table.get("host-path"), pyproject),
            host_init=_function_spec(table.get("host-init"), "host-init", pyproject),
            databases=_databases(table.get("databases", list(DATABASES)), pyproject),
        )

    def source_dirs(self) -> list[Path]:
        """Folders to put on ``sys.path`` so the plugin imports without being installed."""
        return [folder for folder in (self.root / "src", self.root) if folder.is_dir()]


def prepend_sys_path(folders: Iterable[Path]) -> None:
    """Put ``folders`` first on ``sys.path``, in their order, each once."""
    for folder in reversed(list(folders)):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def _host_path(value: object, pyproject: Path) -> tuple[Path, ...]:
    """``host-path``: a folder or a list of folders, relative to the project; each must exist."""
    if value is None or value == "":
        return ()
    entries = [value] if isinstance(value, str) else value
    if not isinstance(entries, list) or not all(isinstance(v, str) and v for v in entries):
        raise ConfigError(f"{pyproject}: host-path must be a folder or a list of folders")
    folders = []
    for entry in entries:
        folder = Path(os.path.expanduser(entry))
        folder = (folder if folder.is_absolute() else pyproject.parent / folder).resolve()
        if not folder.is_dir():
            raise ConfigError(
                f"{pyproject}: host-path {entry!r} is not a folder ({folder}; a relative path is "
                "taken from the plugin's folder)"
            )
        folders.append(folder)
    return tuple(folders)


def _databases(value: object, pyproject: Path) -> tuple[str, ...]:
    """``databases``: a list of sqlite, postgresql, mysql (or mariadb)."""
    names = {"mariadb": "mysql", **{kind: kind for kind in DATABASES}}
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.lower() in names for v in value)
    ):
        raise ConfigError(
            f"{pyproject}: databases must be a list of {', '.join(DATABASES)} (or mariadb)"
        )
    return tuple(sorted({names[v.lower()] for v in value}, key=DATABASES.index))


def _strings(value: object, pyproject: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{pyproject}: version-locations must be a list of strings")
    return list(value)


def _function_spec(value: object, key: str, pyproject: Path) -> str | None:
    """An optional ``module:function`` key of the table."""
    from ..host.kinds import is_function_spec

    if value is None or value == "":
        return None
    if not isinstance(value, str) or not is_function_spec(value):
        raise ConfigError(
            f"{pyproject}: {key} = {value!r} is not module:function "
            "(e.g. plugin_scaffold.hosts.mediagoblin:foundations)"
        )
    return value


def _resolve_sqlite(url: str | None, root: Path) -> str | None:
    """Relative SQLite paths in a project are relative to the project, not to the shell."""
    if not url or not url.startswith("sqlite") or ":///" not in url:
        return url
    scheme, path = url.split(":///", 1)
    if not path or path.startswith("/") or path == ":memory:":
        return url
    return f"{scheme}:///{root / path}"
