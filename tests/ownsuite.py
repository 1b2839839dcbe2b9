"""Running a plugin project's own tests (plugin-scaffold's MigrationSuite) and reading the result.

The plugin's tests run in their own pytest process, as its nox session runs them; the JUnit XML
report says which check failed with which message.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from conftest import require_server

CHECKS = {
    "branch": "test_branch_is_well_formed",
    "upgrade": "test_upgrade_from_empty_database_to_heads",
    "alone": "test_plugin_installs_by_itself",
    "models": "test_models_match_migrations",
    "round trips": "test_every_revision_downgrades_and_upgrades_again",
    "uninstall": "test_uninstall_leaves_the_database_as_never_installed",
    "rows": "test_rows_survive_every_revision",
    "fresh install": "test_tables_from_models_equal_migrated_tables",
}


@dataclass
class Outcome:
    """What the plugin's own test run reported: failed check -> message, and the passed ones."""

    failed: dict[str, str]
    passed: set[str]
    output: str
    skipped: dict[str, str]

    def message(self, check: str) -> str:
        assert check in self.failed, f"{check} did not fail:\n{self.output[-3000:]}"
        return self.failed[check]


def run_own_tests(
    project: Path, database: str, *args: str, env: dict[str, str] | None = None
) -> Outcome:
    """The plugin's tests, as its nox session runs them, on ``database`` (a kind or a URL)."""
    for kind in database.split(","):
        require_server(kind if "://" not in kind else "sqlite")
    report = project / "report.xml"
    report.unlink(missing_ok=True)
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SCAFFOLD_TEST"))
    }
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs"]
    result = subprocess.run(
        [*command, f"--junitxml={report}", "--scaffold-db", database, *args],
        cwd=project,
        env={**inherited, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert report.is_file(), output
    failed: dict[str, str] = {}
    passed: set[str] = set()
    skipped: dict[str, str] = {}
    for case in ET.parse(report).iter("testcase"):
        name = case.get("name", "").split("[")[0]
        check = next(k for k, v in CHECKS.items() if v == name)
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        skip = case.find("skipped")
        if problem is not None:
            # (the message attribute is cut short; the element's text is whole)
            text = (problem.text or problem.get("message") or "").strip()
            failed[check] = text.removeprefix("Failed: ")
        elif skip is not None:
            skipped[check] = skip.get("message", "")
        else:
            passed.add(check)
    assert result.returncode == (1 if failed else 0), output
    return Outcome(failed, passed, output, skipped)


def assert_only(outcome: Outcome, *checks: str) -> None:
    assert set(outcome.failed) == set(checks), outcome.output[-4000:]
    assert outcome.passed == set(CHECKS) - set(checks), outcome.output[-4000:]
