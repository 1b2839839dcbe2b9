"""``scaffold test``: a plugin project's nox sessions, one per database, run from the project.

The generated noxfile tags each session with its database (``sqlite``, ``postgresql``,
``mysql``); this runs the ones asked for (all by default) with nox from this environment, or
the ``nox`` on PATH. After nox's own output it prints one line per database, from nox's
``--report``, and a summary::

    sqlite: passed in 0:14
    postgresql: FAILED in 0:20
    mysql: skipped (no server at 127.0.0.1:3306: set SCAFFOLD_MYSQL_URL)
    scaffold test: 1 passed, 1 failed, 1 skipped in 0:35

A server database whose server does not answer (a TCP connection to its host and port) is
not run at all, as its tests would all skip, unless ``CI`` is set: there they fail, as the
plugin's tests do.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..commands.progress import clock
from ..databases.servers import DEFAULT_SERVER_URLS, KINDS, SERVER_URL_VARIABLES, normalize_kind
from ..databases.urls import DEFAULT_PORTS, DatabaseURL, kind_of, redact, redact_text
from ..errors import ConfigError, UsageError
from ..plugin.project import Project

#: nox's session results, as the lines say them.
RESULTS = {"success": "passed", "failed": "FAILED", "aborted": "FAILED", "skipped": "skipped"}


def nox_command(
    databases: Sequence[str], pytest_args: Sequence[str], report: Path | None = None
) -> list[str]:
    """``nox -r -t <database>... [--report FILE] [-- <pytest args>]``, with this machine's nox.

    ``-r``: each session's virtualenv, once made, is kept for the next run instead of made
    again; the rendered noxfile then skips its installs while nothing they depend on changed
    (its ``install``: the requirements, pyproject.toml, the noxfile, local folders)."""
    command = [*runnable_nox(), "-r"]
    tags = list(dict.fromkeys(normalize_kind(d) for d in databases))
    if tags:
        command += ["-t", *tags]
    if report is not None:
        command += ["--report", str(report)]
    if pytest_args:
        command += ["--", *pytest_args]
    return command


def runnable_nox() -> list[str]:
    """This environment's nox when it runs here, else the ``nox`` on PATH when that one runs.

    A host's pins can break the nox installed beside it (an old ``attrs``): then the one of a
    pipx install, on PATH, serves; with neither, one line says how to get one.
    """
    candidates = []
    if importlib.util.find_spec("nox") is not None:
        candidates.append([sys.executable, "-m", "nox"])
    on_path = shutil.which("nox")
    if on_path:
        candidates.append([on_path])
    if not candidates:
        raise ConfigError("nox is not installed: pip install 'nox[uv]' (or pipx install nox)")
    failure = ""
    for command in candidates:
        probe = subprocess.run([*command, "--version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return command
        failure = failure or ((probe.stderr or probe.stdout).strip().splitlines() or ["?"])[-1]
    raise ConfigError(
        f"nox cannot run here ({failure}): the host's pins break it in this environment; "
        "install nox on its own (pipx install nox) and run scaffold test again"
    )


def run_sessions(
    cwd: Path,
    databases: Sequence[str],
    pytest_args: Sequence[str] = (),
    server: str | None = None,
) -> int:
    """Run the project's sessions for ``databases`` (all when empty); nox's exit code, 0 or 1
    (0 when no session was run: every server missing).

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
    started = time.monotonic()
    kinds = list(dict.fromkeys(normalize_kind(d) for d in databases)) or list(KINDS)
    missing = {kind: reason for kind in kinds if (reason := _no_server(kind, env)) is not None}
    # Every database when none is named and none is missing: nox's own default sessions.
    chosen = [k for k in kinds if k not in missing] if databases or missing else []
    lines = [(kind, f"skipped ({reason})") for kind, reason in missing.items()]
    code = 0
    if chosen or not missing:
        with tempfile.TemporaryDirectory(prefix="scaffold-test-") as folder:
            report = Path(folder) / "nox-report.json"
            command = nox_command(chosen, pytest_args, report)
            code = run_redacted(command, cwd=project.root, env=env)
            lines += _results(report)
    _summarize(lines, code, time.monotonic() - started)
    return 0 if code == 0 else 1


def run_redacted(command: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> int:
    """Run ``command``, its stdout and stderr passed on line by line with every password hidden
    (:func:`redact_text`): nox, pytest and the plugin's tests print what they like, and the
    server URL they were handed carries a password. Its exit code."""
    import threading

    env = dict(env)
    if sys.stdout.isatty():  # the pipe would cost pytest its colours
        env.setdefault("PY_COLORS", "1")
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )

    def copy(pipe: Any, stream: Any) -> None:
        for line in pipe:
            stream.write(redact_text(line))
            stream.flush()

    copiers = [
        threading.Thread(target=copy, args=(process.stdout, sys.stdout), daemon=True),
        threading.Thread(target=copy, args=(process.stderr, sys.stderr), daemon=True),
    ]
    for thread in copiers:
        thread.start()
    try:
        code = process.wait()
    except BaseException:  # interrupted: the sessions stop with this run, as subprocess.run's
        process.kill()
        process.wait()
        raise
    finally:
        for thread in copiers:
            thread.join()
    return code


def _no_server(kind: str, env: Mapping[str, str]) -> str | None:
    """Why ``kind``'s session is not worth running (its server does not answer), or None."""
    if kind not in SERVER_URL_VARIABLES or env.get("CI", "").lower() in ("1", "true", "yes"):
        return None
    variable = SERVER_URL_VARIABLES[kind]
    try:
        url = DatabaseURL.parse(env.get(variable) or DEFAULT_SERVER_URLS[kind]).url
    except ConfigError:
        return None  # the session's tests say what is wrong with it
    if not url.host:
        return None  # a Unix socket: the session's tests try it
    port = url.port or DEFAULT_PORTS[kind]
    try:
        socket.create_connection((url.host, port), timeout=3).close()
    except OSError:
        return f"no server at {url.host}:{port}: set {variable}"
    return None


def _results(report: Path) -> list[tuple[str, str]]:
    """``(database, "passed in 0:14")`` for each session of nox's report (none without one)."""
    try:
        sessions: list[dict[str, Any]] = json.loads(report.read_text())["sessions"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    databases = [str((s.get("args") or {}).get("database", "")) for s in sessions]
    found = []
    for session, database in zip(sessions, databases, strict=True):
        signatures = session.get("signatures") or [session.get("name", "session")]
        # A database run by several sessions (several Pythons) is named by each signature.
        name = database if database and databases.count(database) == 1 else signatures[0]
        result = RESULTS.get(str(session.get("result")), str(session.get("result")))
        reason = session.get("reason")
        if result == "skipped" and reason:
            found.append((name, f"skipped ({reason})"))
        else:
            found.append((name, f"{result} in {clock(float(session.get('duration') or 0))}"))
    return found


def _summarize(lines: list[tuple[str, str]], code: int, seconds: float) -> None:
    """Print the lines, databases in their usual order, then the counts and the time."""
    order = {kind: n for n, kind in enumerate(KINDS)}
    lines.sort(key=lambda line: order.get(line[0], len(order)))
    for name, result in lines:
        print(f"{name}: {result}", flush=True)
    counts: dict[str, int] = {}
    for _, result in lines:
        word = result.split(" ", 1)[0]
        counts[word] = counts.get(word, 0) + 1
    said = ", ".join(f"{n} {word.lower()}" for word, n in counts.items())
    if not lines:
        said = f"no session ran (nox exited {code})"
    print(f"scaffold test: {said} in {clock(seconds)}", flush=True)
