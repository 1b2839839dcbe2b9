"""The combined revision graph of a host and its plugins: which revision belongs to which branch."""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from .. import alembic_private
from ..errors import ConfigError, MigrationError, UsageError, unknown_plugin
from ..plugin.plugin import Plugin

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
    def _folders(self) -> dict[str, str]:
        return {str(plugin.migrations): name for name, plugin in self.plugins.items()}

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
        # Alembic gives each revision's path already resolved (a str or, from Alembic 1.16 on,
        # a Path).
        return self._folders.get(os.path.dirname(os.fspath(revision.path)))

    def revisions_of(self, plugin: str) -> list[Script]:
        return [r for r in self.revisions if self.owner(r) == plugin]

    def heads_of(self, plugin: str) -> list[Script]:
        mine = self.revisions_of(plugin)
        ids = {r.revision for r in mine}
        parents = {d for r in mine for d in _downs(r) if d in ids}
        return [r for r in mine if r.revision not in parents]

    def root_of(self, plugin: str) -> Script:
        """The root of a plugin's branch: its revision with no down_revision of the branch."""
        mine = self.revisions_of(plugin)
        ids = {r.revision for r in mine}
        roots = [r for r in mine if not set(_downs(r)) & ids]
        if not roots:
            self.require_branch(plugin)
        return roots[-1]

    def head_of(self, plugin: str) -> Script | None:
        """The single head of a plugin's branch (None when it has no revision yet)."""
        heads = self.heads_of(plugin)
        if len(heads) > 1:
            names = ", ".join(sorted(h.revision for h in heads))
            raise MigrationError(
                f"plugin {plugin} has {len(heads)} heads ({names}): merge them first "
                f"(scaffold merge --plugin {plugin})"
            )
        return heads[0] if heads else None

    @property
    def host_heads(self) -> list[str]:
        heads = self.script.get_heads()
        return [h for h in heads if self.owner(self.script.get_revision(h)) is None]  # type: ignore[arg-type]

    def parents(self, revision: Script) -> list[Script]:
        """The revisions ``revision`` names as down_revision or depends_on (labels resolved)."""
        names = _downs(revision) + _names(revision.dependencies)
        return [self.script.get_revision(name) for name in names]

    def host_branches_needed(self, revisions: Iterable[Script]) -> list[str]:
        """The host heads to reach before running the plugin revisions among ``revisions``.

        A plugin revision names host revisions (its root usually ``depends_on`` the host's label
        or head); the plugin's models are written against what the host's branches through
        those revisions look like at their heads, so each is brought to its head first. Only
        the branches a plugin revision names are followed, through down_revision: host
        branches that merely depend_on them (another plugin system's branches) are not.
        """
        named = {
            parent.revision: parent
            for revision in revisions
            if self.owner(revision) is not None
            for parent in self.parents(revision)
            if self.owner(parent) is None
        }
        heads: dict[str, None] = {}
        seen: set[str] = set()
        todo = list(named.values())
        while todo:
            revision = todo.pop()
            if revision.revision in seen:
                continue
            seen.add(revision.revision)
            children = [self.script.get_revision(c) for c in sorted(revision.nextrev)]
            above = [c for c in children if self.owner(c) is None]
            if not above:
                heads[revision.revision] = None
            todo.extend(above)
        return list(heads)

    def host_first(self, revisions: Sequence[Script]) -> list[Script]:
        """``revisions`` (an upgrade plan) with host revisions before plugin revisions.

        A plugin root that depends_on a host label depends on the revision carrying it, usually
        the host's root: Alembic's order may run it right after that revision, before the host
        revisions that create or rename the tables the plugin references. The order kept is
        Alembic's wherever down_revision and depends_on leave a choice, and every revision still
        comes after the planned revisions it names, so the result is a plan Alembic could run.
        """
        position = {r.revision: n for n, r in enumerate(revisions)}
        waiting = [0] * len(revisions)
        after: list[list[int]] = [[] for _ in revisions]
        for n, revision in enumerate(revisions):
            for parent in {position.get(p.revision) for p in self.parents(revision)}:
                if parent is not None:
                    waiting[n] += 1
                    after[parent].append(n)
        # Ready revisions are taken host first, then in Alembic's order.
        ready = [(self.owner(r) is not None, n) for n, r in enumerate(revisions) if not waiting[n]]
        heapq.heapify(ready)
        ordered: list[Script] = []
        while ready:
            _, n = heapq.heappop(ready)
            ordered.append(revisions[n])
            for child in after[n]:
                waiting[child] -= 1
                if not waiting[child]:
                    heapq.heappush(ready, (self.owner(revisions[child]) is not None, child))
        return ordered

    @cached_property
    def _parent_ids(self) -> dict[str, tuple[str, ...]]:
        """Each revision id, and the ids it names (down_revision, depends_on; labels resolved)."""
        named = alembic_private.down_revisions_and_dependencies
        return {r.revision: named(r) for r in self.revisions}

    @cached_property
    def _named_by(self) -> dict[str, tuple[str, ...]]:
        """Each revision id, and the ids that name it (the other way round of _parent_ids)."""
        found: dict[str, list[str]] = {}
        for revision, parent_ids in self._parent_ids.items():
            for parent in parent_ids:
                found.setdefault(parent, []).append(revision)
        return {rev: tuple(named) for rev, named in found.items()}

    @staticmethod
    def _walk(
        starts: Iterable[str], seen: set[str], edges: Mapping[str, Iterable[str]]
    ) -> set[str]:
        """``seen``, with every revision reached from ``starts`` along ``edges`` (one walk,
        whatever the number of starts: a line of thousands is walked once, not once per
        revision)."""
        todo = [nxt for start in starts for nxt in edges.get(start, ())]
        while todo:
            revision = todo.pop()
            if revision not in seen:
                seen.add(revision)
                todo.extend(edges.get(revision, ()))
        return seen

    def _above(self, starts: Iterable[str], seen: set[str]) -> set[str]:
        """``seen``, with every revision ``starts`` name, directly or not."""
        return self._walk(starts, seen, self._parent_ids)

    def ancestors(self, revision: str) -> frozenset[str]:
        """Every revision ``revision`` names, directly or not (down_revision, depends_on)."""
        return frozenset(self._above([revision], set()))

    def applied(self, rows: Iterable[str]) -> frozenset[str]:
        """The revisions a database whose ``alembic_version`` holds ``rows`` has run."""
        rows = list(rows)
        return frozenset(self._above(rows, set(rows)))

    def version_rows(self, applied: Iterable[str]) -> tuple[str, ...]:
        """The rows ``alembic_version`` holds on a database where ``applied`` (and what they
        name) have run: those that no other of them names, directly or not.

        This is what Alembic's online commands leave: a revision named by another applied one,
        through its down_revision or depends_on, has no row of its own.
        """
        ids = set(applied)
        rows = ids - self._above(ids, set())
        return tuple(r.revision for r in self.revisions if r.revision in rows)

    @cached_property
    def _children(self) -> dict[str, frozenset[str]]:
        """Each revision id, and the revisions above it through down_revision (not depends_on)."""
        found: dict[str, set[str]] = {r.revision: set() for r in self.revisions}
        for revision in self.revisions:
            for down in _downs(revision):
                found.setdefault(down, set()).add(revision.revision)
        return {rev: frozenset(children) for rev, children in found.items()}

    def descendants(self, revision: str) -> frozenset[str]:
        """Every revision above ``revision`` on its line of descent (down_revision only: a
        plugin whose root depends_on it is on a line of its own)."""
        return frozenset(self._walk([revision], set(), self._children))

    def stamped(
        self, rows: Iterable[str], targets: Iterable[str], *, cleared: Iterable[str] = ()
    ) -> tuple[str, ...]:
        """The version rows after stamping ``targets`` on a database holding ``rows``.

        A stamp moves only the lines of descent its targets are on: each target is recorded,
        with what it comes after on its own branch, and what its line has above it is no longer
        recorded. Every other row stays as it is (Alembic's own stamp drops a plugin's row when
        the host's row moves: see docs/safety.md). ``cleared``: revisions unrecorded first (a
        branch's ``@base``, a plugin's ``--purge``).

        Refused (:class:`UsageError`, nothing written) when the result would record a revision
        without one it names: a target depending on another branch's revision the database
        has not run, or a recorded revision of another branch depending on one unrecorded here.
        """
        before = set(self.applied(rows))
        applied = before - set(cleared)
        own: set[str] = set()
        targets = list(targets)
        for target in targets:
            applied -= self.descendants(target)
        for target in targets:
            owner = self._owner_of(target)
            line = {target} | {a for a in self.ancestors(target) if self._owner_of(a) == owner}
            own |= line
            applied |= {target} | self.ancestors(target)
        assumed = sorted(applied - before - own)
        if assumed:
            needing = next(t for t in targets if set(assumed) & self.ancestors(t))
            shown = self.version_rows(assumed)
            raise UsageError(
                f"revision {needing} depends on {', '.join(shown)} ({self.whose(shown[0])}), "
                "which the database has not run, and would record it as run too: bring "
                f"{self.whose(shown[0])} there first (scaffold upgrade {shown[0]}; or scaffold "
                f"stamp {shown[0]} if its tables exist)"
            )
        for revision in self.version_rows(applied):
            missing = sorted(self.ancestors(revision) - applied)
            if missing:
                whose = self.whose(revision)
                owner = self._owner_of(revision)
                hint = (
                    f" (scaffold downgrade --plugin {owner}, or scaffold stamp {owner}@base)"
                    if owner is not None
                    else ""
                )
                raise UsageError(
                    f"revision {revision} ({whose}) depends on "
                    f"{', '.join(self.version_rows(missing))}, which this stamp would unrecord "
                    f"while keeping {revision}: remove {whose} first{hint}"
                )
        return self.version_rows(applied)

    def _owner_of(self, revision: str) -> str | None:
        script = self.script.get_revision(revision)
        return self.owner(script) if script is not None else None

    def whose(self, revision: str) -> str:
        """``the host`` or ``plugin NAME``: who a revision id (a version row) belongs to, as
        messages say it; ``not found here`` for a row no revision here has."""
        if revision not in self._parent_ids:
            return "not found here"
        owner = self._owner_of(revision)
        return "the host" if owner is None else f"plugin {owner}"

    def branch_members(self, label: str) -> frozenset[str]:
        """The revisions on the branch labelled ``label`` (the label's revision and above)."""
        return frozenset(r.revision for r in self.revisions if label in (r.branch_labels or ()))

    def rows_at_heads(self, *, without: str | None = None) -> tuple[str, ...]:
        """``alembic_version`` after ``scaffold upgrade`` to every head; ``without`` a plugin:
        with every branch at its head except that plugin's, which (with whatever depends on
        it) is not installed."""
        mine = {r.revision for r in self.revisions_of(without)} if without else set()
        # What names a revision of ``mine``, directly or not, is not installed either.
        left_out = self._walk(mine, set(mine), self._named_by)
        return self.version_rows(r.revision for r in self.revisions if r.revision not in left_out)

    def label_exists(self, label: str) -> bool:
        return any(label in (r.branch_labels or ()) for r in self.revisions)

    def require_branch(self, plugin: str) -> None:
        if not self.label_exists(plugin):
            raise UsageError(
                f"plugin {plugin} has no revision labelled {plugin!r} "
                f"in {self.plugins[plugin].migrations}"
                if plugin in self.plugins
                else unknown_plugin(plugin, self.plugins, " (see scaffold plugins)")
            )

    def at_heads(self, current: Iterable[str]) -> bool:
        """True when ``current`` (a database's heads) is every head of the graph."""
        return set(self.script.get_revisions(tuple(current))) == set(
            self.script.get_revisions("heads")
        )


def _downs(revision: Script) -> tuple[str, ...]:
    return _names(revision.down_revision)


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
