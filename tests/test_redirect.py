"""Every engine env.py makes connects to the database scaffold names (redirect.py), and what
cannot be pointed there is refused before anything is opened.

Each host is tests/hosts.py's, its env.py's run_migrations_online replaced by the way one kind of
application gets its connection; the application's own database is a port that counts every
connection made to it (conftest.Tripwire), or an SQLite file that must never be created.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import Tripwire, require_server, run_scaffold, tables, versions
from hosts import make_host, revision_id
from plugin_scaffold.databases.servers import temporary_database
from plugin_scaffold.databases.urls import DatabaseURL


def _host(root: Path, online: str, *, module: str = "", url: str = "placeholder") -> Path:
    """tests/hosts.py's host with ``online`` as env.py's run_migrations_online, ``module`` as
    acme/app.py (the application's module), and ``url`` in alembic.ini."""
    ini = make_host(
        root, url="driver://user:pass@localhost/dbname" if url == "placeholder" else url
    )
    env = root / "migrations" / "env.py"
    source = env.read_text()
    start = source.index("def run_migrations_online")
    end = source.index("if context.is_offline_mode()")
    env.write_text(source[:start] + textwrap.dedent(online).lstrip() + "\n\n" + source[end:])
    if module:
        (root / "acme" / "app.py").write_text(textwrap.dedent(module))
    return ini


def _scaffold(ini: Path, *args: str, check: int = 0, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """scaffold in the host's folder: its alembic.ini, unless -c names another."""
    return run_scaffold(
        *args,
        cwd=ini.parent,
        env={"PYTHONPATH": str(ini.parent), **(env or {})},
        check=check,
    )


#: The application's module makes its engine when it is imported, as most apps do, and builds
#: the Alembic Config in code (scaffold -c acme.app:alembic_config): it is imported, and its
#: engine made, before env.py runs.
APP_ENGINE = """
    import os

    from alembic.config import Config
    from sqlalchemy import create_engine

    engine = create_engine(os.environ["ACME_DATABASE_URL"], pool_pre_ping=True)


    def alembic_config():
        return Config(os.path.join(os.path.dirname(os.path.dirname(__file__)), "alembic.ini"))
"""
FACTORY = "acme.app:alembic_config"
#: The PostgreSQL driver of the installed SQLAlchemy (1.4 has no psycopg 3 dialect): the app's
#: engine is made when its module is imported, so its driver must load.
APP_DRIVER = "postgresql+psycopg" if sa.__version__ >= "2" else "postgresql+psycopg2"


def test_an_engine_made_at_import_time_connects_to_the_database_named(
    tmp_path: Path, sqlite_url: str, tripwire: Tripwire
) -> None:
    online = """
        def run_migrations_online() -> None:
            from acme.app import engine

            with engine.begin() as connection:
                context.configure(connection=connection, target_metadata=target_metadata)
                with context.begin_transaction():
                    context.run_migrations()
    """
    ini = _host(tmp_path / "host", online, module=APP_ENGINE)
    app = {"ACME_DATABASE_URL": tripwire.url(APP_DRIVER)}
    _scaffold(ini, "-c", FACTORY, "--url", sqlite_url, "upgrade", env=app)
    assert versions(sqlite_url) == {revision_id(2)}
    assert tripwire.hits == 0


def test_a_raw_dbapi_connection_of_such_an_engine_is_refused_before_it_is_opened(
    tmp_path: Path, sqlite_url: str, tripwire: Tripwire
) -> None:
    online = """
        def run_migrations_online() -> None:
            from acme.app import engine

            raw = engine.raw_connection()
            raise SystemExit(f"env.py got {raw}")
    """
    ini = _host(tmp_path / "host", online, module=APP_ENGINE)
    app = {"ACME_DATABASE_URL": tripwire.url(APP_DRIVER)}
    refused = _scaffold(ini, "-c", FACTORY, "--url", sqlite_url, "upgrade", check=2, env=app)
    env_py = tmp_path / "host" / "migrations" / "env.py"
    line = env_py.read_text().splitlines().index("    raw = engine.raw_connection()") + 1
    assert refused.stderr == (
        f"scaffold: error: host env.py ({env_py}:{line}) asks an engine on "
        f"{APP_DRIVER}://app:***@127.0.0.1:{tripwire.port}/production, made before "
        "scaffold ran, for a raw DBAPI connection: scaffold cannot point it at "
        f"{sqlite_url}; let env.py connect through engine.connect(), "
        "config.attributes['connection'] or sqlalchemy.url "
        "(docs/hosts.md#hosts-whose-envpy-picks-its-own-database)\n"
    )
    assert tripwire.hits == 0
    assert tables(sqlite_url) == set()


@pytest.mark.postgresql
def test_env_pys_creator_and_sqlite_arguments_do_not_follow_it_to_another_database(
    tmp_path: Path, tripwire: Tripwire
) -> None:
    """An SQLite env.py's connect_args and creator: neither reaches the PostgreSQL named."""
    require_server("postgresql")
    own = tmp_path / "own.db"
    online = f"""
        def run_migrations_online() -> None:
            import sqlite3

            from sqlalchemy import create_engine

            engine = create_engine(
                "sqlite:///{own}",
                connect_args={{"check_same_thread": False}},
                creator=lambda: sqlite3.connect("{own}"),
            )
            with engine.connect() as connection:
                context.configure(connection=connection, target_metadata=target_metadata)
                with context.begin_transaction():
                    context.run_migrations()
    """
    ini = _host(tmp_path / "host", online)
    with temporary_database("postgresql") as pg:
        _scaffold(ini, "--url", pg, "upgrade")
        assert versions(pg) == {revision_id(2)}
    assert not own.exists()


#: env.py's engine made from an environment variable, as settings-driven apps do.
ENV_URL_ONLINE = """
    def run_migrations_online() -> None:
        import os

        from sqlalchemy import create_engine

        engine = create_engine(os.environ["ACME_DATABASE_URL"])
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
"""


def test_the_hosts_own_url_wins_over_env_pys_with_a_warning(
    tmp_path: Path, tripwire: Tripwire
) -> None:
    """No --url: the host config's sqlalchemy.url is the database named; env.py's computed
    one is never connected to, and one warning line says so."""
    mine = tmp_path / "mine.db"
    ini = _host(tmp_path / "host", ENV_URL_ONLINE, url=f"sqlite:///{mine}")
    done = _scaffold(ini, "upgrade", env={"ACME_DATABASE_URL": tripwire.url()})
    assert [line for line in done.stderr.splitlines() if line.startswith("scaffold:")] == [
        f"scaffold: warning: host env.py ({tmp_path / 'host' / 'migrations' / 'env.py'}) asked "
        f"for postgresql+psycopg://app:***@127.0.0.1:{tripwire.port}/production; scaffold "
        f"migrates sqlite:///{mine} (sqlalchemy.url of the host's config): pass --url to choose "
        "another database",
        "scaffold: warning: host only: no plugins found (a plugin project, an installed entry "
        "point, or a wired plugin)",
    ]
    assert versions(f"sqlite:///{mine}") == {revision_id(2)}
    assert tripwire.hits == 0


def test_a_checks_scratch_database_is_migrated_without_a_warning(
    tmp_path: Path, tripwire: Tripwire, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host config's sqlalchemy.url is what the workspace names, but a check of the suite
    migrates its own scratch database: env.py's computed URL goes there, with no warning (the
    warning is for the command line, where the user chose no database)."""
    from plugin_scaffold.commands import migrate
    from plugin_scaffold.commands.workspace import Workspace
    from plugin_scaffold.testing import MigrationChecks

    mine = tmp_path / "mine.db"
    ini = _host(tmp_path / "host", ENV_URL_ONLINE, url=f"sqlite:///{mine}")
    monkeypatch.setenv("ACME_DATABASE_URL", tripwire.url())
    warned: list[str] = []
    workspace = Workspace.open(config=str(ini), url=None, cwd=tmp_path)
    workspace.warn = warned.append
    assert workspace.url_named_by is None  # the host's own config named it
    with temporary_database("sqlite") as scratch:
        migrate.upgrade(MigrationChecks(workspace).bound(scratch))
        assert versions(scratch) == {revision_id(2)}
    assert warned == []
    assert not mine.exists()
    assert tripwire.hits == 0


def test_alembic_inits_placeholder_url_is_no_url(tmp_path: Path) -> None:
    """alembic init's own env.py and alembic.ini, nothing named: one line, nothing created."""
    ini = make_host(tmp_path / "host", url="driver://user:pass@localhost/dbname")
    env_py = tmp_path / "host" / "migrations" / "env.py"
    before = sorted(p.name for p in (tmp_path / "host").iterdir())
    for args in (("upgrade",), ("current",), ("upgrade", "--sql")):
        refused = _scaffold(ini, *args, check=2)
        assert refused.stderr.startswith(
            f"scaffold: error: no database to migrate: host env.py ({env_py}:"
        ), refused.stderr
        assert "placeholder URL driver://user:***@localhost/dbname; pass --url" in refused.stderr
        assert refused.stderr.count("\n") == 1
    given = _scaffold(ini, "--url", "driver://user:pass@localhost/dbname", "upgrade", check=2)
    assert given.stderr == (
        "scaffold: error: --url driver://user:***@localhost/dbname is alembic init's "
        "placeholder, not a database URL\n"
    )
    assert sorted(p.name for p in (tmp_path / "host").iterdir()) == before
    # a URL named: the placeholder does not matter
    mine = f"sqlite:///{tmp_path / 'mine.db'}"
    _scaffold(ini, "--url", mine, "upgrade")
    assert versions(mine) == {revision_id(2)}


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("postgresql://u@127.0.0.1/db", "postgresql+psycopg://u@127.0.0.1:5432/db", True),
        ("postgresql+asyncpg://u@h/db", "postgresql+psycopg://u@h:5432/db", True),
        ("postgresql://u@h:5433/db", "postgresql://u@h/db", False),
        ("mysql+pymysql://r@h/t", "mariadb+aiomysql://r@h:3306/t", True),
        ("mysql+pymysql://r@h/t", "mysql+pymysql://r@h/other", False),
        ("sqlite:///a.db", "sqlite+aiosqlite:///./a.db", True),
        ("sqlite:///a.db", "postgresql://u@h/a.db", False),
    ],
)
def test_same_database_is_compared_as_a_database(a: str, b: str, same: bool) -> None:
    first, second = DatabaseURL.parse(a), DatabaseURL.parse(b)
    assert first.same_database(second) is same
    assert second.same_database(first) is same


#: A Flask app on Flask-SQLAlchemy 2.x, as it was written before 3.0 (SQLAlchemy 1.4).
FSA2_APP = """
import os

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
migrate = Migrate()


class Account(db.Model):
    __tablename__ = "accounts"
    id = db.Column(db.Integer, primary_key=True)


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["ACME_DATABASE_URL"]
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    db.init_app(app)
    migrate.init_app(app, db)
    return app
"""

FSA2_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "f1a5c2000001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("accounts")
"""


def test_flask_sqlalchemy_2_engines_connect_to_the_database_named(
    tmp_path: Path, tripwire: Tripwire
) -> None:
    """`flask db init` on Flask-SQLAlchemy 2.x: env.py's get_engine() is the app's engine, made
    on the app's own URL; it connects to --url. (Runs in `nox -s compat`, SQLAlchemy 1.4.)"""
    flask_sqlalchemy = pytest.importorskip("flask_sqlalchemy")
    from importlib.metadata import version

    if not version("flask-sqlalchemy").startswith("2."):
        pytest.skip("Flask-SQLAlchemy 2.x is tested in nox -s compat (SQLAlchemy 1.4)")
    assert flask_sqlalchemy is not None
    host = tmp_path / "host"
    (host / "acme").mkdir(parents=True)
    (host / "acme" / "__init__.py").write_text("")
    (host / "acme" / "app.py").write_text(FSA2_APP)
    shell = {
        "PYTHONPATH": str(host),
        "FLASK_APP": "acme.app:create_app",
        "ACME_DATABASE_URL": tripwire.url("postgresql"),
    }
    import os
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "flask", "db", "init"],
        cwd=host,
        env={**os.environ, **shell},
        check=True,
        capture_output=True,
    )
    (host / "migrations" / "versions" / "f1a5c2000001_accounts.py").write_text(FSA2_REVISION)
    mine = f"sqlite:///{tmp_path / 'mine.db'}"
    run_scaffold("-c", "migrations", "--url", mine, "upgrade", cwd=host, env=shell)
    assert versions(mine) == {"f1a5c2000001"}
    assert "accounts" in tables(mine)
    assert tripwire.hits == 0


#: An async env.py that wraps a synchronous factory's engine (rafsaf's minimal FastAPI
#: template): the URL from the environment, an asyncpg driver.
ASYNC_WRAPPED = """
    def run_migrations_online() -> None:
        import asyncio
        import os

        from sqlalchemy import engine_from_config, pool
        from sqlalchemy.ext.asyncio import AsyncEngine

        def do_run_migrations(connection):
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()

        async def run() -> None:
            configuration = config.get_section(config.config_ini_section, {})
            configuration["sqlalchemy.url"] = os.environ["ACME_DATABASE_URL"]
            connectable = AsyncEngine(
                engine_from_config(configuration, prefix="sqlalchemy.", poolclass=pool.NullPool)
            )
            async with connectable.connect() as connection:
                await connection.run_sync(do_run_migrations)
            await connectable.dispose()

        asyncio.run(run())
"""


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_async_engine_wrapping_a_sync_factorys_gets_an_async_driver(
    tmp_path: Path, database: str, tripwire: Tripwire
) -> None:
    """AsyncEngine(engine_from_config(...)) on the app's asyncpg URL: the engine is made on
    the async side of the database named (psycopg's, aiosqlite)."""
    require_server(database)
    ini = _host(tmp_path / "host", ASYNC_WRAPPED)
    app = {"ACME_DATABASE_URL": tripwire.url("postgresql+asyncpg")}
    with temporary_database(database) as url:
        _scaffold(ini, "--url", url, "upgrade", env=app)
        assert versions(url) == {revision_id(2)}
    assert tripwire.hits == 0
