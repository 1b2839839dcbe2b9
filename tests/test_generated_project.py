"""A freshly rendered plugin passes its own test sessions at once, on all three databases."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_server, run_scaffold
from plugin_scaffold.testing import MigrationSuite

SESSIONS = ("sqlite", "postgresql", "mysql")
#: Every check of the migration suite, as the rendered tests/test_migrations.py inherits them.
CHECKS = sorted(name for name in dir(MigrationSuite) if name.startswith("test_"))
#: The checks that read the revision files only: no database, so no database in their id.
STATIC = {"test_branch_is_well_formed"}
RESULT = re.compile(
    r"^tests/test_migrations\.py::TestMigrations::(?P<check>test_\w+)(?:\[(?P<db>\w+)\])? "
    r"(?P<outcome>PASSED|FAILED|SKIPPED|ERROR)"
)


def by_session(output: str) -> dict[str, list[str]]:
    """The lines nox printed for each session it ran, by the session's database."""
    sessions: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        started = re.search(r"nox > Running session tests\((\w+)\)$", line)
        if started:
            current = sessions.setdefault(started.group(1), [])
        elif current is not None:
            current.append(line)
    return sessions


@pytest.mark.mysql
def test_rendered_plugin_passes_its_own_nox_sessions(tmp_path: Path) -> None:
    require_server("postgresql")
    require_server("mysql")
    run_scaffold("new", "media_tags", str(tmp_path / "media_tags"), cwd=tmp_path)
    project = tmp_path / "media_tags"
    result = subprocess.run(
        # -v: one line per check and database; CI=true: a server that does not answer fails
        # its session instead of skipping the checks.
        [sys.executable, "-m", "nox", "--no-reuse-existing-virtualenvs", "--", "-v"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        env={**os.environ, "NOX_DEFAULT_VENV_BACKEND": "uv|virtualenv", "CI": "true"},
    )
    output = result.stdout
    assert result.returncode == 0, output[-4000:]
    assert len(CHECKS) == 8, CHECKS

    sessions = by_session(output)
    assert list(sessions) == list(SESSIONS), output[-4000:]
    for database, lines in sessions.items():
        text = "\n".join(lines)
        results = sorted(
            (m["check"], m["db"], m["outcome"]) for line in lines if (m := RESULT.match(line))
        )
        # every check of the suite ran once in this session, on this session's database, and
        # passed
        expected = [(c, None if c in STATIC else database, "PASSED") for c in CHECKS]
        assert results == expected, text[-4000:]
        assert re.search(rf"^=+ {len(CHECKS)} passed in [\d.]+s", text, re.M), text[-4000:]
        assert f"nox > Session tests({database}) was successful" in text, text[-4000:]
    assert all(f"nox > * tests({db}): success" in output for db in SESSIONS), output[-2000:]
