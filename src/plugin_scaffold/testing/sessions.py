"""``scaffold test``: a plugin project's nox sessions, one per database, run from the project.

The generated noxfile tags each session with its database (``sqlite``, ``postgresql``,
``mysql``); this runs the ones asked for (all by default) with nox from this environment, or
the ``nox`` on PATH.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..databases import SERVER_URL_VARIABLES, kind_of, normalize_kind, redact
from ..errors import ConfigError, UsageError
from ..project import Project


def nox_command(databases: Sequence[str], pytest_args: Sequence[str]) -> list[str]:
    """``nox -t <database>... [-- <pytest args>]``, with the nox this machine has."""
    if importlib.util.find_spec("nox") is not None:
        command = [sys.executable, "-m", "nox"]
    elif shutil.which("nox"):
        command = ["nox"]
    else:
        raise ConfigError("nox is not installed: pip install 'nox[uv]' (or pipx install nox)")
    tags = list(dict.fromkeys(normalize_kind(d) for d in databases))
    if tags:
        command += ["-t", *tags]
    if pytest_args:
        command += ["--", *pytest_args]
    return command


def run_sessions(
    cwd: Path,
    databases: Sequence[str],
    pytest_args: Sequence[str] = (),
    server: str | None = None,
) -> int:
    """Run the project's sessions for ``databases`` (all when empty); nox's exit code, 0 or 1.

    ``server`` (``--url``) is the PostgreSQL or MariaDB server the sessions make their scratch
    databases on; it is passed on in ``SCAFFOLD_POSTGRES_URL`` or ``SCAFFOLD_MYSQL_URL``.
    """
    project = Project.find(cwd)
    if project is None:
        raise ConfigError(
            f"no plugin project at or above {cwd} (pyproject.toml with [tool.plugin-scaffold])"
        )
    if not (project.root / "noxfile.py").is_file():
        raise ConfigError(f"{project.root}: no noxfile.py (scaffold new writes one)")
    env = dict(os.environ)
    if server is not None:
        kind = kind_of(server)
        if kind not in SERVER_URL_VARIABLES:
            raise UsageError(
                f"--url {redact(server)}: scaffold test takes a PostgreSQL or MariaDB/MySQL "
                "server to make its scratch databases on"
            )
        env[SERVER_URL_VARIABLES[kind]] = server
    command = nox_command(databases, pytest_args)
    done = subprocess.run(command, cwd=project.root, env=env, check=False)
    return 0 if done.returncode == 0 else 1
