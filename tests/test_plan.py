"""``upgrade --plan`` and ``downgrade --plan``: the plan is the order the command then applies.

The property test generates host-and-plugin graphs (branches, merges, ``depends_on`` on host
revisions and on other plugins' heads, labelled and unlabelled host roots), databases part
applied, and targets of every kind; each revision records itself in a ``log`` table as it runs,
so the order compared is the order the revisions really ran.
"""

from __future__ import annotations

import importlib
import json
import random
import shutil
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import run_scaffold, versions
from hosts import make_host
from plugin_scaffold.commands import migrate
from plugin_scaffold.commands.plan import plan
from plugin_scaffold.commands.workspace import Workspace
from plugin_scaffold.databases.urls import DatabaseURL
from plugin_scaffold.errors import ScaffoldError
from plugin_scaffold.host.host import Host
from plugin_scaffold.plugin.plugin import Plugin

ENV = """
from alembic import context

config = context.config
connection = config.attributes.get("connection")
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
"""

REVISION = '''"""{message}"""
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {depends!r}


def upgrade():
    op.execute("INSERT INTO log (step) VALUES ('up {rev}')")


def downgrade():
    op.execute("INSERT INTO log (step) VALUES ('down {rev}')")
'''

GRAPHS = 520
CHUNKS = 8


@dataclass
class Generated:
    ini: Path
    plugins: list[Plugin]
    revisions: list[str] = field(default_factory=list)


def _down(rng: random.Random, mine: list[str], heads: list[str]) -> str | tuple[str, ...]:
    """A down_revision: the head (a chain), an earlier revision (a branch), or two heads (a
    merge)."""
    roll = rng.random()
    if len(heads) >= 2 and roll < 0.25:
        return tuple(rng.sample(heads, 2))
    if roll < 0.45:
        return rng.choice(mine)
    return rng.choice(heads)


def _write(folder: Path, rev: str, down: object, labels: object, depends: object) -> None:
    (folder / f"{rev}_r.py").write_text(
        REVISION.format(
            message=f"revision {rev}", rev=rev, down=down, labels=labels, depends=depends
        )
    )


def _heads(downs: dict[str, str | tuple[str, ...] | None]) -> list[str]:
    named = {
        d for down in downs.values() if down for d in ((down,) if isinstance(down, str) else down)
    }
    return [r for r in downs if r not in named]


def generate(root: Path, seed: int) -> Generated:
    rng = random.Random(seed)
    host = root / "host"
    versions_dir = host / "migrations/versions"
    versions_dir.mkdir(parents=True)
    (host / "migrations/env.py").write_text(ENV)
    (host / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\n"
        f"sqlalchemy.url = sqlite:///{root / 'app.db'}\n"
    )
    labelled = rng.random() < 0.5
    downs: dict[str, str | tuple[str, ...] | None] = {}
    for n in range(rng.randint(1, 6)):
        rev = f"h{seed}x{n}"
        down = None if n == 0 else _down(rng, list(downs), _heads(downs))
        labels = ("core",) if labelled and n == 0 else ()
        _write(versions_dir, rev, down, labels, None)
        downs[rev] = down
    host_revisions = list(downs)
    sys.path.insert(0, str(root))
    plugins: list[Plugin] = []
    plugin_heads: list[str] = []
    for p in range(rng.randint(1, 3)):
        name = f"g{seed}p{p}"
        folder = root / name / "migrations"
        folder.mkdir(parents=True)
        (root / name / "__init__.py").write_text("")
        (folder / "__init__.py").write_text("")
        anchor = "core" if labelled and rng.random() < 0.5 else rng.choice(host_revisions)
        mine: dict[str, str | tuple[str, ...] | None] = {}
        for n in range(rng.randint(1, 5)):
            rev = f"{name}x{n}"
            if n == 0:
                down, labels, depends = None, (name,), anchor
            else:
                down, labels = _down(rng, list(mine), _heads(mine)), ()
                roll = rng.random()
                # a later host revision, or another plugin's head (heads depending on heads)
                depends = (
                    rng.choice(host_revisions)
                    if roll < 0.2
                    else rng.choice(plugin_heads)
                    if roll < 0.35 and plugin_heads
                    else None
                )
            _write(folder, rev, down, labels, depends)
            mine[rev] = down
        plugin_heads += _heads(mine)
        plugins.append(Plugin(name, name, "wired"))
        downs.update(mine)
    importlib.invalidate_caches()
    return Generated(host / "alembic.ini", plugins, list(downs))


def logged(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT step FROM log ORDER BY n")]


def one_graph(tmp: Path, seed: int) -> str:
    """Generate graph ``seed``, part-apply a database, plan a command and run it; return the
    kind of case it was (for the coverage assertion)."""
    made = generate(tmp, seed)
    rng = random.Random(seed * 7919)
    db = tmp / "app.db"
    url = DatabaseURL.parse(f"sqlite:///{db}")
    ws = Workspace(host=Host.from_ini(made.ini), plugins=made.plugins, url=url)
    graph = ws.graph
    applied = graph.applied(rng.sample(made.revisions, rng.randint(0, len(made.revisions) // 2)))
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE log (n INTEGER PRIMARY KEY AUTOINCREMENT, step TEXT)")
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.executemany(
            "INSERT INTO alembic_version VALUES (?)", [(r,) for r in graph.version_rows(applied)]
        )
    command = rng.choice(["upgrade", "upgrade", "downgrade"])
    plugin: str | None = None
    target: str | None
    roll = rng.random()
    if roll < 0.3:
        plugin, target = rng.choice(made.plugins).name, None
    elif command == "upgrade":
        target = "heads" if roll < 0.6 else rng.choice(made.revisions)
    else:
        target = "base" if roll < 0.45 else rng.choice(made.revisions)
    before = set(versions(f"sqlite:///{db}"))
    try:
        planned = plan(ws, command, target, plugin=plugin)
    except ScaffoldError as refused:
        # The command refuses the same way, and changes nothing.
        with pytest.raises(ScaffoldError) as also:
            if command == "upgrade":
                migrate.upgrade(ws, target or "heads", plugin=plugin)
            else:
                migrate.downgrade(ws, target, plugin=plugin)
        assert str(also.value) == str(refused)
        assert logged(db) == [] and set(versions(f"sqlite:///{db}")) == before
        return "refused"
    assert set(planned.rows) == before
    if command == "upgrade":
        done = migrate.upgrade(ws, target or "heads", plugin=plugin)
    else:
        done = migrate.downgrade(ws, target, plugin=plugin)
    ran = logged(db)
    word = "up" if command == "upgrade" else "down"
    assert ran == [f"{word} {step.revision}" for step in planned.steps], (seed, command, target)
    assert done.count == len(planned.steps)
    # the steps' owners are the folders they came from
    for step in planned.steps:
        assert step.plugin == (
            None if step.revision.startswith("h") else step.revision.split("x")[0]
        )
    if command == "upgrade":  # planned again on the database now moved: nothing left
        assert plan(ws, command, target, plugin=plugin).steps == []
    return f"{command} {'partly applied' if applied else 'empty'} {len(planned.steps) > 0}"


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_plan_is_the_order_the_command_applies(
    chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    kinds: dict[str, int] = {}
    for seed in range(chunk, GRAPHS, CHUNKS):
        kind = one_graph(tmp_path / str(seed), seed)
        kinds[kind] = kinds.get(kind, 0) + 1
    # the graphs cover what they are meant to: both commands, empty and part-applied
    # databases, plans with steps, and refusals
    assert any(k.startswith("upgrade empty True") for k in kinds), kinds
    assert any(k.startswith("upgrade partly applied True") for k in kinds), kinds
    assert any(k.startswith("downgrade partly applied True") for k in kinds), kinds


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("plan")
    run_scaffold("new", "media_tags", str(tmp / "media_tags"), cwd=tmp)
    return tmp / "media_tags"


@pytest.fixture
def project(rendered: Path, tmp_path: Path) -> Path:
    """A copy of the rendered plugin, its development database not made yet."""
    shutil.copytree(rendered, tmp_path / "media_tags")
    return tmp_path / "media_tags"


def test_upgrade_plan_prints_the_steps_and_runs_nothing(project: Path) -> None:
    done = run_scaffold("upgrade", "--plan", cwd=project)
    lines = done.stdout.splitlines()
    assert lines[0] == f"plan: upgrade sqlite:///{project / 'dev.db'} to heads"
    assert lines[1] == "the database holds: no row (an empty database)"
    steps = [line.split() for line in lines[2:6]]
    assert [s[0] for s in steps] == ["1", "2", "3", "4"]
    assert [s[1] for s in steps] == ["host", "host", "host", "plugin"]
    assert steps[3][2] == "media_tags"
    assert lines[6].startswith("transactions: one transaction for the whole run")
    assert lines[7] == "4 revisions to run; nothing was run"
    assert not (project / "dev.db").exists()  # the plan of a missing file does not make it

    run_scaffold("upgrade", cwd=project)
    rows = versions(f"sqlite:///{project / 'dev.db'}")
    plugin_row = lines[5].split()[3]
    assert plugin_row in rows
    again = run_scaffold("upgrade", "--plan", cwd=project).stdout
    assert "nothing to run: the database is already at heads" in again
    assert versions(f"sqlite:///{project / 'dev.db'}") == rows


def test_downgrade_plan_json(project: Path) -> None:
    run_scaffold("upgrade", cwd=project)
    before = versions(f"sqlite:///{project / 'dev.db'}")
    done = run_scaffold("downgrade", "--plugin", "media_tags", "--plan", "--json", cwd=project)
    found = json.loads(done.stdout)
    assert found["command"] == "downgrade" and found["target"] == "media_tags@base"
    assert set(found["rows"]) == before
    [step] = found["steps"]
    assert step["owner"] == "plugin" and step["plugin"] == "media_tags"
    assert step["file"].endswith("_initial.py") and step["outside_transaction"] is False
    assert found["transaction"] == "run"
    assert versions(f"sqlite:///{project / 'dev.db'}") == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["upgrade", "--plan", "--sql"], "give --plan or --sql, not both"),
        (["upgrade", "--json"], "--json goes with --plan"),
        (["upgrade", "--plan", "--from-models"], "--from-models runs no revision: it has no plan"),
        (["downgrade", "--plan"], "downgrade needs a TARGET revision or --plugin NAME"),
        (["upgrade", "base:heads", "--plan"], "a range START:END is for --sql"),
    ],
)
def test_plan_refuses_bad_input(project: Path, argv: list[str], message: str) -> None:
    done = run_scaffold(*argv, cwd=project, check=2)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_plan_of_a_missing_sqlite_file_is_read_from_env_py_as_the_upgrade_runs_it(
    tmp_path: Path,
) -> None:
    """An env.py that builds its own engine (alembic init's): on SQLite, Alembic commits each
    DDL statement; the plan says so for a file not made yet too, and does not make it."""
    ini = make_host(tmp_path / "host", env_style="url")
    database = tmp_path / "new.db"
    done = run_scaffold(
        "-c", str(ini), "--url", f"sqlite:///{database}", "upgrade", "--plan", cwd=tmp_path
    )
    assert "transactions: each DDL statement commits by itself" in done.stdout
    assert "2 revisions to run; nothing was run" in done.stdout
    assert not database.exists()
