"""`scaffold check`: the static check of a plugin, through the CLI, without any database.

One plugin ``flawed`` is rendered per module for a copy of the example host whose env.py raises
when imported and whose database is an unreachable server: a check that ran env.py or connected
anywhere would fail. Each case copies it and breaks it (tests/broken/ folders, or a revision
written here), then asserts the exit code and the exact findings of ``--json``: code, severity,
file, line and revision.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE_HOST, uv_binary
from forkrun import ForkServer, Result
from plugin_scaffold.plugin.template import render_plugin

BROKEN = Path(__file__).parent / "broken"
INITIAL = hashlib.sha1(b"plugin-scaffold:flawed").hexdigest()[:12]
MIGRATIONS = "src/flawed/migrations"
NOWHERE = "postgresql+psycopg://nobody:s3cr3t@127.0.0.1:9/nowhere"
ENV_RAISES = 'raise RuntimeError("env.py was imported")\n'


def run_scaffold(server: ForkServer, *argv: str, cwd: Path, check: int | None = 0) -> Result:
    """``scaffold *argv``, forked from a process that imported scaffold once (tests/forkrun.py)."""
    result = server.run(*argv, cwd=cwd)
    if check is not None:
        assert result.returncode == check, f"{result.stdout}{result.stderr}"
    return result


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The host (env.py raising, database unreachable) and the plugin ``flawed`` for it."""
    root = tmp_path_factory.mktemp("static")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.db")
    shutil.copytree(EXAMPLE_HOST, root / "host", ignore=ignore)
    env = root / "host/examplehost/migrations/env.py"
    env.write_text(ENV_RAISES + env.read_text())
    ini = root / "host/alembic.ini"
    text = ini.read_text()
    ini.write_text(text.replace("sqlite:///%(here)s/examplehost.db", NOWHERE))
    project = render_plugin(root / "plug", {"plugin_name": "flawed"})
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    text = text.replace('"examplehost:migrations"', '"../host/alembic.ini"')
    pyproject.write_text(text.replace('url = "sqlite:///dev.db"', f'url = "{NOWHERE}"'))
    assert (project / MIGRATIONS / f"{INITIAL}_initial.py").is_file()
    return root


def copy(pristine: Path, tmp_path: Path, *faults: str) -> Path:
    """A copy of the tree, with the tests/broken/ folders ``faults`` laid over the plugin."""
    root = tmp_path / "case"
    shutil.copytree(pristine, root)
    for fault in faults:
        shutil.copytree(BROKEN / fault, root / "plug", dirs_exist_ok=True)
    return root / "plug"


def findings(server: ForkServer, project: Path, *args: str, code: int) -> list[dict[str, Any]]:
    result = run_scaffold(server, "check", "--json", *args, cwd=project, check=code)
    found: list[dict[str, Any]] = json.loads(result.stdout)  # stdout holds the JSON only
    return found


def codes(found: list[dict[str, Any]]) -> list[tuple[str, str, str | None, int | None]]:
    return sorted((f["code"], f["severity"], f["revision"], f["line"]) for f in found)


def revision(
    project: Path,
    rev: str,
    body: str,
    *,
    down: str | tuple[str, ...] | None = INITIAL,
    extra: str = "",
) -> Path:
    """Write a revision of ``flawed`` by hand; ``body`` holds upgrade() and downgrade()."""
    path = project / MIGRATIONS / f"{rev}_step.py"
    path.write_text(
        f'"""{rev}"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
        f"depends_on = None\n{extra}\n\n" + textwrap.dedent(body).lstrip()
    )
    return path


def test_a_clean_plugin_passes_without_env_py_or_a_database(
    server: ForkServer, pristine: Path, tmp_path: Path
) -> None:
    project = pristine / "plug"
    result = run_scaffold(server, "check", cwd=project)
    assert result.stdout == "plugin flawed: no findings\n" and result.stderr == ""
    assert findings(server, project, code=0) == []
    # Where the comparison needs a database, the unreachable server is tried...
    models = run_scaffold(server, "check", "--models", cwd=project, check=1)
    assert "127.0.0.1" in models.stderr and "s3cr3t" not in models.stderr
    # ...and on a database that works, env.py runs (and raises): the static check above really
    # ran neither env.py nor a connection.
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    models = run_scaffold(server, "--url", url, "check", cwd=project, check=None)
    assert models.returncode != 0 and "env.py was imported" in models.stderr


def test_two_heads(server: ForkServer, pristine: Path, tmp_path: Path) -> None:
    found = findings(server, copy(pristine, tmp_path, "second_head"), code=1)
    assert codes(found) == [("multiple-heads", "error", "secondhead01", None)]
    assert found[0]["file"] == f"{MIGRATIONS}/secondhead01_starred.py"
    assert "merge them (scaffold merge --plugin flawed)" in found[0]["message"]


def test_a_root_without_depends_on(server: ForkServer, pristine: Path, tmp_path: Path) -> None:
    project = copy(pristine, tmp_path, "no_depends_on")
    found = findings(server, project, code=1)
    assert codes(found) == [("no-host-dependency", "error", INITIAL, None)]
    assert found[0]["file"] == f"{MIGRATIONS}/{INITIAL}_initial.py"
    assert found[0]["message"].endswith("add depends_on = 'core'")
    # Without --json: one line per finding, naming the plugin, the revision and its file.
    out = run_scaffold(server, "check", cwd=project, check=1).stdout.splitlines()
    assert out == [
        f"error: plugin flawed: root revision {INITIAL} ({MIGRATIONS}/{INITIAL}_initial.py) "
        "does not depend on the host, so nothing makes the host's tables exist before it "
        "runs: add depends_on = 'core' [no-host-dependency]"
    ]


def test_a_host_table_altered_and_host_rows_changed(
    server: ForkServer, pristine: Path, tmp_path: Path
) -> None:
    project = copy(pristine, tmp_path, "alters_host_table")
    found = findings(server, project, code=1)
    # upgrade() adds a column to core__users, downgrade() drops it in batch mode
    assert codes(found) == [
        ("foreign-table", "error", "hosttable001", 16),
        ("foreign-table", "error", "hosttable001", 20),
    ]
    assert "op.add_column on core__users, a table the plugin does not own" in found[0]["message"]

    # Raw SQL naming a host table is a warning: a finding (exit 1) until the line says it was
    # looked at (SQL that only reads host rows is fine).
    rows = copy(pristine, tmp_path / "rows", "changes_host_rows")
    found = findings(server, rows, code=1)
    assert codes(found) == [
        ("foreign-sql", "warning", "hostrows0001", 12),
        ("foreign-sql", "warning", "hostrows0001", 16),
    ]
    assert "names host table(s) core__users" in found[0]["message"]
    assert "mark the line # scaffold: allow foreign-sql" in found[0]["message"]
    said = run_scaffold(server, "check", cwd=rows, check=1).stdout
    assert said.startswith("warning: plugin flawed: ")
    revision_file = next((rows / "src/flawed/migrations").glob("hostrows0001*.py"))
    text = revision_file.read_text()
    marked = text.replace(
        '    op.execute("UPDATE core__users SET bio = NULL")',
        "    # scaffold: allow foreign-sql  (reviewed)\n"
        '    op.execute("UPDATE core__users SET bio = NULL")',
    )
    assert marked != text
    revision_file.write_text(marked)
    found = findings(server, rows, code=1)  # the other statement is still unacknowledged
    assert codes(found) == [("foreign-sql", "warning", "hostrows0001", 12)]
    revision_file.write_text(
        marked.replace(
            "SET bio = 'set by flawed'\")",
            "SET bio = 'set by flawed'\")  # scaffold: allow foreign-sql",
        )
    )
    assert findings(server, rows, code=0) == []


ROGUE = """
users = sa.table("core__users", sa.column("id", sa.Integer))
OWN = "flawed__media_security"


def upgrade():
    op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
    op.create_index("ix_level", OWN, ["level"])
    op.create_foreign_key("fk_own", "flawed__media_security", "core__users", ["note"], ["id"])
    op.create_foreign_key("fk_host", "core__media_entries", "flawed__x", ["id"], ["x_id"])
    op.bulk_insert(users, [{"id": 1}])
    with op.batch_alter_table("core__media_entries") as batch_op:
        batch_op.add_column(sa.Column("x", sa.Integer))
    op.drop_index("ix_title", table_name="core__media_entries")
    op.execute(sa.text("DELETE FROM core__users"))
    op.execute("DELETE FROM flawed__media_security")


def downgrade():
    pass
"""


def test_every_op_on_a_table_the_plugin_does_not_own(
    server: ForkServer, pristine: Path, tmp_path: Path
) -> None:
    project = copy(pristine, tmp_path)
    revision(project, "rogue0000001", ROGUE)  # ROGUE's first line is the file's 11th
    found = findings(server, project, code=1)
    # The plugin's own table gets the production-safety warnings (an index built and a foreign
    # key checked under a lock, every row deleted); the host's get foreign-table only.
    assert codes(found) == [
        ("constraint-not-valid", "warning", "rogue0000001", 18),
        ("foreign-sql", "warning", "rogue0000001", 24),
        ("foreign-table", "error", "rogue0000001", 19),
        ("foreign-table", "error", "rogue0000001", 20),
        ("foreign-table", "error", "rogue0000001", 21),
        ("foreign-table", "error", "rogue0000001", 23),
        ("index-not-concurrent", "warning", "rogue0000001", 17),
        ("no-downgrade", "error", "rogue0000001", 28),
        ("sql-without-where", "warning", "rogue0000001", 25),
        ("unprefixed-table", "error", "rogue0000001", 16),
    ]
    assert {f["file"] for f in found} == {f"{MIGRATIONS}/rogue0000001_step.py"}
    messages = " | ".join(f["message"] for f in found)
    for words in [
        "op.create_table makes table tags without the plugin's prefix (name it flawed__tags)",
        "op.create_foreign_key on core__media_entries",
        "op.bulk_insert on core__users",
        "op.batch_alter_table on core__media_entries",
        "op.drop_index on core__media_entries",
        "downgrade() does nothing",
    ]:
        assert words in messages, messages


MADE_FOREIGN = """
def upgrade():
    op.create_table("core__users", sa.Column("id", sa.Integer, primary_key=True))
    op.rename_table("flawed__media_security", "core__users")
    op.create_table("other__things", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("flawed__fine", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("flawed__fine")
"""


def test_making_a_table_with_another_owners_name_is_foreign_not_unprefixed(
    server: ForkServer, pristine: Path, tmp_path: Path
) -> None:
    """Creating a host table (or renaming into one) is taking it over, whatever the advice for
    an unprefixed name would say (\"name it flawed__core__users\"); so is a table with another
    owner's prefix that the plugin's metadata does not know (other__things)."""
    project = copy(pristine, tmp_path)
    revision(project, "madeforeign1", MADE_FOREIGN)  # its first line is the file's 11th
    found = findings(server, project, code=1)
    assert codes(found) == [
        ("foreign-table", "error", "madeforeign1", 12),
        ("foreign-table", "error", "madeforeign1", 13),
        ("foreign-table", "error", "madeforeign1", 14),
    ]
    messages = [f["message"] for f in found]
    assert messages == [
        f"revision madeforeign1 ({MIGRATIONS}/madeforeign1_step.py:{line}): op.{op} on {table}, "
        "a table the plugin does not own (its tables are flawed__*; extend a host table with a "
        "side table)"
        for line, op, table in [
            (12, "create_table", "core__users"),
            (13, "rename_table", "core__users"),
            (14, "create_table", "other__things"),
        ]
    ]


@pytest.mark.parametrize(
    ("downgrade", "extra", "code"),
    [
        ("def downgrade():\n    pass\n", "", 1),
        ('def downgrade():\n    """Nothing to undo."""\n', "", 1),
        ("", "", 1),
        ("def downgrade():\n    pass\n", "irreversible = True", 0),
        ("def downgrade():\n    raise NotImplementedError('data is gone')\n", "", 0),
        ("def downgrade():\n    op.drop_column('flawed__media_security', 'x')\n", "", 0),
    ],
    ids=["pass", "docstring", "missing", "marked", "raises", "written"],
)
def test_a_downgrade_that_undoes_nothing(
    server: ForkServer, pristine: Path, tmp_path: Path, downgrade: str, extra: str, code: int
) -> None:
    project = copy(pristine, tmp_path)
    body = (
        "def upgrade():\n    op.add_column('flawed__media_security', sa.Column('x', sa.Integer))\n"
    )
    revision(project, "column000001", body + "\n\n" + downgrade, extra=extra)
    found = findings(server, project, code=code)
    assert [f["code"] for f in found] == (["no-downgrade"] if code else [])


def test_a_merge_revision_needs_no_downgrade(
    server: ForkServer, pristine: Path, tmp_path: Path
) -> None:
    project = copy(pristine, tmp_path, "second_head")
    merge = "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    revision(project, "merge0000001", merge, down=("secondhead01", "secondhead02"))
    assert findings(server, project, code=0) == []


def test_an_unprefixed_model_table(server: ForkServer, pristine: Path, tmp_path: Path) -> None:
    project = copy(pristine, tmp_path)
    models = project / "src/flawed/models.py"
    models.write_text(models.read_text().replace('"flawed__media_security"', '"media_security"', 1))
    found = findings(server, project, code=1)
    assert [(f["code"], f["file"]) for f in found] == [("unprefixed-table", "src/flawed/models.py")]
    assert "(name it flawed__media_security)" in found[0]["message"]


def test_a_revision_id_used_twice_is_a_finding(
    server: ForkServer, pristine: Path, tmp_path: Path
) -> None:
    project = copy(pristine, tmp_path)
    body = "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    revision(project, "twice0000001", body)
    shutil.copy(
        project / MIGRATIONS / "twice0000001_step.py", project / MIGRATIONS / "twice0000001_copy.py"
    )
    found = findings(server, project, code=1)
    assert codes(found) == [("duplicate-id", "error", "twice0000001", None)]
    assert found[0]["message"] == (
        f"revision id twice0000001 is used by 2 files ({MIGRATIONS}/twice0000001_copy.py, "
        f"{MIGRATIONS}/twice0000001_step.py)"
    )


def test_branch_revisions_outside_the_package_and_files_off_the_branch(
    server: ForkServer, pristine: Path, tmp_path: Path
) -> None:
    project = copy(pristine, tmp_path)
    # A revision of the branch in a folder the project lists as a version location.
    elsewhere = project / "stray"
    elsewhere.mkdir()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.plugin-scaffold]\n", '[tool.plugin-scaffold]\nversion-locations = ["stray"]\n'
        )
    )
    body = "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    moved = revision(project, "stray0000001", body)
    moved.rename(elsewhere / moved.name)
    # And a file in the package that starts a line of its own, labelled nothing.
    revision(project, "loose0000001", body, down=None, extra='depends_on = "core"')
    found = findings(server, project, code=1)
    assert ("outside-package", "error", "stray0000001", None) in codes(found)
    assert ("off-branch", "error", "loose0000001", None) in codes(found)
    outside = next(f for f in found if f["code"] == "outside-package")
    assert outside["file"] == "stray/stray0000001_step.py"


def _build_wheel(project: Path) -> Path:
    subprocess.run(
        [
            uv_binary(),
            "build",
            "--wheel",
            "--offline",
            "--out-dir",
            str(project / "dist"),
            str(project),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = (project / "dist").glob("flawed-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheels(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The plugin's wheel as hatch builds it, and one built with its migrations excluded."""
    built = {}
    for name, settings in [
        ("good", ""),
        ("broken", 'exclude = ["src/flawed/migrations"]\n'),
    ]:
        project = tmp_path_factory.mktemp(name) / "plug"
        shutil.copytree(pristine / "plug", project)
        pyproject = project / "pyproject.toml"
        text = pyproject.read_text()
        marker = 'packages = ["src/flawed"]\n'
        pyproject.write_text(text.replace(marker, marker + settings))
        built[name] = _build_wheel(project)
    return built


def test_a_wheel_without_its_migrations(
    server: ForkServer, pristine: Path, tmp_path: Path, wheels: dict[str, Path]
) -> None:
    project = copy(pristine, tmp_path)
    (project / "dist").mkdir()
    shutil.copy(wheels["good"], project / "dist")
    assert findings(server, project, code=0) == []  # found in dist/ by itself

    shutil.copy(wheels["broken"], project / "dist")  # the newest one is checked
    found = findings(server, project, code=1)
    assert [(f["code"], f["file"]) for f in found] == [
        ("wheel-missing-migrations", f"dist/{wheels['broken'].name}")
    ]
    assert "has no flawed/migrations/ package" in found[0]["message"]

    # A revision written after the wheel was built; --wheel names the wheel to check.
    body = "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    revision(project, "later0000001", body)
    found = findings(server, project, "--wheel", str(wheels["good"]), code=1)
    assert codes(found) == [("wheel-missing-revision", "error", "later0000001", None)]
    assert "lacks flawed/migrations/later0000001_step.py" in found[0]["message"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--plugin", "nope"), "no plugin named 'nope'"),
        (("--all", "--plugin", "flawed"), "--all checks every plugin"),
        (("--wheel", "nosuch.whl"), "--wheel nosuch.whl: no such file"),
    ],
    ids=["unknown-plugin", "all-and-plugin", "no-wheel"],
)
def test_bad_input_is_one_line(
    server: ForkServer, pristine: Path, args: tuple[str, ...], says: str
) -> None:
    result = run_scaffold(server, "check", "--json", *args, cwd=pristine / "plug", check=2)
    assert result.stdout == ""
    assert result.stderr.splitlines() == [result.stderr.strip()] and says in result.stderr


def test_all_checks_every_plugin_found(server: ForkServer, pristine: Path, tmp_path: Path) -> None:
    project = copy(pristine, tmp_path, "no_depends_on")
    found = findings(server, project, "--all", code=1)
    assert {f["plugin"] for f in found} == {"flawed"}
    assert run_scaffold(server, "check", "--all", cwd=pristine / "plug").stdout == (
        "plugin flawed: no findings\n"
    )


def test_models_compared_with_a_database_given(
    server: ForkServer, pristine: Path, tmp_path: Path, db_url: str
) -> None:
    """--url turns the comparison on: a model changed without its revision is models-differ."""
    project = copy(pristine, tmp_path, "model_without_revision")
    env = project.parent / "host/examplehost/migrations/env.py"
    env.write_text(env.read_text().replace(ENV_RAISES, ""))
    found = findings(server, project, "--url", db_url, code=1)
    assert codes(found) == [("models-differ", "error", INITIAL, None)]
    assert found[0]["file"] == "src/flawed/models.py"
    assert "flawed__media_security (add_column reviewed_at)" in found[0]["message"]
    # The revision for it, written by hand: the check passes, the comparison says so.
    body = """
    def upgrade():
        op.add_column("flawed__media_security", sa.Column("reviewed_at", sa.DateTime()))


    def downgrade():
        op.drop_column("flawed__media_security", "reviewed_at")
    """
    revision(project, "reviewed0001", body)
    out = run_scaffold(server, "--url", db_url, "check", cwd=project).stdout
    assert out == "plugin flawed: no findings\nplugin flawed: models match migrations\n"


INDEXED = """
def upgrade():
    op.create_index("ix_flawed_note", "flawed__media_security", ["note"])


def downgrade():
    op.drop_index("ix_flawed_note", table_name="flawed__media_security")
"""


def test_a_production_safety_warning_until_acknowledged(
    server: ForkServer, pristine: Path, tmp_path: Path
) -> None:
    """An index built on the plugin's existing table, in the migration's transaction: a warning
    that fails the check until the line says it was looked at, or the plugin says it does not
    run on PostgreSQL."""
    project = copy(pristine, tmp_path)
    path = revision(project, "index0000001", INDEXED)  # INDEXED's op is the file's 12th line
    said = run_scaffold(server, "check", cwd=project, check=1)
    assert said.stderr == ""
    assert said.stdout.splitlines() == [
        f"warning: plugin flawed: revision index0000001 ({MIGRATIONS}/index0000001_step.py:12): "
        "op.create_index on flawed__media_security without CONCURRENTLY blocks its writes on "
        "PostgreSQL while the index is built: pass postgresql_concurrently=True inside "
        "`with op.get_context().autocommit_block():` [index-not-concurrent]"
    ]
    found = findings(server, project, code=1)
    assert found == [
        {
            "plugin": "flawed",
            "code": "index-not-concurrent",
            "message": said.stdout.split("plugin flawed: ", 1)[1].rsplit(" [", 1)[0],
            "severity": "warning",
            "file": f"{MIGRATIONS}/index0000001_step.py",
            "line": 12,
            "revision": "index0000001",
        }
    ]
    # Another code on the line does not acknowledge it; its own does.
    text = path.read_text()
    op_line = '    op.create_index("ix_flawed_note"'
    path.write_text(text.replace(op_line, "    # scaffold: allow foreign-sql\n" + op_line))
    assert codes(findings(server, project, code=1)) == [
        ("index-not-concurrent", "warning", "index0000001", 13)
    ]
    path.write_text(
        text.replace(
            op_line, "    # scaffold: allow index-not-concurrent  (tiny table)\n" + op_line
        )
    )
    assert run_scaffold(server, "check", cwd=project).stdout == "plugin flawed: no findings\n"
    assert findings(server, project, code=0) == []

    # A plugin that says it runs on SQLite and MariaDB only gets no PostgreSQL rule.
    path.write_text(text)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.plugin-scaffold]\n",
            '[tool.plugin-scaffold]\ndatabases = ["sqlite", "mariadb"]\n',
        )
    )
    assert findings(server, project, code=0) == []
    pyproject.write_text(pyproject.read_text().replace('"mariadb"]', '"oracle"]'))
    bad = run_scaffold(server, "check", cwd=project, check=2)
    assert "databases must be a list of sqlite, postgresql, mysql (or mariadb)" in bad.stderr


HOST_DDL = """
def upgrade():
    # scaffold: allow foreign-sql
    op.execute("ALTER TABLE core__users ADD COLUMN flawed_karma integer")
    op.execute("UPDATE core__users SET bio = '' WHERE bio IS NULL")


def downgrade():
    pass
"""


def test_sql_altering_a_host_table_is_an_error(
    server: ForkServer, pristine: Path, tmp_path: Path
) -> None:
    """DDL on a host table in raw SQL is foreign-ddl, an error no comment acknowledges (it
    replaces the foreign-sql warning of its statement); DML naming a host table stays
    foreign-sql."""
    project = copy(pristine, tmp_path)
    revision(project, "hostddl00001", HOST_DDL, extra="irreversible = True")
    found = findings(server, project, code=1)
    assert codes(found) == [
        ("foreign-ddl", "error", "hostddl00001", 13),
        ("foreign-sql", "warning", "hostddl00001", 14),
    ]
    [ddl] = [f["message"] for f in found if f["code"] == "foreign-ddl"]
    assert "changes the structure of host table(s) core__users" in ddl
