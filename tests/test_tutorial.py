"""docs/tutorial.md, run as a newcomer runs it: every command it shows, in order, checked.

The commands and edits are read from the page at test time (tests/docpages.py says how), in one
temporary folder that holds ``plugin-scaffold`` (a symlink to this checkout, standing in for the
clone the tutorial asks for), so that the text cannot drift from what the tool does.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import run_scaffold
from docpages import DOCS, ROOT, Command, Edit, Reader, output_pattern, steps

TUTORIAL = DOCS / "tutorial.md"
HOST = ROOT / "examples" / "examplehost"


def test_output_pattern_elides_and_rejects() -> None:
    pattern = output_pattern(["upgraded sqlite:///.../dev.db to heads", "...", "done"])
    assert pattern.match("upgraded sqlite:////tmp/x/dev.db to heads\ndone\n")
    assert pattern.match("upgraded sqlite:////t/dev.db to heads\na\nb\ndone\n")
    assert not pattern.match("upgraded sqlite:////t/dev.db to heads\ndone\nmore\n")
    assert not pattern.match("downgraded sqlite:////t/dev.db to heads\ndone\n")
    ids = output_pattern(["b5b0e08529a8 (media_tags) (head)"])
    assert ids.match("570c166a69d7 (media_tags) (head)\n")
    assert not ids.match("570c166a69d7 (core) (head)\n")
    assert output_pattern([]).match("") and not output_pattern([]).match("noise\n")
    dots = output_pattern(["tests/test_migrations.py ........  [100%]"])
    assert dots.match("tests/test_migrations.py ........  [100%]\n")
    assert not dots.match("tests/test_migrations.py .....F..  [100%]\n")


def test_the_tutorial_has_steps_from_install_to_removal() -> None:
    commands = [s.line for s in steps(TUTORIAL.read_text()) if isinstance(s, Command)]
    assert commands[0] == "python3 -m venv .venv"
    for expected in (
        "scaffold new media_tags",
        "scaffold upgrade",
        'scaffold revision -m "add reviewed_at" --autogenerate',
        "scaffold test --db sqlite",
        "scaffold downgrade --plugin media_tags",
        "scaffold unwire media_tags",
    ):
        assert any(c.startswith(expected) for c in commands), expected
    assert [s for s in steps(TUTORIAL.read_text()) if isinstance(s, Edit)]


def test_every_command_of_the_tutorial_runs_as_shown(tmp_path: Path) -> None:
    home = tmp_path / "tutorial"
    home.mkdir()
    (home / "plugin-scaffold").symlink_to(ROOT)
    Reader(home).follow(TUTORIAL)

    # what the tutorial says at its end: the host as it was before the plugin came
    host = home / "examplehost"
    for name in ("alembic.ini", "examplehost/migrations/env.py"):
        assert (host / name).read_bytes() == (HOST / name).read_bytes(), name
    with sqlite3.connect(host / "examplehost.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        versions = [row[0] for row in db.execute("SELECT version_num FROM alembic_version")]
    assert {"core__users", "core__media_entries"} <= tables
    assert not [t for t in tables if t.startswith("media_tags__")], tables
    assert versions == ["3c8e0f2a1b4d"]
    # the plugin's revision was written inside the plugin, and only there
    written = list((home / "media_tags/src/media_tags/migrations").glob("*_add_reviewed_at.py"))
    assert len(written) == 1
    assert "add_column(sa.Column('reviewed_at'" in written[0].read_text()
    assert not list(host.rglob("*_add_reviewed_at.py"))


def test_new_says_to_install_a_host_it_cannot_import_before_upgrading(tmp_path: Path) -> None:
    # the newcomer's first stumble: the next: line must be a command that works at that point
    args = ["-d", "host_alembic=nosuchhost:migrations", "-d", "host_requirement=nosuchhost==1.0"]
    out = run_scaffold("new", "media_tags", *args, cwd=tmp_path).stdout.splitlines()
    assert out == [
        "created plugin media_tags in media_tags",
        "next: pip install nosuchhost==1.0  # the host, which scaffold imports",
        "next: cd media_tags && scaffold upgrade",
    ]
    upgrade = run_scaffold("upgrade", cwd=tmp_path / "media_tags", check=None)
    assert upgrade.returncode == 2 and "nosuchhost" in upgrade.stderr, upgrade.stderr
    # importable (the example host is installed here): straight to the upgrade, which works
    done = run_scaffold("new", "other", cwd=tmp_path).stdout.splitlines()
    assert done == ["created plugin other in other", "next: cd other && scaffold upgrade"]
    run_scaffold("upgrade", cwd=tmp_path / "other")


def test_the_readme_quick_start_runs_as_shown(tmp_path: Path) -> None:
    home = tmp_path / "readme"
    home.mkdir()
    (home / "plugin-scaffold").symlink_to(ROOT)
    assert Reader(home).follow(ROOT / "README.md") >= 7
