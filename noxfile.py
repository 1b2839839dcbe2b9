"""What is tested where: one session per job, the database for each from one place."""

from __future__ import annotations

import glob
import os
import re
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "compat", "lint", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
TEST_DEPENDENCIES = nox.project.dependency_groups(PYPROJECT, "test")
LINT_DEPENDENCIES = nox.project.dependency_groups(PYPROJECT, "lint")
# The servers the tests use (see plugin_scaffold.databases.servers); passed through unchanged.
SERVER_VARIABLES = ("SCAFFOLD_POSTGRES_URL", "SCAFFOLD_MYSQL_URL", "CI")


def _test_env() -> dict[str, str]:
    """The servers the tests use, and Python's bytecode cache on: the suite starts Python some
    thousand times (scaffold, alembic, hosts, plugins' own sessions), and a shell that sets
    PYTHONDONTWRITEBYTECODE would have each compile SQLAlchemy and Alembic again (2.5 s a time).
    An empty value turns it off."""
    env = {name: os.environ[name] for name in SERVER_VARIABLES if name in os.environ}
    return {**env, "PYTHONDONTWRITEBYTECODE": ""}


def _install_project(session: nox.Session) -> None:
    session.install("-e", ".[new]", "-e", "examples/examplehost", *TEST_DEPENDENCIES)


#: One pytest worker per core (pytest-xdist): the tests mostly wait on subprocesses and servers,
#: so on this project's 2-core CI machine the suite takes half the time.
PARALLEL = ["-n", "auto", "--dist", "worksteal"]

#: One session per database, tagged with it (`nox -t postgresql`). tests/conftest.py marks each
#: test with the servers it needs; each test runs in exactly one session (one needing both
#: servers runs with MariaDB's), so `nox -s tests` runs the whole suite.
DATABASES = [
    nox.param("sqlite", id="sqlite", tags=["sqlite"]),
    nox.param("postgresql", id="postgresql", tags=["postgresql"]),
    nox.param("mysql", id="mysql", tags=["mysql"]),
]
SELECTED = {
    "sqlite": "not postgresql and not mysql",
    "postgresql": "postgresql and not mysql",
    "mysql": "mysql",
}


@nox.session(python="3.11")
@nox.parametrize("database", DATABASES)
def tests(session: nox.Session, database: str) -> None:
    """The test suite, by the server each test needs: real databases, real renders."""
    _install_project(session)
    session.run("pytest", *PARALLEL, "-m", SELECTED[database], *session.posargs, env=_test_env())


#: The oldest stack the runtime supports (Rattail pins SQLAlchemy 1.4), on the tests that drive
#: hosts through the core: env.py styles, safety, discovery, MediaGoblin- and Rattail-like hosts.
COMPAT_PINS = [
    "sqlalchemy>=1.4.46,<2",
    "alembic==1.12.*",
    "psycopg2-binary",
    # Flask-SQLAlchemy 2.x (SQLAlchemy 1.4, Flask before 2.3): its engines, in test_redirect
    "flask-sqlalchemy<3",
    "flask<2.3",
    "werkzeug<2.3",
]
COMPAT_TESTS = [
    "tests/test_safety.py",
    "tests/test_mediagoblin_style.py",
    "tests/test_discovery.py",
    "tests/test_installed_host.py",
    "tests/test_alembic_versions.py",
    "tests/test_alembic_private.py",
    "tests/test_revision_records.py",
    "tests/test_redirect.py",
]


@nox.session(python="3.11")
def compat(session: nox.Session) -> None:
    """The core on SQLAlchemy 1.4 and Alembic 1.12, on SQLite and PostgreSQL."""
    _install_project(session)
    session.install(*COMPAT_PINS)
    session.run(
        "pytest", *PARALLEL, "-m", "not mysql", *COMPAT_TESTS, *session.posargs, env=_test_env()
    )


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """The main job: render a plugin for the example host, wire, migrate, change, autogenerate."""
    # [new]: the demo renders the plugin with copier, an authoring tool the runtime leaves out.
    session.install(".[new]")
    session.run("scaffold", "demo", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff and mypy, clean; the layers of docs/architecture.md kept (import-linter)."""
    _install_project(session)
    session.install(*LINT_DEPENDENCIES)
    session.run("ruff", "check", ".")
    session.run("mypy")
    session.run("lint-imports")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """The docs site in site/: mkdocs build --strict (a warning fails it), docs/commands.md
    completed from the CLI's own parser by docs/hooks/cli_reference.py; the pages' length measured
    (tests/docwords.py: at most 22,000 words, no sentence over 45)."""
    session.install(".", *nox.project.dependency_groups(PYPROJECT, "docs"))
    # NO_MKDOCS_2_WARNING: Material's banner about its end of life, not a warning of the build.
    env = {"NO_MKDOCS_2_WARNING": "1"}
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", *session.posargs, env=env)
    # What the pages ask a reader to read: words and sentence lengths, failing above the limits.
    session.run("python", "tests/docwords.py")


@nox.session(python="3.11")
def build(session: nox.Session) -> None:
    """The release files in dist/: the sdist, the wheel built from it, twine's check of both."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "release"))
    # A release is one version and one tag: a HEAD tagged vX.Y.Z must hold version X.Y.Z.
    init = Path("src/plugin_scaffold/__init__.py").read_text()
    version = re.search(r'^__version__ = "([^"]+)"', init, re.MULTILINE)
    if version is None:
        session.error('src/plugin_scaffold/__init__.py has no __version__ = "X.Y.Z" line')
    tags = session.run(
        *["git", "tag", "--list", "--points-at", "HEAD", "v*"],
        silent=True,
        external=True,
        success_codes=[0, 128],  # 128: not a git checkout (an unpacked sdist)
    )
    tagged = str(tags or "").split()
    if tagged and f"v{version[1]}" not in tagged:
        session.error(f"HEAD is tagged {', '.join(tagged)} but the version is {version[1]}")
    shutil.rmtree("dist", ignore_errors=True)
    # No --sdist/--wheel: build makes the sdist, then the wheel from the unpacked sdist.
    session.run("python", "-m", "build", "--outdir", "dist")
    session.run("twine", "check", "--strict", *sorted(glob.glob("dist/*")))


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmarks against raw Alembic, measured side by side in one run."""
    _install_project(session)
    session.run("python", "bench/run.py", *session.posargs)
