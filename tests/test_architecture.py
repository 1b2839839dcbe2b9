"""One way through each command (issue 17): following a command's call through scaffold's
modules enters each module at most twice — once going down, once more where env.py calls the
command's own migration callback — never by helpers that climb back up to call the workspace."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_scaffold

CALLFLOW = Path(__file__).with_name("callflow.py")
LINE = re.compile(r"^\s*(\d+)  (\S+)")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("flow")
    run_scaffold("new", "media_tags", str(tmp / "media_tags"), cwd=tmp)
    return tmp / "media_tags"


def entered(project: Path, *argv: str) -> dict[str, int]:
    """How many times one chain of calls of ``scaffold ARGV`` entered each module."""
    done = subprocess.run(
        [sys.executable, str(CALLFLOW), *argv],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = {m[2]: int(m[1]) for m in map(LINE.match, done.stdout.splitlines()) if m}
    assert found, done.stdout
    return found


def add_column(project: Path, name: str) -> None:
    models = project / "src/media_tags/models.py"
    text = models.read_text()
    anchor = "    note = sa.Column(sa.UnicodeText, nullable=True)\n"
    assert anchor in text
    models.write_text(text.replace(anchor, f"{anchor}    {name} = sa.Column(sa.UnicodeText)\n"))


def test_each_command_enters_each_module_at_most_twice(project: Path) -> None:
    runs = {
        "upgrade": entered(project, "upgrade"),
        "current": entered(project, "current"),
    }
    add_column(project, "flair")
    runs["revision --autogenerate (database at heads)"] = entered(
        project, "revision", "-m", "add flair", "--autogenerate"
    )
    (project / "dev.db").unlink()
    add_column(project, "flair_note")
    runs["revision --autogenerate (on a scratch database)"] = entered(
        project, "revision", "-m", "add flair note", "--autogenerate"
    )
    runs["upgrade"] = entered(project, "upgrade")
    runs["downgrade"] = entered(project, "downgrade", "--plugin", "media_tags")
    runs["stamp"] = entered(project, "stamp", "heads")
    for command, modules in runs.items():
        # The trace followed the command through its layers, not just the CLI.
        assert {"commands.workspace", "host.environment"} <= set(modules), command
        over = {module: n for module, n in modules.items() if n > 2}
        assert not over, f"scaffold {command} enters modules more than twice: {over}"
    assert "commands.revision" in runs["revision --autogenerate (on a scratch database)"]
    assert "commands.migrate" in runs["revision --autogenerate (on a scratch database)"]
    written = sorted(p.name for p in (project / "src/media_tags/migrations").glob("*_add_*.py"))
    assert len(written) == 2, written
