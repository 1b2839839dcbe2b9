"""The combined revision graph of a host and its plugins: which revision belongs to which branch."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, MigrationError, UsageError
from .plugin import Plugin

if TYPE_CHECKING:
    from alembic.script import Script, ScriptDirectory


class Graph:
    """Alembic's revision map, read once, with each revision attributed to its owner.

    A revision belongs to a plugin when its file lives in that plugin's ``migrations`` folder;
    every other revision belongs to the host.
    """

    def __init__(self, script: ScriptDirectory, plugins: Iterable[Plugin]) -> None:
        self.script = script
        self.plugins = {p.name: p for p in plugins}

    @cached_property
    def _folders(self) -> dict[Path, str]:
        return {plugin.migrations: name for name, plugin in self.plugins.items()}

    @cached_property
    def revisions(self) -> list[Script]:
        """Every revision, heads first (Alembic's walk order)."""
        from alembic.script.revision import RevisionError
        from alembic.util import CommandError

        try:
            return list(self.script.walk_revisions("base", "heads"))
        except (RevisionError, CommandError, KeyError) as exc:
            raise ConfigError(f"the revision graph cannot be read: {exc}") from None

    def owner(self, revision: Script) -> str | None:
        """The plugin name owning ``revision``, or None for a host revision."""
        # Alembic gives each revision's path already resolved.
        return self._folders.get(Path(revision.path).parent)

    def revisions_of(self, plugin: str) -> list[Script]:
        return [r for r in self.revisions if self.owner(r) == plugin]

    def heads_of(self, plugin: str) -> list[Script]:
        mine = self.revisions_of(plugin)
        ids = {r.revision for r in mine}
        parents = {d for r in mine for d in _downs(r) if d in ids}
        return [r for r in mine if r.revision not in parents]

    def head_of(self, plugin: str) -> Script | None:
        """The single head of a plugin's branch (None when it has no revision yet)."""
        heads = self.heads_of(plugin)
        if len(heads) > 1:
            names = ", ".join(sorted(h.revision for h in heads))
            raise MigrationError(
                f"plugin {plugin} has {len(heads)} heads ({names}): merge them first "
                f"(alembic merge -m 'merge' {names.replace(', ', ' ')})"
            )
        return heads[0] if heads else None

    @property
    def host_heads(self) -> list[str]:
        heads = self.script.get_heads()
        return [h for h in heads if self.owner(self.script.get_revision(h)) is None]  # type: ignore[arg-type]

    def label_exists(self, label: str) -> bool:
        return any(label in (r.branch_labels or ()) for r in self.revisions)

    def require_branch(self, plugin: str) -> None:
        if not self.label_exists(plugin):
            raise UsageError(
                f"plugin {plugin} has no revision labelled {plugin!r} "
                f"in {self.plugins[plugin].migrations}"
                if plugin in self.plugins
                else f"no plugin named {plugin!r} (see scaffold plugins)"
            )

    def at_heads(self, current: Iterable[str]) -> bool:
        """True when ``current`` (a database's heads) is every head of the graph."""
        return set(self.script.get_revisions(tuple(current))) == set(
            self.script.get_revisions("heads")
        )


def _downs(revision: Script) -> tuple[str, ...]:
    down = revision.down_revision
    if down is None:
        return ()
    return (down,) if isinstance(down, str) else tuple(down)
