"""plugin-scaffold's MigrationSuite, run by plugin projects: branch-aware, its rows, its servers.

Each test writes a plugin project, runs the project's own tests in their own pytest process
(tests/ownsuite.py) and looks at what they reported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hosts import make_host, make_plugin, revision_id
from ownsuite import CHECKS, assert_only, run_own_tests

SUITE = """
from plugin_scaffold.testing import MigrationSuite


class TestMigrations(MigrationSuite):
    rows = {rows}
    expect = {expect}
"""

REVISION = '''
"""{message}"""
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {depends!r}


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''

ROOT = (
    "    op.create_table(\n"
    '        "poser__store_extra",\n'
    '        sa.Column("store_uuid", sa.String(32), sa.ForeignKey("store.uuid"),'
    " primary_key=True),\n"
    '        sa.Column("rating", sa.Integer(), nullable=False, server_default="0"),\n'
    "    )"
)


def add_column(name: str) -> tuple[str, str]:
    return (
        f'    op.add_column("poser__store_extra", sa.Column("{name}", sa.Integer()))',
        '    with op.batch_alter_table("poser__store_extra") as batch_op:\n'
        f'        batch_op.drop_column("{name}")',
    )


def write_revision(
    project: Path,
    rev: str,
    *,
    down: str | tuple[str, ...] | None,
    upgrade: str = "    pass",
    downgrade: str = "    pass",
    labels: tuple[str, ...] | None = None,
    depends: str | None = None,
) -> None:
    (project / "src/poser/migrations" / f"{rev}_step.py").write_text(
        REVISION.format(
            message=rev,
            rev=rev,
            down=down,
            labels=labels,
            depends=depends,
            upgrade=upgrade,
            downgrade=downgrade,
        )
    )


def write_suite(project: Path, rows: object = None, expect: object = None) -> None:
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests/test_migrations.py").write_text(
        SUITE.format(rows=repr(rows or {}), expect=repr(expect or {}))
    )


@pytest.fixture
def branched(tmp_path: Path) -> Path:
    """A host with two heads, and a plugin whose branch forks and merges again."""
    ini = make_host(tmp_path / "host", revisions=2)
    versions = tmp_path / "host/migrations/versions"
    (versions / "0002bbbb0002_side.py").write_text(
        REVISION.format(
            message="a second host head",
            rev="0002bbbb0002",
            down=revision_id(1),
            labels=None,
            depends=None,
            upgrade='    op.execute("SELECT 2")',
            downgrade="    pass",
        )
    )
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    models = project / "src/poser/models.py"
    models.write_text(
        models.read_text().replace(
            '    rating = sa.Column(sa.Integer, nullable=False, server_default="0")\n',
            '    rating = sa.Column(sa.Integer, nullable=False, server_default="0")\n'
            "    left = sa.Column(sa.Integer)\n"
            "    right = sa.Column(sa.Integer)\n",
        )
    )
    write_revision(
        project, "p1", down=None, upgrade=ROOT, downgrade='    op.drop_table("poser__store_extra")',
        labels=("poser",), depends=revision_id(1),
    )  # fmt: skip
    write_revision_pair(project, "p2left", "p1", add_column("left"))
    write_revision_pair(project, "p2right", "p1", add_column("right"))
    write_revision(project, "p3merge", down=("p2left", "p2right"))
    return project


def write_revision_pair(project: Path, rev: str, down: str, pair: tuple[str, str]) -> None:
    write_revision(project, rev, down=down, upgrade=pair[0], downgrade=pair[1])


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_forked_and_merged_branch_on_a_host_with_two_heads_passes_every_check(
    branched: Path, database: str
) -> None:
    write_suite(
        branched,
        rows={
            "p1": {
                "store": [{"uuid": "s1", "name": "Main street"}],
                "poser__store_extra": [{"store_uuid": "s1", "rating": 4}],
            },
            "p2left": {"poser__store_extra": [{"rating": 5, "left": 1}]},
        },
    )
    outcome = run_own_tests(branched, database)
    assert_only(outcome)


def test_rows_a_revision_changes_need_an_expect_entry(branched: Path) -> None:
    write_revision(
        branched,
        "p4double",
        down="p3merge",
        upgrade='    op.execute("UPDATE poser__store_extra SET rating = rating * 2")',
        downgrade='    op.execute("UPDATE poser__store_extra SET rating = rating / 2")',
    )
    rows = {"p1": {"poser__store_extra": [{"store_uuid": "s1", "rating": 4}]}}
    write_suite(branched, rows=rows)
    outcome = run_own_tests(branched, "sqlite")
    assert_only(outcome, "rows")
    assert outcome.message("rows").startswith(
        "after revision p4double (src/poser/migrations/p4double_step.py) on sqlite (sqlite:///"
    )
    assert outcome.message("rows").endswith(
        "table poser__store_extra lost the row given for revision p1: {store_uuid: 's1', rating: 4}"
    )

    # Said what the revision does to them, the rows are looked for as expected; its downgrade
    # must give the original rows back.
    write_suite(branched, rows=rows, expect={"p4": {"poser__store_extra": [{"rating": 8}]}})
    assert_only(run_own_tests(branched, "sqlite"))


@pytest.mark.parametrize("alone", [True, False], ids=["rows-check-alone", "every-check"])
def test_sample_rows_never_take_a_value_of_the_authors_rows(branched: Path, alone: bool) -> None:
    # The plugin row needs a parent store: its sample uuid must be neither of the author's,
    # whether the rows check runs alone (first) or after every other check.
    write_suite(
        branched,
        rows={
            "p1": {
                "poser__store_extra": [{"rating": 1}],
                "store": [{"uuid": "sample1", "name": "mine"}, {"uuid": "s1", "name": "mine too"}],
            },
        },
    )
    only = ["-k", CHECKS["rows"]] if alone else []
    outcome = run_own_tests(branched, "sqlite", *only)
    assert outcome.failed == {}, outcome.output[-2000:]
    assert outcome.passed == ({"rows"} if alone else set(CHECKS))


def test_rows_for_an_unknown_revision_are_named(branched: Path) -> None:
    write_suite(branched, rows={"nosuch": {"poser__store_extra": [{"rating": 1}]}})
    outcome = run_own_tests(branched, "sqlite")
    assert_only(outcome, "rows")
    assert outcome.message("rows").startswith("rows: 'nosuch' is no revision of plugin poser")


def test_without_rows_the_data_check_is_skipped_with_a_reason(branched: Path) -> None:
    write_suite(branched)
    outcome = run_own_tests(branched, "sqlite")
    assert outcome.failed == {}
    assert set(outcome.skipped) == {"rows"}
    assert "no rows given for the revisions of poser" in outcome.skipped["rows"]


def test_unreachable_server_skips_with_one_line_or_fails_in_ci(branched: Path) -> None:
    write_suite(branched)
    nowhere = {"SCAFFOLD_POSTGRES_URL": "postgresql+psycopg://postgres:secret@127.0.0.1:9/x"}
    outcome = run_own_tests(branched, "postgresql", env={**nowhere, "CI": ""})
    assert outcome.failed == {} and outcome.passed == {"branch"}
    reasons = set(outcome.skipped.values())
    assert len(reasons) == 1
    (reason,) = reasons
    assert "postgresql server at postgresql+psycopg://postgres:***@127.0.0.1:9/x" in reason
    assert reason.endswith("set SCAFFOLD_POSTGRES_URL to point at one")
    assert "secret" not in outcome.output

    in_ci = run_own_tests(branched, "postgresql", env={**nowhere, "CI": "true"})
    assert set(in_ci.failed) == set(CHECKS) - {"branch"}
    assert all("set SCAFFOLD_POSTGRES_URL to point at one" in m for m in in_ci.failed.values())


def test_a_missing_driver_fails_outside_ci_too(branched: Path) -> None:
    """The database was asked for, and this environment has no driver for it: every check
    that needs it fails naming the package, never a green run of skips."""
    write_suite(branched)
    no_driver = {"SCAFFOLD_POSTGRES_URL": "postgresql+pg8000://postgres@127.0.0.1:9/x", "CI": ""}
    outcome = run_own_tests(branched, "postgresql", env=no_driver)
    assert outcome.skipped == {}
    assert set(outcome.failed) == set(CHECKS) - {"branch"}
    assert all("database driver 'pg8000'" in m for m in outcome.failed.values())


@pytest.mark.postgresql
def test_several_databases_in_one_run(branched: Path) -> None:
    write_suite(branched)
    outcome = run_own_tests(branched, "sqlite,postgresql")
    # the branch check once, every other check on each database; no rows given: skipped
    assert "13 passed, 2 skipped" in outcome.output, outcome.output[-2000:]


def test_unknown_database_is_a_usage_error(branched: Path) -> None:
    import subprocess
    import sys

    write_suite(branched)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--scaffold-db", "oracle"],
        cwd=branched,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 4
    assert "--scaffold-db / SCAFFOLD_TEST_DB: unknown database 'oracle'" in result.stderr


def test_a_host_table_given_rows_must_exist(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    write_revision(
        project, "p1", down=None, upgrade=ROOT, downgrade='    op.drop_table("poser__store_extra")',
        labels=("poser",), depends=revision_id(1),
    )  # fmt: skip
    write_suite(project, rows={"p1": {"stores": [{"uuid": "s1"}]}})
    outcome = run_own_tests(project, "sqlite")
    assert_only(outcome, "rows")
    assert outcome.message("rows").startswith(
        "the row given for revision p1 (src/poser/migrations/p1_step.py) in table stores cannot "
        "be inserted on sqlite"
    )
    assert outcome.message("rows").endswith("{uuid: 's1'}: table stores does not exist")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_plugin_of_a_mediagoblin_style_host_passes_every_check(
    tmp_path: Path, database: str
) -> None:
    """Session-taking env.py, package-resource environment, unlabelled root, two heads, and a
    MetaData without naming convention: the template names the constraints in the models as
    the initial revision does, so even a fresh install from the models matches."""
    from test_mediagoblin_style import render

    project, env = render(tmp_path)
    outcome = run_own_tests(project, database, env=env)
    assert_only(outcome)


def test_a_revision_id_used_twice_is_named(branched: Path) -> None:
    write_suite(branched)
    folder = branched / "src/poser/migrations"
    (folder / "p2copy_step.py").write_text((folder / "p2left_step.py").read_text())
    outcome = run_own_tests(branched, "sqlite", "-k", "well_formed")
    assert set(outcome.failed) == {"branch"}
    assert outcome.message("branch").startswith(
        "branch poser: revision id p2left is used by 2 files "
        "(src/poser/migrations/p2copy_step.py, src/poser/migrations/p2left_step.py)"
    )
