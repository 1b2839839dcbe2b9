"""The progress line of ``scaffold upgrade``/``downgrade``: on a terminal, for long runs only.

Each run is a real ``scaffold`` process: on a pseudo-terminal (what a user's terminal is to a
program), or with pipes (what CI, ``| tee`` and ``run_scaffold`` give). The terminal's bytes are
replayed (``\\r`` returns to the line's start and overwrites) into the lines a user would see.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from conftest import ROOT, execute, run_scaffold, tables, versions
from plugin_scaffold.databases.locking import migration_lock
from plugin_scaffold.databases.servers import make_engine

sys.path.insert(0, str(ROOT / "bench"))
from hostgen import Layout, generate

#: 5 core revisions + 3 plugins x 12: 41 revisions; one plugin alone (with the core) is 17.
PLUGINS, REVISIONS = 3, 12
TOTAL = 5 + PLUGINS * REVISIONS
PROGRESS = re.compile(rb"(upgrading|downgrading): (\d+)/(\d+) ")
#: A carriage return that does not end a line: the pty turns each "\n" into "\r\n".
OVERWRITE = re.compile(rb"\r(?!\n)")

FAILING = '''
"""fails"""
revision = "p01fail"
down_revision = "p01r{last:03d}"
branch_labels = None
depends_on = None


def upgrade():
    raise RuntimeError("this revision fails")


def downgrade():
    pass
'''


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    root = tmp_path_factory.mktemp("progress")
    made = Layout(root / "generated", root / "databases", plugins=PLUGINS, revisions=REVISIONS)
    made.databases.mkdir()
    generate(made)
    return made


def on_terminal(
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    when: bytes | None = None,
    then: object = None,
    type_in: bytes | None = None,
) -> tuple[int, bytes]:
    """Run scaffold with stdout and stderr on a pseudo-terminal 120 columns wide; its exit code
    and every byte it wrote. ``then`` is called once the output holds ``when``; with
    ``type_in``, stdin is the terminal too and ``type_in`` is typed there at that point."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    if type_in is not None:
        then = lambda: os.write(master, type_in)  # noqa: E731
    process = subprocess.Popen(
        [sys.executable, "-m", "plugin_scaffold", *args],
        cwd=cwd,
        env=env,
        stdin=slave if type_in is not None else subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the process has closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
                if when is not None and when in output and callable(then):
                    then()
                    when = None
            elif process.poll() is not None:
                break
        return process.wait(timeout=60), output
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)


def screen(output: bytes) -> list[str]:
    """The lines a terminal shows for ``output`` (carriage returns overwrite, trailing blanks
    dropped)."""
    lines: list[str] = []
    line: list[str] = []
    column = 0
    for char in output.decode():
        if char == "\r":
            column = 0
        elif char == "\n":
            lines.append("".join(line).rstrip())
            line, column = [], 0
        else:
            if column < len(line):
                line[column] = char
            else:
                line.append(char)
            column += 1
    if line:
        lines.append("".join(line).rstrip())
    return lines


def counts(output: bytes, verb: bytes) -> list[tuple[int, int]]:
    return [(int(n), int(total)) for v, n, total in PROGRESS.findall(output) if v == verb]


def test_progress_on_a_terminal_only_for_long_runs(layout: Layout, db_url: str) -> None:
    env = layout.env(bytecode=True)
    base = ["-c", str(layout.ini), "--url", db_url]
    heads = {f"{name}r{REVISIONS:03d}" for name in layout.names}

    # Piped: not one byte of progress.
    piped = run_scaffold(*base, "upgrade", cwd=layout.host, env=env)
    assert versions(db_url) == heads
    for text in (piped.stdout, piped.stderr):
        assert "\r" not in text
        assert "upgrading:" not in text

    # On a terminal: n/N for each revision undone, ending at N/N, then a newline.
    code, output = on_terminal([*base, "downgrade", "base"], cwd=layout.host, env=env)
    assert code == 0, output.decode()
    assert versions(db_url) == set()
    done = counts(output, b"downgrading")
    assert {total for _, total in done} == {TOTAL}
    assert [n for n, _ in done] == sorted(n for n, _ in done)
    assert done[0][0] < TOTAL and done[-1][0] == TOTAL
    shown = screen(output)
    assert re.fullmatch(r"downgrading: 41/41 c0re0001 \(host: users\) \d+:\d\d", shown[-2])
    assert shown[-1].startswith("downgraded ") and shown[-1].endswith(" to base")

    # A short plan (the core and one plugin: 17 revisions, in well under 2 s) shows none.
    code, output = on_terminal(
        [*base, "upgrade", "--plugin", layout.names[0]], cwd=layout.host, env=env
    )
    assert code == 0, output.decode()
    assert b"upgrading:" not in output and not OVERWRITE.search(output)
    assert len(versions(db_url)) == 1

    # --no-progress on a terminal: none either.
    code, output = on_terminal(
        [*base, "upgrade", layout.names[1] + "@head", "--no-progress"], cwd=layout.host, env=env
    )
    assert code == 0, output.decode()
    assert b"upgrading:" not in output and not OVERWRITE.search(output)

    # Piped downgrade: quiet again.
    piped = run_scaffold(*base, "downgrade", "base", cwd=layout.host, env=env)
    assert versions(db_url) == set()
    assert "\r" not in piped.stdout + piped.stderr
    assert "downgrading:" not in piped.stdout + piped.stderr

    # From an empty database again, a long upgrade: Alembic's INFO lines (the generated host's
    # alembic.ini logs them to stderr) stay whole lines above the progress line.
    code, output = on_terminal([*base, "upgrade"], cwd=layout.host, env=env)
    assert code == 0, output.decode()
    assert versions(db_url) == heads
    done = counts(output, b"upgrading")
    assert done[-1] == (TOTAL, TOTAL) and done[0][0] < TOTAL
    shown = screen(output)
    # Every line but the last two is one of Alembic's, whole: the progress line never shows
    # on top of one, nor is left between them.
    logged = shown[:-2]
    assert all(line.startswith("INFO  [alembic.runtime.migration] ") for line in logged), logged
    assert sum("Running upgrade" in line for line in logged) == TOTAL
    assert re.fullmatch(
        rf"upgrading: {TOTAL}/{TOTAL} p\d\dr{REVISIONS:03d} \(p\d\d: p\d\d step {REVISIONS}\) "
        r"\d+:\d\d",
        shown[-2],
    ), shown[-2]
    assert shown[-1].startswith("upgraded ") and shown[-1].endswith(" to heads")


def test_a_failed_run_wipes_the_line_and_waiting_for_the_lock_still_shows(
    tmp_path: Path, db_url: str
) -> None:
    made = Layout(tmp_path / "generated", tmp_path / "databases", plugins=2, revisions=15)
    made.databases.mkdir()
    generate(made)
    migrations = made.migrations(made.names[1])
    (migrations / "p01fail_fails.py").write_text(FAILING.format(last=15))
    env = made.env(bytecode=True)

    # Another run holds the migration lock: scaffold says it waits, then runs when it is let go.
    # (The database holds another application's row: a holder finding an empty SQLite file it
    # made removes it.)
    execute(db_url, "CREATE TABLE other_app (id INTEGER PRIMARY KEY)")
    execute(db_url, "INSERT INTO other_app (id) VALUES (1)")
    engine = make_engine(db_url)
    connection = engine.connect()
    held = migration_lock(connection, db_url)
    held.__enter__()
    released = []

    def release() -> None:
        held.__exit__(None, None, None)
        released.append(True)

    try:
        code, output = on_terminal(
            ["-c", str(made.ini), "--url", db_url, "upgrade"],
            cwd=made.host,
            env=env,
            when=b"waiting for ",
            then=release,
        )
    finally:
        if not released:
            held.__exit__(None, None, None)
        connection.close()
        engine.dispose()
    assert released, output.decode()
    assert code == 1, output.decode()
    shown = screen(output)
    waiting = [line for line in shown if line.startswith("scaffold: waiting for ")]
    assert len(waiting) == 1, shown
    # The line was drawn while the run went on, and wiped when it failed: the error line
    # stands alone, and no progress is left on the screen.
    assert counts(output, b"upgrading"), output.decode()
    assert not any("upgrading:" in line for line in shown), shown
    assert shown[-1].startswith("scaffold: error: revision p01fail ("), shown[-1]
    assert "this revision fails" in shown[-1]
    # One transaction: nothing of the run stays.
    left = tables(db_url) - {"other_app"}
    assert left <= {"alembic_version"}
    assert "alembic_version" not in left or versions(db_url) == set()
