"""A host built to MediaGoblin's conventions, with a plugin rendered from MediaGoblin's answers.

The host: its environment is the package resource ``mgoblin.db:migrations`` (alembic.ini beside
env.py), env.py takes ``config.attributes["session"]``, the root revision has no branch label, two
heads exist (one a plugin revision kept in the core folder). The plugin keeps its revisions
directly in ``<plugin>/migrations/``, as MediaGoblin's plugins do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import run_scaffold, tables
from hosts import make_mediagoblin_host

ANSWERS = {
    "host_base": "mgoblin.db.models:Base",
    "host_alembic": "mgoblin.db:migrations",
    "host_branch": "52bf0ccbedc1",
    "extends": "core__media_entries.id",
}

# What `gmg dbupdate` does (mediagoblin/db/migration_tools.py build_alembic_config and
# gmg_commands/dbupdate.py): core versions plus each enabled plugin's `migrations` folder,
# a session in config.attributes, upgrade to "heads".
GMG_DBUPDATE = """
import sys
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
import importlib.resources as resources

url, plugins = sys.argv[1], sys.argv[2:]
engine = create_engine(url)
session = Session(bind=engine)
ini = str(resources.files("mgoblin.db") / "migrations" / "alembic.ini")
cfg = Config(ini)
cfg.attributes["session"] = session
locations = [str(resources.files("mgoblin.db") / "migrations" / "versions")]
locations += [str(resources.files(plugin) / "migrations") for plugin in plugins]
cfg.set_main_option("sqlalchemy.url", url)
cfg.set_main_option("version_locations", " ".join(locations))
command.upgrade(cfg, "heads")
session.commit()
"""


def render(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    host = make_mediagoblin_host(tmp_path / "mghost")
    data = [arg for key, value in ANSWERS.items() for arg in ("-d", f"{key}={value}")]
    env = {"PYTHONPATH": str(host)}
    run_scaffold("new", "mediasec", str(tmp_path / "mediasec"), *data, cwd=tmp_path, env=env)
    project = tmp_path / "mediasec"
    env["PYTHONPATH"] = os.pathsep.join([str(host), str(project / "src")])
    return project, env


def test_walking_path_on_a_mediagoblin_style_host(tmp_path: Path, db_url: str) -> None:
    project, env = render(tmp_path)
    url = ["--url", db_url]
    assert not (project / "src/mediasec/migrations/versions").exists()
    heads = run_scaffold("heads", cwd=project, env=env).stdout
    assert "(mediasec) (head)" in heads and "cc3651803714" in heads and "afd3d1da5e29" in heads

    run_scaffold(*url, "upgrade", cwd=project, env=env)
    assert {"core__users", "core__subtitle_files", "mediasec__media_security"} <= tables(db_url)
    run_scaffold(*url, "check", cwd=project, env=env)

    models = project / "src/mediasec/models.py"
    models.write_text(
        models.read_text().replace(
            "    note = sa.Column(",
            "    reviewed = sa.Column(sa.Boolean(), nullable=True)\n    note = sa.Column(",
        )
    )
    out = run_scaffold(*url, "revision", "-m", "reviewed", "--autogenerate", cwd=project, env=env)
    assert "mediasec__media_security (add_column reviewed)" in out.stdout
    [written] = (project / "src/mediasec/migrations").glob("*_reviewed.py")
    assert "core__" not in written.read_text().split("def upgrade", 1)[1]
    run_scaffold(*url, "upgrade", cwd=project, env=env)

    run_scaffold(*url, "downgrade", "--plugin", "mediasec", cwd=project, env=env)
    assert not {t for t in tables(db_url) if t.startswith("mediasec__")}
    assert {"core__users", "core__media_entries", "core__subtitle_files"} <= tables(db_url)


def test_rendered_plugin_works_with_gmg_dbupdate(tmp_path: Path, db_url: str) -> None:
    project, env = render(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", GMG_DBUPDATE, db_url, "mediasec"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert {"core__subtitle_files", "mediasec__media_security"} <= tables(db_url)
    # and scaffold agrees the database is at every head
    current = run_scaffold("--url", db_url, "current", cwd=project, env=env).stdout
    assert "(mediasec) (head)" in current


ARCHIVALOOK = """import sqlalchemy as sa
from alembic import op

revision = "b10b5f822789"
down_revision = "52bf0ccbedc1"
branch_labels = ("archivalook_plugin",)
depends_on = None


def upgrade():
    op.create_table("archivalook__featured", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("archivalook__featured")
"""


def test_other_enabled_plugins_are_named_in_version_locations(
    tmp_path: Path, sqlite_url: str
) -> None:
    project, env = render(tmp_path)
    # a plugin the host enables in its own config (mediagoblin.ini [plugins]), not ours
    other = tmp_path / "mghost/mgoblin/plugins/archivalook"
    (other / "migrations").mkdir(parents=True)
    (other.parent / "__init__.py").write_text("")
    (other / "__init__.py").write_text("")
    (other / "migrations/b10b5f822789_archivalook.py").write_text(ARCHIVALOOK)
    done = subprocess.run(
        [sys.executable, "-c", GMG_DBUPDATE, sqlite_url, "mediasec", "mgoblin.plugins.archivalook"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr

    # Not configured: shown as a row scaffold leaves alone (docs/orphans.md), not as a failure.
    lost = run_scaffold("--url", sqlite_url, "current", cwd=project, env=env)
    assert "warning: alembic_version holds b10b5f822789" in lost.stderr
    assert "b10b5f822789" not in lost.stdout

    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.plugin-scaffold]\n",
            "[tool.plugin-scaffold]\n"
            'version-locations = ["mgoblin.plugins.archivalook:migrations"]\n',
        )
    )
    current = run_scaffold("--url", sqlite_url, "current", cwd=project, env=env).stdout
    assert "b10b5f822789 (archivalook_plugin) (head)" in current
    assert "(mediasec) (head)" in current
