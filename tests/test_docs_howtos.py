"""The how-to pages, run as their readers run them (tests/docpages.py): every command they show,
in order, with the output they show."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE_HOST, require_server, run_scaffold, uv_binary
from docpages import ROOT, Reader
from forkrun import ForkServer
from plugin_scaffold.databases.servers import temporary_database


def test_data_migrations_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    Reader(tmp_path, server=server).follow("howto-data-migrations.md")
    with sqlite3.connect(tmp_path / "media_tags" / "dev.db") as db:
        names = [row[0] for row in db.execute("SELECT name FROM media_tags__tags ORDER BY id")]
    assert names == ["photo", "video"]


def test_autogenerate_after_the_seeded_table_warns_of_its_rows(
    tmp_path: Path, server: ForkServer
) -> None:
    """Issue 16's data loss: the page's table and rows, no model yet, then autogenerate (a
    model column removed too): one warning per dropped object, with the rows it holds."""
    reader = Reader(tmp_path, server=server)
    reader.follow("howto-data-migrations.md", sections=("Data migrations", "1."))
    project = reader.cwd
    with sqlite3.connect(project / "dev.db") as db:
        db.execute("INSERT INTO core__users (id, username, email) VALUES (1, 'ann', 'a@b.c')")
        db.execute("INSERT INTO core__media_entries (id, uploader, title) VALUES (1, 1, 'x')")
        db.execute(
            "INSERT INTO media_tags__media_security (media_entry_id, level, note) "
            "VALUES (1, 'normal', 'a note')"
        )
    models = project / "src" / "media_tags" / "models.py"
    note = "    note = sa.Column(sa.UnicodeText, nullable=True)\n"
    assert note in models.read_text()
    models.write_text(models.read_text().replace(note, ""))

    made = run_scaffold("revision", "-m", "drop", "--autogenerate", cwd=project)
    assert "media_tags__tags (drop_table)" in made.stdout
    database = f"sqlite:///{project}/dev.db"
    warnings = [line for line in made.stderr.splitlines() if "warning" in line]
    assert warnings == [
        f"scaffold: warning: the revision drops {what} (holding {rows} row(s) in {database}); "
        "if its model is missing, add it and delete the revision"
        for what, rows in (
            ("table media_tags__tags", 2),
            ("column media_tags__media_security.note", 1),
        )
    ], made.stderr


def site(home: Path) -> Reader:
    """What the deploy and remove pages start from: a copy of the example host in ``host/`` (the
    pages' ``/srv/host``), its environment (``.venv``, active, with plugin-scaffold), and the
    plugin project ``media_tags`` beside it."""
    skip = shutil.ignore_patterns("*.db", "*.egg-info")
    shutil.copytree(EXAMPLE_HOST, home / "host", ignore=skip)
    uv = uv_binary()
    venv = home / ".venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    install = [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
    subprocess.run([*install, "--offline", "-e", str(ROOT), "-e", str(home / "host")], check=True)
    answers = ["-d", "host_alembic=../host/alembic.ini", "-d", "host_requirement=../host"]
    run_scaffold("new", "media_tags", *answers, cwd=home)
    reader = Reader(home, replace={"/srv/host": str(home / "host")})
    reader.activate(venv)
    return reader


def test_remove_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    reader = site(tmp_path)
    # installed, wired, migrated: where the page starts
    reader.pip("install", "-e", "./media_tags")
    for args, cwd in ((["wire"], "media_tags"), (["-c", "host/alembic.ini", "upgrade"], ".")):
        done = reader.shell(["scaffold", *args], cwd=tmp_path / cwd)
        assert done.returncode == 0, done.stdout
    ini = (EXAMPLE_HOST / "alembic.ini").read_bytes()
    assert (tmp_path / "host" / "alembic.ini").read_bytes() != ini

    reader.follow("howto-remove.md", sections=("Remove a plugin", "The checklist"))
    assert (tmp_path / "host" / "alembic.ini").read_bytes() == ini

    # the order missed: installed and migrated, then uninstalled
    reader.pip("install", "-e", "./media_tags")
    assert reader.shell(["scaffold", "-c", "host/alembic.ini", "upgrade"]).returncode == 0
    reader.pip("uninstall", "-y", "media_tags")
    reader.follow("howto-remove.md", sections=("If the order was missed",))
    with sqlite3.connect(tmp_path / "host" / "examplehost.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert not [t for t in tables if t.startswith("media_tags__")]


def test_deploy_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    reader = site(tmp_path)
    reader.follow("howto-deploy.md")
    # the DBA applies the release's SQL: the site is at the new release's heads
    database = tmp_path / "host" / "examplehost.db"
    with sqlite3.connect(database) as db:
        db.executescript((tmp_path / "media_tags-0.2.0.sql").read_text())
    done = reader.shell(["scaffold", "-c", "host/alembic.ini", "current"])
    assert "b5b0e08529a8" not in done.stdout and "(media_tags) (head)" in done.stdout, done.stdout
    with sqlite3.connect(database) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(media_tags__media_security)")}
    assert "reviewed_at" in columns


def test_check_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    assert Reader(tmp_path, server=server).follow("check.md") == 10


def _versions(database: Path, statement: str) -> None:
    with sqlite3.connect(database) as db:
        db.execute(statement)


def test_troubleshooting_commands_run_as_shown(tmp_path: Path, server: ForkServer) -> None:
    """Each message's transcript, on the plugin the page starts with, brought into the state the
    message is about (by hand here, as a mistake or a second developer brings it there)."""
    reader = Reader(tmp_path, server=server)
    reader.follow("troubleshooting.md", sections=("Troubleshooting",))
    project = reader.cwd
    migrations = project / "src" / "flair" / "migrations"
    [initial] = migrations.glob("*_initial.py")
    parent = initial.name.split("_")[0]
    heads = []
    for rev in ("aaaa00000001", "bbbb00000002"):
        heads.append(migrations / f"{rev}_{rev[:4]}.py")
        heads[-1].write_text(
            f"revision = {rev!r}\ndown_revision = {parent!r}\nbranch_labels = None\n"
            "depends_on = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
        )
    reader.follow("troubleshooting.md", sections=("Multiple head revisions",))
    for path in heads:
        path.unlink()

    database = project / "dev.db"
    _versions(database, "INSERT INTO alembic_version VALUES ('ffff00000000')")
    reader.follow("troubleshooting.md", sections=("Can't locate revision",))
    _versions(database, "DELETE FROM alembic_version WHERE version_num = 'ffff00000000'")

    reader.follow("troubleshooting.md", sections=("No support for ALTER",))
    [by_hand] = migrations.glob("c0ffee000001_*.py")
    by_hand.unlink()

    _versions(database, "INSERT INTO alembic_version VALUES ('1f0a8c2d3e4b')")
    reader.follow("troubleshooting.md", sections=("Requested revision",))


def _orphan(home: Path, name: str, *answers: str, row: bool = False) -> None:
    """Plugin ``name`` migrated into the host's database (``row``: one row in its table), then
    its code deleted."""
    run_scaffold("new", name, "-d", "host_alembic=../host/alembic.ini", *answers, cwd=home)
    database = home / "host" / "examplehost.db"
    run_scaffold("--url", f"sqlite:///{database}", "upgrade", cwd=home / name)
    if row:
        with sqlite3.connect(database) as db:
            db.execute("INSERT INTO core__users (id, username, email) VALUES (1, 'a', 'a@b.c')")
            db.execute("INSERT INTO core__media_entries (id, uploader, title) VALUES (1, 1, 't')")
            db.execute(f"INSERT INTO {name}__media_security (media_entry_id) VALUES (1)")
    shutil.rmtree(home / name)


def test_orphans_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    skip = shutil.ignore_patterns("*.db", "*.egg-info")
    shutil.copytree(EXAMPLE_HOST, tmp_path / "host", ignore=skip)
    reader = Reader(tmp_path, server=server, replace={"/srv/host": str(tmp_path / "host")})
    _orphan(tmp_path, "poser", row=True)
    reader.follow("orphans.md", sections=("Clean up", "What every", "1.", "2."))
    # a plugin whose root depended on the host's head
    _orphan(tmp_path, "badge", "-d", "host_branch=3c8e0f2a1b4d")
    reader.follow("orphans.md", sections=("When forget refuses",))


def test_safety_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    reader = Reader(tmp_path, server=server)
    reader.follow("safety.md")
    # applied to the database, the SQL does what the command does online
    with sqlite3.connect(reader.cwd / "dev.db") as db:
        db.executescript((reader.cwd / "remove-flair.sql").read_text())
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        rows = [row[0] for row in db.execute("SELECT version_num FROM alembic_version")]
    assert "flair__media_security" not in tables and rows == ["3c8e0f2a1b4d"]


def test_template_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    Reader(tmp_path, server=server).follow("template.md")
    assert not (tmp_path / "Bad-Name").exists()


def test_testing_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    Reader(tmp_path, server=server).follow("testing.md")


OLD_TABLE = """
DROP TABLE media_tags__media_security;
CREATE TABLE media_tags__media_security (
    media_entry_id INTEGER NOT NULL,
    level VARCHAR(64) DEFAULT 'normal' NOT NULL,
    CONSTRAINT pk_media_tags__media_security PRIMARY KEY (media_entry_id),
    CONSTRAINT fk_media_tags__media_security_media_entry_id_core__medi_7c3f
        FOREIGN KEY(media_entry_id) REFERENCES core__media_entries (id) ON DELETE CASCADE
);
"""


def test_lifecycle_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    """On a plugin whose tables are in its database without its row, as before migrations."""
    run_scaffold("new", "media_tags", cwd=tmp_path)
    project = tmp_path / "media_tags"
    run_scaffold("upgrade", cwd=project)
    _versions(project / "dev.db", "DELETE FROM alembic_version WHERE version_num = 'b5b0e08529a8'")
    reader = Reader(tmp_path, server=server)
    reader.cwd = project
    reader.follow("lifecycle.md", sections=("Adopt", "Tables made before"))
    # the table as made long ago: a wider level, no note
    _versions(project / "dev.db", "DELETE FROM alembic_version WHERE version_num = 'b5b0e08529a8'")
    with sqlite3.connect(project / "dev.db") as db:
        db.executescript(OLD_TABLE)
    reader.follow("lifecycle.md", sections=("When the tables differ", "A fresh install"))


@pytest.mark.postgresql
def test_production_page_runs_as_shown(tmp_path: Path) -> None:
    """The page's site: the host at its head on PostgreSQL, the plugin installed."""
    require_server("postgresql")
    with temporary_database("postgresql") as url:
        reader = site(tmp_path)
        reader.replace["postgresql+psycopg://deploy@db.example/site"] = url
        reader.pip("install", "-e", "./media_tags", "psycopg[binary]>=3.1")
        host = tmp_path / "host" / "alembic.ini"
        done = reader.shell(["scaffold", "-c", str(host), "--url", url, "upgrade", "core@head"])
        assert done.returncode == 0, done.stdout
        assert reader.follow("production.md") == 3
        assert (
            "b5b0e08529a8"
            in reader.shell(["scaffold", "-c", str(host), "--url", url, "current"]).stdout
        )
