"""A freshly rendered plugin passes its own test sessions at once, on all three databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_server, run_scaffold


@pytest.mark.mysql
def test_rendered_plugin_passes_its_own_nox_sessions(tmp_path: Path) -> None:
    require_server("postgresql")
    require_server("mysql")
    run_scaffold("new", "media_tags", str(tmp_path / "media_tags"), cwd=tmp_path)
    project = tmp_path / "media_tags"
    result = subprocess.run(
        [sys.executable, "-m", "nox", "--no-reuse-existing-virtualenvs"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NOX_DEFAULT_VENV_BACKEND": "uv|virtualenv"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Session tests(sqlite) was successful" in output
    assert "Session tests(postgresql) was successful" in output
    assert "Session tests(mysql) was successful" in output
    # every check of the migration suite ran and passed, in each session
    assert output.count("8 passed in ") == 3, output[-4000:]
