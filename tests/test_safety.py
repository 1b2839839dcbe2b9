"""Failures leave nothing half-done: migrations roll back, files are never half-written."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from conftest import run_scaffold
from hosts import make_host, make_plugin

FAILING = '''
"""fails half way"""
import sqlalchemy as sa
from alembic import op

revision = "badbadbad001"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("poser__store_extra") as batch_op:
        batch_op.add_column(sa.Column("half", sa.Integer()))
    op.execute("UPDATE poser__store_extra SET rating = rating + 1")
    op.execute("SELECT * FROM no_such_table")


def downgrade():
    pass
'''


def snapshot(url: str) -> tuple[dict[str, list[str]], set[str], list[tuple[object, ...]]]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        schema = {
            t: sorted(c["name"] for c in inspector.get_columns(t))
            for t in inspector.get_table_names()
        }
        with engine.connect() as conn:
            versions = {
                r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            }
            rows = [tuple(r) for r in conn.execute(sa.text("SELECT * FROM poser__store_extra"))]
        return schema, versions, rows
    finally:
        engine.dispose()


def test_failed_migration_leaves_schema_rows_and_version_as_they_were(
    tmp_path: Path, db_url: str
) -> None:
    ini = make_host(tmp_path / "host", env_style="connection")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    url = ["--url", db_url]
    run_scaffold(
        *url, "revision", "-m", "one", "--autogenerate", "--rev-id", "aaaa0001", cwd=project
    )
    run_scaffold(*url, "upgrade", cwd=project)
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO store (uuid, name) VALUES ('s1', 'x')"))
        conn.execute(
            sa.text("INSERT INTO poser__store_extra (store_uuid, rating) VALUES ('s1', 5)")
        )
    engine.dispose()
    before = snapshot(db_url)
    (project / "src/poser/migrations/badbadbad001_fails.py").write_text(
        FAILING.format(down="aaaa0001")
    )

    result = run_scaffold(*url, "upgrade", cwd=project, check=1)
    assert "revision badbadbad001" in result.stderr and "no_such_table" in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("scaffold:")]) == 1
    assert "Traceback" not in result.stderr
    assert snapshot(db_url) == before


def test_rev_id_that_exists_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    run_scaffold(
        "--url",
        sqlite_url,
        "revision",
        "-m",
        "one",
        "--autogenerate",
        "--rev-id",
        "abc123",
        cwd=project,
    )
    first = next((project / "src/poser/migrations").glob("abc123_*.py")).read_text()
    result = run_scaffold(
        "--url", sqlite_url, "revision", "-m", "two", "--rev-id", "abc123", cwd=project, check=2
    )
    assert "abc123" in result.stderr and "already exists" in result.stderr
    assert next((project / "src/poser/migrations").glob("abc123_*.py")).read_text() == first
    assert len(list((project / "src/poser/migrations").glob("*.py"))) == 2


def test_revision_file_never_replaces_an_existing_file(tmp_path: Path, sqlite_url: str) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    mine = project / "src/poser/migrations/xyz789_notes.py"
    mine.write_text(
        "# the author's own notes, not a revision\nrevision = 'notes'\ndown_revision = None\n"
    )
    result = run_scaffold(
        "--url",
        sqlite_url,
        "revision",
        "-m",
        "notes",
        "--rev-id",
        "xyz789",
        cwd=project,
        check=None,
    )
    assert result.returncode == 2
    assert mine.read_text().startswith("# the author's own notes")
    assert not [
        p for p in (project / "src/poser/migrations").iterdir() if p.name.startswith(".scaffold-")
    ]


def test_upgrade_sql_prints_the_plugin_ddl_without_touching_a_database(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    with_url = ["--url", f"sqlite:///{tmp_path / 'never.db'}"]
    run_scaffold(*with_url, "revision", "-m", "one", "--autogenerate", cwd=project)
    (tmp_path / "never.db").unlink(missing_ok=True)
    out = run_scaffold(*with_url, "upgrade", "--sql", cwd=project).stdout
    assert "CREATE TABLE poser__store_extra" in out and "CREATE TABLE accounts" in out
    assert not (tmp_path / "never.db").exists()


def test_unknown_target_is_bad_input(tmp_path: Path, sqlite_url: str) -> None:
    ini = make_host(tmp_path / "host")
    result = run_scaffold(
        "-c", str(ini), "--url", sqlite_url, "upgrade", "nosuchrev", cwd=tmp_path, check=2
    )
    assert "nosuchrev" in result.stderr
    result = run_scaffold(
        "-c", str(ini), "--url", sqlite_url, "downgrade", "--plugin", "ghost", cwd=tmp_path, check=2
    )
    assert "ghost" in result.stderr
    result = run_scaffold("-c", str(tmp_path / "missing.ini"), "heads", cwd=tmp_path, check=2)
    assert "missing.ini" in result.stderr
