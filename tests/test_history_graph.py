"""`scaffold history --graph`: the host and plugin branches as Mermaid, dot and svg."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_scaffold

REVISION = '''"""{message}"""

revision = "{rev}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A rendered plugin whose branch forks after its root and merges again."""
    tmp = tmp_path_factory.mktemp("graph")
    run_scaffold("new", "media_tags", str(tmp / "media_tags"), cwd=tmp)
    project = tmp / "media_tags"
    migrations = project / "src/media_tags/migrations"
    [initial] = migrations.glob("*_initial.py")
    root = initial.name.split("_", 1)[0]
    for rev, down, message in [
        ("aaa001", root, 'add "quoted" notes'),
        ("bbb002", root, "add flags"),
        ("ccc003", ("aaa001", "bbb002"), "merge notes and flags"),
    ]:
        (migrations / f"{rev}_x.py").write_text(
            REVISION.format(rev=rev, down=down, message=message)
        )
    return project, root


def test_mermaid_shows_owners_labels_edges_and_merge_points(project: tuple[Path, str]) -> None:
    folder, root = project
    out = run_scaffold("history", "--graph", "mermaid", cwd=folder).stdout
    assert out.startswith("flowchart TB\n")
    assert '    subgraph g_host["host"]' in out
    assert '    subgraph g_plugin_media_tags["plugin media_tags"]' in out
    assert '        r_1f0a8c2d3e4b["1f0a8c2d3e4b (core)<br/>core tables"]' in out
    assert f'r_{root}["{root} (media_tags)<br/>' in out
    assert 'r_aaa001["aaa001<br/>add #quot;quoted#quot; notes"]' in out
    assert 'r_ccc003["ccc003 [merge point, head]<br/>merge notes and flags"]:::merge' in out
    assert f"    r_{root} --> r_aaa001" in out
    assert "    r_aaa001 --> r_ccc003" in out and "    r_bbb002 --> r_ccc003" in out
    assert "    r_1f0a8c2d3e4b --> r_2b7d9e1f0a3c" in out
    assert f'    r_1f0a8c2d3e4b -.->|"depends_on core"| r_{root}' in out
    # Host revisions come in the host's group, each plugin's in its own.
    host_group = out.split('subgraph g_host["host"]', 1)[1].split("end", 1)[0]
    assert "r_3c8e0f2a1b4d" in host_group and root not in host_group
    # Deterministic.
    assert run_scaffold("history", "--graph", "mermaid", cwd=folder).stdout == out


def test_dot_shows_clusters_dashed_dependencies_and_parses(project: tuple[Path, str]) -> None:
    folder, root = project
    out = run_scaffold("history", "--graph", "dot", cwd=folder).stdout
    assert out.startswith("digraph revisions {")
    assert 'subgraph "cluster_host" {' in out and 'label="host";' in out
    assert 'subgraph "cluster_media_tags" {' in out and 'label="plugin media_tags";' in out
    assert '"1f0a8c2d3e4b" [label="1f0a8c2d3e4b (core)\\ncore tables"];' in out
    assert '"aaa001" [label="aaa001\\nadd \\"quoted\\" notes"];' in out
    assert (
        '"ccc003" [label="ccc003 [merge point, head]\\nmerge notes and flags", peripheries=2];'
        in out
    )
    assert f'"1f0a8c2d3e4b" -> "{root}" [style=dashed, label="depends_on core"];' in out
    assert '"aaa001" -> "ccc003";' in out and '"bbb002" -> "ccc003";' in out
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed: the dot text was not parsed")
    parsed = subprocess.run(["dot", "-Tcanon"], input=out, capture_output=True, text=True)
    assert parsed.returncode == 0, parsed.stderr


def test_svg_without_graphviz_is_one_line_and_writes_nothing(
    project: tuple[Path, str], tmp_path: Path
) -> None:
    folder, _ = project
    empty = tmp_path / "bin"
    empty.mkdir()
    target = tmp_path / "graph.svg"
    result = run_scaffold(
        "history",
        "--graph",
        "svg",
        "-o",
        str(target),
        cwd=folder,
        env={"PATH": str(empty)},
        check=2,
    )
    assert result.stdout == ""
    assert result.stderr.startswith("scaffold: error: Graphviz's dot is not installed: ")
    assert len(result.stderr.splitlines()) == 1
    assert not target.exists()


def test_svg_runs_dot_on_the_dot_text(project: tuple[Path, str], tmp_path: Path) -> None:
    """A stand-in `dot` on PATH gets -Tsvg -o FILE and the dot text on its input."""
    folder, root = project
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    fake = bin_ / "dot"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "assert sys.argv[1:3] == ['-Tsvg', '-o'], sys.argv\n"
        "open(sys.argv[3], 'w').write('<svg>' + sys.stdin.read() + '</svg>')\n"
    )
    fake.chmod(0o755)
    target = tmp_path / "graph.svg"
    result = run_scaffold(
        "history", "--graph", "svg", "-o", str(target), cwd=folder, env={"PATH": str(bin_)}
    )
    assert result.stdout.strip() == f"wrote {target}"
    text = target.read_text()
    assert text.startswith("<svg>digraph revisions {") and f'"{root}"' in text


def test_svg_needs_an_output_and_graph_refuses_a_range(project: tuple[Path, str]) -> None:
    folder, _ = project
    assert "needs -o FILE" in run_scaffold("history", "--graph", "svg", cwd=folder, check=2).stderr
    refused = run_scaffold("history", "--graph", "dot", "-r", "base:heads", cwd=folder, check=2)
    assert "leave out -r and --plugin" in refused.stderr
