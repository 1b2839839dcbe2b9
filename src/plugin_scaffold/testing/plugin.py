"""The pytest plugin (entry point ``pytest11``): ``--scaffold-db`` and the migration fixtures.

It only adds an option and fixtures; nothing runs unless a test class derives from
:class:`plugin_scaffold.testing.MigrationSuite` (or a test asks for the fixtures).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from ..databases.servers import KINDS, DriverMissing, ServerUnavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..commands.workspace import Workspace
    from .checks import MigrationChecks, SharedDatabases

DATABASE_VARIABLE = "SCAFFOLD_TEST_DB"
_servers = pytest.StashKey[dict[str, ServerUnavailable | None]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("plugin-scaffold", "plugin-scaffold migration checks")
    group.addoption(
        "--scaffold-db",
        action="append",
        dest="scaffold_db",
        metavar="DB",
        help="database the migration checks run on: sqlite, postgresql, mysql (servers from "
        "SCAFFOLD_POSTGRES_URL, SCAFFOLD_MYSQL_URL) or a server URL; repeat or separate with "
        f"commas for several (default: ${DATABASE_VARIABLE}, else sqlite)",
    )
    group.addoption(
        "--scaffold-project",
        dest="scaffold_project",
        metavar="DIR",
        help="the plugin project whose migrations are checked (default: pytest's rootdir)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for kind in KINDS:
        config.addinivalue_line("markers", f"{kind}: the test runs on a {kind} database")
    config.stash[_servers] = {}
    chosen_databases(config)  # a misspelt database stops the run at once, as a usage error


def chosen_databases(config: pytest.Config) -> list[str]:
    """What ``--scaffold-db`` (else ``SCAFFOLD_TEST_DB``, else sqlite) names, as kinds or URLs."""
    from ..databases.servers import normalize_kind
    from ..errors import ConfigError

    given = config.getoption("scaffold_db", default=None) or [
        os.environ.get(DATABASE_VARIABLE) or "sqlite"
    ]
    chosen: list[str] = []
    for value in given:
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            if "://" in part or part.startswith("sqlite:"):
                chosen.append(part)
                continue
            try:
                kinds = list(KINDS) if part == "all" else [normalize_kind(part)]
            except ConfigError as exc:
                raise pytest.UsageError(f"--scaffold-db / {DATABASE_VARIABLE}: {exc}") from None
            chosen.extend(k for k in kinds if k not in chosen)
    return chosen


def database_id(database: str) -> str:
    from ..databases.urls import kind_of

    return database if database in KINDS else kind_of(database)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scaffold_database" in metafunc.fixturenames:
        databases = chosen_databases(metafunc.config)
        metafunc.parametrize(
            "scaffold_database",
            databases,
            ids=[database_id(d) for d in databases],
            scope="session",
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test gets a marker for its database (``pytest -m postgresql``)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        database = callspec.params.get("scaffold_database") if callspec is not None else None
        if isinstance(database, str):
            item.add_marker(database_id(database))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def scaffold_database(request: pytest.FixtureRequest) -> str:
    """The database kind (or server URL) of this test; parametrized by ``--scaffold-db``."""
    return str(getattr(request, "param", None) or chosen_databases(request.config)[0])


@pytest.fixture(scope="session")
def scaffold_server(request: pytest.FixtureRequest, scaffold_database: str) -> str:
    """``scaffold_database`` once its server answers: skipped (failed in CI) otherwise."""
    from ..databases.servers import check_server, server_url

    known = request.config.stash[_servers]
    if scaffold_database not in known:
        known[scaffold_database] = None
        if scaffold_database != "sqlite" and not scaffold_database.startswith("sqlite"):
            url = server_url(scaffold_database) if scaffold_database in KINDS else scaffold_database
            try:
                check_server(url)
            except ServerUnavailable as exc:
                known[scaffold_database] = exc
    found = known[scaffold_database]
    if isinstance(found, DriverMissing):
        # The database was asked for and this environment cannot reach any: never a skip.
        pytest.fail(str(found), pytrace=False)
    if found is not None:
        if in_ci():
            pytest.fail(f"CI=true and {found}", pytrace=False)
        pytest.skip(str(found))
    return scaffold_database


@pytest.fixture(scope="session")
def scaffold_workspace(pytestconfig: pytest.Config) -> Workspace:
    """The plugin project under test, its host and the combined revision graph."""
    from pathlib import Path

    from ..commands.workspace import Workspace
    from ..errors import ScaffoldError

    folder = pytestconfig.getoption("scaffold_project", default=None)
    root = Path(folder).resolve() if folder else pytestconfig.rootpath
    try:
        return Workspace.open(config=None, url=None, cwd=root)
    except ScaffoldError as exc:
        pytest.fail(f"plugin-scaffold: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def scaffold_shared() -> Iterator[dict[tuple[str | None, str], SharedDatabases]]:
    """The scratch databases the session's checks share, per plugin and database (a database at
    every head, which the checks that only read one read); dropped when the session ends."""
    from ..process_end import freeze_at_exit

    freeze_at_exit()
    found: dict[tuple[str | None, str], SharedDatabases] = {}
    try:
        yield found
    finally:
        for shared in found.values():
            shared.close()
        from ..databases.copies import hand_off_drops

        hand_off_drops()  # the last scratch databases, dropped while the process ends


@pytest.fixture
def scaffold_checks(
    request: pytest.FixtureRequest,
    scaffold_workspace: Workspace,
    scaffold_server: str,
    scaffold_shared: dict[tuple[str | None, str], SharedDatabases],
) -> MigrationChecks:
    """The checks of the plugin's migrations, on the database this test runs on."""
    from .checks import SharedDatabases
    from .suite import checks_for

    checks = checks_for(request.cls, scaffold_workspace, scaffold_server)
    checks.shared = scaffold_shared.setdefault(
        (checks.plugin_name, scaffold_server), SharedDatabases()
    )
    return checks
