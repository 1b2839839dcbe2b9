"""`scaffold stamp` and `scaffold branches [--plugin]`, Alembic's meaning, through the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import EXAMPLE_HOST, run_scaffold, tables, versions

HOST_HEAD = "3c8e0f2a1b4d"
REVISION = '''"""{message}"""

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    raise AssertionError("stamp runs no revision")


def downgrade() -> None:
    raise AssertionError("stamp runs no revision")
'''


def render(tmp_path: Path) -> tuple[Path, str]:
    run_scaffold("new", "media_tags", str(tmp_path / "media_tags"), cwd=tmp_path)
    project = tmp_path / "media_tags"
    [root] = (project / "src/media_tags/migrations").glob("*_initial.py")
    return project, root.name.split("_", 1)[0]


def add_revision(project: Path, rev: str, down: str, message: str) -> None:
    path = project / f"src/media_tags/migrations/{rev}_x.py"
    path.write_text(REVISION.format(rev=rev, down=down, message=message))


def test_stamp_plugin_head_leaves_the_other_rows(tmp_path: Path, sqlite_url: str) -> None:
    project, root = render(tmp_path)
    url = ["--url", sqlite_url]
    run_scaffold(*url, "upgrade", "core@head", cwd=project)
    assert versions(sqlite_url) == {HOST_HEAD}

    out = run_scaffold(*url, "stamp", "--plugin", "media_tags", cwd=project).stdout
    assert out.strip().endswith("at media_tags@head")
    assert versions(sqlite_url) == {HOST_HEAD, root}
    assert not any(t.startswith("media_tags__") for t in tables(sqlite_url))  # nothing ran

    # The plugin's head moves on; stamping it again moves only its own row.
    add_revision(project, "aaa001", root, "add notes")
    run_scaffold(*url, "stamp", "--plugin", "media_tags", cwd=project)
    assert versions(sqlite_url) == {HOST_HEAD, "aaa001"}

    # A revision, as Alembic takes it; --purge empties the table first.
    run_scaffold(*url, "stamp", root, cwd=project)
    assert versions(sqlite_url) == {HOST_HEAD, root}
    run_scaffold(*url, "stamp", "--purge", "core@head", cwd=project)
    assert versions(sqlite_url) == {HOST_HEAD}
    run_scaffold(*url, "stamp", "base", cwd=project)
    assert versions(sqlite_url) == set()


def test_stamp_refuses_bad_input_in_one_line(tmp_path: Path, sqlite_url: str) -> None:
    project, _ = render(tmp_path)
    url = ["--url", sqlite_url]
    for args, words in [
        ((), "stamp needs a REVISION or --plugin NAME"),
        (("nosuch",), "no revision 'nosuch'"),
        (("--plugin", "nope"), "no plugin named 'nope'"),
        (("heads", "--plugin", "media_tags"), "not both"),
    ]:
        result = run_scaffold(*url, "stamp", *args, cwd=project, check=2)
        assert words in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr


def test_branches_shows_a_plugin_branch_point(tmp_path: Path) -> None:
    project, root = render(tmp_path)
    assert run_scaffold("branches", cwd=project).stdout == ""  # straight lines only
    add_revision(project, "aaa001", root, "add notes")
    add_revision(project, "bbb002", root, "add flags")
    out = run_scaffold("branches", cwd=project).stdout
    assert out.startswith(f"{root} (media_tags) (branchpoint)\n")
    assert "-> aaa001 (media_tags)" in out and "-> bbb002 (media_tags)" in out
    verbose = run_scaffold("branches", "-v", cwd=project).stdout
    # Alembic lists the branches in no fixed order
    [into] = [line for line in verbose.splitlines() if line.startswith("Branches into: ")]
    assert sorted(into.removeprefix("Branches into: ").split(", ")) == ["aaa001", "bbb002"]


def test_branches_plugin_shows_only_that_plugins_branch_points(tmp_path: Path) -> None:
    project, root = render(tmp_path)
    host = tmp_path / "host"
    shutil.copytree(EXAMPLE_HOST, host, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'host-alembic = "examplehost:migrations"', f'host-alembic = "{host / "alembic.ini"}"'
        )
    )
    # The host forks too: its second revision has two children.
    (host / "examplehost/migrations/versions/eee005_side.py").write_text(
        REVISION.format(rev="eee005", down="2b7d9e1f0a3c", message="host side")
    )
    assert run_scaffold("branches", "--plugin", "media_tags", cwd=project).stdout == ""
    add_revision(project, "bbb002", root, "add flags")
    add_revision(project, "aaa001", root, "add notes")

    everything = run_scaffold("branches", cwd=project).stdout
    assert (
        "2b7d9e1f0a3c (core) (branchpoint)" in everything and f"{root} (media_tags)" in everything
    )
    mine = run_scaffold("branches", "--plugin", "media_tags", cwd=project).stdout
    indent = " " * len(root)
    # Alembic's format, the children sorted.
    assert mine == (
        f"{root} (media_tags) (branchpoint)\n"
        f"{indent} -> aaa001 (media_tags) (head)\n"
        f"{indent} -> bbb002 (media_tags) (head)\n\n"
    )
    verbose = run_scaffold("branches", "-v", "--plugin", "media_tags", cwd=project).stdout
    assert f"Rev: {root} (branchpoint)" in verbose and "Branches into: " in verbose
    assert f"{indent} -> aaa001 (media_tags) (head), add notes" in verbose
    assert "2b7d9e1f0a3c" not in verbose

    refused = run_scaffold("branches", "--plugin", "nope", cwd=project, check=2)
    assert refused.stderr == "scaffold: error: no plugin named 'nope' (see scaffold plugins)\n"
