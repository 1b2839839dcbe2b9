"""``scaffold upgrade --plan`` and ``downgrade --plan``: what the command would run, in order.

The plan is made by the very functions the command runs with (migrate.py): env.py is run on the
database, its version rows read, and the steps planned from them; nothing is written, and no
revision runs. So the plan is the order the command then applies, as long as the database's
rows do not change in between (another upgrade running meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import alembic_private
from ..databases.servers import temporary_database
from ..databases.urls import DatabaseURL
from ..errors import UsageError
from ..graph.revisions import Graph
from ..graph.sources import commits_midway
from .migrate import HostInitRun, command_target, downgrade_steps, upgrade_steps
from .workspace import Workspace

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import Script

#: How a failing step leaves the database, by the run's transactions.
TRANSACTIONS = {
    "run": "one transaction for the whole run: a failing step rolls back every step",
    "revision": "one transaction per revision: a failing step rolls back that step only",
    "statement": "each DDL statement commits by itself: a failing step leaves the steps "
    "before it, and its own statements run so far, applied",
}


@dataclass
class Step:
    """One revision the command runs."""

    revision: str
    #: The plugin that owns it; None for a host revision.
    plugin: str | None
    message: str
    path: str
    #: It runs statements in an ``autocommit_block``: it commits what ran before it.
    outside_transaction: bool

    @property
    def owner(self) -> str:
        return f"plugin {self.plugin}" if self.plugin is not None else "host"

    def as_json(self, number: int) -> dict[str, Any]:
        return {
            "step": number,
            "owner": "plugin" if self.plugin is not None else "host",
            "plugin": self.plugin,
            "revision": self.revision,
            "message": self.message,
            "file": self.path,
            "outside_transaction": self.outside_transaction,
        }


@dataclass
class Plan:
    """The steps of one ``upgrade`` or ``downgrade``, from the rows the database holds now."""

    command: str
    target: str
    database: str
    #: The version rows the plan starts from (those of revisions found here).
    rows: list[str]
    steps: list[Step] = field(default_factory=list)
    #: ``run``, ``revision`` or ``statement`` (see :data:`TRANSACTIONS`).
    transaction: str = "run"
    #: Version rows no revision here has: left as they are (orphans.md).
    unknown: list[str] = field(default_factory=list)
    #: The host's ``host-init`` runs after this step (1-based; 0 before any), or None.
    host_init_after: int | None = None
    host_init: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "target": self.target,
            "database": self.database,
            "rows": self.rows,
            "unknown_rows": self.unknown,
            "transaction": self.transaction,
            "transaction_text": TRANSACTIONS[self.transaction],
            "host_init": self.host_init,
            "host_init_after_step": self.host_init_after,
            "steps": [step.as_json(n) for n, step in enumerate(self.steps, 1)],
        }


def plan(
    ws: Workspace,
    command: str,
    target: str | None,
    *,
    plugin: str | None = None,
    url: DatabaseURL | None = None,
) -> Plan:
    """The plan of ``scaffold upgrade|downgrade [TARGET] [--plugin NAME]`` on the workspace's
    database (or ``url``): env.py is run to read its version rows, and nothing else."""
    graph = ws.graph
    init: HostInitRun | None = None
    if command == "upgrade":
        if plugin is not None:
            if target is not None:
                raise UsageError("give a TARGET or --plugin, not both")
            graph.require_branch(plugin)
            target = f"{plugin}@head"
        target = target or "heads"
        if ws.host.init is not None:
            init = HostInitRun(ws.host.init, graph)
        steps = upgrade_steps(ws, init)
    else:
        target = command_target(
            ws, target, plugin, "base", noun="TARGET", missing="downgrade needs a TARGET revision"
        )
        steps = downgrade_steps(ws)
    if ":" in target:
        raise UsageError(
            "--plan shows what the command does to the database: a range START:END is for --sql"
        )
    url = url or ws.url
    found = Plan(command, target, url.redacted if url is not None else "env.py's database", [])
    planned: list[Any] = []

    def fn(rev: Any, context: MigrationContext) -> list[Any]:
        if init is not None:
            init.start(rev, context)
        found.rows = list(rev)
        found.transaction = _transaction(context)
        planned.extend(steps(target, rev))
        return []  # nothing runs

    if url is not None and url.missing_sqlite_file is not None:
        # Reading it would create the file: env.py runs on an empty scratch file instead, so
        # the plan (and how env.py groups transactions) is that of the database upgrade makes.
        with temporary_database("sqlite") as scratch:
            ws.run(
                fn, DatabaseURL.parse(scratch), dont_mutate=True, lock=False, destination_rev=target
            )
    else:
        ws.run(fn, url, dont_mutate=True, lock=False, destination_rev=target)
    found.unknown = list(ws.unknown.rows)
    found.steps = [_step(graph, alembic_private.step_revision(s)) for s in planned]
    if init is not None and init.armed and command == "upgrade":
        found.host_init = init.init.spec
        found.host_init_after = _init_after(graph, found.rows, found.steps)
    return found


def _step(graph: Graph, revision: Script) -> Step:
    path = Path(revision.path)
    lines = (revision.doc or "").strip().splitlines()
    return Step(
        revision.revision,
        graph.owner(revision),
        lines[0] if lines else "",
        str(path),
        commits_midway(path),
    )


def _transaction(context: MigrationContext) -> str:
    """How the run's statements are grouped in transactions (see :data:`TRANSACTIONS`)."""
    if context.dialect.name in ("mysql", "mariadb"):
        return "statement"  # MariaDB and MySQL commit each DDL statement
    handed = context.config is not None and (
        context.config.attributes.get("connection") is context.connection
    )
    if handed:
        return "run"  # scaffold's one transaction (environment.handed_in)
    if context.opts.get("transaction_per_migration"):
        return "revision"
    return "run" if context.impl.transactional_ddl else "statement"


def _init_after(graph: Graph, rows: list[str], steps: list[Step]) -> int | None:
    """After which step every host head is applied (when ``host-init`` runs)."""
    heads = set(graph.host_heads)
    done = set(graph.applied(rows))
    if heads <= done:
        return 0
    for number, step in enumerate(steps, 1):
        done |= graph.applied([step.revision])
        if heads <= done:
            return number
    return None
