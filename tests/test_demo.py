"""The README's first command: the demo runs the main job end to end on SQLite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from conftest import run_scaffold


def test_demo_renders_wires_migrates_changes_and_autogenerates(tmp_path: Path) -> None:
    """In a temporary folder (no DIR given), which its last line names with how to remove it."""
    out = run_scaffold("demo", cwd=tmp_path, env={"TMPDIR": str(tmp_path)}).stdout
    (work,) = tmp_path.glob("scaffold-demo-*")
    assert out.splitlines()[0] == f"plugin-scaffold demo in {work}"
    assert out.splitlines()[-1] == (
        f"done: look around in {work} (a temporary folder; remove it with rm -rf {work})"
    )
    assert "$ scaffold wire" in out and "$ alembic heads" in out
    assert "(flair) (head)" in out
    assert "flair__media_security (add_column reviewed_at)" in out
    assert "plugin flair: models match migrations" in out

    revisions = sorted((work / "flair/src/flair/migrations").glob("*_add_reviewed_at.py"))
    assert len(revisions) == 1
    # written into the plugin, not into the host's versions folder
    assert not list((work / "examplehost/examplehost/migrations/versions").glob("*reviewed*"))

    engine = sa.create_engine(f"sqlite:///{work / 'flair/dev.db'}")
    try:
        columns = {c["name"] for c in sa.inspect(engine).get_columns("flair__media_security")}
        with engine.connect() as conn:
            versions = {
                r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            }
    finally:
        engine.dispose()
    assert "reviewed_at" in columns
    assert revisions[0].name.split("_", 1)[0] in versions


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = run_scaffold("demo", str(tmp_path), cwd=tmp_path, check=2)
    assert "not empty" in result.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_demo_interrupted_removes_its_temporary_folder(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "plugin_scaffold", "demo"],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert demo.stdout is not None
    for line in demo.stdout:
        if line.startswith("== 2."):  # the plugin is rendered: there is something to remove
            break
    assert len(list(tmp_path.glob("scaffold-demo-*"))) == 1
    demo.send_signal(signal.SIGTERM)
    _, stderr = demo.communicate(timeout=120)

    assert demo.returncode == 128 + signal.SIGTERM
    assert stderr.splitlines()[-1] == "scaffold: interrupted (SIGTERM); nothing half-done was kept"
    assert not list(tmp_path.glob("scaffold-demo-*"))
