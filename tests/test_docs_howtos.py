"""The how-to pages, run as their readers run them (tests/docpages.py): every command they show,
in order, with the output they show."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import run_scaffold
from docpages import Reader


def test_data_migrations_page_runs_as_shown(tmp_path: Path) -> None:
    Reader(tmp_path).follow("howto-data-migrations.md")
    with sqlite3.connect(tmp_path / "media_tags" / "dev.db") as db:
        names = [row[0] for row in db.execute("SELECT name FROM media_tags__tags ORDER BY id")]
    assert names == ["photo", "video"]


def test_autogenerate_after_the_seeded_table_warns_of_its_rows(tmp_path: Path) -> None:
    """Issue 16's data loss: the page's table and rows, no model yet, then autogenerate (a
    model column removed too): one warning per dropped object, with the rows it holds."""
    reader = Reader(tmp_path)
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
