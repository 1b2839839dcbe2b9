"""`scaffold merge`: two developers' revisions on one parent, joined by a revision written in
the plugin (never in the host), through the CLI on SQLite and PostgreSQL; and the how-to in
docs/merging.md, whose transcript and pictures are checked against what the commands print."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE_HOST, ROOT, run_scaffold, versions
from forkrun import ForkServer
from ownsuite import assert_only, run_own_tests
from test_history_graph import REVISION

HOST_HEAD = "3c8e0f2a1b4d"
HOST_VERSIONS = EXAMPLE_HOST / "examplehost/migrations/versions"
MERGING = ROOT / "docs/merging.md"
SVG = ROOT / "docs/img/graph.svg"
#: Set to rewrite the docs' transcript, Mermaid block and SVG from what the commands print.
UPDATE_DOCS = os.environ.get("SCAFFOLD_UPDATE_DOCS") == "1"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("rendered")
    run_scaffold("new", "media_tags", str(tmp / "media_tags"), cwd=tmp)
    return tmp / "media_tags"


def write(folder: Path, rev: str, down: str | tuple[str, ...], message: str) -> Path:
    path = folder / f"{rev}_{message.replace(' ', '_')}.py"
    path.write_text(REVISION.format(rev=rev, down=down, message=message))
    return path


def two_heads(rendered: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the plugin where two developers each wrote a revision on its root."""
    project = tmp_path / "media_tags"
    shutil.copytree(rendered, project)
    migrations = project / "src/media_tags/migrations"
    [initial] = migrations.glob("*_initial.py")
    root = initial.name.split("_", 1)[0]
    write(migrations, "aaa001", root, "add notes")
    write(migrations, "bbb002", root, "add flags")
    return project, migrations


def files(folder: Path) -> set[str]:
    """Every name in a folder, hidden ones (a staging folder left behind) included."""
    return {p.name for p in folder.iterdir() if p.name != "__pycache__"}


def test_merge_writes_the_merge_in_the_plugin_and_upgrade_then_succeeds(
    rendered: Path, tmp_path: Path, db_url: str
) -> None:
    project, migrations = two_heads(rendered, tmp_path)
    url = ["--url", db_url]
    host_files = files(HOST_VERSIONS)
    before = files(migrations)

    # Alembic's meaning of two heads: `upgrade heads` runs both (two version rows), the
    # plugin's head is ambiguous, and the next revision has no single parent.
    run_scaffold(*url, "upgrade", cwd=project)
    assert versions(db_url) == {HOST_HEAD, "aaa001", "bbb002"}
    ambiguous = run_scaffold(*url, "upgrade", "--plugin", "media_tags", cwd=project, check=2)
    assert "Multiple head revisions are present for given argument 'media_tags@head'" in (
        ambiguous.stderr
    )
    refused = run_scaffold("revision", "-m", "next", cwd=project, check=1)
    assert refused.stderr == (
        "scaffold: error: plugin media_tags has 2 heads (aaa001, bbb002): merge them first "
        "(scaffold merge --plugin media_tags)\n"
    )

    out = run_scaffold("merge", "--plugin", "media_tags", cwd=project).stdout
    [name] = files(migrations) - before
    merge_file = migrations / name
    assert name.endswith("_merge_media_tags_heads.py")
    assert out == f"merged media_tags's heads aaa001, bbb002\nwrote {merge_file}\n"
    written = runpy.run_path(str(merge_file))
    assert written["down_revision"] == ("aaa001", "bbb002")
    assert written["branch_labels"] is None and written["depends_on"] is None
    assert written["__doc__"].startswith("merge media_tags heads\n")
    assert files(HOST_VERSIONS) == host_files  # nothing in the host's folder
    assert files(migrations) == before | {name}  # no staging folder or lock left

    merge_id = written["revision"]
    assert run_scaffold(*url, "upgrade", cwd=project).stdout.startswith("upgraded ")
    assert versions(db_url) == {HOST_HEAD, merge_id}
    heads = run_scaffold("heads", cwd=project).stdout.splitlines()
    assert sorted(heads) == sorted(
        [f"{HOST_HEAD} (core) (head)", f"{merge_id} (media_tags) (head)"]
    )

    # One head: one line, nothing written.
    again = run_scaffold("merge", cwd=project)
    assert again.stdout == "media_tags has one head: nothing to merge\n" and not again.stderr
    assert files(migrations) == before | {name}
    # And the merge comes undone like any revision: back to the two heads' rows.
    run_scaffold(*url, "downgrade", "aaa001", cwd=project)
    assert versions(db_url) == {HOST_HEAD, "aaa001", "bbb002"}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_plugins_own_branch_check_passes_after_the_merge(
    rendered: Path, tmp_path: Path, database: str
) -> None:
    project, _ = two_heads(rendered, tmp_path)
    before = run_own_tests(project, database, "-k", "branch")
    assert before.message("branch").startswith("branch media_tags: 2 heads (revision aaa001 (")
    assert "merge them (scaffold merge --plugin media_tags)" in before.message("branch")

    run_scaffold("merge", cwd=project)
    assert_only(run_own_tests(project, database))


def test_refused_merges_are_one_line_and_write_nothing(rendered: Path, tmp_path: Path) -> None:
    project, migrations = two_heads(rendered, tmp_path)
    before = files(migrations)
    host_files = files(HOST_VERSIONS)
    for args, words in [
        (
            ("aaa001", HOST_HEAD),
            f"revision {HOST_HEAD} ({HOST_VERSIONS}/{HOST_HEAD}_user_bio_media_created_index.py)"
            " is not on the branch of plugin media_tags: it belongs to the host",
        ),
        (("aaa001", "nosuch"), "revision 'nosuch': "),
        (("aaa001",), "merge needs two or more revisions, not only aaa001"),
        (("--rev-id", "aaa001"), "revision id 'aaa001' already exists: choose another --rev-id"),
        (("--rev-id", "../evil"), "--rev-id '../evil' is not a revision id"),
        (("--host", "--plugin", "media_tags"), "give --host or --plugin NAME, not both"),
        (("--plugin", "nope"), "no plugin named 'nope'"),
    ]:
        result = run_scaffold("merge", *args, cwd=project, check=2)
        assert result.stderr.startswith("scaffold: error: ") and words in result.stderr, args
        assert len(result.stderr.splitlines()) == 1 and not result.stdout, result.stderr
        assert files(migrations) == before and files(HOST_VERSIONS) == host_files, args

    # Named revisions of the branch, a message and an id of one's own.
    out = run_scaffold(
        "merge", "bbb002", "aaa001", "-m", "join notes and flags", "--rev-id", "ccc003",
        cwd=project,
    ).stdout  # fmt: skip
    merge_file = migrations / "ccc003_join_notes_and_flags.py"
    assert out.endswith(f"wrote {merge_file}\n")
    assert runpy.run_path(str(merge_file))["down_revision"] == ("bbb002", "aaa001")


MESSAGES = ['say """hi""" now', "it's 'quoted'", 'ends in a "quote"', r"a \N{BULLET} and C:\new"]


def test_a_message_with_quotes_or_backslashes_is_written_as_typed(
    rendered: Path, tmp_path: Path, server: ForkServer
) -> None:
    """``-m`` goes into the revision's docstring: the file written is Python, and its
    docstring (what history shows) is the message as typed — for merge and revision alike."""
    project, migrations = two_heads(rendered, tmp_path)
    written = [server.run("merge", "-m", MESSAGES[0], "--rev-id", "msg000", cwd=project)]
    for n, message in enumerate(MESSAGES[1:], start=1):
        written.append(server.run("revision", "-m", message, "--rev-id", f"msg00{n}", cwd=project))
    for n, (message, result) in enumerate(zip(MESSAGES, written, strict=True)):
        [path] = migrations.glob(f"msg00{n}_*.py")
        assert result.returncode == 0 and result.stdout.endswith(f"wrote {path}\n"), result
        assert runpy.run_path(str(path))["__doc__"].startswith(f"{message}\n\nRevision ID: ")
    history = server.run("history", "--plugin", "media_tags", cwd=project).stdout
    for n, message in enumerate(MESSAGES):
        assert f" -> msg00{n} (media_tags)" in history and f", {message}\n" in history, history


def test_two_merges_at_once_write_one_file(rendered: Path, tmp_path: Path) -> None:
    project, migrations = two_heads(rendered, tmp_path)
    before = files(migrations)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "plugin_scaffold", "merge"],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = sorted(out.splitlines()[0] for out, _ in outputs)
    assert said == [
        "media_tags has one head: nothing to merge",
        "merged media_tags's heads aaa001, bbb002",
    ]
    [name] = files(migrations) - before
    assert name.endswith("_merge_media_tags_heads.py")


def host_copy(tmp_path: Path) -> Path:
    host = tmp_path / "host"
    shutil.copytree(EXAMPLE_HOST, host, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    return host


def test_outside_a_project_merge_takes_the_one_branch_with_several_heads(
    rendered: Path, tmp_path: Path
) -> None:
    host = host_copy(tmp_path)
    versions_folder = host / "examplehost/migrations/versions"
    write(versions_folder, "eee005", "2b7d9e1f0a3c", "host side")
    out = run_scaffold("merge", cwd=host).stdout
    [host_merge] = versions_folder.glob("*_merge_host_heads.py")
    assert out == f"merged the host's heads {HOST_HEAD}, eee005\nwrote {host_merge}\n"
    assert run_scaffold("merge", "--host", cwd=host).stdout == (
        "the host has one head: nothing to merge\n"
    )

    # A wired plugin with two heads, and the host with two heads again: name one.
    project, migrations = two_heads(rendered, tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'host-alembic = "examplehost:migrations"', f'host-alembic = "{host / "alembic.ini"}"'
        )
    )
    run_scaffold("wire", cwd=project)
    write(versions_folder, "fff006", HOST_HEAD, "host side again")
    env = {"PYTHONPATH": str(project / "src")}
    ambiguous = run_scaffold("merge", cwd=host, env=env, check=2)
    assert ambiguous.stderr == (
        "scaffold: error: several branches have more than one head (plugin media_tags, the "
        "host): name one with --plugin NAME (or --host)\n"
    )
    host_files = files(versions_folder)
    out = run_scaffold("merge", "--plugin", "media_tags", cwd=host, env=env).stdout
    [name] = {p.name for p in migrations.glob("*_merge_media_tags_heads.py")}
    assert out.endswith(f"wrote {migrations / name}\n")
    assert files(versions_folder) == host_files
    assert "wrote " in run_scaffold("merge", cwd=host, env=env).stdout  # the host's, now alone
    assert run_scaffold("merge", cwd=host, env=env).stdout == (
        "every branch has one head: nothing to merge\n"
    )


# --- docs/merging.md: its transcript and pictures are what the commands print ---------------


def docs_block(text: str, marker: str) -> re.Match[str]:
    """The fenced block right after ``<!-- marker -->``: group 1 is its text, without fences."""
    found = re.search(rf"<!-- {marker} -->\n```\w*\n(.*?)```\n", text, re.S)
    assert found, f"no block after <!-- {marker} --> in {MERGING}"
    return found


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The how-to's session: two developers' revisions, the merge, then two plugins wired into
    a copy of the example host (flair with a revision on its root, media_tags merged)."""
    tmp = tmp_path_factory.mktemp("story")
    host = host_copy(tmp)
    ini = str(host / "alembic.ini")
    for name in ("media_tags", "flair"):
        run_scaffold("new", name, str(tmp / name), "-d", f"host_alembic={ini}", cwd=tmp)
    project = tmp / "media_tags"
    migrations = project / "src/media_tags/migrations"
    # Developer A's revision is on another git branch while developer B writes theirs.
    run_scaffold("revision", "-m", "add notes", "--rev-id", "aaa001", cwd=project)
    aside = tmp / "aaa001_add_notes.py"
    (migrations / aside.name).rename(aside)
    run_scaffold("revision", "-m", "add flags", "--rev-id", "bbb002", cwd=project)
    aside.rename(migrations / aside.name)

    transcript = []
    for args in [
        ("heads",),
        ("branches", "--plugin", "media_tags"),
        ("upgrade",),
        ("revision", "-m", "add tag colour"),
        ("merge", "--plugin", "media_tags", "--rev-id", "ccc003"),
        ("merge",),
        ("upgrade",),
        ("heads",),
    ]:
        done = run_scaffold(*args, cwd=project, check=None)
        shown = " ".join(a if " " not in a else f'"{a}"' for a in args)
        transcript += [f"$ scaffold {shown}", done.stdout.rstrip("\n"), done.stderr.rstrip("\n")]
    text = "\n".join(line for line in transcript if line) + "\n"

    run_scaffold("revision", "-m", "add reviewed_at", "--rev-id", "ddd004", cwd=tmp / "flair")
    # both installed where the host runs: wiring the second imports the first, wired already
    env = {"PYTHONPATH": f"{tmp / 'media_tags/src'}{os.pathsep}{tmp / 'flair/src'}"}
    for name in ("media_tags", "flair"):
        run_scaffold("wire", cwd=tmp / name, env=env)
    mermaid = run_scaffold("history", "--graph", "mermaid", cwd=host, env=env).stdout
    svg = ""
    if shutil.which("dot") is not None:
        target = tmp / "graph.svg"
        run_scaffold("history", "--graph", "svg", "-o", str(target), cwd=host, env=env)
        svg = target.read_text()
    return {
        "transcript": text.replace(str(tmp), "/home/dev"),
        "mermaid": mermaid,
        "svg": svg,
    }


def _check_or_update(marker: str, printed: str) -> None:
    text = MERGING.read_text()
    if UPDATE_DOCS:
        block = docs_block(text, marker)
        MERGING.write_text(text[: block.start(1)] + printed + text[block.end(1) :])
    assert docs_block(MERGING.read_text(), marker).group(1) == printed


def test_the_how_to_transcript_is_what_the_commands_print(story: dict[str, str]) -> None:
    assert "scaffold: error: plugin media_tags has 2 heads" in story["transcript"]
    _check_or_update("merge-transcript", story["transcript"])


def test_the_mermaid_picture_is_what_history_graph_prints(story: dict[str, str]) -> None:
    assert 'subgraph g_plugin_flair["plugin flair"]' in story["mermaid"]
    assert 'r_ccc003["ccc003 [merge point, head]<br/>merge media_tags heads"]' in story["mermaid"]
    _check_or_update("graph-mermaid", story["mermaid"])
    assert "![The example host with two plugins](img/graph.svg)" in MERGING.read_text()


def svg_titles(svg: str) -> list[str]:
    """The nodes and edges an SVG of Graphviz draws (its titles), in order."""
    return re.findall(r"<title>(.*?)</title>", svg)


def test_the_svg_in_the_docs_draws_the_same_graph(story: dict[str, str]) -> None:
    if not story["svg"]:
        pytest.skip("Graphviz's dot is not installed (.ci/run installs it)")
    if UPDATE_DOCS:
        SVG.parent.mkdir(exist_ok=True)
        SVG.write_text(story["svg"])
    drawn = svg_titles(story["svg"])
    assert "ccc003" in drawn and "ddd004" in drawn and "aaa001&#45;&gt;ccc003" in drawn
    assert svg_titles(SVG.read_text()) == drawn
