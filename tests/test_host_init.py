"""Rows a host lays down outside its migrations (``host-init``), and a config factory's own file.

MediaGoblin adds its default privileges in ``gmg dbupdate``, after its migrations, on a fresh
database only: a database scaffold creates lacks them unless the plugin's ``host-init`` (filled
in by ``scaffold new`` for ``plugin_scaffold.hosts.mediagoblin:alembic_config``) runs.

The host is ``make_mediagoblin_015`` (tests/hosts.py): a stand-in for MediaGoblin 0.15 under its
own package name, so that plugin-scaffold's shipped adapter (``alembic_config``, ``foundations``)
runs against it unchanged. The plugin gets a second revision that, like a real data migration,
needs a host row (``core__privileges`` 'uploader'): it fails on a database without them, which
is how the scratch databases (autogenerate's, adopt's, the MigrationSuite's) show the rows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import execute, require_server, rows, run_scaffold, tables, versions
from hosts import make_mediagoblin_015, make_mediagoblin_site
from plugin_scaffold.databases.servers import temporary_database

FACTORY = "plugin_scaffold.hosts.mediagoblin:alembic_config"
INIT = "plugin_scaffold.hosts.mediagoblin:foundations"
PRIVILEGES = ["admin", "moderator", "uploader", "reporter", "commenter", "active"]
NAMES = "SELECT privilege_name FROM core__privileges ORDER BY id"
GRANTS = "5eed0f0a11ce"
#: The MigrationSuite's databases.
DATABASES = "sqlite,postgresql"

# A plugin revision whose data step needs the host's row: without it, privilege is NULL.
GRANTS_REVISION = f'''"""grants"""
import sqlalchemy as sa
from alembic import op

revision = "{GRANTS}"
down_revision = "{{root}}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mediasec__grants",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("privilege", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["privilege"], ["core__privileges.id"], name=op.f("fk_mediasec__grants_privilege")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediasec__grants")),
    )
    op.execute(  # scaffold: allow foreign-sql (reads the host's row, changes none)
        "INSERT INTO mediasec__grants (id, privilege) VALUES "
        "(1, (SELECT id FROM core__privileges WHERE privilege_name = 'uploader'))"
    )


def downgrade():
    op.drop_table("mediasec__grants")
'''

GRANTS_MODEL = """

class Grant(Base):
    __tablename__ = "mediasec__grants"
    __table_args__ = (sa.PrimaryKeyConstraint("id", name=conv("pk_mediasec__grants")),)
    id = sa.Column(sa.Integer(), autoincrement=False)
    privilege = sa.Column(
        sa.Integer(),
        sa.ForeignKey("core__privileges.id", name=conv("fk_mediasec__grants_privilege")),
        nullable=False,
    )
"""


def render(root: Path, *more: str) -> tuple[Path, dict[str, str]]:
    """The MediaGoblin stand-in under ``root/site`` and the plugin ``mediasec`` for it."""
    site = make_mediagoblin_015(root / "site")
    env = {"PYTHONPATH": str(root / "site")}
    answers = {
        "host_alembic": FACTORY,
        "host_config": str(site),
        "host_base": "mediagoblin.db.models:Base",
        "host_branch": "52bf0ccbedc1",
        "extends": "core__media_entries.id",
    }
    data = [arg for key, value in answers.items() for arg in ("-d", f"{key}={value}")]
    run_scaffold("new", "mediasec", str(root / "mediasec"), *data, *more, cwd=root, env=env)
    project = root / "mediasec"
    env["PYTHONPATH"] = os.pathsep.join([str(root / "site"), str(project / "src")])
    return project, env


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The plugin, with the grants revision; rendered once (copy it before changing it)."""
    root = tmp_path_factory.mktemp("hostinit")
    project, env = render(root)
    migrations = project / "src" / "mediasec" / "migrations"
    [root_revision] = [p.name.split("_")[0] for p in migrations.glob("*_initial.py")]
    (migrations / f"{GRANTS}_grants.py").write_text(GRANTS_REVISION.format(root=root_revision))
    models = project / "src" / "mediasec" / "models.py"
    models.write_text(models.read_text() + GRANTS_MODEL)
    return project, env


def requirements(project: Path) -> list[str]:
    code = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('nf', sys.argv[1])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(module.HOST_REQUIREMENT)\n"
    )
    environment = {k: v for k, v in os.environ.items() if k != "HOST_REQUIREMENT"}
    done = subprocess.run(
        [sys.executable, "-c", code, str(project / "noxfile.py")],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()


# --- scaffold new -----------------------------------------------------------------------------


def test_scaffold_new_fills_in_how_to_install_mediagoblin_and_its_init(
    rendered: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    project, _ = rendered
    pyproject = (project / "pyproject.toml").read_text()
    assert f'host-init = "{INIT}"' in pyproject
    # Not installed as a distribution here (a folder on PYTHONPATH): what pip must find.
    assert requirements(project) == ["mediagoblin>=0.15", "setuptools<81"]

    # MediaGoblin installed from a checkout: the plugin's sessions install that checkout.
    site = make_mediagoblin_015(tmp_path / "site")
    dist = tmp_path / "site" / "mediagoblin-0.15.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mediagoblin\nVersion: 0.15.0\n")
    (dist / "top_level.txt").write_text("mediagoblin\n")
    (dist / "direct_url.json").write_text(
        '{"url": "file:///src/mediagoblin", "dir_info": {"editable": true}}'
    )
    env = {"PYTHONPATH": str(tmp_path / "site")}
    answers = ["-d", f"host_alembic={FACTORY}", "-d", f"host_config={site}", "-d", "extends="]
    done = run_scaffold("new", "mg", str(tmp_path / "mg"), *answers, cwd=tmp_path, env=env)
    assert "pip install" not in done.stdout  # importable here
    assert requirements(tmp_path / "mg") == [
        "mediagoblin @ file:///src/mediagoblin",
        "setuptools<81",
    ]

    # Not importable at all: the next step says what to install, both lines.
    shutil.rmtree(tmp_path / "site" / "mediagoblin")
    answers = ["-d", f"host_alembic={FACTORY}", "-d", f"host_config={site}", "-d", "extends="]
    done = run_scaffold("new", "mg2", str(tmp_path / "mg2"), *answers, cwd=tmp_path)
    assert "next: pip install 'mediagoblin>=0.15' 'setuptools<81'  # the host" in done.stdout


# --- every path that makes a database -----------------------------------------------------------


def test_the_host_rows_are_there_after_every_path(
    rendered: tuple[Path, dict[str, str]], db_url: str, tmp_path: Path
) -> None:
    project, env = rendered
    on = ["--url", db_url]

    # the plan says where host-init runs: once the host is at its heads, before the plugin
    planned = run_scaffold(*on, "upgrade", "--plan", cwd=project, env=env).stdout.splitlines()
    steps = [line.split() for line in planned if line[:4].strip().isdigit()]
    last_host = max(int(s[0]) for s in steps if s[1] == "host")
    at = planned.index(f"      host-init {INIT} runs here")
    assert planned[at - 1].split()[0] == str(last_host) and last_host < len(steps)
    assert tables(db_url) == set()

    made = run_scaffold(*on, "upgrade", cwd=project, env=env)
    assert f"ran host-init {INIT} on the new database" in made.stdout
    assert [r[0] for r in rows(db_url, NAMES)] == PRIVILEGES
    assert rows(db_url, "SELECT id, privilege FROM mediasec__grants") == [(1, 3)]
    # Not a fresh database any more: nothing runs again.
    again = run_scaffold(*on, "upgrade", cwd=project, env=env)
    assert "host-init" not in again.stdout
    assert [r[0] for r in rows(db_url, NAMES)] == PRIVILEGES

    # adopt: the plugin's tables are there without its rows; its scratch database runs the
    # grants revision, which needs the host's rows.
    execute(db_url, f"DELETE FROM alembic_version WHERE version_num = '{GRANTS}'")
    adopted = run_scaffold(*on, "adopt", "--to", GRANTS, cwd=project, env=env)
    assert f"match revision {GRANTS}, stamped" in adopted.stdout
    assert GRANTS in versions(db_url)

    kind = db_url.split(":", 1)[0].split("+")[0]
    with temporary_database(kind) as fresh:
        created = run_scaffold("--url", fresh, "upgrade", "--from-models", cwd=project, env=env)
        assert f"ran host-init {INIT} on the new database" in created.stdout
        assert [r[0] for r in rows(fresh, NAMES)] == PRIVILEGES

    # autogenerate against a scratch database (this one is empty, so not at the heads)
    with temporary_database(kind) as empty:
        found = run_scaffold("--url", empty, "check", cwd=project, env=env)
        assert "models match migrations" in found.stdout
        assert tables(empty) == set()


def test_the_plugins_own_tests_pass_on_a_host_with_foundations(
    rendered: tuple[Path, dict[str, str]],
) -> None:
    project, env = rendered
    require_server("postgresql")
    # The MigrationSuite's scratch databases: each upgrade of the grants revision needs the rows.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--scaffold-db",
            DATABASES,
        ],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "15 passed" in done.stdout, done.stdout

    # Without the host's init, the same tests fail on the grants revision: the rows are what
    # makes them pass.
    pyproject = project / "pyproject.toml"
    kept = pyproject.read_text()
    pyproject.write_text(kept.replace(f'host-init = "{INIT}"', ""))
    try:
        failed = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
            cwd=project,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        pyproject.write_text(kept)
    assert failed.returncode == 1
    assert "NOT NULL" in failed.stdout or "not-null" in failed.stdout, failed.stdout


# --- what goes wrong ----------------------------------------------------------------------------


def set_init(project: Path, spec: str) -> None:
    pyproject = project / "pyproject.toml"
    text = re.sub(r"(?m)^host-init = .*$", f"host-init = {spec!r}", pyproject.read_text())
    pyproject.write_text(text.replace("'", '"'))


def test_a_failing_host_init_is_one_line_and_nothing_is_kept(
    rendered: tuple[Path, dict[str, str]], tmp_path: Path, sqlite_url: str
) -> None:
    project = tmp_path / "mediasec"
    shutil.copytree(rendered[0], project)
    env = {**rendered[1]}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    (tmp_path / "brokeninit.py").write_text(
        "def lay(connection):\n    raise RuntimeError('the privileges table is locked')\n"
    )
    set_init(project, "brokeninit:lay")
    failed = run_scaffold("--url", sqlite_url, "upgrade", cwd=project, env=env, check=1)
    assert failed.stderr == (
        f"scaffold: error: host-init brokeninit:lay failed on {sqlite_url}: "
        "RuntimeError: the privileges table is locked\n"
    )
    assert tables(sqlite_url) == set()  # the whole run was rolled back

    set_init(project, "brokeninit:nosuch")
    failed = run_scaffold("--url", sqlite_url, "upgrade", cwd=project, env=env, check=2)
    assert failed.stderr == (
        "scaffold: error: host-init brokeninit:nosuch: brokeninit has no function 'nosuch'\n"
    )
    assert tables(sqlite_url) == set()

    set_init(project, "not a function")
    failed = run_scaffold("heads", cwd=project, env=env, check=2)
    assert failed.stderr == (
        f"scaffold: error: {project / 'pyproject.toml'}: host-init = 'not a function' is not "
        "module:function (e.g. plugin_scaffold.hosts.mediagoblin:foundations)\n"
    )

    # Offline SQL has no connection to hand the function: it says so.
    set_init(project, INIT)
    sql = run_scaffold("--url", sqlite_url, "upgrade", "--sql", cwd=project, env=env).stdout
    assert f"-- scaffold: host-init {INIT} is not in this SQL: it runs only online" in sql


# --- wire and unwire on a config factory ----------------------------------------------------------


def test_wire_edits_the_file_the_factorys_config_is_made_from(tmp_path: Path) -> None:
    project, _ = render(tmp_path)
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(project / "src")])}
    migrations = tmp_path / "site" / "mediagoblin" / "db" / "migrations"
    ini, env_py = migrations / "alembic.ini", migrations / "env.py"
    before = {path: path.read_bytes() for path in (ini, env_py)}

    wired = run_scaffold("wire", cwd=project, env=env)
    assert wired.stdout == f"wired mediasec: {ini}, {env_py}\n"
    assert "mediasec:migrations" in ini.read_text()
    # MediaGoblin's build_alembic_config sets version_locations itself: said in one line.
    [warning] = wired.stderr.splitlines()
    assert warning.startswith(
        f"scaffold: warning: config factory {FACTORY} sets version_locations itself and "
        f"leaves out {ini}'s"
    )
    assert "mediagoblin.ini's [plugins]" in warning

    again = run_scaffold("wire", cwd=project, env=env)
    assert again.stdout == f"mediasec is already wired into {ini}\n"

    unwired = run_scaffold("unwire", "mediasec", cwd=project, env=env)
    assert unwired.stdout == f"unwired mediasec: {ini}, {env_py}\n"
    assert {path: path.read_bytes() for path in (ini, env_py)} == before
    again = run_scaffold("unwire", "mediasec", cwd=project, env=env)
    assert again.stdout == f"mediasec is not wired into {ini}\n"


def test_wire_on_a_factory_config_from_no_file_is_one_line(tmp_path: Path) -> None:
    site = make_mediagoblin_site(tmp_path / "site")
    env = {"PYTHONPATH": str(tmp_path / "site")}
    answers = {
        "host_base": "mgoblin.db.models:Base",
        "host_alembic": "mgoblin.db.config:build_alembic_config",
        "host_config": str(site),
        "host_branch": "52bf0ccbedc1",
    }
    data = [arg for key, value in answers.items() for arg in ("-d", f"{key}={value}")]
    run_scaffold("new", "mediasec", str(tmp_path / "mediasec"), *data, cwd=tmp_path, env=env)
    project = tmp_path / "mediasec"
    env["PYTHONPATH"] += os.pathsep + str(project / "src")
    env_py = tmp_path / "site" / "mgoblin" / "db" / "migrations" / "env.py"
    before = env_py.read_bytes()

    failed = run_scaffold("wire", cwd=project, env=env, check=2)
    assert failed.stdout == ""
    assert failed.stderr == (
        "scaffold: error: config factory mgoblin.db.config:build_alembic_config builds its "
        "Config from no file (config_file_name is None): there is no file to add "
        "version_locations to; install the plugin (its entry point makes scaffold find it) and "
        "enable it where the host's own config says which plugins it loads\n"
    )
    assert ".ini" not in failed.stderr  # names no ini while saying there is none
    assert env_py.read_bytes() == before
