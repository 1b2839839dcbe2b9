"""``MigrationSuite``: every check of a plugin's migrations as pytest tests, to subclass.

A plugin project switches the checks on with a test class::

    from . import MigrationSuite

    class TestMigrations(MigrationSuite):
        rows = {...}    # optional: rows that must survive every later revision

The database comes from ``--scaffold-db`` or ``SCAFFOLD_TEST_DB`` (see the pytest plugin).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from ..errors import ScaffoldError
from .checks import MigrationChecks, NothingToCheck, RowsByRevision

if TYPE_CHECKING:
    from ..commands.workspace import Workspace


def reported(check: Callable[[], None]) -> None:
    """Run ``check``: a failure is one line in pytest's report, not a traceback into scaffold."""
    skipped = failed = None
    try:
        check()
    except NothingToCheck as exc:
        skipped = str(exc)
    except ScaffoldError as exc:
        failed = str(exc)
    # Outside the except blocks, so that pytest shows no chained exception.
    if skipped is not None:
        pytest.skip(skipped)
    if failed is not None:
        pytest.fail(failed, pytrace=False)


class MigrationSuite:
    """The checks of a plugin's branch, on a fresh database of the kind the session targets.

    Class attributes a subclass may set:

    - ``plugin``: the plugin under test (default: the project's, from ``pyproject.toml``);
    - ``rows``: revision id (or a unique prefix) -> table -> rows; each row is inserted as soon
      as the database is at that revision (required columns left out are filled in, and a
      required foreign key gets a parent row), then looked for after every later revision and
      after each round trip (down and up again);
    - ``expect``: revision id -> table -> rows that table must hold once that revision has run,
      for a revision that changes the rows given earlier (they are then no longer looked for).
    """

    plugin: ClassVar[str | None] = None
    rows: ClassVar[RowsByRevision] = {}
    expect: ClassVar[RowsByRevision] = {}

    def test_branch_is_well_formed(self, scaffold_workspace: Workspace) -> None:
        """One head, one label on its root, rooted on the host, every revision in the plugin."""
        reported(MigrationChecks(scaffold_workspace, self.plugin).graph_hygiene)

    def test_upgrade_from_empty_database_to_heads(self, scaffold_checks: MigrationChecks) -> None:
        reported(scaffold_checks.upgrade_to_heads)

    def test_plugin_installs_by_itself(self, scaffold_checks: MigrationChecks) -> None:
        """``upgrade <plugin>@head`` on an empty database: what it depends on comes first."""
        reported(scaffold_checks.install_alone)

    def test_models_match_migrations(self, scaffold_checks: MigrationChecks) -> None:
        reported(scaffold_checks.models_match)

    def test_every_revision_downgrades_and_upgrades_again(
        self, scaffold_checks: MigrationChecks
    ) -> None:
        """Up, down, up for each revision of the branch; none touches a host table."""
        reported(scaffold_checks.round_trips)

    def test_uninstall_leaves_the_database_as_never_installed(
        self, scaffold_checks: MigrationChecks
    ) -> None:
        reported(scaffold_checks.uninstall)

    def test_rows_survive_every_revision(self, scaffold_checks: MigrationChecks) -> None:
        reported(scaffold_checks.data_survives)

    def test_tables_from_models_equal_migrated_tables(
        self, scaffold_checks: MigrationChecks
    ) -> None:
        reported(scaffold_checks.fresh_install)


def checks_for(cls: type[Any] | None, workspace: Workspace, database: str) -> MigrationChecks:
    """The checks a test class asks for (its ``plugin``, ``rows`` and ``expect``)."""
    return MigrationChecks(
        workspace,
        getattr(cls, "plugin", None),
        database,
        rows=getattr(cls, "rows", None) or {},
        expect=getattr(cls, "expect", None) or {},
    )
