"""``scaffold check``: the faults of a plugin found without a database, as structured findings.

The rules read the revision graph (Alembic's ``ScriptDirectory``: no env.py, no connection), the
source of each revision file (:mod:`.revision_source`, and the production-safety rules of
:mod:`..graph.production`), the plugin's models (for its table prefix) and its built wheel.
The branch rules are shared with the MigrationSuite's branch check (:mod:`.testing.checks`).
``--models`` adds the models-vs-migrations comparison, which needs a database
(:func:`models_findings`).
"""

from __future__ import annotations

import re
import tomllib
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import alembic_private
from ..databases.versiontable import VersionWidth
from ..errors import ConfigError, OwnershipError, ScaffoldError, UsageError

if TYPE_CHECKING:
    from alembic.script import Script

    from ..graph.revisions import Graph
    from ..plugin.plugin import Plugin, PluginModels
    from .workspace import Workspace

ERROR = "error"
WARNING = "warning"

#: Findings after which the models are not compared: the graph or the tables are not the plugin's.
BLOCKS_MODELS = frozenset(
    {
        "duplicate-id",
        "duplicate-label",
        "multiple-heads",
        "no-branch-label",
    }
)


@dataclass(frozen=True)
class Finding:
    """One fault of one plugin; ``code`` is stable (scripts and docs rely on it)."""

    plugin: str
    code: str
    message: str
    severity: str = ERROR
    file: str | None = None
    line: int | None = None
    revision: str | None = None

    def __str__(self) -> str:
        return f"{self.severity}: plugin {self.plugin}: {self.message} [{self.code}]"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def relative(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it (as a user typed it)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def describe(revision: Script, line: int | None = None) -> str:
    where = relative(Path(revision.path)) + (f":{line}" if line else "")
    return f"revision {revision.revision} ({where})"


def _at(plugin: str, code: str, message: str, revision: Script, **more: Any) -> Finding:
    return Finding(
        plugin,
        code,
        message,
        file=relative(Path(revision.path)),
        revision=revision.revision,
        **more,
    )


# --- the branch -------------------------------------------------------------------------------


def revision_files(ws: Workspace) -> list[Script]:
    """Every revision file the host and its plugins have, read one by one (not as a graph).

    A file that cannot be read at all (a syntax error) is reported as every command reports it:
    one line, exit 2.

    When the workspace's graph can be read, its revisions are the files: reading the graph
    refuses a revision id or a branch label used twice, so each file is there once, and none is
    read again. Only a graph that cannot be read is read here file by file, to find the fault.
    """
    from alembic.script import ScriptDirectory

    try:
        return list(ws.graph.revisions)
    except ConfigError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return alembic_private.revision_files(ScriptDirectory.from_config(ws.config))
        except ScaffoldError:
            raise
        except Exception:
            ws.script  # noqa: B018  (reading the graph names the file at fault in one line)
            raise


def branch_findings(
    ws: Workspace,
    plugin: Plugin,
    files: Sequence[Script] | None = None,
    width: VersionWidth | None = None,
) -> list[Finding]:
    """One head, one label (its name, on its root), rooted on the host, every file its own,
    every revision id short enough for the version table (``width``: Alembic's by default).

    A revision id or a branch label used twice is found in the files (Alembic only warns of the
    first and refuses to read the graph with the second); the other rules need the graph, and a
    graph that cannot be read at all (a name pointing nowhere) raises :class:`ConfigError`.
    """
    name = plugin.name
    folder = plugin.migrations
    if files is None:
        files = revision_files(ws)
    found = _duplicates(name, folder, files)
    if found:
        return found
    found = _long_ids(name, folder, files, width)
    graph = ws.graph
    everything = graph.revisions
    mine = graph.revisions_of(name)
    if not mine:
        return [
            Finding(
                name, "no-revision", f"no revision in {relative(folder)}", file=relative(folder)
            )
        ]
    ids = {r.revision for r in mine}

    if not any(name in alembic_private.declared_branch_labels(r) for r in mine):
        found.append(
            Finding(
                name,
                "no-branch-label",
                f"no revision carries the branch label {name!r} (its root needs "
                f"branch_labels = ({name!r},))",
                file=relative(folder),
            )
        )
    for revision in mine:
        extra = sorted(alembic_private.declared_branch_labels(revision) - {name})
        if extra:
            found.append(
                _at(
                    name,
                    "extra-branch-label",
                    f"{describe(revision)} adds branch label(s) {', '.join(extra)}: a "
                    f"plugin's branch has one label, {name!r}, on its root",
                    revision,
                )
            )
    for revision in everything:
        declared = alembic_private.declared_branch_labels(revision)
        if graph.owner(revision) != name and name in declared:
            found.append(
                _at(
                    name,
                    "label-outside",
                    f"{describe(revision)} outside the plugin uses its label {name!r}",
                    revision,
                )
            )

    heads = graph.heads_of(name)
    if len(heads) > 1:
        found.append(
            _at(
                name,
                "multiple-heads",
                f"{len(heads)} heads ({', '.join(describe(h) for h in heads)}): merge them "
                f"(scaffold merge --plugin {name})",
                heads[0],
            )
        )

    for revision in everything:
        if name in revision.branch_labels and graph.owner(revision) != name:
            found.append(
                _at(
                    name,
                    "outside-package",
                    f"{describe(revision)} is on the branch but lives outside {relative(folder)}",
                    revision,
                )
            )
    for revision in mine:
        if name not in revision.branch_labels:
            found.append(
                _at(
                    name,
                    "off-branch",
                    f"{describe(revision)} is in the plugin's migrations but not on its "
                    f"branch (it does not descend from the root labelled {name!r})",
                    revision,
                )
            )

    below_all = alembic_private.down_revisions_and_dependencies
    for root in (r for r in mine if not set(below_all(r)) & ids):
        named = (*alembic_private.dependencies(root), *alembic_private.down_revisions(root))
        on_host = [d for d in named if graph.owner(ws.script.get_revision(d)) is None]  # type: ignore[arg-type]
        if not on_host:
            found.append(
                _at(
                    name,
                    "no-host-dependency",
                    f"root {describe(root)} does not depend on the host, so nothing makes "
                    f"the host's tables exist before it runs: add depends_on = "
                    f"{host_anchor(graph)!r}",
                    root,
                )
            )
    return found


def _long_ids(
    name: str, folder: Path, files: Sequence[Script], width: VersionWidth | None
) -> list[Finding]:
    """Revision ids of the plugin longer than ``version_num`` holds."""
    width = width or VersionWidth()
    return [
        _at(
            name,
            "long-revision-id",
            f"{describe(script)}: its id is {len(script.revision)} characters, and {width}: "
            f"upgrading fails (PostgreSQL refuses the row, MariaDB stops half way); give it an "
            f"id of at most {width.characters}",
            script,
        )
        for script in files
        if len(script.revision) > width.characters and Path(script.path).resolve().parent == folder
    ]


def _duplicates(name: str, folder: Path, files: Sequence[Script]) -> list[Finding]:
    """Revision ids and branch labels of the plugin declared by more than one file."""
    ids: dict[str, list[Script]] = {}
    labels: dict[str, list[Script]] = {}
    for script in files:
        ids.setdefault(script.revision, []).append(script)
        for label in alembic_private.declared_branch_labels(script):
            labels.setdefault(label, []).append(script)

    def involved(scripts: list[Script]) -> bool:
        return any(Path(s.path).resolve().parent == folder for s in scripts)

    found = []
    for revision_id, scripts in sorted(ids.items()):
        if len(scripts) > 1 and involved(scripts):
            paths = sorted(relative(Path(s.path)) for s in scripts)
            found.append(
                Finding(
                    name,
                    "duplicate-id",
                    f"revision id {revision_id} is used by {len(scripts)} files "
                    f"({', '.join(paths)})",
                    file=paths[0],
                    revision=revision_id,
                )
            )
    for label, scripts in sorted(labels.items()):
        if len(scripts) > 1 and (label == name or involved(scripts)):
            described = ", ".join(sorted(describe(s) for s in scripts))
            found.append(
                Finding(
                    name,
                    "duplicate-label",
                    f"branch label {label!r} is declared by {len(scripts)} revisions "
                    f"({described}): a label names one branch",
                    file=relative(Path(scripts[0].path)),
                    revision=scripts[0].revision,
                )
            )
    return found


def host_anchor(graph: Graph) -> str:
    """What a plugin root should depend on: the host's branch label, else its head."""
    labels = sorted(
        str(label)
        for r in graph.revisions
        if graph.owner(r) is None
        for label in alembic_private.declared_branch_labels(r)
    )
    if labels:
        return labels[0]
    heads = graph.host_heads
    return heads[0] if heads else "<host revision>"


# --- the revision files -----------------------------------------------------------------------


def source_findings(
    name: str, revision: Script, models: PluginModels, host_tables: Iterable[str]
) -> list[Finding]:
    """What a plugin revision's source does to tables it does not own, and its downgrade."""
    from ..graph import sources as revision_source

    try:
        source = revision_source.read(Path(revision.path))
    except SyntaxError as exc:
        raise ConfigError(f"{exc.filename}:{exc.lineno}: syntax error: {exc.msg}") from None
    host = {t for t in host_tables if not models.owns(t)}
    found = []
    for op in source.tables:
        at = describe(revision, op.line)
        foreign = not models.owns(op.table) and (not op.creates or _prefixed(op.table))
        if op.table in host or foreign:
            found.append(
                _at(
                    name,
                    "foreign-table",
                    f"{at}: op.{op.operation} on {op.table}, a table the plugin does not own "
                    f"(its tables are {models.prefix}__*; extend a host table with a side table)",
                    revision,
                    line=op.line,
                )
            )
        elif op.creates and not op.table.startswith(f"{models.prefix}__"):
            found.append(
                _at(
                    name,
                    "unprefixed-table",
                    f"{at}: op.{op.operation} makes table {op.table} without the plugin's "
                    f"prefix (name it {models.prefix}__{op.table})",
                    revision,
                    line=op.line,
                )
            )
    for statement in source.sql:
        named = sorted(t for t in host if re.search(rf"\b{re.escape(t)}\b", statement.sql))
        if named and not _allowed(revision, statement.line, "foreign-sql"):
            found.append(
                _at(
                    name,
                    "foreign-sql",
                    f"{describe(revision, statement.line)}: op.execute SQL names host "
                    f"table(s) {', '.join(named)}; a plugin never changes a host table or its "
                    f"rows (SQL that only reads them: mark the line {ALLOW}foreign-sql)",
                    revision,
                    severity=WARNING,
                    line=statement.line,
                )
            )
    if not source.irreversible and not source.upgrade_empty:
        if source.downgrade_line is None:
            found.append(
                _at(
                    name,
                    "no-downgrade",
                    f"{describe(revision)} has no downgrade(): write one, or mark the "
                    "revision irreversible (irreversible = True)",
                    revision,
                )
            )
        elif source.downgrade_empty:
            found.append(
                _at(
                    name,
                    "no-downgrade",
                    f"{describe(revision, source.downgrade_line)}: downgrade() does nothing: "
                    "write it, or mark the revision irreversible (irreversible = True, or a "
                    "downgrade() that raises NotImplementedError)",
                    revision,
                    line=source.downgrade_line,
                )
            )
    return found


def production_findings(
    ws: Workspace,
    plugin: Plugin,
    models: PluginModels,
    host_tables: Iterable[str],
    revisions: Sequence[Script],
    found: list[Finding],
) -> list[Finding]:
    """``found`` and the production-safety findings of the plugin's revisions
    (:mod:`..graph.production`). A ``foreign-ddl`` error replaces the ``foreign-sql`` warning
    of its statement."""
    from ..graph import production
    from ..plugin.project import DATABASES

    project = ws.project
    databases = (
        project.databases if project is not None and project.plugin == plugin.name else DATABASES
    )
    context = production.Context(
        owns=models.owns,
        host=tuple(host_tables),
        declared={t.name: frozenset(c.name for c in t.columns) for t in models.tables},
        databases=databases,
    )
    by_path = {Path(r.path): r for r in revisions}
    ddl: set[tuple[str, int]] = set()
    more = []
    for path, hazards in production.lint(list(by_path), context).items():
        revision = by_path[path]
        for hazard in hazards:
            if hazard.severity == WARNING and _allowed(revision, hazard.line, hazard.code):
                continue
            if hazard.code == production.FOREIGN_DDL:
                ddl.add((revision.revision, hazard.line))
            more.append(
                _at(
                    plugin.name,
                    hazard.code,
                    f"{describe(revision, hazard.line)}: {hazard.message}",
                    revision,
                    severity=hazard.severity,
                    line=hazard.line,
                )
            )
    kept = [f for f in found if f.code != "foreign-sql" or (f.revision, f.line) not in ddl]
    return kept + more


def _prefixed(table: str) -> bool:
    """``table`` carries an owner's prefix (``core__users``, ``other__x``): when the plugin
    does not own it, making it is making someone else's table, whether or not the plugin's
    metadata holds it — not a table that merely lacks the plugin's prefix."""
    owner, sep, _ = table.partition("__")
    return bool(sep and owner)


#: A comment acknowledging a warning on its line or the line above: ``# scaffold: allow CODE``.
ALLOW = "# scaffold: allow "


def _allowed(revision: Script, line: int, code: str) -> bool:
    """Whether the revision file acknowledges warning ``code`` at ``line`` (or just above it)."""
    lines = Path(revision.path).read_text(encoding="utf-8").splitlines()
    near = lines[max(line - 2, 0) : line]
    return any(f"{ALLOW}{code}" in text for text in near)


def model_findings(models: PluginModels) -> list[Finding]:
    """Tables of the plugin's models without its prefix."""
    path = getattr(models.module, "__file__", None)
    where = relative(Path(path)) if path else models.plugin.models_module
    return [
        Finding(
            models.plugin.name,
            "unprefixed-table",
            f"table {table!r} in {where} lacks the plugin's prefix (name it "
            f"{models.prefix}__{table})",
            file=where,
        )
        for table in sorted(models.table_names)
        if not table.startswith(f"{models.prefix}__")
    ]


# --- the wheel --------------------------------------------------------------------------------


def project_wheel(ws: Workspace, plugin: Plugin) -> Path | None:
    """The newest wheel of the project's distribution in its ``dist/`` (None: none built)."""
    project = ws.project
    if project is None or project.plugin != plugin.name:
        return None
    try:
        data = tomllib.loads(project.pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    distribution = data.get("project", {}).get("name")
    if not isinstance(distribution, str):
        return None
    stem = re.sub(r"[-_.]+", "_", distribution).lower()
    wheels = [
        w for w in (project.root / "dist").glob("*.whl") if w.name.split("-", 1)[0].lower() == stem
    ]
    return max(wheels, key=lambda w: w.stat().st_mtime) if wheels else None


def wheel_findings(plugin: Plugin, wheel: Path, revisions: Sequence[Script]) -> list[Finding]:
    """The wheel holds the migrations package and every revision file of the plugin's folder."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile) as exc:
        raise UsageError(f"{wheel}: not a wheel ({exc})") from None
    package = plugin.package.replace(".", "/") + "/migrations"
    shown = relative(wheel)
    if f"{package}/__init__.py" not in names:
        return [
            Finding(
                plugin.name,
                "wheel-missing-migrations",
                f"{shown} has no {package}/ package: the installed plugin would have no "
                "revisions (include the migrations package in the build)",
                file=shown,
            )
        ]
    return [
        _at(
            plugin.name,
            "wheel-missing-revision",
            f"{shown} lacks {package}/{Path(r.path).name}, the file of {describe(r)} "
            "(include every revision file in the build)",
            r,
        )
        for r in revisions
        if f"{package}/{Path(r.path).name}" not in names
    ]


# --- the whole check --------------------------------------------------------------------------


def check_plugin(
    ws: Workspace,
    plugin: Plugin,
    *,
    wheel: Path | None = None,
    before_models: Callable[[list[Finding]], None] | None = None,
    width: VersionWidth | None = None,
) -> list[Finding]:
    """Every static finding for ``plugin``: no env.py runs and no database is opened.

    ``before_models`` is called with the branch's findings before the plugin's models are
    imported here: a comparison that runs env.py goes there, as some hosts must be set up by
    env.py before any model module is imported (see :func:`check`).
    """
    files = revision_files(ws)
    folder = plugin.migrations
    found = branch_findings(ws, plugin, files, width)
    if before_models is not None:
        before_models(found)
    models = plugin.load_models()
    found = [*model_findings(models), *found]
    mine = [f for f in files if Path(f.path).resolve().parent == folder]
    inspected = {f.revision: f for f in mine}
    if not any(f.code in ("duplicate-id", "duplicate-label") for f in found):
        for revision in ws.graph.revisions:
            if plugin.name in revision.branch_labels:
                inspected.setdefault(revision.revision, revision)
    metadata = models.metadata
    host_tables = list(metadata.tables) if metadata is not None else []
    ordered = sorted(inspected.values(), key=lambda r: str(r.path))
    for revision in ordered:
        found += source_findings(plugin.name, revision, models, host_tables)
    found = production_findings(ws, plugin, models, host_tables, ordered, found)
    chosen = wheel or project_wheel(ws, plugin)
    if chosen is not None:
        found += wheel_findings(plugin, chosen, sorted(mine, key=lambda r: str(r.path)))
    return found


def models_findings(ws: Workspace, plugin: Plugin) -> list[Finding]:
    """The models-vs-migrations comparison (autogenerate, on the database or a scratch one)."""
    from .revision import check

    result = check(ws, plugin_name=plugin.name)
    if not result.operations:
        return []
    head = ws.graph.heads_of(plugin.name)
    models = plugin.load_models()
    path = getattr(models.module, "__file__", None)
    return [
        Finding(
            plugin.name,
            "models-differ",
            f"models and migrations differ: {'; '.join(result.operations)} ({result.hint()})",
            file=relative(Path(path)) if path else None,
            revision=head[0].revision if len(head) == 1 else None,
        )
    ]


@dataclass
class Report:
    """What ``scaffold check`` found for each plugin checked."""

    plugins: list[str]
    findings: list[Finding]
    #: Plugins whose models were compared with their migrations and match.
    matching: list[str]
    #: Plugins whose models were to be compared, left out for the errors found first.
    not_compared: list[str]

    @property
    def failed(self) -> bool:
        """Anything was found: an error, or a warning no comment acknowledges."""
        return bool(self.findings)


def check(
    ws: Workspace,
    plugins: Sequence[Plugin],
    *,
    wheel: Path | None = None,
    models: bool = False,
    width: VersionWidth | None = None,
) -> Report:
    """The static check of each of ``plugins``; with ``models``, the comparison too.

    ``width``: what the version table holds (read from a database); Alembic's by default."""
    if wheel is not None and not wheel.is_file():
        raise UsageError(f"--wheel {wheel}: no such file")
    report = Report([p.name for p in plugins], [], [], [])
    for plugin in plugins:
        differ: list[Finding] = []
        compare = partial(_compare, ws, plugin, report, differ) if models else None
        report.findings += check_plugin(ws, plugin, wheel=wheel, before_models=compare, width=width)
        report.findings += differ
    return report


def _compare(
    ws: Workspace, plugin: Plugin, report: Report, differ: list[Finding], branch: list[Finding]
) -> None:
    """The models comparison of ``plugin`` into ``differ``, unless ``branch`` forbids it."""
    if any(f.code in BLOCKS_MODELS for f in branch):
        report.not_compared.append(plugin.name)
        return
    try:
        differ += models_findings(ws, plugin)
    except OwnershipError:  # a model table without the prefix: the static check names it
        report.not_compared.append(plugin.name)
        return
    if not differ:
        report.matching.append(plugin.name)
