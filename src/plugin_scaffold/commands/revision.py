"""``scaffold revision``: the next revision of one plugin's branch, written inside the plugin.

Autogenerate compares the models with a database at every head — the developer's own when it is
there, else a scratch database of the same kind brought to the heads — and keeps only operations
on tables the plugin owns. Host changes are left out and reported; nothing is written for an
empty diff; the file appears in the plugin's folder in one step and never replaces another.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import alembic_private
from ..databases.locking import revision_lock
from ..databases.servers import folder_prefix, sweep_folders
from ..databases.urls import DatabaseURL
from ..errors import ConfigError, MigrationError, OwnershipError, ScaffoldError, UsageError
from ..files import installed_file
from ..graph import orphans
from ..host.environment import target_metadatas
from ..plugin.plugin import Plugin, PluginModels
from . import cached, migrate

if TYPE_CHECKING:
    from alembic.operations.ops import MigrationScript
    from alembic.runtime.migration import MigrationContext

    from .workspace import Workspace


@dataclass(frozen=True)
class Dropped:
    """A table or column the revision drops, and how many rows hold it in the database
    compared (None: not counted)."""

    table: str
    column: str | None
    rows: int | None

    def __str__(self) -> str:
        return f"column {self.table}.{self.column}" if self.column else f"table {self.table}"


@dataclass
class RevisionResult:
    path: Path | None
    revision: str | None
    left_out: list[str] = field(default_factory=list)
    compared_with: str = ""
    operations: list[str] = field(default_factory=list)
    #: What the revision drops: a model or column missing from models.py looks the same.
    dropped: list[Dropped] = field(default_factory=list)

    def hint(self) -> str:
        """What to do about the differences, for ``check --models`` and the migration tests.

        A table or column the migrations create and the models lack is most often a model not
        written yet (a data migration's table): autogenerate would drop it, rows and all."""
        autogenerate = "scaffold revision -m '...' --autogenerate"
        if not self.dropped:
            return f"the revision for this change is missing: {autogenerate}"
        lacking = ", ".join(str(d) for d in self.dropped)
        return (
            f"the models lack {lacking}, which the migrations create: add it to models.py, or "
            f"drop it on purpose with {autogenerate} (its rows go with it)"
        )


def check_ownership(models: dict[str, PluginModels], name: str) -> PluginModels:
    """Refuse a plugin table without the plugin's prefix or claimed by another plugin."""
    mine = models[name]
    mine.check_prefix()
    for other in models.values():
        if other.plugin.name == name:
            continue
        for table in mine.table_names:
            if table in other.table_names or table.startswith(f"{other.prefix}__"):
                raise OwnershipError(
                    f"plugin {name}: table {table!r} collides with the tables of plugin "
                    f"{other.plugin.name}"
                )
    return mine


def describe(op: Any) -> str:
    from alembic.operations import ops

    table = table_of(op)
    if isinstance(op, ops.ModifyTableOps):
        inner = ", ".join(sorted({_op_name(o) for o in op.ops}))
        return f"{table} ({inner})"
    return f"{table} ({_op_name(op)})" if table else _op_name(op)


def _op_name(op: Any) -> str:
    from alembic.operations import ops

    if isinstance(op, ops.AddColumnOp):
        return f"add_column {op.column.name}"
    if isinstance(op, ops.DropColumnOp):
        return f"drop_column {op.column_name}"
    if isinstance(op, ops.AlterColumnOp):
        return f"alter_column {op.column_name}{_changes(op)}"
    names = {
        "CreateTableOp": "create_table",
        "DropTableOp": "drop_table",
        "CreateIndexOp": "create_index",
        "DropIndexOp": "drop_index",
        "CreateForeignKeyOp": "create_foreign_key",
        "DropConstraintOp": "drop_constraint",
        "CreateUniqueConstraintOp": "create_unique",
    }
    return names.get(type(op).__name__, type(op).__name__)


def _changes(op: Any) -> str:
    """What an alter_column changes, database side first: `` (type VARCHAR(32) -> TEXT)``."""
    changes = []
    if op.modify_type is not None:
        changes.append(f"type {op.existing_type} -> {op.modify_type}")
    if op.modify_nullable is not None:
        changes.append(f"nullable {op.existing_nullable} -> {op.modify_nullable}")
    if op.modify_server_default is not False:
        before = _default_text(op.existing_server_default)
        changes.append(f"server_default {before} -> {_default_text(op.modify_server_default)}")
    return f" ({'; '.join(changes)})" if changes else ""


def _default_text(default: Any) -> str:
    if default is None or default is False:
        return "none"
    value = getattr(default, "arg", default)
    # Reflected defaults are SQL text already ('normal'::character varying); a model's are values.
    return str(value.text) if hasattr(value, "text") else repr(value)


def type_imports(context: MigrationContext, script: MigrationScript, folder: str) -> set[str]:
    """``import <module>`` for each type of ``script`` that Alembic writes with its module's
    name but does not import, e.g. SQLModel's ``sqlmodel.sql.sqltypes.AutoString()``.

    Alembic leaves that import to env.py's ``render_item`` or to script.py.mako (the one in
    ``folder``): a revision without it fails at upgrade with a NameError. Modules the mako
    imports already are left out, and none is needed when env.py sets ``user_module_prefix``.
    """
    if context.opts.get("user_module_prefix") is not None:
        return set()
    try:
        mako = (Path(folder) / "script.py.mako").read_text(encoding="utf-8")
    except OSError:
        mako = ""
    modules = set()
    for container in (*script.upgrade_ops_list, *script.downgrade_ops_list):
        for type_ in _types_in(container):
            for one in (type_, *getattr(type_, "_variant_mapping", {}).values()):
                module = type(one).__module__
                if module.partition(".")[0] not in ("sqlalchemy", "builtins"):
                    modules.add(module)
    return {
        f"import {module}"
        for module in modules
        if not re.search(rf"^import {re.escape(module)}[ \t]*$", mako, re.MULTILINE)
    }


def _types_in(op: Any) -> Iterator[Any]:
    """The column types an operation (or a container of them) writes out."""
    from sqlalchemy import Column
    from sqlalchemy.types import TypeEngine

    for inner in getattr(op, "ops", None) or ():
        yield from _types_in(inner)
    for column in (getattr(op, "column", None), *(getattr(op, "columns", None) or ())):
        if isinstance(column, Column):
            yield column.type
    for name in ("modify_type", "existing_type"):
        type_ = getattr(op, name, None)
        if isinstance(type_, TypeEngine):
            yield type_


def table_of(op: Any) -> str | None:
    return getattr(op, "table_name", None) or getattr(op, "source_table", None)


def for_every_database(ops: list[Any]) -> list[Any]:
    """Autogenerated ``ops`` in a form MariaDB runs too (PostgreSQL and SQLite accept both).

    InnoDB refuses to drop an index a foreign key still uses (``1553 Cannot drop index``), and
    Alembic writes ``drop_index`` before ``drop_table`` of a table and before ``drop_constraint``
    of the foreign key on the same column. Since MariaDB commits DDL statement by statement, the
    failure leaves the statements before it done and ``alembic_version`` stale. So: a table
    dropped here loses its indexes and constraints with it (no separate drop), a foreign key is
    dropped before the indexes next to it, and an index is created before the foreign key next to
    it (else InnoDB creates a second index of its own for the key).
    """
    from alembic.operations import ops as alembic_ops

    dropped = {(op.schema, op.table_name) for op in ops if isinstance(op, alembic_ops.DropTableOp)}

    def goes_with_table(op: Any) -> bool:
        drop = isinstance(op, alembic_ops.DropIndexOp | alembic_ops.DropConstraintOp)
        return drop and (getattr(op, "schema", None), table_of(op)) in dropped

    def fk_drop(op: Any) -> bool:
        return isinstance(op, alembic_ops.DropConstraintOp) and op.constraint_type == "foreignkey"

    def ordered(sequence: list[Any]) -> list[Any]:
        result = [op for op in sequence if not goes_with_table(op)]
        # Move each foreign key drop before the index drops just above it, and each index
        # creation before the foreign key creations just above it; nothing else moves.
        for n in range(1, len(result)):
            m = n
            while m > 0 and (
                (fk_drop(result[m]) and isinstance(result[m - 1], alembic_ops.DropIndexOp))
                or (
                    isinstance(result[m], alembic_ops.CreateIndexOp)
                    and isinstance(result[m - 1], alembic_ops.CreateForeignKeyOp)
                )
            ):
                result[m - 1], result[m] = result[m], result[m - 1]
                m -= 1
        return result

    kept: list[Any] = []
    for op in ordered(ops):
        if isinstance(op, alembic_ops.ModifyTableOps):
            op.ops = ordered(op.ops)
            if not op.ops:
                continue
        kept.append(op)
    return kept


#: A revision id is an identifier (Alembic's own are 12 hex digits): never a path. How long it
#: may be is what the version table holds (:func:`check_new_rev_id`).
_REV_ID = re.compile(r"[A-Za-z0-9_]+")


def check_rev_id(rev_id: str) -> None:
    """Refuse a ``--rev-id`` that is not an identifier-like token (it names the file)."""
    if not _REV_ID.fullmatch(rev_id) or not rev_id.strip("_"):
        raise UsageError(
            f"--rev-id {_shown(rev_id)!r} is not a revision id: use letters, digits and "
            "underscores (no path separators or dots)"
        )


def _shown(rev_id: str) -> str:
    return rev_id if len(rev_id) <= 80 else rev_id[:77] + "..."


@dataclass
class Scope:
    """Whose tables a revision holds: one plugin's, or the host's (every table no plugin owns)."""

    plugin: Plugin | None
    models: dict[str, PluginModels] = field(default_factory=dict)
    #: Tables of removed plugins in the database compared (orphans.py): never the host's.
    strays: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.plugin.name if self.plugin is not None else "the host"

    def load(self, ws: Workspace) -> None:
        if not self.models:
            models = ws.load_models()
            if self.plugin is not None:
                check_ownership(models, self.plugin.name)
            self.models = models

    def owns(self, table: str | None) -> bool:
        if self.plugin is not None:
            return self.models[self.plugin.name].owns(table)
        # the host's revisions: every table no plugin claims (and operations on no table)
        return not any(m.owns(table) for m in self.models.values()) and table not in self.strays

    def check(self, context: MigrationContext) -> None:
        if self.plugin is not None:
            require_host_metadata(context, self.models[self.plugin.name])


def revision(
    ws: Workspace,
    *,
    plugin_name: str | None,
    message: str | None,
    autogenerate: bool,
    rev_id: str | None,
    write: bool = True,
    host: bool = False,
    at_heads: bool = False,
) -> RevisionResult:
    """Write the next revision of a plugin's branch (``write=False``: only compute the diff);
    with ``host``, the host's next revision, holding only tables that no plugin owns.
    ``at_heads``: the workspace's database is known to be at every head (a check's scratch
    database), so autogenerate compares with it without asking first where it is."""
    if rev_id is not None:
        check_rev_id(rev_id)
    scope = Scope(None if host else ws.plugin(plugin_name))
    folder = scope.plugin.migrations if scope.plugin is not None else host_versions(ws)
    with staging_folder(folder, write=write) as staging:
        staged = ws.with_versions(staging)
        with plugin_file(staged, scope.plugin):
            return _revision(
                staged, scope, folder, staging, message, autogenerate, rev_id, write, at_heads
            )


def plugin_file(ws: Workspace, plugin: Plugin | None) -> AbstractContextManager[None]:
    """Writing a revision into ``plugin`` (None: the host's own folder): the host's
    ``[post_write_hooks]`` are the host's tooling, and run only on the host's files."""
    if plugin is None:
        return contextlib.nullcontext()
    return alembic_private.without_write_hooks(ws.script)


@contextlib.contextmanager
def staging_folder(folder: Path, *, write: bool = True) -> Iterator[Path]:
    """A staging folder, for a revision to be published into ``folder`` (see :func:`publish`),
    held under ``folder``'s revision lock; a workspace reads it as one of its version locations
    (:meth:`Workspace.with_versions`).

    Two runs writing in one folder would both build on the same head(s): the second waits, from
    before the graph is read until the first has published its file, and builds on it. Alembic
    writes the file into the staging folder; it is published only when complete. The folder is
    added before the graph is first read (so that the graph is read once). Its name carries
    this process's pid, so that the next run removes what a killed one left. ``write=False``:
    no lock, a staging folder in the temporary directory.
    """
    with revision_lock(folder) if write else contextlib.nullcontext():
        parent = folder if write else Path(tempfile.gettempdir())
        sweep_folders(parent)
        staging = Path(tempfile.mkdtemp(prefix=folder_prefix(".scaffold"), dir=parent))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def host_versions(ws: Workspace) -> Path:
    """The folder the host's own next revision goes to: its first version location."""
    plugin_folders = {p.migrations for p in ws.plugins}
    for folder in ws.host.version_locations:
        if folder not in plugin_folders and not installed_file(folder):
            return folder
    raise ConfigError(
        f"{ws.host.described_as}: no version location of the host's own to write to "
        "(its revisions belong to an installed package)"
    )


def _placement(ws: Workspace, scope: Scope, folder: Path) -> dict[str, Any]:
    graph = ws.graph
    if scope.plugin is None:
        heads = host_heads_in(ws, folder)
        if len(heads) > 1:
            raise MigrationError(
                f"the host has {len(heads)} heads in {folder} ({' '.join(heads)}): merge them "
                "first (scaffold merge --host)"
            )
        return {"head": heads[0] if heads else "base"}
    head = graph.head_of(scope.plugin.name)
    if head is not None:
        return {"head": f"{head.revision}"}
    # A branch with no revision yet gets a labelled root that depends on the host's heads,
    # so that its tables come after every host table they may reference.
    return {
        "head": "base",
        "branch_label": scope.plugin.name,
        "depends_on": list(graph.host_heads) or None,
    }


def host_heads_in(ws: Workspace, folder: Path) -> list[str]:
    """The host's heads whose files are in ``folder`` (its own versions folder), sorted."""
    script = ws.graph.script
    return sorted(
        h for h in ws.graph.host_heads if Path(script.get_revision(h).path).parent == folder
    )


def _revision(
    ws: Workspace,
    scope: Scope,
    folder: Path,
    staging: Path,
    message: str | None,
    autogenerate: bool,
    rev_id: str | None,
    write: bool,
    at_heads: bool = False,
) -> RevisionResult:
    check_new_rev_id(ws, rev_id)
    placement = _placement(ws, scope, folder)
    if not autogenerate:
        result = _generate(ws, staging, message, rev_id, placement, None, None)
    else:
        result = _autogenerate(ws, scope, staging, message, rev_id, placement, write, at_heads)
    if result.path is not None:
        result.path = publish(result.path, staging, folder)
    return result


def template_message(message: str | None) -> str | None:
    """``-m``'s message as the revision template may write it between triple quotes.

    Alembic puts the message into the docstring unescaped: three double quotes in it (``say
    \"\"\"hi\"\"\" now``) would end the string early and the written file would not be
    Python. Backslashes are doubled, and quotes escaped where they could end the string (a run
    of three, or one at the end), so that the docstring reads back as the message typed; the
    file name's words are the same.
    """
    if message is None:
        return None
    text = message.replace("\\", "\\\\")
    for quote in ('"', "'"):
        if quote * 3 in text or text.endswith(quote):
            text = text.replace(quote, "\\" + quote)
    return text


def check_new_rev_id(ws: Workspace, rev_id: str | None) -> None:
    """Refuse a ``--rev-id`` that a revision of the graph already has, or that is longer than
    the version table's ``version_num`` holds (its width read from the database where the table
    exists): the upgrade would fail on PostgreSQL and MariaDB."""
    if rev_id is None:
        return
    if rev_id in {r.revision for r in ws.graph.revisions}:
        raise UsageError(f"revision id {rev_id!r} already exists: choose another --rev-id")
    width = ws.version_num_width()
    if len(rev_id) > width.characters:
        raise UsageError(
            f"--rev-id {_shown(rev_id)!r} is {len(rev_id)} characters, and {width}: upgrading "
            f"would fail; use at most {width.characters}"
        )


def publish(staged: Path, staging: Path, folder: Path) -> Path:
    """Move the finished file into the plugin's folder without ever replacing a file."""
    if staged.resolve().parent != staging.resolve():
        # Alembic names the file from the revision id; check_rev_id keeps it a plain name.
        raise UsageError(f"{staged}: written outside the staging folder; not published")
    final = folder / staged.name
    try:
        os.link(staged, final)
    except FileExistsError:
        raise UsageError(f"{final}: already exists; not overwritten") from None
    return final


def require_host_metadata(context: MigrationContext, mine: PluginModels) -> None:
    """The plugin's tables must be on the MetaData env.py compares, or nothing is compared."""
    metadatas = target_metadatas(context)
    strays = [t.name for t in mine.tables if not any(t.metadata is m for m in metadatas)]
    if strays:
        raise ConfigError(
            f"plugin {mine.plugin.name}: table {strays[0]!r} is not on the MetaData the host's "
            "env.py compares (target_metadata): declare the plugin's models on the host's Base"
        )


def _result(made: list[Any]) -> RevisionResult:
    script = made[0] if made else None
    if script is None:
        return RevisionResult(None, None)
    return RevisionResult(Path(script.path), script.revision)


def _autogenerate(
    ws: Workspace,
    scope: Scope,
    staging: Path,
    message: str | None,
    rev_id: str | None,
    placement: dict[str, Any],
    write: bool,
    known_at_heads: bool = False,
) -> RevisionResult:
    left_out: list[str] = []
    operations: list[str] = []
    dropped: list[Dropped] = []

    def load_models() -> None:
        # Imported inside the first env.py run, when it calls configure(): by then env.py has
        # set up the host's models, which some hosts must do before any model module is
        # imported (Rattail's turns on SQLAlchemy-Continuum versioning); and nothing has run
        # yet. The tables still land on target_metadata: it is the host Base's MetaData.
        scope.load(ws)

    def keep_own_tables(
        context: MigrationContext, rev: Any, scripts: list[MigrationScript]
    ) -> None:
        scope.check(context)
        if scope.plugin is None:
            scope.strays = orphans.stray_tables(context, ws.revision_ids, ws.plugins)
        # Batch operations run on SQLite and are plain ALTERs elsewhere.
        context.opts["render_as_batch"] = True
        script = scripts[0]
        for container in (*script.upgrade_ops_list, *script.downgrade_ops_list):
            kept = []
            for op in container.ops:
                if scope.owns(table_of(op)):
                    kept.append(op)
                elif container in script.upgrade_ops_list:
                    left_out.append(describe(op))
            container.ops = for_every_database(kept)
        script.imports.update(type_imports(context, script, ws.script.dir))
        operations.extend(describe(op) for c in script.upgrade_ops_list for op in c.ops)
        dropped.extend(drops(context, script))
        if not write or all(c.is_empty() for c in script.upgrade_ops_list):
            scripts[:] = []

    url = ws.url
    # With no URL, env.py's own database (named in its own config or settings) may be at
    # heads; else a scratch database of its kind, on its server, is brought there.
    # (A database known to be at heads is not asked: were it not, autogenerate would refuse.)
    at_heads, own = (True, None) if known_at_heads else _at_heads(ws, url, load_models)
    # Only computing a plugin's differences: the other tables are not read at all.
    only = scope.owns if scope.plugin is not None and not write else None
    if at_heads:
        result = _generate(
            ws, staging, message, rev_id, placement, url, keep_own_tables, load_models, only
        )
        result.compared_with = "database"
    else:
        server = DatabaseURL.parse(own).twin(False) if own else url

        why = (
            "the database is behind its heads, so autogenerate compares with a scratch database "
            "({kind}): bring the database to every head (scaffold upgrade) and run revision again"
        )
        bring = functools.partial(migrate.upgrade_scratch, ws, why=why, before=load_models)
        # From the cached template of every head but the plugin's (cached.py), then its own.
        others = cached.heads_without(ws, scope.plugin.name if scope.plugin else None)
        with cached.database_at(
            ws,
            server.text if server else "sqlite",
            others,
            functools.partial(bring, target=others),
            what=f"autogenerate of {scope.name}",
        ) as made:
            tmp = DatabaseURL.parse(made)
            bring(made, target="heads")
            result = _generate(
                ws, staging, message, rev_id, placement, tmp, keep_own_tables, load_models, only
            )
            result.compared_with = "scratch database"
    result.left_out = left_out
    result.operations = operations
    result.dropped = dropped
    return result


def drops(context: MigrationContext, script: MigrationScript) -> list[Dropped]:
    """The tables and columns ``script`` drops, each with the rows holding it in the database
    ``context`` compared (a column: the rows where it is not NULL)."""
    import sqlalchemy as sa
    from alembic.operations import ops as alembic_ops

    found = []
    for container in script.upgrade_ops_list:
        for op in container.ops:
            for one in op.ops if isinstance(op, alembic_ops.ModifyTableOps) else [op]:
                if isinstance(one, alembic_ops.DropTableOp):
                    table, column = one.table_name, None
                elif isinstance(one, alembic_ops.DropColumnOp):
                    table, column = one.table_name, one.column_name
                else:
                    continue
                query = sa.select(sa.func.count()).select_from(sa.table(table, schema=one.schema))
                if column is not None:
                    query = query.where(sa.column(column).is_not(None))
                rows = None
                if context.connection is not None:
                    rows = context.connection.execute(query).scalar_one()
                found.append(Dropped(table, column, rows))
    return found


def _at_heads(
    ws: Workspace, url: DatabaseURL | None, load_models: Callable[[], None]
) -> tuple[bool, str | None]:
    """Whether the database is at every head, and the database env.py is on (or, when it cannot
    be reached, its server), for a scratch database of the same kind on the same server."""
    if url is not None and url.missing_sqlite_file is not None:
        return False, None  # reading would create an empty file: compare with a scratch database
    try:
        position = ws.where(url, before_configure=load_models)
    except (MigrationError, ConfigError) as exc:
        if isinstance(exc, ConfigError) and url is not None:
            raise
        # Unreachable (a database not created yet), or env.py's own failed: a scratch one
        # instead, on the server of the database named or that env.py connected to (reached
        # through the server's own database: that one may not exist); where there is none
        # (env.py needs a database handed in), a SQLite one.
        named = url or (DatabaseURL.parse(ws.env_chose[-1]) if ws.env_chose else None)
        return False, _server_of(named).text if named is not None else None
    return ws.graph.at_heads(r.revision for r in position.revisions), position.engine_url


#: The database every server of a kind has, to reach it when the one named does not exist.
_SERVER_DATABASES = {"postgresql": "postgres", "mysql": ""}


def _server_of(url: DatabaseURL) -> DatabaseURL:
    """``url``'s server, through the database each server of its kind has."""
    known = _SERVER_DATABASES.get(url.kind)
    return url if known is None else url.with_database(known)


def compare_only(context: MigrationContext, only: Callable[[str | None], bool]) -> None:
    """Have autogenerate read and compare only the tables ``only`` keeps, on top of env.py's
    own ``include_name`` and ``include_object``: the others' differences would be dropped
    anyway, and reading them is most of the work on a host of a hundred tables."""
    opts = context.opts
    their_name, their_object = opts.get("include_name"), opts.get("include_object")

    def include_name(name: str | None, type_: str, parents: Any) -> bool:
        if type_ == "table" and not only(name):
            return False
        return bool(their_name(name, type_, parents)) if their_name else True

    def include_object(obj: Any, name: str | None, type_: str, *rest: Any) -> bool:
        if type_ == "table" and not only(name):
            return False
        return bool(their_object(obj, name, type_, *rest)) if their_object else True

    opts["include_name"], opts["include_object"] = include_name, include_object


def _generate(
    ws: Workspace,
    staging: Path,
    message: str | None,
    rev_id: str | None,
    placement: dict[str, Any],
    url: DatabaseURL | None,
    directives: Any,
    load_models: Callable[[], None] | None = None,
    only: Callable[[str | None], bool] | None = None,
) -> RevisionResult:
    """``alembic.command.revision`` over the workspace's own script directory (read once);
    ``load_models`` is called when env.py configures its context; ``only``: the tables
    compared (:func:`compare_only`), else all."""
    from alembic.autogenerate import RevisionContext
    from alembic.util import CommandError

    config = ws.make_config(url)
    script = ws.script
    command_args: dict[str, Any] = {
        "message": template_message(message),
        "autogenerate": directives is not None,
        "sql": False,
        "head": "head",
        "splice": False,
        "branch_label": None,
        "version_path": str(staging),
        "rev_id": rev_id,
        "depends_on": None,
        **placement,
    }
    context = RevisionContext(config, script, command_args, process_revision_directives=directives)

    def retrieve(rev: Any, migration_context: MigrationContext) -> list[Any]:
        alembic_private.compare_types_and_server_defaults(migration_context)
        if only is not None:
            compare_only(migration_context, only)
        context.run_autogenerate(rev, migration_context)
        return []

    try:
        if directives is not None:
            ws.run(
                retrieve,
                url,
                config=config,
                before_configure=load_models,
                template_args=context.template_args,
                revision_context=context,
            )
        return _result(list(context.generate_scripts()))
    except ScaffoldError:
        raise
    except CommandError as exc:
        line = str(exc).splitlines()[0]
        if _WRITE_HOOK.search(line):
            line += f" (a [post_write_hooks] entry of {ws.host.described_as})"
        raise UsageError(line) from None
    except SyntaxError as exc:
        raise not_python(script, exc) from None


#: Alembic's errors from a post_write_hooks entry (its tool missing, or failing).
_WRITE_HOOK = re.compile(r"entrypoint|post.write|hook", re.IGNORECASE)


def not_python(script: Any, exc: SyntaxError) -> ConfigError:
    """A revision the host's template wrote is not Python: the template is at fault (the file
    itself was written in the staging folder, and is gone)."""
    template = Path(script.dir) / "script.py.mako"
    return ConfigError(
        f"{template}: the revision it wrote is not valid Python (line {exc.lineno}: {exc.msg}); "
        "nothing was written"
    )


def check(ws: Workspace, *, plugin_name: str | None, at_heads: bool = False) -> RevisionResult:
    """The differences between a plugin's models and its migrations (empty: they match);
    ``at_heads``: see :func:`revision`."""
    return revision(
        ws,
        plugin_name=plugin_name,
        message="check",
        autogenerate=True,
        rev_id=None,
        write=False,
        at_heads=at_heads,
    )
