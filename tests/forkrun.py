"""``scaffold`` in a process of its own, forked from one that has imported it already.

A command's own process matters (plugin models, ``sys.path`` and the working folder are
process-wide), but starting Python and importing Alembic, SQLAlchemy and copier again for each
of a hundred short commands does not: a small server imports them once and forks a child per
command, which runs ``plugin_scaffold.cli.main`` exactly as ``python -m plugin_scaffold`` would
(no standard input, stdout and stderr to files).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER = r"""
import json, os, signal, sys, tempfile, traceback

import alembic.command, alembic.script, sqlalchemy, copier  # noqa: F401  (imported once, here)
import plugin_scaffold.cli, plugin_scaffold.commands.revision  # noqa: F401
import plugin_scaffold.commands.workspace, plugin_scaffold.host.wiring  # noqa: F401
import plugin_scaffold.plugin.template  # noqa: F401
import importlib
for name in ("sqlalchemy.ext.asyncio", "psycopg", "pymysql"):  # what most commands import next
    try:
        importlib.import_module(name)
    except ImportError:
        pass

reply = os.fdopen(os.dup(1), "w")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            signal.alarm(request["timeout"])
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
            if request["err"] == request["out"]:  # one stream, in the order written
                os.dup2(1, 2)
            else:
                os.dup2(os.open(request["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
            sys.stdin = open(0, closefd=False)
            sys.stdout = open(1, "w", closefd=False)
            sys.stderr = open(2, "w", closefd=False)
            os.chdir(request["cwd"])
            if request["whole_env"]:
                # the environment as given, and its PYTHONPATH as Python takes it at startup
                os.environ.clear()
                path = request["env"].get("PYTHONPATH", "")
                sys.path[:0] = [p for p in path.split(os.pathsep) if p]
            os.environ.update(request["env"])
            tempfile.tempdir = None  # TMPDIR as the command's environment says, not as cached
            code = plugin_scaffold.cli.main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    reply.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")
    reply.flush()
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


class ForkServer:
    """One server process; :meth:`run` is ``scaffold *argv`` in ``cwd``."""

    def __init__(self) -> None:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SCAFFOLD_TEST"))
        }
        self._folder = Path(tempfile.mkdtemp(prefix="forkrun-"))
        self._process = subprocess.Popen(
            [sys.executable, "-c", SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )

    def run(
        self,
        *argv: str,
        cwd: Path,
        env: dict[str, str] | None = None,
        timeout: int = 120,
        merged: bool = False,
        whole_env: bool = False,
    ) -> Result:
        """``merged``: stderr into stdout, in the order written (``stderr`` is then empty);
        ``whole_env``: ``env`` is the command's whole environment (its PYTHONPATH on sys.path),
        not additions to the server's."""
        out, err = self._folder / "out", self._folder / ("out" if merged else "err")
        request = {
            "argv": list(argv),
            "cwd": str(cwd),
            "env": env or {},
            "out": str(out),
            "err": str(err),
            "timeout": timeout,
            "whole_env": whole_env,
        }
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        assert line, "the fork server died"
        code = json.loads(line)["code"]
        return Result(code, out.read_text(), "" if merged else err.read_text())

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)
        for name in ("out", "err"):
            (self._folder / name).unlink(missing_ok=True)
        self._folder.rmdir()
