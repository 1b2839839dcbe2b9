"""Hosts whose Alembic config is built in their own code (MediaGoblin's build_alembic_config).

The config names folders that no ini lists — the media types and plugins a site enables in its
own config file — so scaffold asks the host's function for it: ``host_alembic`` is
``module:function``, handed the site's config file (``host_config`` / ``--host-config``).
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from conftest import run_scaffold, tables, versions
from hosts import make_mediagoblin_site

FACTORY = "mgoblin.db.config:build_alembic_config"


def render(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    site = make_mediagoblin_site(tmp_path / "site")
    env = {"PYTHONPATH": str(tmp_path / "site")}
    answers = {
        "host_base": "mgoblin.db.models:Base",
        "host_alembic": FACTORY,
        "host_config": str(site),
        "host_branch": "52bf0ccbedc1",
        "extends": "core__media_entries.id",
    }
    data = [arg for key, value in answers.items() for arg in ("-d", f"{key}={value}")]
    run_scaffold("new", "mediasec", str(tmp_path / "mediasec"), *data, cwd=tmp_path, env=env)
    project = tmp_path / "mediasec"
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), str(project / "src")])
    return project, site, env


def test_walking_path_on_a_config_built_in_code(tmp_path: Path, db_url: str) -> None:
    project, site, env = render(tmp_path)
    url = ["--url", db_url]

    run_scaffold(*url, "upgrade", cwd=project, env=env)
    # the enabled media type's branch, which only the host's code knows about, is there too
    assert {"core__users", "image__mediafiles", "mediasec__media_security"} <= tables(db_url)

    models = project / "src" / "mediasec" / "models.py"
    models.write_text(
        models.read_text().replace(
            "    note = sa.Column(",
            "    reviewer = sa.Column(sa.Unicode(64), nullable=True)\n    note = sa.Column(",
        )
    )
    made = run_scaffold(*url, "revision", "-m", "reviewer", "--autogenerate", cwd=project, env=env)
    written = list((project / "src" / "mediasec" / "migrations").glob("*_reviewer.py"))
    assert len(written) == 1, made.stdout
    assert "image__mediafiles" not in written[0].read_text()
    run_scaffold(*url, "upgrade", cwd=project, env=env)
    assert "models match migrations" in run_scaffold(*url, "check", cwd=project, env=env).stdout

    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO core__users (id, username) VALUES (1, 'ada')"))
    engine.dispose()

    # A site admin removes the plugin from outside its project, with the site's own files only:
    # the plugin is enabled in the site's config, which is how the host finds its revisions.
    site.write_text(site.read_text().replace("plugins = ", "plugins = mediasec"))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    command = ["-c", FACTORY, "--host-config", str(site), *url]
    run_scaffold(*command, "downgrade", "--plugin", "mediasec", cwd=outside, env=env)
    assert "mediasec__media_security" not in tables(db_url)
    assert {"core__users", "image__mediafiles"} <= tables(db_url)
    assert "a98c1a320e88" in versions(db_url)
    current = run_scaffold(*command, "current", cwd=outside, env=env).stdout
    assert "a98c1a320e88 (image_media_type)" in current


def test_a_branch_in_the_database_but_not_configured_is_named(
    tmp_path: Path, sqlite_url: str
) -> None:
    project, _, env = render(tmp_path)
    run_scaffold("--url", sqlite_url, "upgrade", cwd=project, env=env)
    # The same host named by its script directory alone: the media type's folder is unknown.
    # Its row is named in one warning (a media type, or a removed plugin) and left alone.
    named = ["-c", "mgoblin.db:migrations", "--url", sqlite_url]
    current = run_scaffold(*named, "current", cwd=tmp_path, env=env)
    [warning] = [line for line in current.stderr.splitlines() if line.startswith("scaffold:")]
    assert warning.startswith("scaffold: warning: alembic_version holds a98c1a320e88")
    assert "a media type or plugin the host enables in its own config" in warning
    assert "cc3651803714" in current.stdout
    assert "Traceback" not in current.stderr
    listed = run_scaffold(*named, "plugins", cwd=tmp_path, env=env).stdout
    assert "image  (orphaned" in listed and "a98c1a320e88" in listed, listed
    assert "a98c1a320e88" in versions(sqlite_url)


def test_a_factory_that_fails_is_one_line(tmp_path: Path) -> None:
    project, site, env = render(tmp_path)
    site.write_text("[mediagoblin]\n")  # no sql_engine: the host's own function raises
    failed = run_scaffold("heads", cwd=project, env=env, check=2)
    assert failed.stderr.startswith(f"scaffold: error: config factory {FACTORY} failed:")
    assert failed.stderr.count("\n") == 1, failed.stderr
