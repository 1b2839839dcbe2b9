"""The README's two commands: the ones CI runs, word for word, with the distribution's python3.

Cheap checks (nothing is installed or run here but ``nox --list``): CI itself runs the commands.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / ".ci" / "run"


def readme_commands() -> list[str]:
    """The command lines of the README's first shell block (comments left out)."""
    block = re.search(r"^```sh\n(.*?)^```", (ROOT / "README.md").read_text(), re.M | re.S)
    assert block is not None, "README.md has no ```sh block"
    return [line for line in block[1].splitlines() if line.strip() and not line.startswith("#")]


def ci_lines() -> list[str]:
    return [line.strip() for line in CI.read_text().splitlines()]


def test_the_readme_has_a_demo_command_and_a_test_command() -> None:
    demo, suite = readme_commands()
    assert demo.endswith(" -s demo")
    assert suite.endswith(" -s tests compat lint docs")


def test_ci_runs_both_readme_commands_verbatim_the_tests_once() -> None:
    demo, suite = readme_commands()
    lines = ci_lines()
    assert lines.count(demo) == 1
    assert lines.count(suite) == 1
    # The whole suite takes minutes: CI runs it once, after the quick demo.
    assert lines.index(demo) < lines.index(suite)
    assert sum(" -s tests" in line for line in lines if not line.startswith("#")) == 1


def test_ci_puts_the_distributions_python3_first_before_the_commands() -> None:
    lines = ci_lines()
    switch = lines.index('export PATH="/usr/bin:$PATH"')
    assert lines[switch - 1].startswith("if [ -x /usr/bin/python3 ]")
    assert switch < lines.index(readme_commands()[0])
    result = subprocess.run(["bash", "-n", str(CI)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_commands_need_no_pip_install_outside_a_venv() -> None:
    # PEP 668: the distribution's python3 refuses `python3 -m pip install` outside a venv.
    for command in readme_commands():
        steps = [shlex.split(step) for step in command.split("&&")]
        assert steps[0][:3] == ["python3", "-m", "venv"]
        venv = steps[0][3]
        for step in steps[1:]:
            assert step[0].startswith(f"{venv}/bin/"), step
        assert f"/{venv}/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_sessions_the_commands_name_exist() -> None:
    nox = Path(sys.executable).with_name("nox")
    if not nox.is_file():
        pytest.skip("nox is not installed in this venv")
    for command in [*readme_commands(), "nox -s build"]:
        words = shlex.split(command)
        named = words[words.index("-s") + 1 :]
        result = subprocess.run(
            [str(nox), "--list", "--json", "-s", *named],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert {session["name"] for session in json.loads(result.stdout)} == set(named)
