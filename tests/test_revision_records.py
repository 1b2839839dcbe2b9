"""What each revision file declares is kept between runs (graph/headers.py).

A file unchanged since the last run is not loaded to read the graph, only to run it; a changed
file is read again; a file whose values its source computes is loaded every time. The graph,
``heads`` and ``history`` are the same as Alembic's either way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_alembic, run_scaffold, tables, versions
from hosts import make_host, revision_id
from plugin_scaffold.graph import headers

#: A revision that notes each time its file is loaded (its module-level code runs).
NOTING = '''"""{doc}

A longer text.
"""
from pathlib import Path

import sqlalchemy as sa
from alembic import op

{head}

with Path({marker!r}).open("a") as noted:
    noted.write(revision + "\\n")


def upgrade():
    op.create_table("noted_{rev}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("noted_{rev}")
'''


def _noting(versions_folder: Path, marker: Path, rev: str, down: str, *, head: str = "") -> Path:
    path = versions_folder / f"{rev}_noting.py"
    head = head or f'revision = "{rev}"\ndown_revision = "{down}"\nbranch_labels = None'
    text = NOTING.format(doc=f"noting {rev}", head=head, marker=str(marker), rev=rev)
    path.write_text(text)
    return path


def _aged(folder: Path) -> None:
    """The folder's files as a checkout leaves them: modified a while ago (a file modified in
    the last few milliseconds is not recorded, as its next change could keep its times)."""
    for path in folder.glob("*.py"):
        os.utime(path, ns=(path.stat().st_atime_ns, time.time_ns() - 10**10))


def _loads(marker: Path) -> list[str]:
    return marker.read_text().split() if marker.exists() else []


@pytest.fixture
def host(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A host of two revisions and a third that notes its loads; the env of its commands."""
    ini = make_host(tmp_path / "host", labelled=False)
    marker = tmp_path / "loads.txt"
    _noting(ini.parent / "migrations" / "versions", marker, "noting0003", revision_id(2))
    _aged(ini.parent / "migrations" / "versions")
    return ini, marker, {"SCAFFOLD_CACHE_DIR": str(tmp_path / "cache")}


def test_an_unchanged_file_is_not_loaded_again_to_read_the_graph(
    host: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    ini, marker, env = host
    first = run_scaffold("heads", cwd=ini.parent, env=env).stdout
    assert _loads(marker) == ["noting0003"]
    again = run_scaffold("heads", cwd=ini.parent, env=env).stdout
    history = run_scaffold("history", "--verbose", cwd=ini.parent, env=env).stdout
    assert _loads(marker) == ["noting0003"]  # read from the record, twice
    assert first == again == "noting0003 (head)\n"
    # The same as Alembic's own, docstrings included (Alembic loads the file).
    assert history == run_alembic("history", "--verbose", cwd=ini.parent).stdout
    assert "noting noting0003" in history and "A longer text." in history
    assert _loads(marker) == ["noting0003", "noting0003"]
    # Running the revision loads it: the upgrade is whole.
    url = f"sqlite:///{tmp_path / 'app.db'}"
    run_scaffold("--url", url, "upgrade", cwd=ini.parent, env=env)
    assert _loads(marker) == ["noting0003"] * 3
    assert "noted_noting0003" in tables(url) and versions(url) == {"noting0003"}


def test_a_changed_file_is_read_again(
    host: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    ini, marker, env = host
    folder = ini.parent / "migrations" / "versions"
    run_scaffold("heads", cwd=ini.parent, env=env)
    # An edit that keeps the file's size (its modification time moves, as every edit's does;
    # Python's own bytecode cache would miss a change that kept both).
    path = folder / "noting0003_noting.py"
    text = path.read_text()
    changed = text.replace(
        f'down_revision = "{revision_id(2)}"', f'down_revision = "{revision_id(1)}"'
    )
    assert len(changed) == len(text) and changed != text
    path.write_text(changed)
    heads = run_scaffold("heads", cwd=ini.parent, env=env).stdout
    assert sorted(heads.split()) == sorted([revision_id(2), "noting0003", "(head)", "(head)"])
    assert _loads(marker) == ["noting0003", "noting0003"]
    # A file removed leaves the graph, and its record.
    path.unlink()
    assert run_scaffold("heads", cwd=ini.parent, env=env).stdout == f"{revision_id(2)} (head)\n"
    (record,) = (tmp_path / "cache" / "revisions").glob("*.json")
    assert "noting0003_noting.py" not in json.loads(record.read_text())["files"]


@pytest.mark.parametrize(
    "head",
    [
        # computed from a name: the name may change where the file does not
        'PREVIOUS = "{down}"\nrevision = "{rev}"\ndown_revision = PREVIOUS',
        # assigned twice
        'revision = "{rev}"\ndown_revision = None\ndown_revision = "{down}"',
        # inside a block
        'revision = "{rev}"\nif True:\n    down_revision = "{down}"',
        # a star import may bind any of them
        'from os.path import *\nrevision = "{rev}"\ndown_revision = "{down}"',
        # a function may rebind it
        'revision = "{rev}"\ndown_revision = "{down}"\n'
        "def _later():\n    global down_revision\n    down_revision = None",
    ],
    ids=["computed", "twice", "in-a-block", "star-import", "global"],
)
def test_a_file_that_does_not_assign_literals_once_is_loaded_every_time(
    tmp_path: Path, head: str
) -> None:
    ini = make_host(tmp_path / "host", labelled=False)
    marker = tmp_path / "loads.txt"
    folder = ini.parent / "migrations" / "versions"
    _noting(
        folder, marker, "noting0003", "", head=head.format(rev="noting0003", down=revision_id(2))
    )
    _aged(folder)
    env = {"SCAFFOLD_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(2):
        assert run_scaffold("heads", cwd=ini.parent, env=env).stdout == "noting0003 (head)\n"
    assert _loads(marker) == ["noting0003", "noting0003"]


def test_annotated_assignments_and_merges_are_kept(tmp_path: Path) -> None:
    """Alembic's own templates since 1.13 annotate the names; a merge's down_revision is a tuple."""
    ini = make_host(tmp_path / "host", revisions=3, labelled=False)
    marker = tmp_path / "loads.txt"
    folder = ini.parent / "migrations" / "versions"
    _noting(folder, marker, "side0003", revision_id(1))
    merge = (
        'revision: str = "merge0004"\n'
        f'down_revision: Union[str, Sequence[str], None] = ("{revision_id(3)}", "side0003")\n'
        "branch_labels: Union[str, Sequence[str], None] = None\n"
        "depends_on: Union[str, Sequence[str], None] = None"
    )
    text = NOTING.format(doc="merge", head=merge, marker=str(marker), rev="merge0004")
    (folder / "merge0004_merge.py").write_text(
        text.replace(
            "from pathlib import Path",
            "from pathlib import Path\nfrom typing import Sequence, Union",
        )
    )
    _aged(folder)
    env = {"SCAFFOLD_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(3):
        assert run_scaffold("heads", cwd=ini.parent, env=env).stdout == "merge0004 (head)\n"
    assert sorted(_loads(marker)) == ["merge0004", "side0003"]
    url = f"sqlite:///{tmp_path / 'app.db'}"
    run_scaffold("--url", url, "upgrade", cwd=ini.parent, env=env)
    assert versions(url) == {"merge0004"}
    assert {"noted_side0003", "noted_merge0004"} <= tables(url)


def test_a_damaged_record_is_read_as_none(host: tuple[Path, Path, dict[str, str]]) -> None:
    ini, marker, env = host
    run_scaffold("heads", cwd=ini.parent, env=env)
    (record,) = (Path(env["SCAFFOLD_CACHE_DIR"]) / "revisions").glob("*.json")
    data = json.loads(record.read_text())
    data["files"]["noting0003_noting.py"]["down_revision"] = 7  # not a revision id
    record.write_text(json.dumps(data))
    assert run_scaffold("heads", cwd=ini.parent, env=env).stdout == "noting0003 (head)\n"
    assert _loads(marker) == ["noting0003", "noting0003"]
    record.write_text("{not json")
    assert run_scaffold("heads", cwd=ini.parent, env=env).stdout == "noting0003 (head)\n"
    assert _loads(marker) == ["noting0003"] * 3
    # Rewritten whole: the next run reads it.
    run_scaffold("heads", cwd=ini.parent, env=env)
    assert _loads(marker) == ["noting0003"] * 3


def test_cache_off_keeps_nothing(host: tuple[Path, Path, dict[str, str]]) -> None:
    ini, marker, env = host
    off = {**env, "SCAFFOLD_CACHE": "off"}
    for _ in range(2):
        run_scaffold("heads", cwd=ini.parent, env=off)
    assert _loads(marker) == ["noting0003", "noting0003"]
    assert not (Path(env["SCAFFOLD_CACHE_DIR"]) / "revisions").exists()


def test_cache_list_and_clear_show_and_remove_the_records(
    host: tuple[Path, Path, dict[str, str]],
) -> None:
    ini, marker, env = host
    run_scaffold("heads", cwd=ini.parent, env=env)
    folder = str((ini.parent / "migrations" / "versions").resolve())
    listed = run_scaffold("cache", "list", cwd=ini.parent, env=env).stdout
    assert f"revisions  {folder}  3 file(s)" in listed, listed
    assert "0 template(s) and the revisions of 1 folder(s) kept" in listed, listed
    cleared = run_scaffold("cache", "clear", cwd=ini.parent, env=env).stdout
    assert f"removed revisions  {folder}  3 file(s)" in cleared, cleared
    assert not list((Path(env["SCAFFOLD_CACHE_DIR"]) / "revisions").glob("*.json"))
    run_scaffold("heads", cwd=ini.parent, env=env)
    assert _loads(marker) == ["noting0003", "noting0003"]


def test_a_file_modified_just_now_is_not_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its next change could come within the same tick of the file system's clock. The window
    is widened to 5 s here, so that a busy machine's pause between the write and the read
    cannot make the new file look old (the other files are 10 s old)."""
    monkeypatch.setattr(headers, "RACY_NS", 5 * 10**9)
    ini = make_host(tmp_path / "host", labelled=False)
    marker = tmp_path / "loads.txt"
    folder = ini.parent / "migrations" / "versions"
    _aged(folder)
    path = _noting(folder, marker, "noting0003", revision_id(2))
    loader = headers.Headers(tmp_path / "records")
    from alembic.config import Config

    from plugin_scaffold import alembic_private

    config = Config(str(ini))
    script = alembic_private.script_directory(config, loader.load)
    assert script.get_heads() == ["noting0003"]
    loader.save()
    (record,) = (tmp_path / "records").glob("*.json")
    recorded = json.loads(record.read_text())["files"]
    assert path.name not in recorded and f"{revision_id(1)}_first.py" in recorded


def test_two_runs_at_once_and_a_killed_one_leave_whole_records(
    host: tuple[Path, Path, dict[str, str]],
) -> None:
    """Each run writes its record under a name of its own, then renames it: two runs at once
    both read the graph, and the record is one of theirs, whole. What a run killed before the
    rename left is no record: list skips it, clear removes it."""
    ini, marker, env = host
    records = Path(env["SCAFFOLD_CACHE_DIR"]) / "revisions"
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "plugin_scaffold", "heads"],
            cwd=ini.parent,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    assert [run.communicate(timeout=120)[0] for run in runs] == ["noting0003 (head)\n"] * 2
    assert all(run.returncode == 0 for run in runs)
    loads = len(_loads(marker))
    assert loads in (1, 2)  # each loaded the file, unless the other's record was there already
    (record,) = records.glob("*.json")
    assert len(json.loads(record.read_text())["files"]) == 3
    staged = records / f".{record.stem}-killed.json"
    staged.write_text(record.read_text())
    listed = run_scaffold("cache", "list", cwd=ini.parent, env=env).stdout
    assert listed.count("revisions  ") == 1, listed
    run_scaffold("cache", "clear", cwd=ini.parent, env=env)
    assert list(records.iterdir()) == []
    assert run_scaffold("heads", cwd=ini.parent, env=env).stdout == "noting0003 (head)\n"
    assert len(_loads(marker)) == loads + 1  # cleared: loaded again


def test_the_template_key_takes_an_unchanged_files_digest_from_its_record(
    host: tuple[Path, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The template cache's key holds the digest of every revision file's bytes: for a file
    read from its record, the digest recorded with it (the file is not read again); the same
    key as from the files themselves, and a changed file changes it."""
    import hashlib

    from plugin_scaffold.commands import cached
    from plugin_scaffold.commands.workspace import Workspace

    ini, marker, env = host
    run_scaffold("heads", cwd=ini.parent, env=env)  # records the files
    monkeypatch.setenv("SCAFFOLD_CACHE_DIR", env["SCAFFOLD_CACHE_DIR"])

    def key() -> list[str]:
        ws = Workspace.open(config=str(ini), url=None, cwd=ini.parent)
        return cached._key(ws, list(ws.script.get_heads()))

    recorded = key()
    assert _loads(marker) == ["noting0003"]  # neither loaded nor read for its digest
    path = ini.parent / "migrations" / "versions" / "noting0003_noting.py"
    assert f"noting0003 {hashlib.sha256(path.read_bytes()).hexdigest()}" in recorded
    monkeypatch.setenv("SCAFFOLD_CACHE", "off")
    assert key() == recorded
    assert _loads(marker) == ["noting0003"] * 2
    path.write_text(path.read_text() + "# edited\n")
    changed = key()
    assert changed != recorded
    assert f"noting0003 {hashlib.sha256(path.read_bytes()).hexdigest()}" in changed
