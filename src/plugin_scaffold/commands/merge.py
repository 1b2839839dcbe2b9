"""A branch with several heads: where it forks (``branches --plugin``) and the revision that
joins its heads again (``scaffold merge``), written inside the plugin like any of its revisions.

Two developers who each wrote a revision on the same parent leave the plugin's branch with two
heads. ``alembic merge`` would write the joining revision wherever its version locations lead;
``scaffold merge`` writes it into the branch's own folder (the plugin's ``migrations``, or the
host's versions folder with ``--host``), through the same staging folder, revision lock and
``--rev-id`` checks as ``scaffold revision``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, MigrationError, UsageError
from ..plugin.plugin import Plugin
from .revision import (
    check_new_rev_id,
    check_rev_id,
    host_heads_in,
    host_versions,
    not_python,
    plugin_file,
    publish,
    staging_folder,
    template_message,
)

if TYPE_CHECKING:
    from alembic.script import Script

    from .workspace import Workspace

#: The name of the host's own branch in messages.
HOST = "the host"
EVERY_BRANCH = "every branch"


@dataclass
class MergeResult:
    #: The plugin's name, "the host", or "every branch" (nothing asked for and nothing to merge).
    whose: str
    #: The revisions merged (or the one head, or none).
    heads: list[str]
    path: Path | None = None
    revision: str | None = None

    @property
    def nothing_to_merge(self) -> str:
        """What a run that wrote nothing says."""
        if self.whose == EVERY_BRANCH:
            return "every branch has one head: nothing to merge"
        heads = "one head" if self.heads else "no revision yet"
        return f"{self.whose} has {heads}: nothing to merge"


def merge(
    ws: Workspace,
    *,
    plugin_name: str | None,
    host: bool = False,
    revisions: Sequence[str] = (),
    message: str | None = None,
    rev_id: str | None = None,
) -> MergeResult:
    """Write a revision whose down_revision is the heads of one branch (or ``revisions``).

    The branch: ``plugin_name``; else the host's with ``host``; else the project's plugin; else,
    outside a plugin project, the one branch that has several heads (several: exit 2). With one
    head (or none) nothing is written.
    """
    if host and plugin_name is not None:
        raise UsageError("give --host or --plugin NAME, not both")
    if rev_id is not None:
        check_rev_id(rev_id)
    plugin: Plugin | None
    if host:
        plugin = None
    elif plugin_name is not None or ws.project is not None:
        plugin = ws.plugin(plugin_name)
    else:
        chosen = _the_branch_with_several_heads(ws)
        if chosen is None:
            return MergeResult(EVERY_BRANCH, [])
        plugin = chosen if isinstance(chosen, Plugin) else None
        # The graph was read to choose; it is read again below, under the lock.
        ws = dataclasses.replace(ws, plugins=list(ws.plugins))
    whose = plugin.name if plugin is not None else HOST
    folder = plugin.migrations if plugin is not None else host_versions(ws)
    with staging_folder(folder) as staging:
        ws = ws.with_versions(staging)
        with plugin_file(ws, plugin):
            check_new_rev_id(ws, rev_id)
            if revisions:
                heads = _named(ws, plugin, revisions)
                if len(heads) < 2:
                    raise UsageError(f"merge needs two or more revisions, not only {heads[0]}")
                _require_heads(heads, _heads(ws, plugin, folder), whose)
            else:
                heads = _heads(ws, plugin, folder)
                if len(heads) < 2:
                    return MergeResult(whose, heads)
            default = f"merge {plugin.name if plugin is not None else 'host'} heads"
            made = _generate(ws, staging, heads, message or default, rev_id)
            published = publish(Path(made.path), staging, folder)
            return MergeResult(whose, heads, published, made.revision)


def _the_branch_with_several_heads(ws: Workspace) -> Plugin | str | None:
    """The plugin (or :data:`HOST`) whose branch has several heads, when only one has."""
    graph = ws.graph
    found: list[Plugin | str] = [p for p in ws.plugins if len(graph.heads_of(p.name)) > 1]
    try:
        if len(host_heads_in(ws, host_versions(ws))) > 1:
            found.append(HOST)
    except ConfigError:
        pass  # no host folder of its own (an installed host): nothing of the host's to merge
    if len(found) > 1:
        names = ", ".join(f if isinstance(f, str) else f"plugin {f.name}" for f in found)
        raise UsageError(
            f"several branches have more than one head ({names}): name one with --plugin NAME "
            "(or --host)"
        )
    return found[0] if found else None


def _heads(ws: Workspace, plugin: Plugin | None, folder: Path) -> list[str]:
    if plugin is None:
        return host_heads_in(ws, folder)
    return sorted(h.revision for h in ws.graph.heads_of(plugin.name))


def _named(ws: Workspace, plugin: Plugin | None, names: Sequence[str]) -> list[str]:
    """The revisions given, each checked to be on the branch merged (ids, in the order given)."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    graph = ws.graph
    whose = f"plugin {plugin.name}" if plugin is not None else HOST
    chosen: dict[str, None] = {}
    for name in names:
        try:
            found = [r for r in ws.script.get_revisions(name) if r is not None]
        except (CommandError, RevisionError) as exc:
            raise UsageError(f"revision {name!r}: {str(exc).splitlines()[0]}") from None
        if not found:
            raise UsageError(f"no revision {name!r} in this host or its plugins")
        for revision in found:
            owner = graph.owner(revision)
            if owner != (plugin.name if plugin is not None else None):
                raise UsageError(
                    f"revision {revision.revision} ({revision.path}) is not on the branch of "
                    f"{whose}: it belongs to {f'plugin {owner}' if owner else HOST}"
                )
            chosen[revision.revision] = None
    return list(chosen)


def _require_heads(named: list[str], heads: list[str], whose: str) -> None:
    """Refuse a revision that is not a head: a merge joins heads (Alembic would advise its
    ``--splice``, which starts a new branch instead and which scaffold does not offer)."""
    for revision in named:
        if revision not in heads:
            owner = f"plugin {whose}" if whose != HOST else whose
            raise UsageError(
                f"revision {revision} is not a head of {owner} (its heads: "
                f"{', '.join(heads)}): scaffold merge joins heads; name heads, or none for all"
            )


def _generate(
    ws: Workspace, staging: Path, heads: list[str], message: str, rev_id: str | None
) -> Script:
    """What ``alembic.command.merge`` does, into the staging folder (as ``command.revision``
    does with ``--version-path``)."""
    from alembic.util import CommandError
    from alembic.util import rev_id as new_rev_id

    try:
        made = ws.script.generate_revision(
            rev_id or new_rev_id(),
            template_message(message),
            head=heads,
            version_path=str(staging),
            config=ws.config,
        )
    except CommandError as exc:
        raise UsageError(str(exc).splitlines()[0]) from None
    except SyntaxError as exc:
        raise not_python(ws.script, exc) from None
    if made is None:
        raise MigrationError(f"the merge revision of {', '.join(heads)} was not written")
    return made


def branch_points(ws: Workspace, plugin: str, *, verbose: bool = False) -> str:
    """Alembic's ``branches`` output, only for the branch points of ``plugin``'s branch."""
    graph = ws.graph
    graph.require_branch(plugin)
    script = graph.script
    out = []
    for point in graph.revisions:
        if not point.is_branch_point or graph.owner(point) != plugin:
            continue
        indent = " " * len(str(point.revision))
        # (sorted: Alembic lists them in no fixed order)
        children = [script.get_revision(rev) for rev in sorted(point.nextrev)]
        lines = [
            f"{indent} -> {child.cmd_format(False, include_branches=True, include_doc=verbose)}"
            for child in children
            if child is not None
        ]
        out.append(f"{point.cmd_format(verbose, include_branches=True)}\n" + "\n".join(lines))
    return "".join(f"{entry}\n\n" for entry in out)
