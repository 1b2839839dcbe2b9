"""`scaffold stamp` and `scaffold branches [--plugin]` through the CLI: Alembic's meaning, except
that a stamp changes only the rows of the branches it names or moves, and says what it changed."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import EXAMPLE_HOST, execute, run_scaffold, tables, versions
from plugin_scaffold.databases.urls import redact

HOST_HEAD = "3c8e0f2a1b4d"
HOST_MIDDLE = "2b7d9e1f0a3c"
HOST_ROOT = "1f0a8c2d3e4b"
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


def test_a_stamp_changes_only_the_rows_of_the_branches_it_names(
    tmp_path: Path, any_url: str
) -> None:
    """Each stamp says what it changed; the host's rows, the other branch's and an orphan's
    (a removed plugin's row, with its table) stay unless the stamp names or moves them."""
    project, root = render(tmp_path)
    url = ["--url", any_url]
    shown = redact(any_url)

    def stamp(*args: str) -> str:
        return run_scaffold(*url, "stamp", *args, cwd=project).stdout.strip()

    run_scaffold(*url, "upgrade", "core@head", cwd=project)
    execute(any_url, "CREATE TABLE poser__notes (id INTEGER PRIMARY KEY)")
    execute(any_url, "INSERT INTO alembic_version (version_num) VALUES ('poser0001')")
    orphan = {"poser0001"}
    assert versions(any_url) == {HOST_HEAD} | orphan

    assert stamp("--plugin", "media_tags") == (
        f"stamped {shown} at media_tags@head: row {root} added (plugin media_tags)"
    )
    assert versions(any_url) == {HOST_HEAD, root} | orphan
    assert not any(t.startswith("media_tags__") for t in tables(any_url))  # nothing ran

    # The plugin's head moves on; stamping it again moves only its own row.
    add_revision(project, "aaa001", root, "add notes")
    assert stamp("--plugin", "media_tags") == (
        f"stamped {shown} at media_tags@head: row {root} -> aaa001 (plugin media_tags)"
    )
    assert versions(any_url) == {HOST_HEAD, "aaa001"} | orphan
    # --purge with --plugin empties that plugin's rows only: the host's row stays.
    assert stamp("--plugin", "media_tags", "--purge") == (
        f"{shown} is already at media_tags@head: no row changed"
    )
    assert versions(any_url) == {HOST_HEAD, "aaa001"} | orphan

    # The host one revision behind (as `scaffold downgrade HOSTREV` leaves it): stamping every
    # head moves the host's row and keeps the plugin's (Alembic's stamp drops it).
    assert stamp(HOST_MIDDLE) == f"stamped {shown} at {HOST_MIDDLE}: row {HOST_HEAD} -> " + (
        f"{HOST_MIDDLE} (the host)"
    )
    assert versions(any_url) == {HOST_MIDDLE, "aaa001"} | orphan
    assert (
        stamp("heads") == f"stamped {shown} at heads: row {HOST_MIDDLE} -> {HOST_HEAD} (the host)"
    )
    assert versions(any_url) == {HOST_HEAD, "aaa001"} | orphan
    # Nothing to run (aaa001's upgrade() would raise): no row was lost.
    upgraded = run_scaffold(*url, "upgrade", cwd=project).stdout
    assert f"{shown} is already at heads: nothing to upgrade" in upgraded

    # A revision, as Alembic takes it.
    assert stamp(root) == f"stamped {shown} at {root}: row aaa001 -> {root} (plugin media_tags)"
    assert versions(any_url) == {HOST_HEAD, root} | orphan
    assert stamp("media_tags@base") == (
        f"stamped {shown} at media_tags@base: row {root} removed (plugin media_tags)"
    )
    assert versions(any_url) == {HOST_HEAD} | orphan
    # --purge without --plugin is Alembic's: the whole table, the orphan's row too.
    assert stamp("--purge", "core@head") == (
        f"stamped {shown} at core@head: row poser0001 removed (not found here)"
    )
    assert versions(any_url) == {HOST_HEAD}
    assert stamp("base") == f"stamped {shown} at base: row {HOST_HEAD} removed (the host)"
    assert versions(any_url) == set()


def test_stamp_refuses_bad_input_in_one_line(tmp_path: Path, sqlite_url: str) -> None:
    project, root = render(tmp_path)
    url = ["--url", sqlite_url]
    for args, words in [
        ((), "stamp needs a REVISION or --plugin NAME"),
        (("nosuch",), "no revision 'nosuch'"),
        (("--plugin", "nope"), "no plugin named 'nope'"),
        (("heads", "--plugin", "media_tags"), "not both"),
        (("nope@base",), "stamp nope@base: no branch labelled 'nope' (scaffold branches)"),
        # the host is not there: recording the plugin would record the host's root as run
        (
            ("--plugin", "media_tags"),
            f"stamp media_tags@head: revision {root} depends on {HOST_ROOT} (the host), which "
            "the database has not run",
        ),
    ]:
        result = run_scaffold(*url, "stamp", *args, cwd=project, check=2)
        assert words in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists() or versions(sqlite_url) == set()

    # The host cannot go below what a recorded plugin revision depends on.
    run_scaffold(*url, "upgrade", cwd=project)
    refused = run_scaffold(*url, "stamp", "core@base", cwd=project, check=2)
    assert refused.stderr == (
        f"scaffold: error: stamp core@base: revision {root} (plugin media_tags) depends on "
        f"{HOST_ROOT}, which this stamp would unrecord while keeping {root}: remove plugin "
        "media_tags first (scaffold downgrade --plugin media_tags, or scaffold stamp "
        "media_tags@base); nothing changed\n"
    )
    assert versions(sqlite_url) == {HOST_HEAD, root}


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
