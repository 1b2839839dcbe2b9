"""Nothing lost: a revision id is never a path, and a revision file never replaces a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import execute, run_scaffold, scaffold_lines, versions
from hosts import make_host, make_plugin


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (what a command must leave alone)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize(
    "rev_id",
    [
        "../../../../tests/test",
        "../../../../evil",
        "a/b",
        "..",
        ".",
        "a.b",
        "/tmp/abs",
        "a\\b",
        "___",
        "",
        "x" * 33,  # longer than alembic_version.version_num holds
        "x" * 65,
        "café",
        "a b",
    ],
)
def test_rev_id_that_is_not_an_identifier_is_refused_and_nothing_is_written(
    tmp_path: Path, rev_id: str
) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    mine = project / "tests" / "test_migrations.py"
    mine.parent.mkdir()
    mine.write_text("def test_mine():\n    pass\n")
    before = tree(tmp_path)

    result = run_scaffold(
        "--url",
        f"sqlite:///{tmp_path / 'dev.db'}",
        "revision",
        "-m",
        "migrations",
        "--rev-id",
        rev_id,
        cwd=project,
        check=2,
    )

    assert result.stderr.count("\n") == 1 and result.stderr.startswith("scaffold: error: --rev-id")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert tree(tmp_path) == before
    assert not (tmp_path / "evil.py").exists() and not list(tmp_path.rglob("evil*"))


def test_rev_id_that_is_an_identifier_names_the_file_in_the_plugin(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    run_scaffold(
        "--url",
        f"sqlite:///{tmp_path / 'dev.db'}",
        "revision",
        "-m",
        "first",
        "--rev-id",
        "Poser_0001",
        cwd=project,
    )
    written = sorted(p.name for p in (project / "src/poser/migrations").glob("*.py"))
    assert written == ["Poser_0001_first.py", "__init__.py"]


#: What widens alembic_version.version_num to 64 characters, on each database.
WIDEN = {
    "sqlite": [
        "CREATE TABLE wide (version_num VARCHAR(64) NOT NULL PRIMARY KEY)",
        "INSERT INTO wide SELECT version_num FROM alembic_version",
        "DROP TABLE alembic_version",
        "ALTER TABLE wide RENAME TO alembic_version",
    ],
    "postgresql": ["ALTER TABLE alembic_version ALTER COLUMN version_num TYPE VARCHAR(64)"],
    "mysql": ["ALTER TABLE alembic_version MODIFY version_num VARCHAR(64) NOT NULL"],
}


def test_rev_id_longer_than_the_version_table_holds_is_refused(
    tmp_path: Path, any_url: str
) -> None:
    """A 33-character id passes Alembic but not alembic_version's VARCHAR(32): the upgrade would
    fail on PostgreSQL, and stop half way on MariaDB. The width is the database's own where its
    version table exists; `scaffold check` finds a revision id longer than that."""
    from plugin_scaffold.databases.urls import kind_of, redact

    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    url = ["--url", any_url]
    long_id = "p" * 33

    def refused() -> str:
        result = run_scaffold(
            *url, "revision", "-m", "x", "--rev-id", long_id, cwd=project, check=2
        )
        assert result.stdout == "", result.stdout
        assert not list((project / "src/poser/migrations").glob("p*.py"))
        [error] = scaffold_lines(result.stderr)  # env.py's own logging aside
        return error

    assert refused() == (
        f"scaffold: error: --rev-id '{long_id}' is 33 characters, and alembic_version.version_num "
        "as Alembic creates it holds 32: upgrading would fail; use at most 32"
    )
    run_scaffold(*url, "upgrade", cwd=project)  # the host: the version table exists now
    assert refused() == (
        f"scaffold: error: --rev-id '{long_id}' is 33 characters, and alembic_version.version_num "
        f"in {redact(any_url)} holds 32: upgrading would fail; use at most 32"
    )

    # A version table widened by hand holds longer ids: the database's width is taken.
    for statement in WIDEN[kind_of(any_url)]:
        execute(any_url, statement)
    wide_id = "p" * 40
    run_scaffold(
        *url, "revision", "-m", "tables", "--autogenerate", "--rev-id", wide_id, cwd=project
    )
    run_scaffold(*url, "upgrade", cwd=project)
    assert wide_id in versions(any_url)

    # Checked without a database: Alembic's width; with one: that database's.
    static = run_scaffold("check", cwd=project, check=1).stdout
    assert static == (
        f"error: plugin poser: revision {wide_id} (src/poser/migrations/{wide_id}_tables.py): "
        "its id is 40 characters, and alembic_version.version_num as Alembic creates it holds "
        "32: upgrading fails (PostgreSQL refuses the row, MariaDB stops half way); give it an "
        "id of at most 32 [long-revision-id]\n"
    )
    on_database = run_scaffold(*url, "check", cwd=project).stdout
    assert "long-revision-id" not in on_database and "models match migrations" in on_database


def _revisions(folder: Path) -> dict[str, str | None]:
    """revision id -> down_revision of every revision file in ``folder``."""
    import ast

    found: dict[str, str | None] = {}
    for path in folder.glob("*.py"):
        values = {}
        for node in ast.parse(path.read_text()).body:
            # revision = "…" or, in Alembic's newer template, revision: str = "…"
            target = (
                node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            )
            value = getattr(node, "value", None)
            names = ("revision", "down_revision")
            if isinstance(target, ast.Name) and value is not None and target.id in names:
                values[target.id] = ast.literal_eval(value)
        if "revision" in values:
            found[values["revision"]] = values.get("down_revision")
    return found


@pytest.mark.parametrize("autogenerate", [False, True], ids=["empty", "autogenerate"])
def test_concurrent_revisions_in_one_plugin_build_on_each_other(
    tmp_path: Path, autogenerate: bool
) -> None:
    import subprocess
    import sys

    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    migrations = project / "src/poser/migrations"
    args = ["--url", f"sqlite:///{tmp_path / 'dev.db'}", "revision", "-m", "change"]
    if autogenerate:
        args.append("--autogenerate")
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "plugin_scaffold", *args],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=300), *p.communicate()) for p in runs]
    report = "\n".join(f"exit {code}\n{out}{err}" for code, out, err in outcomes)
    assert [code for code, _, _ in outcomes] == [0, 0], report

    revisions = _revisions(migrations)
    roots = [r for r, down in revisions.items() if down is None]
    children = {down for down in revisions.values() if down is not None}
    heads = [r for r in revisions if r not in children]
    assert len(roots) == 1 and len(heads) == 1, revisions
    if autogenerate:
        # The second compared the models with the first's revision: nothing left to write.
        assert len(revisions) == 1, report
        assert sum("no changes" in out for _, out, _ in outcomes) == 1, report
    else:
        assert len(revisions) == 2 and revisions[heads[0]] == roots[0], revisions
    assert not [p for p in migrations.iterdir() if p.name.startswith(".scaffold")]
    assert not (tmp_path / "dev.db").exists()


@pytest.mark.parametrize(
    "args,code",
    [
        (["check"], 0),
        (["check", "--models"], 0),
        (["current"], 0),
        (["heads"], 0),
        (["history"], 0),
        (["upgrade", "nosuchrev"], 2),
        (["downgrade", "nosuchrev"], 2),
        (["upgrade", "--sql"], 0),
        (["revision", "-m", "x", "--autogenerate", "--rev-id", "a/b"], 2),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, list) else str(v),
)
def test_read_only_and_failing_commands_create_no_sqlite_file(
    tmp_path: Path, args: list[str], code: int
) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    run_scaffold(
        "--url",
        f"sqlite:///{tmp_path / 'other.db'}",
        "revision",
        "-m",
        "one",
        "--autogenerate",
        cwd=project,
    )
    before = tree(tmp_path)
    result = run_scaffold(*args, cwd=project, check=code)
    assert not (project / "dev.db").exists(), result.stdout + result.stderr
    assert tree(tmp_path) == before


def test_upgrade_creates_the_sqlite_file(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    run_scaffold("upgrade", cwd=project)
    assert (project / "dev.db").stat().st_size > 0
    assert not list(project.glob("*.scaffold-lock"))


# `scaffold check` reports a revision id used twice as a finding: tests/test_static_check.py
@pytest.mark.parametrize("command", [["upgrade"], ["revision", "-m", "two"]])
def test_a_revision_id_used_twice_is_refused_naming_both_files(
    tmp_path: Path, command: list[str]
) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    migrations = project / "src/poser/migrations"
    run_scaffold("revision", "-m", "one", "--rev-id", "r1", cwd=project)
    (migrations / "r1_copy.py").write_text((migrations / "r1_one.py").read_text())
    before = tree(tmp_path)

    result = run_scaffold(*command, cwd=project, check=2)

    assert result.stderr.splitlines() == [
        f"scaffold: error: revision id r1 is used by 2 files: {migrations / 'r1_copy.py'}, "
        f"{migrations / 'r1_one.py'}; give each revision its own id"
    ]
    assert tree(tmp_path) == before


def test_a_down_revision_pointing_nowhere_is_one_line_without_warnings(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    migrations = project / "src/poser/migrations"
    run_scaffold("revision", "-m", "one", "--rev-id", "r1", cwd=project)
    text = (migrations / "r1_one.py").read_text()
    lines = [
        'down_revision = "nowhere"' if line.startswith("down_revision") else line
        for line in text.splitlines()
    ]
    (migrations / "r1_one.py").write_text("\n".join(lines) + "\n")
    for command in (["upgrade"], ["revision", "-m", "two"]):
        result = run_scaffold(*command, cwd=project, check=2)
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert "'nowhere' in down_revision" in result.stderr and "r1_one.py" in result.stderr
