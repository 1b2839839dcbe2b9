"""Everything scaffold takes from Alembic that Alembic does not promise: its ``_names``.

Alembic's public API runs whole commands (``command.upgrade``) and reads graphs
(``ScriptDirectory.walk_revisions``, ``Script.down_revision``). Scaffold needs a little more:
the plan an upgrade would follow (to run the host's branches first), the revisions as written
(branch labels a file declares itself, not those it inherits), every revision file even when
the graph is broken (to say which file breaks it), and the comparison switches a
``MigrationContext`` was configured with. Those live only behind underscores, so they are read
here and nowhere else: an Alembic release that renames one breaks this module and its test
(``tests/test_alembic_private.py``, run on the oldest and the newest Alembic supported), not
five others.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import ModuleType

    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import Script, ScriptDirectory
    from sqlalchemy.engine import Connection

#: One step of a plan, as Alembic's ``MigrationContext.run_migrations`` takes it.
Step = Any


def revision_files(script: ScriptDirectory) -> list[Script]:
    """Every revision file of ``script``'s version locations, read one by one.

    Unlike ``walk_revisions`` this does not build the graph first, so it works on a graph that
    cannot be built (a dangling ``down_revision``, a duplicate id): the way to name the file
    at fault.
    """
    return list(script._load_revisions())


def script_directory(
    config: Config, load_file: Callable[[str, Callable[[], ModuleType]], Any] | None
) -> ScriptDirectory:
    """``ScriptDirectory.from_config(config)``, whose revision files are loaded by ``load_file``.

    ``load_file(path, load)`` returns what Alembic keeps as the file's module: ``load()`` loads
    it (Alembic's own loader), or a stand-in with the same ``revision``, ``down_revision``,
    ``branch_labels``, ``depends_on`` and docstring. The version folders are listed by
    Alembic's ``_list_py_dir``, each file is named by its real path and kept or skipped by
    Alembic's rules, and its ``Script`` is made as Alembic makes it; only the loading of
    revision files is handed over, and only while the revisions are read (never env.py's).
    """
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionMap

    script = ScriptDirectory.from_config(config)
    if load_file is None:
        return script

    def load_revisions() -> Iterator[Script]:
        return _revisions(script, load_file)

    # What ScriptDirectory.__init__ does with its own generator.
    script._load_revisions = load_revisions  # type: ignore[method-assign]
    script.revision_map = RevisionMap(load_revisions)
    return script


def _revisions(
    script: ScriptDirectory, load_file: Callable[[str, Callable[[], ModuleType]], Any]
) -> Iterator[Script]:
    """Alembic's ``_load_revisions``, each file loaded by ``load_file``.

    Alembic resolves every file's path and builds three ``Path`` objects per file: most of its
    time on a host of thousands of revisions whose files need no loading. Here a folder's real
    path is found once and a file that is no symbolic link is named inside it (a link is
    resolved, as Alembic does), and the ``Script`` is made from the name: the same files, in
    the same order, under the same names. With ``sourceless`` (``.pyc`` files kept or
    preferred) Alembic reads the folders itself, its loader replaced for each file.
    """
    from alembic import util
    from alembic.script import Script
    from alembic.script.base import _only_source_rev_file

    original = util.load_python_file

    def by_alembic(real: str, module: ModuleType) -> Script | None:
        """Alembic's ``Script._from_path(script, real)``, on the module already loaded."""
        util.load_python_file = lambda dir_, filename: module
        try:
            return Script._from_path(script, real)
        finally:
            util.load_python_file = original

    if script.sourceless:
        yield from _listed_by_alembic(script, load_file)
        return
    dupes: set[str] = set()
    folders: dict[str, str] = {}
    for location in [v for v in script._version_locations if os.path.exists(v)]:
        for listed in Script._list_py_dir(script, location):  # type: ignore[arg-type]
            path = os.fspath(listed)
            parent, name = os.path.split(path)
            if os.path.islink(path):
                real = os.path.realpath(path)
            else:
                if parent not in folders:
                    folders[parent] = os.path.realpath(parent)
                real = os.path.join(folders[parent], name)
            if real in dupes:
                util.warn(
                    f"File {real} loaded twice! ignoring. "
                    "Please ensure version_locations is unique."
                )
                continue
            dupes.add(real)
            if not _only_source_rev_file.match(os.path.basename(real)):
                continue  # not a revision file (``__init__.py``, an editor's lock, a .txt)
            dir_, name = os.path.split(real)
            module = load_file(real, lambda d=dir_, n=name: original(d, n))  # type: ignore[misc]
            revision = getattr(module, "revision", None)
            if isinstance(revision, str):
                yield Script(module, revision, real)
                continue
            # No ``revision`` (Alembic 0.1's files: the id from the file's name) or an odd
            # one: Alembic's own rules, on the module already loaded.
            odd = by_alembic(real, module)
            if odd is not None:
                yield odd


def _listed_by_alembic(
    script: ScriptDirectory, load_file: Callable[[str, Callable[[], ModuleType]], Any]
) -> Iterator[Script]:
    """Alembic's own ``_load_revisions``, its loader replaced for one step at a time."""
    from alembic import util
    from alembic.script import ScriptDirectory

    original = util.load_python_file

    def load_python_file(dir_: Any, filename: Any) -> Any:
        path = os.path.join(os.fspath(dir_), os.path.basename(os.fspath(filename)))
        return load_file(path, lambda: original(dir_, filename))

    inner = ScriptDirectory._load_revisions(script)
    while True:
        # Alembic looks ``util.load_python_file`` up at each call: it is replaced for one step
        # of Alembic's generator at a time, so that nothing else sees it.
        util.load_python_file = load_python_file
        try:
            listed = next(inner, None)
        finally:
            util.load_python_file = original
        if listed is None:
            return
        yield listed


#: Plans made on each ScriptDirectory (its revisions do not change once read), by what
#: was asked: a MigrationSuite plans the same upgrades again and again on a graph of hundreds.
_PLANS: weakref.WeakKeyDictionary[ScriptDirectory, dict[tuple[Any, ...], list[Step]]] = (
    weakref.WeakKeyDictionary()
)


def _planned(
    script: ScriptDirectory, asked: tuple[Any, ...], plan: Callable[[], Any]
) -> list[Step]:
    plans = _PLANS.setdefault(script, {})
    if asked not in plans:
        plans[asked] = list(plan())
    return list(plans[asked])


def _rows(current: Any) -> tuple[str, ...]:
    return (current,) if isinstance(current, str) else tuple(current or ())


def upgrade_plan(
    script: ScriptDirectory, destination: str | tuple[str, ...], current: Any
) -> list[Step]:
    """The steps ``alembic upgrade destination`` would run from ``current``, in its order.

    ``destination`` may be several revisions: Alembic plans towards each (its revision map takes
    a tuple wherever it takes one identifier, though ``_upgrade_revs`` is annotated ``str``).
    """
    asked = ("up", destination, _rows(current))
    return _planned(script, asked, lambda: script._upgrade_revs(destination, current))  # type: ignore[arg-type]


def downgrade_plan(script: ScriptDirectory, destination: str, current: Any) -> list[Step]:
    """The steps ``alembic downgrade destination`` would run from ``current``."""
    asked = ("down", destination, _rows(current))
    return _planned(script, asked, lambda: script._downgrade_revs(destination, current))


def stamp_plan(script: ScriptDirectory, destination: str, current: Any) -> list[Step]:
    """The version-table changes ``alembic stamp destination`` would make from ``current``."""
    return list(script._stamp_revs(destination, current))


def step_revision(step: Step) -> Script:
    """The revision a plan's step runs."""
    revision: Script = step.revision
    return revision


def version_folders(script: ScriptDirectory) -> list[Path]:
    """The folders ``script`` reads revisions from (its resolved version locations)."""
    return [Path(p) for p in script._version_locations]


def declared_branch_labels(revision: Script) -> set[str]:
    """The branch labels ``revision``'s own file declares (``branch_labels = ...``).

    ``Script.branch_labels`` also holds the labels a revision inherits from the root of its
    branch; a check of who declared which label needs the file's own.
    """
    return set(revision._orig_branch_labels or ())


def down_revisions(revision: Script) -> tuple[str, ...]:
    """The revisions ``revision`` comes after, without its ``depends_on``."""
    return tuple(revision._versioned_down_revisions)


def down_revisions_and_dependencies(revision: Script) -> tuple[str, ...]:
    """The revisions ``revision`` comes after, its ``depends_on`` included."""
    return tuple(revision._all_down_revisions)


def compare_types_and_server_defaults(context: MigrationContext) -> None:
    """Have autogenerate compare column types and server defaults, as configure() can ask.

    Only where env.py left them off: a comparison function of env.py's own is kept.
    """
    if context._user_compare_type is False:
        context._user_compare_type = True
    if context._user_compare_server_default is False:
        context._user_compare_server_default = True


def compares(context: MigrationContext) -> tuple[Any, Any]:
    """What ``context`` compares column types and server defaults with (for the test)."""
    return context._user_compare_type, context._user_compare_server_default


def dependencies(revision: Script) -> tuple[str, ...]:
    """The revision ids ``revision``'s ``depends_on`` resolves to (labels turned into ids)."""
    return tuple(getattr(revision, "_resolved_dependencies", ()) or ())


def step_transaction(context: MigrationContext) -> AbstractContextManager[Any]:
    """The transaction Alembic runs one revision step in, committed when it ends.

    A change scaffold makes inside a migration callback (``scaffold forget``) is kept exactly
    as a revision's would be, whatever env.py began: inside env.py's own transaction when
    there is one (committed with it), else in a transaction of its own (SQLite and MariaDB,
    whose outer ``begin_transaction()`` begins none).
    """
    transaction: AbstractContextManager[Any] = context.begin_transaction(_per_migration=True)
    return transaction


@contextlib.contextmanager
def without_write_hooks(script: ScriptDirectory) -> Iterator[None]:
    """``script`` writing revision files without the host's ``[post_write_hooks]``.

    They are the host's own tooling (black, ruff, pre-commit), run where the host's repository
    is: on a plugin's revision, in the plugin's folder, they fail or format it by another's
    rules. Alembic keeps them as ``ScriptDirectory.hooks`` (1.16 and later) or ``hook_config``.
    """
    name = "hooks" if hasattr(script, "hooks") else "hook_config"
    saved = getattr(script, name, None)
    setattr(script, name, None)
    try:
        yield
    finally:
        setattr(script, name, saved)


@contextlib.contextmanager
def commands_reading(script: ScriptDirectory, config: Config) -> Iterator[None]:
    """Alembic's commands run on ``config`` take ``script``, whose revision files are read.

    ``command.heads``, ``history`` and ``branches`` each call ``ScriptDirectory.from_config``
    and so read every revision file again: on a host of a thousand revisions, a third of the
    command. Inside this block that call returns ``script`` for ``config`` (any other config
    still gets a new one), so a command reads each file once.
    """
    from alembic.script import ScriptDirectory

    original = ScriptDirectory.__dict__["from_config"]

    def from_config(cls: type[ScriptDirectory], given: Config) -> ScriptDirectory:
        if given is config:
            return script
        made: ScriptDirectory = original.__func__(cls, given)
        return made

    ScriptDirectory.from_config = classmethod(from_config)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        ScriptDirectory.from_config = original  # type: ignore[method-assign]


#: The runs (their MigrationContext) whose version rows are written with bound parameters, and
#: the UPDATE each writes them with.
_BOUND: weakref.WeakKeyDictionary[MigrationContext, Any] = weakref.WeakKeyDictionary()


def bind_version_writes(context: MigrationContext) -> None:
    """In ``context``, an online run scaffold started, each revision's row is moved by one
    UPDATE whose ids are bound parameters, built and compiled once per run.

    Alembic's ``HeadMaintainer._update_version`` inlines both ids as literal SQL
    (``literal_column("'id'")``), so each revision's UPDATE is built anew and is new to
    SQLAlchemy's cache of compiled statements: replaying a host of a few hundred cheap
    revisions, that is about a third of the time. The row written, and the check that exactly
    one row matched (with Alembic's own message), are Alembic's. Any other run, offline SQL
    included, takes Alembic's own method unchanged.
    """
    import sqlalchemy as sa
    from alembic import util
    from alembic.runtime.migration import HeadMaintainer

    original = HeadMaintainer._update_version
    if not getattr(original, "scaffold_bound", False):

        def _update_version(self: HeadMaintainer, from_: str, to_: str) -> None:
            context = self.context
            update = _BOUND.get(context)
            if update is None or context.as_sql or context.connection is None:
                return original(self, from_, to_)
            assert to_ not in self.heads
            self.heads.remove(from_)
            self.heads.add(to_)
            result = context.connection.execute(
                update, {"scaffold_to": to_, "scaffold_from": from_}
            )
            if context.dialect.supports_sane_rowcount and result.rowcount != 1:
                raise util.CommandError(
                    "Online migration expected to match one row when updating "
                    f"'{from_}' to '{to_}' in '{context.version_table}'; "
                    f"{result.rowcount} found"
                )
            return None

        _update_version.scaffold_bound = True  # type: ignore[attr-defined]
        HeadMaintainer._update_version = _update_version  # type: ignore[method-assign]
    table = context._version
    _BOUND[context] = (
        table.update()
        .values(version_num=sa.bindparam("scaffold_to"))
        .where(table.c.version_num == sa.bindparam("scaffold_from"))
    )


def hand_over_transaction(context: MigrationContext, connection: Connection) -> None:
    """Make the run's transaction, which scaffold began on the connection it hands env.py, the
    one Alembic's ``autocommit_block()`` commits.

    Alembic commits "its" transaction (``MigrationContext._transaction``) before the block and
    begins a new one after it; it only knows a transaction it began itself, and asserts
    otherwise. Handed one already begun, a revision with ``autocommit_block`` (``CREATE INDEX
    CONCURRENTLY``) would fail. Nothing changes for env.py on a connection of its own.
    """
    if context.connection is connection and context._transaction is None:
        transaction = connection.get_transaction()
        if transaction is not None and transaction.is_active:
            context._transaction = transaction
