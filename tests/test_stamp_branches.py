"""`scaffold stamp` and `scaffold branches`, Alembic's meaning, through the CLI on SQLite."""

from __future__ import annotations

from pathlib import Path

from conftest import run_scaffold, tables, versions

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
