"""docs/tutorial.md, run as a newcomer runs it: every command it shows, in order, checked.

The commands are the ``$ `` lines of the tutorial's ```` ```console ```` blocks, read from the
file at test time, so that the text cannot drift from what the tool does. Each runs in bash in
one temporary folder that holds ``plugin-scaffold`` (a symlink to this checkout, standing in for
the clone the tutorial asks for); the exit code must be 0 and the output (stdout and stderr
together) must be the lines the tutorial shows under the command, where ``...`` stands for any
text within a line, a line ``...`` for any number of lines, and a 12-digit hex revision id for
any such id. A ```` ```python title="PATH" ```` block is an edit the reader makes: its leading
lines are in PATH already, the rest is inserted after them.

Substitutions, so that the run works offline and fast (what they do is what the reader's
commands do):

- ``cd DIR`` and ``. .venv/bin/activate`` change the folder and the environment of the
  commands that follow (each command is its own bash);
- ``python3 -m venv DIR`` is ``uv venv --python <this Python> DIR``;
- ``pip install ...`` / ``pip uninstall -y ...`` are ``uv pip install`` / ``uv pip uninstall``
  into the active venv, from uv's cache when it has everything (``--offline``), else from the
  index once; their output, pip's own, is not compared.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import run_scaffold

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
HOST = ROOT / "examples" / "examplehost"

_FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.M | re.S)
_TITLE = re.compile(r'title="([^"]+)"')
#: ``...`` for any text, but not within a longer run of dots (pytest's ``........``)
_ELISION = re.compile(r"(?<!\.)\.\.\.(?!\.)")
_REVISION = re.compile(r"(?<![0-9a-z])[0-9a-f]{12}(?![0-9a-z])")


@dataclass
class Command:
    line: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Edit:
    path: str
    lines: list[str]


def steps(text: str) -> list[Command | Edit]:
    """The tutorial's commands and edits, in the order it shows them."""
    found: list[Command | Edit] = []
    for match in _FENCE.finditer(text):
        language, info, body = match.group(1), match.group(2), match.group(3)
        if language == "console":
            for line in body.splitlines():
                if line.startswith("$ "):
                    found.append(Command(line[2:]))
                elif found and isinstance(found[-1], Command):
                    found[-1].expected.append(line)
        elif language == "python" and (title := _TITLE.search(info)):
            found.append(Edit(title.group(1), body.splitlines()))
    return found


def output_pattern(expected: list[str]) -> re.Pattern[str]:
    """The whole output, as the tutorial shows it (``...`` elisions, any revision id)."""
    parts = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        pieces = []
        for i, chunk in enumerate(_ELISION.split(line)):
            if i:
                pieces.append(r"[^\n]*?")
            ids = _REVISION.split(chunk)
            pieces.append(r"[0-9a-f]{12}".join(re.escape(p) for p in ids))
        parts.append("".join(pieces) + r"\n")
    return re.compile(r"\A" + "".join(parts) + r"\Z")


def test_output_pattern_elides_and_rejects() -> None:
    pattern = output_pattern(["upgraded sqlite:///.../dev.db to heads", "...", "done"])
    assert pattern.match("upgraded sqlite:////tmp/x/dev.db to heads\ndone\n")
    assert pattern.match("upgraded sqlite:////t/dev.db to heads\na\nb\ndone\n")
    assert not pattern.match("upgraded sqlite:////t/dev.db to heads\ndone\nmore\n")
    assert not pattern.match("downgraded sqlite:////t/dev.db to heads\ndone\n")
    ids = output_pattern(["b5b0e08529a8 (media_tags) (head)"])
    assert ids.match("570c166a69d7 (media_tags) (head)\n")
    assert not ids.match("570c166a69d7 (core) (head)\n")
    assert output_pattern([]).match("") and not output_pattern([]).match("noise\n")
    dots = output_pattern(["tests/test_migrations.py ........  [100%]"])
    assert dots.match("tests/test_migrations.py ........  [100%]\n")
    assert not dots.match("tests/test_migrations.py .....F..  [100%]\n")


def test_the_tutorial_has_steps_from_install_to_removal() -> None:
    commands = [s.line for s in steps(TUTORIAL.read_text()) if isinstance(s, Command)]
    assert commands[0] == "python3 -m venv .venv"
    for expected in (
        "scaffold new media_tags",
        "scaffold upgrade",
        'scaffold revision -m "add reviewed_at" --autogenerate',
        "scaffold test --db sqlite",
        "scaffold downgrade --plugin media_tags",
        "scaffold unwire media_tags",
    ):
        assert any(c.startswith(expected) for c in commands), expected
    assert [s for s in steps(TUTORIAL.read_text()) if isinstance(s, Edit)]


class Reader:
    """A shell session of someone following the tutorial in ``home``."""

    def __init__(self, home: Path) -> None:
        self.cwd = home
        self.env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        self.env.pop("CI", None)  # the PostgreSQL/MariaDB sessions are not run here
        self.venv: Path | None = None
        self.uv = str(Path(sys.executable).parent / "uv")
        if not Path(self.uv).is_file():
            self.uv = shutil.which("uv") or pytest.skip("uv is not installed")

    def run(self, command: Command) -> None:
        argv = shlex.split(command.line, comments=True)
        if argv[0] == "cd":
            self.cwd = (self.cwd / argv[1]).resolve()
            assert self.cwd.is_dir(), command.line
        elif argv[0] in (".", "source"):
            self.venv = (self.cwd / argv[1]).parent.parent
            self.env["VIRTUAL_ENV"] = str(self.venv)
            self.env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{self.env['PATH']}"
        elif argv[:3] == ["python3", "-m", "venv"]:
            self.check(command, [self.uv, "venv", "-q", "--python", sys.executable, argv[3]])
        elif argv[0] == "pip":
            assert self.venv is not None, "pip before the venv is activated"
            verb, rest = argv[1], [a for a in argv[2:] if a != "-y"]
            uv = [self.uv, "pip", verb, "-q", "--python", str(self.venv / "bin" / "python")]
            if verb == "install" and self.shell([*uv, "--offline", *rest]).returncode == 0:
                return
            self.check(command, [*uv, *rest])
        else:
            done = self.shell(["bash", "-c", command.line])
            assert done.returncode == 0, f"$ {command.line}\n{done.stdout}"
            assert output_pattern(command.expected).match(done.stdout), (
                f"$ {command.line}\n--- printed\n{done.stdout}--- the tutorial shows\n"
                + "\n".join(command.expected)
            )

    def edit(self, edit: Edit) -> None:
        path = self.cwd / edit.path
        lines = path.read_text().splitlines(keepends=True)
        plain = [line.rstrip("\n") for line in lines]
        # the leading lines of the block are in the file already, one after the other
        for keep in range(len(edit.lines) - 1, 0, -1):
            context = edit.lines[:keep]
            at = [i for i in range(len(plain)) if plain[i : i + keep] == context]
            if len(at) == 1:
                end = at[0] + keep
                new = [line + "\n" for line in edit.lines[keep:]]
                path.write_text("".join(lines[:end] + new + lines[end:]))
                return
        raise AssertionError(f"{edit.path}: the edit's context lines are not in the file")

    def shell(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )

    def check(self, command: Command, argv: list[str]) -> None:
        done = self.shell(argv)
        assert done.returncode == 0, f"$ {command.line} (as {argv})\n{done.stdout}"


def test_every_command_of_the_tutorial_runs_as_shown(tmp_path: Path) -> None:
    home = tmp_path / "tutorial"
    home.mkdir()
    (home / "plugin-scaffold").symlink_to(ROOT)
    reader = Reader(home)
    for step in steps(TUTORIAL.read_text()):
        if isinstance(step, Command):
            reader.run(step)
        else:
            reader.edit(step)

    # what the tutorial says at its end: the host as it was before the plugin came
    host = home / "examplehost"
    for name in ("alembic.ini", "examplehost/migrations/env.py"):
        assert (host / name).read_bytes() == (HOST / name).read_bytes(), name
    with sqlite3.connect(host / "examplehost.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        versions = [row[0] for row in db.execute("SELECT version_num FROM alembic_version")]
    assert {"core__users", "core__media_entries"} <= tables
    assert not [t for t in tables if t.startswith("media_tags__")], tables
    assert versions == ["3c8e0f2a1b4d"]
    # the plugin's revision was written inside the plugin, and only there
    written = list((home / "media_tags/src/media_tags/migrations").glob("*_add_reviewed_at.py"))
    assert len(written) == 1
    assert "add_column(sa.Column('reviewed_at'" in written[0].read_text()
    assert not list(host.rglob("*_add_reviewed_at.py"))


def test_new_says_to_install_a_host_it_cannot_import_before_upgrading(tmp_path: Path) -> None:
    # the newcomer's first stumble: the next: line must be a command that works at that point
    args = ["-d", "host_alembic=nosuchhost:migrations", "-d", "host_requirement=nosuchhost==1.0"]
    out = run_scaffold("new", "media_tags", *args, cwd=tmp_path).stdout.splitlines()
    assert out == [
        "created plugin media_tags in media_tags",
        "next: pip install nosuchhost==1.0  # the host, which scaffold imports",
        "next: cd media_tags && scaffold upgrade",
    ]
    upgrade = run_scaffold("upgrade", cwd=tmp_path / "media_tags", check=None)
    assert upgrade.returncode == 2 and "nosuchhost" in upgrade.stderr, upgrade.stderr
    # importable (the example host is installed here): straight to the upgrade, which works
    done = run_scaffold("new", "other", cwd=tmp_path).stdout.splitlines()
    assert done == ["created plugin other in other", "next: cd other && scaffold upgrade"]
    run_scaffold("upgrade", cwd=tmp_path / "other")
