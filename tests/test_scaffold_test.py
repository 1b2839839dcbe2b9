"""`scaffold test`: the plugin's nox sessions, from its folder, for the databases named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import require_server, run_scaffold

BROKEN = Path(__file__).parent / "broken"


@pytest.mark.mysql
def test_runs_the_sessions_of_the_databases_named_with_pytest_arguments(tmp_path: Path) -> None:
    require_server("mysql")
    run_scaffold("new", "flawed", str(tmp_path / "flawed"), cwd=tmp_path)
    project = tmp_path / "flawed"

    done = run_scaffold(
        "test", "--db", "sqlite", "--db", "mariadb", "--", "-k", "to_heads", cwd=project / "src"
    )
    output = done.stdout + done.stderr
    assert "Session tests(sqlite) was successful" in output
    assert "Session tests(mysql) was successful" in output
    assert "tests(postgresql)" not in output
    assert output.count("1 passed, 7 deselected") == 2

    # A check that fails makes the command fail.
    shutil.copytree(BROKEN / "model_without_revision", project, dirs_exist_ok=True)
    failed = run_scaffold("test", "--db", "sqlite", "--", "-k", "models", cwd=project, check=1)
    output = failed.stdout + failed.stderr
    assert "flawed__media_security (add_column reviewed_at)" in output
    assert "Session tests(sqlite) failed" in output


def test_outside_a_plugin_project_says_where_it_looked(tmp_path: Path) -> None:
    result = run_scaffold("test", cwd=tmp_path, check=2)
    assert f"no plugin project at or above {tmp_path}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_database_is_refused(tmp_path: Path) -> None:
    run_scaffold("new", "flawed", str(tmp_path / "flawed"), cwd=tmp_path)
    result = run_scaffold("test", "--db", "oracle", cwd=tmp_path / "flawed", check=2)
    assert "unknown database 'oracle': choose one of sqlite, postgresql, mysql" in result.stderr
