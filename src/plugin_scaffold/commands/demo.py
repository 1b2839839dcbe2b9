"""``scaffold demo``: the main job, end to end, as a user would type it.

It copies the example host into a work folder, renders a plugin for it, wires it, migrates a
SQLite file, changes a model, autogenerates the plugin's next revision and upgrades again —
each step a real ``scaffold`` (or ``alembic``) command, printed before it runs.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import MigrationError, UsageError

PLUGIN = "flair"
NEW_COLUMN = "    reviewed_at = sa.Column(sa.DateTime, nullable=True)  # added by the demo\n"


def run_demo(folder: Path | None, *, say: Callable[[str], None]) -> int:
    """Run the demo in ``folder`` (new or empty), else in a new temporary folder.

    What it made stays for a look, and its last line says where (the temporary folder's, how to
    remove it); a failed step is named with its folder. Interrupted, or failing anywhere else,
    it removes what it made: nothing half-done is kept.
    """
    from ..plugin.template import require_authoring_tools

    require_authoring_tools("demo")
    work = folder.resolve() if folder else Path(tempfile.mkdtemp(prefix="scaffold-demo-"))
    if folder is not None and work.exists() and any(work.iterdir()):
        raise UsageError(f"{work}: not empty; give the demo a new or empty folder")
    made = folder is None or not work.exists()
    work.mkdir(parents=True, exist_ok=True)
    try:
        _demo(work, say)
    except MigrationError:
        raise  # a step failed: its output is printed, and the folder kept for a look
    except BaseException:
        _remove(work, made)
        raise
    if folder is None:
        remove = f"rm -rf {shlex.quote(str(work))}"
        say(f"done: look around in {work} (a temporary folder; remove it with {remove})")
    else:
        say(f"done: look around in {work}")
    return 0


def _remove(work: Path, made: bool) -> None:
    """Remove what the demo made in ``work``: the folder itself if the demo made it."""
    if made:
        shutil.rmtree(work, ignore_errors=True)
        return
    for child in work.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _demo(work: Path, say: Callable[[str], None]) -> None:
    from ..resources import example_host_dir

    host = work / "examplehost"
    shutil.copytree(
        example_host_dir(), host, ignore=shutil.ignore_patterns("*.db", "__pycache__", ".nox")
    )
    plugin = work / PLUGIN
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin / "src"), str(host)])}

    def step(title: str) -> None:
        say("")
        say(f"== {title}")

    def run(*argv: str, cwd: Path, tool: str = "scaffold") -> str:
        say(f"$ {tool} {shlex.join(argv)}")
        module = "plugin_scaffold" if tool == "scaffold" else "alembic"
        done = subprocess.run(
            [sys.executable, "-m", module, *argv],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
        )
        output = done.stdout.rstrip()
        if output:
            say(_indent(output))
        if done.returncode != 0:
            say(_indent(done.stderr.rstrip()))
            raise MigrationError(
                f"demo step `{tool} {shlex.join(argv)}` failed in {cwd} (kept for a look)"
            )
        return output

    say(f"plugin-scaffold demo in {work}")
    step("1. render a plugin for the example host")
    run(
        "new",
        PLUGIN,
        str(plugin),
        "-d",
        f"host_alembic={host / 'alembic.ini'}",
        "-d",
        f"host_requirement=examplehost @ {host.as_uri()}",
        cwd=work,
    )
    models = plugin / "src" / PLUGIN / "models.py"
    say(_indent(f"{models.relative_to(work)}: tables " + ", ".join(_tables_in(models))))

    step("2. wire it into the host: plain alembic now sees the plugin's branch")
    run("wire", cwd=plugin)
    run("heads", cwd=host, tool="alembic")

    step("3. migrate a SQLite file to every head")
    run("upgrade", cwd=plugin)
    run("current", cwd=plugin)

    step("4. change a model: a new column on the plugin's table")
    _add_column(models)
    say(_indent(f"{models.relative_to(work)}: + {NEW_COLUMN.strip()}"))

    step("5. autogenerate the plugin's next revision (written inside the plugin)")
    out = run("revision", "-m", "add reviewed_at", "--autogenerate", cwd=plugin)
    wrote = [line for line in out.splitlines() if line.startswith("wrote ")]
    if not wrote:
        raise MigrationError("demo: autogenerate found no change after the model changed")
    written = Path(wrote[0].removeprefix("wrote ").strip())
    say(_indent(_upgrade_body(written)))

    step("6. upgrade again")
    run("upgrade", cwd=plugin)
    run("check", "--models", cwd=plugin)

    step("result")
    say(_indent(_describe_database(plugin / "dev.db")))
    say("")


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def _tables_in(models: Path) -> list[str]:
    return [
        line.split("=", 1)[1].strip().strip("\"'")
        for line in models.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("__tablename__")
    ]


def _add_column(models: Path) -> None:
    """Insert the new column at the end of the first model class's body."""
    lines = models.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("class "))
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
        end += 1
    while not lines[end - 1].strip():
        end -= 1
    lines.insert(end, NEW_COLUMN)
    models.write_text("".join(lines), encoding="utf-8")


def _upgrade_body(revision_file: Path) -> str:
    text = revision_file.read_text(encoding="utf-8")
    body = text[text.index("def upgrade") : text.index("def downgrade")].rstrip()
    return f"{revision_file.name}:\n{body}"


def _describe_database(path: Path) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        inspector = sa.inspect(engine)
        lines = [f"{path.name}:"]
        for table in sorted(inspector.get_table_names()):
            columns = ", ".join(c["name"] for c in inspector.get_columns(table))
            lines.append(f"  {table}({columns})")
        return "\n".join(lines)
    finally:
        engine.dispose()
