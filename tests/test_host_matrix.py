"""The walking path on every kind of host, each built at test time by its ecosystem's generator.

``alembic init -t generic | pyproject | async`` and ``flask db init`` (Flask-Migrate,
Flask-SQLAlchemy 3, an app factory): render a plugin with copier, upgrade SQLite, PostgreSQL
and MariaDB databases, change a model in the plugin and in the host, autogenerate (only the
plugin's change, inside the plugin), check, remove the plugin (host rows intact), wire (the
host's own tool sees the branch), unwire (byte for byte), then the rendered plugin's own nox
sessions.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import (
    columns,
    execute,
    require_server,
    rows,
    run_scaffold,
    tables,
    versions,
)
from hostmatrix import KINDS, PLUGIN, env_for, make_generated_host, render
from plugin_scaffold.databases.servers import temporary_database


def scaffold(project: Path, env: dict[str, str], *args: str, check: int | None = 0):  # type: ignore[no-untyped-def]
    return run_scaffold(*args, cwd=project, env=env, check=check)


@pytest.mark.postgresql
@pytest.mark.mysql
@pytest.mark.parametrize("kind", KINDS)
def test_walking_path_on_generated_host(tmp_path: Path, kind: str) -> None:
    require_server("postgresql")
    require_server("mysql")
    host = make_generated_host(tmp_path / "host", kind)
    project = render(host, tmp_path / PLUGIN)
    env = env_for(host, project)
    table = f"{PLUGIN}__store_extra"

    with (
        temporary_database("sqlite") as lite,
        temporary_database("postgresql") as pg,
        temporary_database("mysql") as maria,
    ):
        databases = {"sqlite": lite, "postgresql": pg, "mysql": maria}
        # what scaffold is given: an async host's users name their async drivers
        given = dict(databases)
        if kind == "async":
            given = {
                "sqlite": lite.replace("sqlite://", "sqlite+aiosqlite://", 1),
                "postgresql": pg.replace("postgresql+psycopg://", "postgresql+asyncpg://", 1),
                "mysql": maria.replace("mysql+pymysql://", "mysql+aiomysql://", 1),
            }
        # 1. upgrade a fresh database of each kind: host tables, then the plugin's
        for name, url in databases.items():
            scaffold(project, env, "--url", given[name], "upgrade")
            assert {"accounts", "store", table, "alembic_version"} <= tables(url)
            execute(url, "INSERT INTO store (uuid, name) VALUES ('s1', 'Main street')")

        # 2. a model change in the plugin and one in the host
        models = project / "src" / PLUGIN / "models.py"
        source = models.read_text()
        anchor = "    note = sa.Column("
        assert anchor in source, source
        models.write_text(
            source.replace(anchor, "    stars = sa.Column(sa.Integer, nullable=True)\n" + anchor)
        )
        host.models.write_text(
            host.models.read_text().replace(
                "    email = sa.Column(sa.String(200), nullable=False)",
                "    email = sa.Column(sa.String(200), nullable=False)\n"
                "    nickname = sa.Column(sa.String(50), nullable=True)",
            )
        )

        # 3. autogenerate: only the plugin's change, written inside the plugin
        made = scaffold(project, env, "revision", "-m", "stars", "--autogenerate")
        written = list((project / "src" / PLUGIN / "migrations").glob("*_stars.py"))
        assert len(written) == 1, made.stdout + made.stderr
        revision = written[0].read_text()
        assert "'stars'" in revision and "nickname" not in revision, revision
        assert "accounts (add_column nickname)" in made.stdout
        assert not list((host.root / "migrations" / "versions").glob("*_stars.py"))

        for name, url in databases.items():
            scaffold(project, env, "--url", given[name], "upgrade")
            assert "stars" in columns(url, table), name
            # 4. check: models and migrations agree
            checked = scaffold(project, env, "--url", given[name], "check")
            assert "models match migrations" in checked.stdout
            # 5. remove the plugin: its tables go, the host's stay with their rows
            scaffold(project, env, "--url", given[name], "downgrade", "--plugin", PLUGIN)
            assert table not in tables(url)
            assert rows(url, "SELECT uuid, name FROM store") == [("s1", "Main street")]
            assert len(versions(url)) == 1

    # 6. wire: the host's own tool sees the plugin's branch; unwire gives the bytes back
    config_files = host.config_files
    before = {p: p.read_bytes() for p in config_files}
    scaffold(project, env, "wire")
    heads = host.tool("heads", path=(project / "src",))
    assert heads.returncode == 0, heads.stdout + heads.stderr
    assert f"({PLUGIN})" in heads.stdout, heads.stdout + heads.stderr

    # 7. the host developer's next revision, with a plugin's model change pending: only the
    # host's change, in the host's own folder, on the host's head
    pending = models.read_text()
    models.write_text(
        pending.replace(
            "    stars = ", "    votes = sa.Column(sa.Integer, nullable=True)\n    stars = "
        )
    )
    host_env = {**env, **({"FLASK_APP": host.app} if host.app else {})}
    made = run_scaffold(
        "-c",
        host.alembic,
        "revision",
        "--host",
        "-m",
        "nickname",
        "--autogenerate",
        cwd=host.root,
        env=host_env,
    )
    [written] = (host.root / "migrations" / "versions").glob("*_nickname.py")
    text = written.read_text()
    assert "nickname" in text and "votes" not in text and PLUGIN not in text, text
    assert f"{table} (add_column votes)" in made.stdout
    heads = host.tool("heads", path=(project / "src",))
    assert written.name.split("_")[0] in heads.stdout, heads.stdout + heads.stderr
    models.write_text(pending)

    scaffold(project, env, "unwire", PLUGIN)
    assert {p: p.read_bytes() for p in config_files} == before

    # 8. the rendered plugin's own test sessions, on SQLite and PostgreSQL
    result = subprocess.run(
        [sys.executable, "-m", "nox", "-s", "tests(sqlite)", "tests(postgresql)"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "NOX_DEFAULT_VENV_BACKEND": "uv|virtualenv"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # every check of the migration suite ran and passed, in each session
    assert len(re.findall(r"=+ 8 passed[ ,]", output)) == 2, output[-4000:]


def test_multidb_host_is_refused_in_one_line_before_anything_runs(tmp_path: Path) -> None:
    """Alembic's multidb template: revisions take engine_name, which a plugin's do not; the
    first command refuses it, and neither engine's database is created or touched."""
    host = tmp_path / "host"
    host.mkdir()
    subprocess.run(
        [sys.executable, "-m", "alembic", "init", "-t", "multidb", "migrations"],
        cwd=host,
        check=True,
        capture_output=True,
    )
    ini = host / "alembic.ini"
    ini.write_text(
        ini.read_text()
        .replace("driver://user:pass@localhost/dbname", "sqlite:///%(here)s/engine1.db", 1)
        .replace("driver://user:pass@localhost/dbname2", "sqlite:///%(here)s/engine2.db", 1)
    )
    before = sorted(p.name for p in host.iterdir())
    for command in (("upgrade",), ("heads",), ("current",)):
        failed = run_scaffold("-c", str(ini), *command, cwd=tmp_path, check=2)
        assert failed.stderr.count("\n") == 1, failed.stderr
        assert "multi-database" in failed.stderr and "engine1, engine2" in failed.stderr
        assert "Traceback" not in failed.stderr
    assert sorted(p.name for p in host.iterdir()) == before


def test_render_refuses_a_multidb_host_and_a_flask_host_without_its_app(tmp_path: Path) -> None:
    """What the first command would refuse is refused by `scaffold new`, nothing written."""
    subprocess.run(
        [sys.executable, "-m", "alembic", "init", "-t", "multidb", "migrations"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    refused = run_scaffold(
        "new",
        "poser",
        "poser",
        "-d",
        f"host_alembic={tmp_path / 'alembic.ini'}",
        cwd=tmp_path,
        check=2,
    )
    assert refused.stderr.startswith("scaffold: error: host_alembic: host env.py"), refused.stderr
    assert "multi-database" in refused.stderr and refused.stderr.count("\n") == 1
    assert not (tmp_path / "poser").exists()

    flask = make_generated_host(tmp_path / "flaskhost", "flask")
    env = {"PYTHONPATH": str(flask.root)}
    data = ["-d", f"host_alembic={flask.alembic}", "-d", f"host_base={flask.base}"]
    refused = run_scaffold("new", "poser", "poser", *data, cwd=tmp_path, env=env, check=2)
    assert refused.stderr.startswith("scaffold: error: host_app: host env.py"), refused.stderr
    assert "FLASK_APP" in refused.stderr and refused.stderr.count("\n") == 1
    assert not (tmp_path / "poser").exists()
