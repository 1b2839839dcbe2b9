"""A docs page, run as its reader runs it: every command it shows, in order, checked.

A page's commands are the ``$ `` lines of its ```` ```console ```` blocks (a line ending in
``\\`` goes on in the next one). Each runs in bash, in the reader's current folder; its output
(stdout and stderr together) must be the lines the page shows under it, where ``...`` stands for
any text within a line, a line ``...`` for any number of lines, and a 12-digit hex revision id for
any such id. Its exit code must be 0, unless the page shows it: a ``$ echo $?`` right after it,
followed by the code.

A block with a title, ```` ```python title="PATH" ````, shows lines of the file PATH (relative to
the reader's folder; ``...`` in a file name stands for any text, and must match one file). With
``hl_lines``, the highlighted lines are what the reader adds: each goes in after the shown line
before it, which must be in the file, the shown lines in their order. Without ``hl_lines`` the
block says what the file holds: its lines, one after the other.

Substitutions, so that the run works offline and fast (what they do is what the reader's
commands do):

- ``cd DIR`` and ``. .venv/bin/activate`` change the folder and the environment of the
  commands that follow (each command is its own bash);
- ``python3 -m venv DIR`` is ``uv venv --python <this Python> DIR``;
- ``pip install ...`` / ``pip uninstall -y ...`` are ``uv pip install`` / ``uv pip uninstall``
  into the active venv, from uv's cache when it has everything (``--offline``), else from the
  index once; ``uv build`` is tried ``--offline`` first too. Their output is not compared;
- ``replace``: text of a page's commands and files that names a place on the reader's
  machine (``/srv/host``) is replaced by the test's folder for it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from forkrun import ForkServer

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: A fenced block, also one indented in a list item (its lines lose the indent).
_FENCE = re.compile(r"^( *)```(\w+)([^\n]*)\n(.*?)^\1```[ \t]*$", re.M | re.S)
_TITLE = re.compile(r'title="([^"]+)"')
_HIGHLIGHT = re.compile(r'hl_lines="([^"]+)"')
_HEADING = re.compile(r"^(#{1,6}) (.+)$", re.M)
#: ``...`` for any text, but not within a longer run of dots (pytest's ``........``)
_ELISION = re.compile(r"(?<!\.)\.\.\.(?!\.)")
_REVISION = re.compile(r"(?<![0-9a-z])[0-9a-f]{12}(?![0-9a-z])")


@dataclass
class Command:
    line: str
    expected: list[str] = field(default_factory=list)
    #: The heading of the page's section it is in.
    section: str = ""


@dataclass
class Edit:
    path: str
    lines: list[str]
    #: The indexes of the lines the reader adds (``hl_lines``); empty: the file holds them all.
    added: set[int] = field(default_factory=set)
    section: str = ""


Step = Command | Edit


def highlighted(spec: str) -> set[int]:
    """``hl_lines="3 5-7"`` as 0-based line indexes."""
    found: set[int] = set()
    for part in spec.split():
        first, _, last = part.partition("-")
        found.update(range(int(first) - 1, int(last or first)))
    return found


def steps(text: str) -> list[Step]:
    """The page's commands and files, in the order it shows them."""
    headings = [(m.start(), m.group(2).strip()) for m in _HEADING.finditer(text)]
    found: list[Step] = []
    for match in _FENCE.finditer(text):
        indent, language, info = match.group(1), match.group(2), match.group(3)
        body = "".join(line.removeprefix(indent) for line in match.group(4).splitlines(True))
        section = next((h for at, h in reversed(headings) if at < match.start()), "")
        if language == "console":
            command: Command | None = None
            for line in body.splitlines():
                if command is not None and command.line.endswith("\\") and not command.expected:
                    command.line = command.line[:-1].rstrip() + " " + line.strip()
                elif line.startswith("$ "):
                    command = Command(line[2:], section=section)
                    found.append(command)
                else:
                    assert command is not None, f"output before any command: {line!r}"
                    command.expected.append(line)
        elif title := _TITLE.search(info):
            added = highlighted(hl[1]) if (hl := _HIGHLIGHT.search(info)) else set()
            found.append(Edit(title.group(1), body.splitlines(), added, section))
    return found


def output_pattern(expected: list[str]) -> re.Pattern[str]:
    """The whole output, as the page shows it (``...`` elisions, any revision id)."""
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


class Reader:
    """A shell session of someone following a page in ``home``.

    Until a venv is activated, commands run with this test's Python environment (the one that
    has plugin-scaffold and the example host installed) first on PATH. With a ``server``, a plain
    ``scaffold ...`` line runs there in a forked process (tests/forkrun.py), as fast as a
    function call; stdout and stderr together, in the order written, as in a terminal.
    """

    def __init__(
        self,
        home: Path,
        *,
        env: dict[str, str] | None = None,
        replace: dict[str, str] | None = None,
        server: ForkServer | None = None,
    ) -> None:
        self.cwd = home
        self.env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        self.env.pop("CI", None)  # the PostgreSQL/MariaDB sessions are not run here
        tools = str(Path(sys.executable).parent)
        self.env["PATH"] = f"{tools}{os.pathsep}{self.env.get('PATH', '')}"
        self.env.update(env or {})
        self.replace = replace or {}
        self.server = server
        self.venv: Path | None = None
        self.uv = str(Path(sys.executable).parent / "uv")
        if not Path(self.uv).is_file():
            self.uv = shutil.which("uv") or pytest.skip("uv is not installed")
        #: A command's exit code that the page has yet to show (``$ echo $?``).
        self.unshown: tuple[Command, int] | None = None

    def follow(self, page: str | Path, *, sections: tuple[str, ...] | None = None) -> int:
        """Every step of ``page`` (a name in docs/), or of the sections whose heading starts
        with one of ``sections``; returns how many commands ran."""
        path = page if isinstance(page, Path) else DOCS / page
        chosen = [
            s for s in steps(path.read_text()) if sections is None or s.section.startswith(sections)
        ]
        assert chosen, f"{path.name}: no step in {sections}"
        for step in chosen:
            if isinstance(step, Command):
                self.run(step)
            else:
                self.edit(step)
        self.done()
        return sum(isinstance(s, Command) for s in chosen)

    def done(self) -> None:
        if self.unshown is not None:
            command, code = self.unshown
            raise AssertionError(f"$ {command.line}\nexited {code}, and the page does not show it")

    def run(self, command: Command) -> None:
        line = self.placed(command.line)
        if line.strip() == "echo $?":
            assert self.unshown is not None, "echo $? after a command that exited 0"
            previous, code = self.unshown
            self.unshown = None
            assert command.expected == [str(code)], f"$ {previous.line}\nexited {code}"
            return
        self.done()
        argv = shlex.split(line, comments=True)
        if argv[0] == "cd":
            self.cwd = (self.cwd / argv[1]).resolve()
            assert self.cwd.is_dir(), command.line
        elif argv[0] in (".", "source"):
            self.activate((self.cwd / argv[1]).parent.parent)
        elif argv[:3] == ["python3", "-m", "venv"]:
            self.check(command, [self.uv, "venv", "-q", "--python", sys.executable, argv[3]])
        elif argv[0] == "pip":
            assert self.venv is not None, "pip before the venv is activated"
            verb, rest = argv[1], [a for a in argv[2:] if a != "-y"]
            uv = [self.uv, "pip", verb, "-q", "--python", str(self.venv / "bin" / "python")]
            if verb == "install" and self.shell([*uv, "--offline", *rest]).returncode == 0:
                return
            self.check(command, [*uv, *rest])
        elif argv[:2] == ["uv", "build"]:
            built = [self.uv, "build", "-q", *argv[2:]]
            if self.shell([*built, "--offline"]).returncode != 0:
                self.check(command, built)
        else:
            done = self.scaffold(argv) if self.forkable(line, argv) else None
            if done is None:
                done = self.shell(["bash", "-c", line])
            if done.returncode != 0:
                self.unshown = (command, done.returncode)
            assert output_pattern(command.expected).match(done.stdout), (
                f"$ {command.line}\n--- printed (exit {done.returncode})\n{done.stdout}"
                "--- the page shows\n" + "\n".join(command.expected)
            )

    def forkable(self, line: str, argv: list[str]) -> bool:
        """A plain ``scaffold ...`` line, in this test's Python environment: it may run in a
        process forked from one that imported scaffold already (tests/forkrun.py)."""
        plain = not any(c in line for c in "|&;<>$`*~") and "=" not in argv[0]
        return self.server is not None and self.venv is None and plain and argv[0] == "scaffold"

    def scaffold(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        assert self.server is not None
        done = self.server.run(
            *argv[1:], cwd=self.cwd, env=self.env, timeout=300, merged=True, whole_env=True
        )
        return subprocess.CompletedProcess(argv, done.returncode, done.stdout, "")

    def placed(self, text: str) -> str:
        """``text`` with the page's places (``/srv/host``) replaced by the test's folders."""
        for old, new in self.replace.items():
            text = text.replace(old, new)
        return text

    def activate(self, venv: Path) -> None:
        """What ``. VENV/bin/activate`` does for the commands that follow."""
        self.venv = venv
        self.env["VIRTUAL_ENV"] = str(venv)
        self.env["PATH"] = f"{venv / 'bin'}{os.pathsep}{self.env['PATH']}"

    def edit(self, edit: Edit) -> None:
        path = self.file(self.placed(edit.path))
        edit = Edit(edit.path, [self.placed(line) for line in edit.lines], edit.added)
        lines = path.read_text().splitlines(keepends=True)
        plain = [line.rstrip("\n") for line in lines]
        if not edit.added:
            holds = any(plain[i : i + len(edit.lines)] == edit.lines for i in range(len(plain)))
            assert holds, f"{edit.path} does not hold the lines the page shows:\n" + "\n".join(
                edit.lines
            )
            return
        # each shown line is in the file, in order; each added one goes in after the one before
        at = 0
        inserted: list[tuple[int, str]] = []
        for i, line in enumerate(edit.lines):
            if i in edit.added:
                inserted.append((at, line + "\n"))
                continue
            found = next((j for j in range(at, len(plain)) if plain[j] == line), None)
            assert found is not None, f"{edit.path}: the shown line {line!r} is not in the file"
            at = found + 1
        for position, line in reversed(inserted):
            lines.insert(position, line)
        path.write_text("".join(lines))

    def file(self, name: str) -> Path:
        """The file a title names (``...`` for any text, one file)."""
        if "..." not in name:
            return self.cwd / name
        folder, _, pattern = name.rpartition("/")
        matches = sorted((self.cwd / folder).glob(pattern.replace("...", "*")))
        assert len(matches) == 1, f"{name}: {len(matches)} files match"
        return matches[0]

    def shell(self, argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=cwd or self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )

    def pip(self, *args: str) -> None:
        """``pip ARGS`` in the reader's venv, as a step the page does not show."""
        self.run(Command(shlex.join(["pip", *args])))

    def check(self, command: Command, argv: list[str]) -> None:
        done = self.shell(argv)
        assert done.returncode == 0, f"$ {command.line} (as {argv})\n{done.stdout}"
