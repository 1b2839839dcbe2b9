"""How a process that ran scaffold ends (process_end.py): its objects frozen, after the exit
handlers registered since have run (the drops of scratch databases, the reflections kept)."""

from __future__ import annotations

import subprocess
import sys

ENDING = """
import atexit, gc
atexit.register(lambda: print("registered before:", gc.get_freeze_count() > 0, flush=True))
from plugin_scaffold.process_end import freeze_at_exit
freeze_at_exit()
freeze_at_exit()
atexit.register(lambda: print("registered after:", gc.get_freeze_count(), flush=True))
print("frozen before the end:", gc.get_freeze_count(), flush=True)
"""


def test_objects_are_frozen_once_after_the_later_exit_handlers() -> None:
    done = subprocess.run(
        [sys.executable, "-c", ENDING], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines() == [
        "frozen before the end: 0",
        "registered after: 0",
        "registered before: True",
    ]


def test_the_scaffold_command_ends_so() -> None:
    """`scaffold` as a command (cli.run) freezes at its end; its own handlers run before."""
    script = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('at the end:', gc.get_freeze_count() > 0, flush=True))\n"
        "sys.argv = ['scaffold', '--version']\n"
        "from plugin_scaffold.cli import run\n"
        "run()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines()[-1] == "at the end: True", done.stdout


def test_the_scaffold_command_hands_its_last_drops_off_unless_interrupted() -> None:
    """A command that ran (exit code 0-127) gives its scratch databases to a dropper process
    (copies.hand_off_drops); one interrupted (128 + signal) has dropped its own already."""
    script = (
        "import sys\n"
        "from plugin_scaffold import cli\n"
        "from plugin_scaffold.databases import copies\n"
        "copies.hand_off_drops = lambda: print('handed off', flush=True)\n"
        "cli.main = lambda: int(sys.argv[1])\n"
        "cli.run()\n"
    )
    for code, said in ((0, "handed off\n"), (1, "handed off\n"), (130, "")):
        done = subprocess.run(
            [sys.executable, "-c", script, str(code)], capture_output=True, text=True, timeout=60
        )
        assert (done.returncode, done.stdout) == (code, said), done.stderr
