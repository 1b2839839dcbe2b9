"""What a command works on: the host, the plugins found for it, and the database named.

A :class:`Workspace` is to scaffold's commands what Alembic's ``Config`` is to
``alembic.command``: each command is a function over one (migrate.py, revision.py, ...). It
reads the graph once, and runs the host's env.py with a command's migration callback
(:meth:`Workspace.run`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import alembic_private
from ..databases.urls import DatabaseURL, is_placeholder, remember_secrets
from ..databases.versiontable import VersionTable, VersionWidth
from ..databases.waits import every_connection
from ..errors import ConfigError, PluginError, ScaffoldError, UsageError, first_line, unknown_plugin
from ..graph import headers, orphans
from ..graph.revisions import Graph
from ..host.environment import (
    MigrationFn,
    handed_in,
    not_configured,
    run_env,
    unknown_revision,
)
from ..host.host import Host, resolve_location
from ..host.redirect import Redirect
from ..host.wiring import wired_plugins
from ..plugin import plugin as plugins_mod
from ..plugin.plugin import Plugin, PluginModels
from ..plugin.project import Project, prepend_sys_path

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import Script, ScriptDirectory


#: The workspace's cached properties: what it reads of the host and its plugins, once.
_READ_ONCE = ("config", "script", "graph", "revision_ids", "unknown")


def _print_warning(text: str) -> None:
    print(f"scaffold: warning: {text}", file=sys.stderr, flush=True)


@dataclass
class Workspace:
    host: Host
    plugins: list[Plugin]
    project: Project | None = None
    url: DatabaseURL | None = None
    #: Who named :attr:`url`: ``--url``, the project's ``url``, or None for the host's own
    #: ``sqlalchemy.url`` (then an env.py computing another URL is warned of; see redirect.py).
    url_named_by: str | None = None
    extra_locations: list[Path] = field(default_factory=list)
    x_args: list[str] = field(default_factory=list)
    #: Silence Alembic's own "Generating ..." lines (revision prints what it wrote itself).
    quiet: bool = False
    #: Where a warning goes, one line each (an installed plugin left out).
    warn: Callable[[str], None] = field(default=_print_warning, repr=False)
    #: Warn of version rows no revision has (once); off for the commands that report them.
    warn_orphans: bool = True
    #: The databases env.py made engines on in the last run with no URL named (see
    #: :attr:`Redirect.chosen`), kept when the run failed: where its server is.
    env_chose: list[str] = field(default_factory=list, repr=False, compare=False)
    #: :attr:`url` is a scratch database of this process, which no other run reaches: runs on
    #: it hold no migration lock (see :meth:`on_scratch`).
    scratch: bool = False

    @classmethod
    def open(
        cls,
        *,
        config: str | None,
        url: str | None,
        cwd: Path | None = None,
        x_args: list[str] | None = None,
        host_config: str | None = None,
        warn_orphans: bool = True,
    ) -> Workspace:
        """Find the host (``-c``, the plugin project's ``host-alembic``, or ``./alembic.ini``)."""
        cwd = cwd or Path.cwd()
        project = Project.find(cwd)
        if project is not None:
            # A host that is not installed: its folder, before anything imports the host.
            prepend_sys_path(project.host_path)
        # The project's own sources first: the host's ini may name the plugin as package:path.
        found = [plugins_mod.project_plugin(project)] if project is not None else []
        app = project.host_app if project is not None else None
        found_host: Host | None
        host_config = host_config or (project.host_config if project is not None else None)
        # The project's host-init goes with the project's host (not with one named by -c).
        init = project.host_init if project is not None and config is None else None
        if config is not None:
            found_host = Host.from_spec(config, base=cwd, app=app, host_config=host_config)
        elif project is not None and project.host_alembic:
            found_host = Host.from_spec(
                project.host_alembic,
                base=project.root,
                app=app,
                host_config=host_config,
                init=init,
            )
        else:
            found_host = Host.from_cwd(cwd, app=app, init=init)
        if found_host is None:
            raise ConfigError(
                f"no alembic.ini in {cwd}: pass -c/--config with the host's alembic.ini, or run "
                "inside a plugin project (pyproject.toml with [tool.plugin-scaffold])"
            )
        host = found_host
        prepend_sys_path(host.prepend_sys_path)
        wired = [Plugin(n, p, "wired") for n, p in wired_plugins(host).items()]
        plugins = plugins_mod.collect(found, plugins_mod.entry_point_plugins(), wired)
        chosen_url, named_by = _chosen_url(url, project, host)
        extra = (
            [resolve_location(entry, project.root) for entry in project.version_locations]
            if project is not None
            else []
        )
        _require_readable(host, plugins, extra)
        return cls(
            host=host,
            plugins=plugins,
            project=project,
            extra_locations=extra,
            url=DatabaseURL.parse(chosen_url) if chosen_url else None,
            url_named_by=named_by,
            x_args=list(x_args or []),
            warn_orphans=warn_orphans,
        )

    def with_versions(self, folder: Path) -> Workspace:
        """This workspace with ``folder`` (a staging folder) among its version locations, and
        Alembic's own "Generating ..." lines silenced (the command says what it wrote). Made
        before anything reads the graph, the new workspace reads it with the folder in; what
        this one has read already stays read (the graph is read once; the folder is empty)."""
        staged = dataclasses.replace(
            self, extra_locations=[*self.extra_locations, folder], quiet=True
        )
        staged.__dict__.update({k: v for k, v in self.__dict__.items() if k in _READ_ONCE})
        return staged

    def on_scratch(self, url: str | DatabaseURL) -> Workspace:
        """This workspace on ``url``, a scratch database this process made and no other run
        reaches: scaffold chose it (env.py asking for another database is redirected to it
        without a warning), and its runs take no migration lock (three statements a run on a
        server, for a database nobody else can migrate). What was read of the revision files is
        shared: they do not depend on the database (read first: that settles which plugins
        take part)."""
        script, graph = self.script, self.graph
        bound = dataclasses.replace(
            self,
            url=DatabaseURL.of(url),
            url_named_by="scaffold",
            extra_locations=list(self.extra_locations),
            scratch=True,
        )
        bound.__dict__["script"] = script
        bound.__dict__["graph"] = graph
        return bound

    # --- core objects -------------------------------------------------------------------------

    def make_config(self, url: DatabaseURL | None = None) -> Config:
        locations = [p.migrations for p in self.plugins] + self.extra_locations
        return self.host.config(
            extra_locations=locations, url=url or self.url, quiet=self.quiet, x_args=self.x_args
        )

    @cached_property
    def config(self) -> Config:
        return self.make_config()

    @cached_property
    def script(self) -> ScriptDirectory:
        kept = headers.kept()
        while True:
            loader = kept.load if kept is not None else None
            script = alembic_private.script_directory(self.config, loader)
            failed: Exception | None = None
            # Alembic only warns of a revision id used twice (then runs either file) and of a
            # name pointing nowhere: scaffold refuses both, in one line and without the noise.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    script.revision_map.heads  # noqa: B018  (read the graph now, to report it)
                except Exception as exc:
                    failed = exc
            if any("is present more than once" in str(w.message) for w in caught):
                raise ConfigError(_duplicate_ids(script))
            if kept is not None:
                kept.save()
            if failed is None:
                return script
            if not self._leave_out_foreign(script):
                raise ConfigError(_graph_error(script, failed)) from None

    def _leave_out_foreign(self, script: ScriptDirectory) -> bool:
        """Leave out the installed plugins written for another host; False when there is none.

        An entry-point plugin is whatever is installed in the environment, possibly a plugin
        of another host: when its revisions name a revision or label this host does not have,
        it is dropped with one warning, and the graph is read again without it. The project's
        own plugin and wired plugins were chosen for this host: their dangling names stay errors.
        """
        try:
            revisions = alembic_private.revision_files(script)
        except Exception:
            return False
        wired = wired_plugins(self.host)
        installed = {
            p.migrations: p
            for p in self.plugins
            if p.source == "entry point" and p.name not in wired
        }
        foreign: dict[Plugin, str] = {}
        for revision, _, name in _dangling(revisions):
            plugin = installed.get(Path(revision.path).parent)
            if plugin is not None:
                foreign.setdefault(plugin, name)
        for plugin, name in foreign.items():
            self.warn(
                f"plugin {plugin.name} ({plugin.source}) left out: its revisions depend on "
                f"{name!r}, which this host does not have"
            )
        self.plugins = [p for p in self.plugins if p not in foreign]
        self.__dict__.pop("config", None)
        return bool(foreign)

    @cached_property
    def graph(self) -> Graph:
        return Graph(self.script, self.plugins)

    def plugin(self, name: str | None) -> Plugin:
        """The plugin a command is about: ``--plugin``, else the project's, else the only one."""
        by_name = {p.name: p for p in self.plugins}
        if name is not None:
            if name not in by_name:
                found = f" (found: {', '.join(by_name) or 'none'})"
                raise UsageError(unknown_plugin(name, by_name, found))
            return by_name[name]
        if self.project is not None:
            return by_name[self.project.plugin]
        if len(self.plugins) == 1:
            return self.plugins[0]
        known = ", ".join(by_name) or "none found"
        raise UsageError(f"which plugin? pass --plugin NAME ({known})")

    def load_models(self) -> dict[str, PluginModels]:
        """Import every plugin's models, so the host MetaData knows all plugin tables."""
        self.script  # noqa: B018  (first leave out the plugins this host cannot run)
        return {p.name: p.load_models() for p in self.plugins}

    def alembic(self, command: Callable[..., Any], **kwargs: Any) -> None:
        """Run one of ``alembic.command``'s read-only commands on this workspace's config."""
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError

        # The graph first, read as every command reads it: a revision id used twice or a name
        # pointing nowhere is refused in one line, without Alembic's warnings about it.
        script = self.script
        try:
            with alembic_private.commands_reading(script, self.config):
                command(self.config, **kwargs)
        except CommandError as exc:
            raise UsageError(str(exc).splitlines()[0]) from None
        except (KeyError, ValueError, LookupError) as exc:
            script = ScriptDirectory.from_config(self.config)
            if self._leave_out_foreign(script):
                self.alembic(command, **kwargs)
                return
            raise ConfigError(_graph_error(script, exc)) from None

    def run(
        self,
        fn: MigrationFn,
        url: DatabaseURL | None,
        as_sql: bool = False,
        config: Config | None = None,
        lock: bool | None = None,
        on_wait: Callable[[], None] | None = None,
        before_configure: Callable[[], None] | None = None,
        warn_orphans: bool = True,
        lock_timeout: float | None = None,
        commit: bool = True,
        **kwargs: Any,
    ) -> None:
        """Run the host's env.py on ``url`` (default: the workspace's) with ``fn`` as callback.

        Alembic is shown only the version rows of revisions the graph has (see
        :attr:`unknown`; ``warn_orphans``: False when the caller says it itself). ``lock``:
        hold the migration lock (default: when the run moves the version table, i.e. has a
        ``destination_rev``); ``on_wait``: called when the run has to wait for it.
        ``before_configure``: called when env.py configures its context (see :func:`run_env`).
        ``lock_timeout``, ``commit``: see :func:`handed_in`; the lock timeout is also set on
        every connection env.py opens itself.
        """
        url = url or self.url
        if config is None:
            config = self.make_config(url) if url != self.url else self.config
        opened = None if as_sql or url is None else self.host.connection_url(url)
        # Every engine env.py makes connects to the database named here (redirect.py).
        redirect = Redirect(
            url,
            self.host.script_location / "env.py",
            named_by=self.url_named_by if url == self.url else "scaffold",
            warn=self.warn,
        )
        # Runs that move the version table (upgrade, downgrade, stamp) hold the migration lock,
        # but on a scratch database of this process.
        if lock is None:
            lock = "destination_rev" in kwargs and not (self.scratch and url == self.url)
        held = handed_in(
            config,
            opened,
            lock=lock,
            on_wait=on_wait,
            shown=url,
            lock_timeout=lock_timeout,
            commit=commit,
        )
        try:
            with self.host.running(), held as connection, every_connection(lock_timeout):
                run_env(
                    config,
                    self.script,
                    fn,
                    connection=connection,
                    url=opened,
                    as_sql=as_sql,
                    before_configure=before_configure,
                    heads_filter=functools.partial(self.unknown.shown, warn=warn_orphans),
                    redirect=redirect,
                    **kwargs,
                )
        finally:
            if url is None:
                self.env_chose = list(redirect.chosen)

    def version_num_width(self) -> VersionWidth:
        """How many characters a revision id may have here: the width of ``version_num`` in the
        workspace's database where its version table exists, else Alembic's (32)."""
        url = self.url
        if url is None or url.missing_sqlite_file is not None:
            return VersionWidth()
        found: list[VersionWidth] = []

        def fn(rev: Any, context: MigrationContext) -> list[Any]:
            table = VersionTable.of(context)
            if context.connection is not None:
                width = table.width(context.connection)
                if width is not None:
                    found.append(VersionWidth(width, table.name, url.redacted))
            return []

        # A database that cannot be read now: the width Alembic gives the column.
        with contextlib.suppress(ScaffoldError):
            self.run(fn, None, dont_mutate=True)
        return min(found, key=lambda w: w.characters, default=VersionWidth())

    @cached_property
    def revision_ids(self) -> frozenset[str]:
        """The ids of every revision of the graph: a version row is known when it is one."""
        return frozenset(r.revision for r in self.graph.revisions)

    @cached_property
    def unknown(self) -> orphans.UnknownRows:
        """The version rows this command's runs found that no revision has (orphans.py)."""
        return orphans.UnknownRows(self.revision_ids, self.warn if self.warn_orphans else None)

    def current(self, url: DatabaseURL | None = None) -> list[Script]:
        """The revisions the database is at (its rows in the version table)."""
        return self.where(url).revisions

    def where(
        self,
        url: DatabaseURL | None = None,
        *,
        before_configure: Callable[[], None] | None = None,
    ) -> Position:
        """Where the database is (see :class:`Position`). ``before_configure``: see :meth:`run`."""
        found: list[str] = []
        engine_url: list[str] = []

        def fn(rev: Any, context: MigrationContext) -> Any:
            found.extend(context.get_current_heads())
            if context.connection is not None:
                engine_url.append(context.connection.engine.url.render_as_string(False))
            return []

        self.run(fn, url, dont_mutate=True, before_configure=before_configure)
        from alembic.util import CommandError

        try:
            revisions = [r for r in self.script.get_revisions(tuple(found)) if r is not None]
        except CommandError as exc:
            missing = unknown_revision(exc)
            raise UsageError(not_configured(missing) if missing else str(exc)) from None
        return Position(revisions, engine_url[0] if engine_url else None, list(self.unknown.rows))


@dataclass
class Position:
    """Where a database is: the revisions it is at, the URL of the database env.py is on (with
    its password: for scratch databases on the same server; None if it has no engine), and the
    version rows it holds that no revision here has."""

    revisions: list[Script]
    engine_url: str | None
    unknown: list[str]


def _chosen_url(
    option: str | None, project: Project | None, host: Host
) -> tuple[str | None, str | None]:
    """The database a command works on, and who named it: ``--url``, else the project's
    ``url``, else the host's own ``sqlalchemy.url`` (None: env.py chooses its own).

    alembic init's placeholder (``driver://user:pass@localhost/dbname``) names no database.
    The passwords of all three are kept out of every output, the ones not chosen too: env.py
    may still read its own.
    """
    for url in (option, project.url if project is not None else None, host.url):
        remember_secrets(url)
    if option is not None:
        if is_placeholder(option):
            raise UsageError(
                "--url driver://user:***@localhost/dbname is alembic init's placeholder, not a "
                "database URL"
            )
        return option, "--url"
    if project is not None and project.url and not is_placeholder(project.url):
        return project.url, f"url in {project.pyproject}"
    if host.url and not is_placeholder(host.url):
        return host.url, None
    return None, None


def _require_readable(host: Host, plugins: list[Plugin], extra: list[Path]) -> None:
    """Refuse to act while a configured migrations folder cannot be read.

    Alembic's walk of its version locations skips a folder it cannot read without a word: the
    plugin's revisions would be missing from the graph, its live row taken for a removed
    plugin's (and ``scaffold forget`` would offer to remove it). A folder that does not exist
    is left to Alembic, as before: a plugin deleted is what orphans are.
    """
    owners: dict[Path, tuple[str, str]] = {
        host.script_location: ("the host's Alembic environment", "")
    }
    for folder in host.version_locations:
        owners.setdefault(folder, ("a version location of the host", ""))
    for plugin in plugins:
        try:
            folder = plugin.migrations
        except PluginError:
            continue  # not installed: said when the graph is read, so that unwire still works
        owners.setdefault(folder, (f"plugin {plugin.name}'s migrations", ", or unwire the plugin"))
    for folder in extra:
        owners.setdefault(folder, ("a version location of the project", ""))
    for folder, (whose, or_else) in owners.items():
        problem = _unreadable(folder)
        if problem is not None:
            raise ConfigError(
                f"cannot read {folder} ({whose}): {problem}; scaffold reads every configured "
                "migrations folder before it acts (unread, its revisions would look unknown "
                f"and their rows orphaned): make it readable to this user{or_else}"
            )


def _unreadable(folder: Path) -> str | None:
    """Why ``folder`` cannot be listed and its revision files read; None when it can (or when
    it does not exist)."""
    import os

    try:
        os.stat(folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc.strerror or str(exc)
    if not os.access(folder, os.R_OK | os.X_OK):
        return "permission denied"
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if (
                    entry.name.endswith(".py")
                    and entry.is_file()
                    and not os.access(entry.path, os.R_OK)
                ):
                    return f"{entry.name}: permission denied"
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _dangling(revisions: list[Script]) -> Iterator[tuple[Script, str, str]]:
    """Each revision, field and name where a down_revision or depends_on points at nothing."""
    known = {r.revision for r in revisions}
    known |= {label for r in revisions for label in (r.branch_labels or ())}
    for rev in revisions:
        for field_name, names in (
            ("down_revision", rev.down_revision),
            ("depends_on", rev.dependencies),
        ):
            values = (names,) if isinstance(names, str) else tuple(names or ())
            for name in values:
                if name not in known and not any(k.startswith(name) for k in known):
                    yield rev, field_name, name


def _duplicate_ids(script: ScriptDirectory) -> str:
    """Name the files that share a revision id (which of them Alembic runs is arbitrary)."""
    files: dict[str, list[str]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rev in alembic_private.revision_files(script):
            files.setdefault(rev.revision, []).append(str(rev.path))
    for revision_id, paths in sorted(files.items()):
        if len(paths) > 1:
            return (
                f"revision id {revision_id} is used by {len(paths)} files: "
                f"{', '.join(sorted(paths))}; give each revision its own id"
            )
    return "a revision id is used by more than one file"


def _raised_in_revision_file(script: ScriptDirectory, exc: Exception) -> str | None:
    """``FILE:LINE: cannot be imported: ...`` for an exception a revision file raised while
    Alembic imported it (a missing module, a NameError), else None."""
    import traceback

    folders = [Path(p).resolve() for p in script.version_locations or [script.versions]]
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()
        if path.suffix == ".py" and any(path.is_relative_to(f) for f in folders):
            return f"{frame.filename}:{frame.lineno}: cannot be imported: {first_line(exc)}"
    return None


def _graph_error(script: ScriptDirectory, exc: Exception) -> str:
    """Name the revision file whose down_revision or depends_on points at nothing."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}: syntax error: {exc.msg}"
    raised_in = _raised_in_revision_file(script, exc)
    if raised_in is not None:
        return raised_in
    try:
        revisions = alembic_private.revision_files(script)
    except Exception as load_error:
        return f"the revision graph cannot be read: {load_error}"
    for rev, field_name, name in _dangling(revisions):
        return (
            f"revision {rev.revision} ({rev.path}) names {name!r} in {field_name}, "
            "which no revision of this host or its plugins has (a plugin written "
            "for another host, or a host revision missing?)"
        )
    return f"the revision graph cannot be read: {type(exc).__name__}: {exc}"
