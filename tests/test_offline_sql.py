"""`--sql` prints what the online command does: applied by psql, mysql or sqlite3 to one
database, it leaves the same schema and alembic_version rows as the command run on a twin."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import require_server, run_scaffold
from plugin_scaffold.databases.servers import temporary_database

#: The example host's head (examples/examplehost/.../versions).
HOST_HEAD = "3c8e0f2a1b4d"

TAG_MODEL = '''

class Tag(Base):
    """A tag on a media entry: a new table with an indexed foreign key to a core table."""

    __tablename__ = "media_tags__tags"

    id = sa.Column(sa.Integer(), primary_key=True)
    media_entry_id = sa.Column(
        sa.Integer(), sa.ForeignKey("core__media_entries.id"), nullable=False, index=True
    )
    name = sa.Column(sa.Unicode(64), nullable=False)


MODELS.append(Tag)
'''


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A media_tags plugin for the example host with two revisions: its root and a new table."""
    tmp = tmp_path_factory.mktemp("offline")
    run_scaffold("new", "media_tags", str(tmp / "media_tags"), cwd=tmp)
    project = tmp / "media_tags"
    [root] = (project / "src/media_tags/migrations").glob("*_initial.py")
    models = project / "src/media_tags/models.py"
    models.write_text(models.read_text() + TAG_MODEL)
    run_scaffold("revision", "-m", "tags", "--autogenerate", "--rev-id", "tags0001", cwd=project)
    return project, root.name.split("_", 1)[0]


def apply_sql(url: str, sql: str) -> None:
    """Apply printed SQL the way a DBA would: sqlite3's executescript, psql -f, mysql <."""
    parsed = sa.engine.make_url(url)
    kind = parsed.get_backend_name()
    if kind == "sqlite":
        connection = sqlite3.connect(str(parsed.database))
        try:
            connection.executescript(sql)
        finally:
            connection.close()
        return
    client = "psql" if kind == "postgresql" else "mysql"
    binary = shutil.which(client)
    if binary is None:
        pytest.skip(f"the {client} client is not installed")
    if kind == "postgresql":
        libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        command = [binary, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", libpq, "-f", "-"]
    else:
        command = [binary, "-h", str(parsed.host), "-P", str(parsed.port or 3306)]
        command += [f"-u{parsed.username}", str(parsed.database)]
        if parsed.password:
            command.append(f"-p{parsed.password}")
    result = subprocess.run(command, input=sql, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{client} refused the SQL: {result.stderr}\n{sql}"


def dump(url: str) -> dict[str, object]:
    """Tables with their columns, indexes, foreign keys; and the alembic_version rows."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        schema: dict[str, object] = {}
        for table in sorted(inspector.get_table_names()):
            schema[table] = (
                [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                sorted(
                    (i["name"] or "", tuple(i["column_names"]))
                    for i in inspector.get_indexes(table)
                ),
                sorted(
                    (f["name"] or "", tuple(f["constrained_columns"]), f["referred_table"])
                    for f in inspector.get_foreign_keys(table)
                ),
            )
        with engine.connect() as conn:
            rows = sorted(
                r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            )
        return {"schema": schema, "alembic_version": rows}
    finally:
        engine.dispose()


# name: (online commands that bring both twins to the start, the command run, its --sql form)
CASES: dict[str, tuple[list[list[str]], list[str], list[str]]] = {
    "upgrade-all": ([], ["upgrade"], ["upgrade", "--sql"]),
    "upgrade-plugin": (
        [["upgrade", HOST_HEAD]],
        ["upgrade", "--plugin", "media_tags"],
        ["upgrade", "--plugin", "media_tags", "--sql"],
    ),
    "upgrade-range": (
        [["upgrade", "{root}"]],
        ["upgrade"],
        ["upgrade", "--sql", HOST_HEAD + ",{root}:heads"],
    ),
    "downgrade-plugin": (
        [["upgrade"]],
        ["downgrade", "--plugin", "media_tags"],
        ["downgrade", "--plugin", "media_tags", "--sql"],
    ),
    "downgrade-one": (
        [["upgrade"]],
        ["downgrade", "{root}"],
        ["downgrade", "--sql", "heads:{root}"],
    ),
    "downgrade-all": ([["upgrade"]], ["downgrade", "base"], ["downgrade", "base", "--sql"]),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_printed_sql_does_what_the_command_does(
    plugin: tuple[Path, str], kind: str, case: str
) -> None:
    require_server(kind)
    project, root = plugin
    start, online, offline = (
        [[a.format(root=root) for a in args] for args in CASES[case][0]],
        [a.format(root=root) for a in CASES[case][1]],
        [a.format(root=root) for a in CASES[case][2]],
    )
    with temporary_database(kind) as printed_db, temporary_database(kind) as online_db:
        for url in (printed_db, online_db):
            for args in start:
                run_scaffold("--url", url, *args, cwd=project)
        if kind == "sqlite" and case == "downgrade-all":
            # The example host's own downgrade drops a column in batch mode, which Alembic
            # cannot print without a database to reflect: one line says so (docs/safety.md).
            refused = run_scaffold("--url", printed_db, *offline, cwd=project, check=2)
            assert "batch mode with dialect sqlite requires a live database" in refused.stderr
            assert "Traceback" not in refused.stderr
            return
        sql = run_scaffold("--url", printed_db, *offline, cwd=project).stdout
        assert "-- scaffold: SQL for a database whose alembic_version holds" in sql
        apply_sql(printed_db, sql)
        run_scaffold("--url", online_db, *online, cwd=project)
        assert dump(printed_db) == dump(online_db), sql


def test_plugin_removal_sql_deletes_the_plugin_row_and_leaves_host_rows(
    plugin: tuple[Path, str],
) -> None:
    project, root = plugin
    sql = run_scaffold("downgrade", "--plugin", "media_tags", "--sql", cwd=project).stdout
    assert "DELETE FROM alembic_version WHERE alembic_version.version_num = '" + root in sql
    assert "UPDATE alembic_version SET version_num='tags0001'" not in sql
    assert "UPDATE alembic_version SET version_num='" + HOST_HEAD not in sql
    assert f"holds {HOST_HEAD}, tags0001" in sql or f"holds tags0001, {HOST_HEAD}" in sql
    install = run_scaffold("upgrade", "--plugin", "media_tags", "--sql", cwd=project).stdout
    assert f"INSERT INTO alembic_version (version_num) VALUES ('{root}')" in install
    assert f"WHERE alembic_version.version_num = '{HOST_HEAD}'" not in install
