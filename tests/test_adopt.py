"""`scaffold adopt`: a plugin's tables made before it had migrations, compared and stamped.

Through the CLI on SQLite and PostgreSQL, on the example host with a rendered plugin whose
branch has a root (the starter table) and a second revision (a column added).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import columns, execute, rows, run_scaffold, tables, versions

PLUGIN = "media_tags"
TABLE = f"{PLUGIN}__media_security"
HOST_HEAD = "3c8e0f2a1b4d"
HOST_ROOT = "1f0a8c2d3e4b"
SECOND = "adopt0002"
SECOND_REVISION = f'''"""stars"""

import sqlalchemy as sa
from alembic import op

revision = "{SECOND}"
down_revision = "{{root}}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("{TABLE}", sa.Column("stars", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("{TABLE}") as batch_op:
        batch_op.drop_column("stars")
'''
#: The root revision's table written by hand, as the sqlalchemy-migrate era made it; {level}
#: and {note} are changed by the tests of differences.
HAND_MADE = """
CREATE TABLE media_tags__media_security (
    media_entry_id INTEGER NOT NULL,
    level {level} DEFAULT 'normal' NOT NULL,
    {note}
    CONSTRAINT pk_media_tags__media_security PRIMARY KEY (media_entry_id),
    CONSTRAINT fk_media_tags__media_security_media_entry_id_core__medi_7c3f
        FOREIGN KEY (media_entry_id) REFERENCES core__media_entries (id) ON DELETE CASCADE
)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The rendered plugin with its root and a second revision; the root's id."""
    where = tmp_path_factory.mktemp("adopt")
    run_scaffold("new", PLUGIN, str(where / PLUGIN), cwd=where)
    folder = where / PLUGIN / "src" / PLUGIN / "migrations"
    [root_file] = folder.glob("*_initial.py")
    root = root_file.name.split("_", 1)[0]
    (folder / f"{SECOND}_stars.py").write_text(SECOND_REVISION.format(root=root))
    return where / PLUGIN, root


def scaffold(project: Path, url: str, *args: str, check: int | None = 0):  # type: ignore[no-untyped-def]
    return run_scaffold("--url", url, *args, cwd=project, check=check)


def add_media(url: str) -> None:
    execute(url, "INSERT INTO core__users (id, username, email) VALUES (1, 'ann', 'a@x')")
    execute(url, "INSERT INTO core__media_entries (id, uploader, title) VALUES (7, 1, 'cat')")


def test_adopt_stamps_the_root_and_upgrade_runs_only_the_later_revisions(
    project: tuple[Path, str], db_url: str
) -> None:
    folder, root = project
    # The root's tables, made by its own SQL, without its version row.
    scaffold(folder, db_url, "upgrade", root)
    add_media(db_url)
    execute(db_url, f"INSERT INTO {TABLE} (media_entry_id, level) VALUES (7, 'private')")
    execute(db_url, f"DELETE FROM alembic_version WHERE version_num = '{root}'")
    assert versions(db_url) == {HOST_HEAD}

    out = scaffold(folder, db_url, "adopt").stdout
    assert out.startswith(f"adopted plugin {PLUGIN} in ")
    assert f"its 1 table(s) ({TABLE}) match revision {root}, stamped" in out
    assert versions(db_url) == {HOST_HEAD, root}
    assert "stars" not in columns(db_url, TABLE)  # only the version table changed

    # The later revision runs, and nothing else (the root's create_table would fail).
    out = scaffold(folder, db_url, "upgrade").stdout
    assert out.startswith("upgraded ") and out.strip().endswith("to heads"), out
    assert versions(db_url) == {HOST_HEAD, SECOND}
    assert "stars" in columns(db_url, TABLE)
    assert rows(db_url, f"SELECT media_entry_id, level FROM {TABLE}") == [(7, "private")]


def test_adopt_of_tables_made_by_hand(project: tuple[Path, str], db_url: str) -> None:
    folder, root = project
    scaffold(folder, db_url, "upgrade", "core@head")
    execute(db_url, HAND_MADE.format(level="VARCHAR(32)", note="note TEXT,"))
    scaffold(folder, db_url, "adopt", PLUGIN)
    assert versions(db_url) == {HOST_HEAD, root}
    scaffold(folder, db_url, "upgrade")
    assert versions(db_url) == {HOST_HEAD, SECOND}


def test_differences_are_listed_and_nothing_changes(project: tuple[Path, str], db_url: str) -> None:
    folder, root = project
    scaffold(folder, db_url, "upgrade", "core@head")
    # a column missing, another of another type
    execute(db_url, HAND_MADE.format(level="VARCHAR(64)", note=""))
    before = versions(db_url)

    result = scaffold(folder, db_url, "adopt", check=1)
    lines = result.stdout.splitlines()
    assert lines[0].endswith(
        f"the tables of plugin {PLUGIN} differ from what revision {root} creates "
        "(expected -> found); nothing changed:"
    ), result.stdout
    assert lines[1:] == [
        f"  table {TABLE}: column level: type 'VARCHAR(32)' -> 'VARCHAR(64)'",
        f"  table {TABLE}: column note missing",
    ], result.stdout
    assert result.stderr == ""
    assert versions(db_url) == before == {HOST_HEAD}
    assert {TABLE, "core__users"} <= tables(db_url)


def test_adopt_to_a_later_revision(project: tuple[Path, str], db_url: str) -> None:
    folder, _ = project
    scaffold(folder, db_url, "upgrade", "heads")
    execute(db_url, f"DELETE FROM alembic_version WHERE version_num = '{SECOND}'")

    # The tables are those of the second revision: not the root's.
    result = scaffold(folder, db_url, "adopt", check=1)
    assert result.stdout.splitlines()[1:] == [f"  table {TABLE}: column stars unexpected"]
    assert versions(db_url) == {HOST_HEAD}

    # A table of the plugin's prefix that no revision creates: not adopted either.
    execute(db_url, f"CREATE TABLE {PLUGIN}__extra (id INTEGER PRIMARY KEY)")
    result = scaffold(folder, db_url, "adopt", "--to", SECOND, check=1)
    assert result.stdout.splitlines()[1:] == [f"  table {PLUGIN}__extra unexpected"]
    assert versions(db_url) == {HOST_HEAD}
    execute(db_url, f"DROP TABLE {PLUGIN}__extra")

    out = scaffold(folder, db_url, "adopt", "--to", SECOND).stdout
    assert f"match revision {SECOND}, stamped" in out
    assert versions(db_url) == {HOST_HEAD, SECOND}
    out = scaffold(folder, db_url, "upgrade").stdout
    assert "is already at heads: nothing to upgrade" in out


def test_adopt_refuses_in_one_line(project: tuple[Path, str], db_url: str) -> None:
    folder, root = project

    def refused(*args: str) -> str:
        result = scaffold(folder, db_url, "adopt", *args, check=2)
        assert len(result.stderr.splitlines()) == 1 and result.stdout == "", result.stderr
        return result.stderr

    if db_url.startswith("sqlite"):  # connecting would create the file
        assert "database.db does not exist: there is nothing to adopt" in refused()
        execute(db_url, "SELECT 1")
    # The host is not at the revision the root depends on (an empty database).
    assert (
        f"the database is not at revision {HOST_ROOT}, which plugin {PLUGIN}'s revision "
        f"{root} depends on" in refused()
    )
    # No table of the plugin: upgrade is what is wanted.
    scaffold(folder, db_url, "upgrade", "core@head")
    assert f"holds no table of plugin {PLUGIN} ({PLUGIN}__*)" in refused()
    assert f"scaffold upgrade --plugin {PLUGIN}" in refused()
    # Bad names.
    assert "no plugin named 'nope'" in refused("nope")
    assert f"--to {HOST_HEAD}: not a revision of plugin {PLUGIN}'s branch" in refused(
        "--to", HOST_HEAD
    )
    # Already in the version table.
    scaffold(folder, db_url, "upgrade")
    assert f"plugin {PLUGIN} is already in the version table (at {SECOND})" in refused()
    assert versions(db_url) == {HOST_HEAD, SECOND}
