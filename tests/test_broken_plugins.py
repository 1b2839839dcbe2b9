"""Deliberately broken plugins are each caught by the plugin's own tests, where the fault shows.

Each folder of tests/broken/ is laid over a freshly rendered plugin ``flawed``; the plugin's own
``tests/test_migrations.py`` (the template's, which runs plugin-scaffold's MigrationSuite) then
runs in its own pytest process on one database. The tests assert which checks fail, and that
each message names the revision (or the branch) and the fault; on a database where the fault
does not show, every check passes.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from ownsuite import CHECKS, assert_only, run_own_tests
from plugin_scaffold.plugin.template import render_plugin

BROKEN = Path(__file__).parent / "broken"
INITIAL = hashlib.sha1(b"plugin-scaffold:flawed").hexdigest()[:12]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render_plugin(
        tmp_path_factory.mktemp("pristine") / "flawed", {"plugin_name": "flawed"}
    )
    assert (project / "src/flawed/migrations" / f"{INITIAL}_initial.py").is_file()
    return project


def broken(pristine: Path, fault: str, tmp_path: Path) -> Path:
    project = tmp_path / "flawed"
    shutil.copytree(pristine, project)
    shutil.copytree(BROKEN / fault, project, dirs_exist_ok=True)
    return project


def test_model_change_without_a_revision(pristine: Path, tmp_path: Path) -> None:
    outcome = run_own_tests(broken(pristine, "model_without_revision", tmp_path), "sqlite")
    assert_only(outcome, "models", "fresh install")
    message = outcome.message("models")
    assert f"(head {INITIAL})" in message and "on sqlite" in message
    assert "flawed__media_security (add_column reviewed_at)" in message
    assert "column reviewed_at only in the one created from the models" in outcome.message(
        "fresh install"
    )


def test_revision_altering_a_host_table(pristine: Path, tmp_path: Path) -> None:
    outcome = run_own_tests(broken(pristine, "alters_host_table", tmp_path), "sqlite")
    assert_only(outcome, "round trips", "fresh install")
    message = outcome.message("round trips")
    assert message.startswith("revision hosttable001 (src/flawed/migrations/hosttable001_")
    assert "alters host tables on sqlite" in message
    assert "table core__users: column karma added" in message


@pytest.mark.postgresql
def test_downgrade_leaving_its_enum_type_behind_on_postgresql(
    pristine: Path, tmp_path: Path
) -> None:
    project = broken(pristine, "enum_left_behind", tmp_path)
    outcome = run_own_tests(project, "postgresql")
    assert_only(outcome, "round trips", "uninstall", "rows")
    assert outcome.message("round trips").startswith(
        "downgrading revision enumtable001 (src/flawed/migrations/enumtable001_moods.py) on "
        "postgresql"
    )
    assert outcome.message("round trips").endswith(
        "does not undo it: PostgreSQL enum type flawed_mood left behind"
    )
    assert "PostgreSQL enum type flawed_mood left behind" in outcome.message("uninstall")
    # SQLite has no enum types: nothing is left behind there.
    assert_only(run_own_tests(project, "sqlite"))


@pytest.mark.postgresql
def test_not_null_column_without_default_on_a_table_with_rows(
    pristine: Path, tmp_path: Path
) -> None:
    outcome = run_own_tests(broken(pristine, "not_null_without_default", tmp_path), "postgresql")
    # On an empty database the revision runs: only the rows the template ships show the fault.
    assert_only(outcome, "rows")
    message = outcome.message("rows")
    assert f"with the rows given for {INITIAL} in place" in message
    assert "revision notnull00001 (" in message and "failed on postgresql" in message
    assert 'column "score" of relation "flawed__media_security" contains null values' in message


def test_second_head_in_the_branch(pristine: Path, tmp_path: Path) -> None:
    outcome = run_own_tests(broken(pristine, "second_head", tmp_path), "sqlite")
    assert_only(outcome, "branch", "alone", "models")
    message = outcome.message("branch")
    assert message.startswith("branch flawed: 2 heads (revision secondhead01 (")
    assert "merge them (scaffold merge --plugin flawed)" in message
    # Every revision of the branched graph still goes down and up on its own: no false failure.
    assert "round trips" in outcome.passed and "uninstall" in outcome.passed


@pytest.mark.postgresql
def test_root_with_a_foreign_key_to_the_host_but_no_depends_on(
    pristine: Path, tmp_path: Path
) -> None:
    project = broken(pristine, "no_depends_on", tmp_path)
    outcome = run_own_tests(project, "postgresql")
    assert {"branch", "alone"} <= set(outcome.failed)
    assert outcome.message("branch") == (
        f"branch flawed: root revision {INITIAL} (src/flawed/migrations/{INITIAL}_initial.py) "
        "does not depend on the host, so nothing makes the host's tables exist before it runs: "
        "add depends_on = 'core'"
    )
    alone = outcome.message("alone")
    assert alone.startswith("upgrading an empty database to flawed@head alone on postgresql")
    assert f"revision {INITIAL} (" in alone
    assert 'relation "core__media_entries" does not exist' in alone
    # SQLite creates the table anyway; the check still finds the dangling foreign key.
    sqlite = run_own_tests(project, "sqlite")
    assert_only(sqlite, "branch", "alone")
    assert (
        "table flawed__media_security has a foreign key to core__media_entries, which does "
        "not exist" in sqlite.message("alone")
    )


@pytest.mark.mysql
def test_revision_that_fails_only_on_mariadb(pristine: Path, tmp_path: Path) -> None:
    project = broken(pristine, "fails_on_mariadb", tmp_path)
    outcome = run_own_tests(project, "mysql")
    message = outcome.message("upgrade")
    assert message.startswith("upgrading an empty database to heads on mysql (mysql+pymysql://")
    assert "revision mariadb00001 (" in message and "mariadb00001_label.py:" in message
    assert message.endswith("CompileError: VARCHAR requires a length on dialect mysql")
    assert outcome.passed == {"branch"}
    assert_only(run_own_tests(project, "postgresql"))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_revision_changing_host_rows_on_install(
    pristine: Path, tmp_path: Path, database: str
) -> None:
    outcome = run_own_tests(broken(pristine, "changes_host_rows", tmp_path), database)
    message = outcome.message("uninstall")
    assert message.startswith(
        f"installing plugin flawed on {database} ("
        if database != "sqlite"
        else "installing plugin flawed on sqlite ("
    )
    assert (
        "revision hostrows0001 (src/flawed/migrations/hostrows0001_bio.py) changes rows of host "
        "tables: table core__users: 2 row(s) lost or changed, e.g. (1, 'sample1', 'sample1', "
        in message
    )
    assert "round trips" in outcome.passed  # the schema alone never shows it


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_downgrade_deleting_host_rows(pristine: Path, tmp_path: Path, database: str) -> None:
    outcome = run_own_tests(broken(pristine, "deletes_host_rows", tmp_path), database)
    message = outcome.message("uninstall")
    assert message.startswith(f"uninstalling plugin flawed (downgrade flawed@base) on {database}")
    assert "table core__media_entries: " in message and "row(s) lost or changed" in message
    assert message.endswith(
        "by the downgrade of revision hostrows0002 (src/flawed/migrations/hostrows0002_cleanup.py)"
    )
    assert "round trips" in outcome.passed


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_downgrade_updating_host_rows(pristine: Path, tmp_path: Path, database: str) -> None:
    """As many host rows after the uninstall as before, with other values: every row of every
    host table is compared, not only the tables whose row count changed."""
    project = broken(pristine, "deletes_host_rows", tmp_path)
    cleanup = project / "src/flawed/migrations/hostrows0002_cleanup.py"
    cleanup.write_text(
        cleanup.read_text().replace(
            'op.execute("DELETE FROM core__media_entries")',
            "op.execute(\"UPDATE core__media_entries SET title = 'retitled by flawed'\")",
        )
    )
    outcome = run_own_tests(project, database, "-k", CHECKS["uninstall"])
    message = outcome.message("uninstall")
    assert message.startswith(f"uninstalling plugin flawed (downgrade flawed@base) on {database}")
    assert "table core__media_entries: " in message
    assert "row(s) lost or changed" in message and "row(s) added or changed" in message
    assert "'retitled by flawed'" in message
    assert message.endswith(
        "by the downgrade of revision hostrows0002 (src/flawed/migrations/hostrows0002_cleanup.py)"
    )
