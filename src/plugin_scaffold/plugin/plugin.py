"""Plugins: how they are found (project, entry points, wiring), their revisions and tables."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, OwnershipError, PluginError, first_line
from .project import ENTRY_POINT_GROUP, Project, prepend_sys_path

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table


@dataclass(frozen=True)
class Plugin:
    """A plugin: its branch label (= name), its package, and where its revisions live."""

    name: str
    package: str
    source: str  # "project", "entry point" or "wired"

    @property
    def models_module(self) -> str:
        return f"{self.package}.models"

    @cached_property
    def migrations(self) -> Path:
        """The plugin's ``migrations`` package folder: its revisions live directly in it (found
        once; a plugin not found is looked for again)."""
        spec = _find_spec(f"{self.package}.migrations", self)
        if spec is None or not spec.submodule_search_locations:
            hint = (
                f": install it, or `scaffold unwire {self.name}`" if self.source == "wired" else ""
            )
            raise PluginError(
                f"plugin {self.name} ({self.source}): package {self.package}.migrations "
                f"not found{hint}"
            )
        return Path(next(iter(spec.submodule_search_locations))).resolve()

    def load_models(self) -> PluginModels:
        """Import the plugin's models (registering its tables on the host's MetaData)."""
        module = _import(self.models_module, self)
        tables = _tables_of(module, self)
        prefix = getattr(module, "TABLE_PREFIX", self.name)
        if not isinstance(prefix, str) or not prefix:
            raise PluginError(
                f"plugin {self.name}: {self.models_module}.TABLE_PREFIX must be a name"
            )
        return PluginModels(self, module, prefix, tuple(tables))


@dataclass(frozen=True)
class PluginModels:
    """What a plugin's ``models.py`` declares."""

    plugin: Plugin
    module: ModuleType
    prefix: str
    tables: tuple[Table, ...]

    @property
    def table_names(self) -> frozenset[str]:
        return frozenset(t.name for t in self.tables)

    @property
    def metadata(self) -> MetaData | None:
        return self.tables[0].metadata if self.tables else None

    def owns(self, table_name: str | None) -> bool:
        """A plugin owns the tables it declares and any table carrying its prefix."""
        if not table_name:
            return False
        return table_name in self.table_names or table_name.startswith(f"{self.prefix}__")

    def check_prefix(self) -> None:
        for table in self.tables:
            if not table.name.startswith(f"{self.prefix}__"):
                raise OwnershipError(
                    f"plugin {self.plugin.name}: table {table.name!r} in "
                    f"{self.plugin.models_module} "
                    f"lacks the plugin's prefix (name it {self.prefix}__{table.name})"
                )


def _find_spec(name: str, plugin: Plugin) -> Any:
    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None
    except Exception as exc:
        raise PluginError(
            f"plugin {plugin.name}: importing {name} failed: {first_line(exc)}"
        ) from None


def _import(name: str, plugin: Plugin) -> ModuleType:
    from sqlalchemy.exc import InvalidRequestError

    try:
        return importlib.import_module(name)
    except SyntaxError as exc:
        raise PluginError(f"{exc.filename}:{exc.lineno}: syntax error: {exc.msg}") from None
    except InvalidRequestError as exc:
        text = str(exc)
        if "already defined for this MetaData" in text:
            table = text.split("'")[1] if "'" in text else "?"
            raise OwnershipError(
                f"plugin {plugin.name}: {name} declares table {table!r}, which the host or "
                "another plugin already defines"
            ) from None
        raise PluginError(
            f"plugin {plugin.name}: importing {name} failed: {first_line(exc)}"
        ) from None
    except ModuleNotFoundError as exc:
        raise PluginError(f"plugin {plugin.name}: cannot import {name}: {exc}") from None
    except Exception as exc:
        raise PluginError(
            f"plugin {plugin.name}: importing {name} failed: {first_line(exc)}"
        ) from None


def _tables_of(module: ModuleType, plugin: Plugin) -> list[Table]:
    """Tables named in ``MODELS`` plus any mapped class or Table the module itself defines."""
    from sqlalchemy import Table

    found: dict[str, Table] = {}

    def add(obj: Any) -> None:
        table = obj if isinstance(obj, Table) else getattr(obj, "__table__", None)
        if isinstance(table, Table):
            found.setdefault(table.name, table)

    models = getattr(module, "MODELS", [])
    if isinstance(models, str | bytes) or not isinstance(models, Iterable):
        # Iterating it would fail far from here, inside the host's env.py, and blame that.
        raise PluginError(
            f"plugin {plugin.name}: {module.__name__}.MODELS must be a list of mapped classes "
            f"or tables, not {type(models).__name__} ({getattr(module, '__file__', '?')})"
        )
    for obj in models:
        add(obj)
    for obj in vars(module).values():
        if isinstance(obj, Table) or getattr(obj, "__module__", None) == module.__name__:
            add(obj)
    return list(found.values())


def entry_point_plugins() -> list[Plugin]:
    """Installed plugins, announced in the ``plugin_scaffold.plugins`` entry-point group."""
    from importlib.metadata import entry_points

    return [
        Plugin(name=ep.name, package=ep.value.split(":")[0], source="entry point")
        for ep in entry_points(group=ENTRY_POINT_GROUP)
    ]


def project_plugin(project: Project) -> Plugin:
    prepend_sys_path(project.source_dirs())
    return Plugin(name=project.plugin, package=project.package, source="project")


def collect(*groups: list[Plugin]) -> list[Plugin]:
    """Merge plugins from several sources; the first source named wins; one name, one package."""
    merged: dict[str, Plugin] = {}
    for group in groups:
        for plugin in group:
            known = merged.get(plugin.name)
            if known is None:
                merged[plugin.name] = plugin
            elif known.package != plugin.package:
                raise ConfigError(
                    f"two plugins are named {plugin.name!r}: package {known.package} "
                    f"({known.source}) and {plugin.package} ({plugin.source})"
                )
    return sorted(merged.values(), key=lambda p: p.name)
