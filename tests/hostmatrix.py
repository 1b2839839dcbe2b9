"""Hosts as their ecosystems generate them, built at test time with each ecosystem's own tool.

``alembic init -t generic | pyproject | async | multidb`` and ``flask db init`` (Flask-Migrate
with Flask-SQLAlchemy 3 and an app factory). Each host is a small installable application,
``acme``, with two tables; its first revision is written by its own tool's autogenerate
(``alembic revision --autogenerate``, ``flask db migrate``), as its developers would.

:func:`make_sqlmodel_host` makes a SQLModel application as full-stack-fastapi-template's
``backend/`` folder has it: ``app/models.py`` with SQLModel tables, ``alembic init -t generic
app/alembic``, env.py comparing ``SQLModel.metadata``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from copier import run_copy

from conftest import ROOT

KINDS = ("generic", "pyproject", "async", "flask")
#: The id of each kind's first revision, as the docs pages show it (their generators' ids are
#: random; these are given with --rev-id).
FIRST_REVISION = {
    "generic": "7a1c5e0b9d21",
    "pyproject": "a000f21ba14c",
    "async": "d40ba4325a5e",
    "flask": "0f81ca61b225",
    "sqlmodel": "e2412789c190",
}

#: The same hosts as real applications edit them: env.py takes the database from the
#: application's settings or environment (ACME_DATABASE_URL, else a file of the application's
#: own, acme-production.db), and alembic.ini keeps `alembic init`'s placeholder URL.
#: - twelve-factor: `alembic init -t generic`, env.py replaced by a 12-factor one
#:   (create_engine(os.environ[...] or default) online, url= the same offline);
#: - settings: `alembic init -t generic` whose run_migrations_online puts settings.database_uri
#:   into the config section before engine_from_config;
#: - flask2: `flask db init`, env.py replaced by Flask-Migrate 2.x's template
#:   (set_main_option of SQLALCHEMY_DATABASE_URI, then engine_from_config);
#: - async-env: `alembic init -t async` with set_main_option(os.environ...) at the top.
SHAPES = ("twelve-factor", "settings", "flask2", "async-env")
#: The variable the application reads its database from.
APP_URL_VARIABLE = "ACME_DATABASE_URL"
#: The application's own database when the variable is not set: never to be created.
APP_DATABASE = "acme-production.db"

SETTINGS = """
import os
from pathlib import Path

#: The application's own database: ACME_DATABASE_URL, else a file beside the package.
DEFAULT = "sqlite:///" + str(Path(__file__).resolve().parent.parent / "acme-production.db")


class Settings:
    @property
    def database_uri(self) -> str:
        return os.environ.get("ACME_DATABASE_URL") or DEFAULT


settings = Settings()
"""

TWELVE_FACTOR_ENV = """
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from acme.models import Base

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = Base.metadata
DATABASE_URL = os.environ.get("ACME_DATABASE_URL") or "sqlite:///" + os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "acme-production.db"
)


def run_migrations_offline() -> None:
    context.configure(
        url=DATABASE_URL,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = create_engine(DATABASE_URL, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"""

#: Flask-Migrate 2.x's env.py template, as `flask db init` wrote it then.
FLASK_MIGRATE_2_ENV = """from __future__ import with_statement

import logging
from logging.config import fileConfig

from sqlalchemy import engine_from_config
from sqlalchemy import pool

from alembic import context

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name)
logger = logging.getLogger('alembic.env')

# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
from flask import current_app
config.set_main_option('sqlalchemy.url',
                       current_app.config.get('SQLALCHEMY_DATABASE_URI'))
target_metadata = current_app.extensions['migrate'].db.metadata

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def run_migrations_offline():
    \"\"\"Run migrations in 'offline' mode.\"\"\"
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    \"\"\"Run migrations in 'online' mode.\"\"\"

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    connectable = engine_from_config(config.get_section(config.config_ini_section),
                                     prefix='sqlalchemy.',
                                     poolclass=pool.NullPool)

    with connectable.connect() as connection:
        context.configure(connection=connection,
                          target_metadata=target_metadata,
                          process_revision_directives=process_revision_directives,
                          **current_app.extensions['migrate'].configure_args)

        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"""

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base(metadata=sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}))


class Account(Base):
    __tablename__ = "accounts"
    id = sa.Column(sa.Integer, primary_key=True)
    email = sa.Column(sa.String(200), nullable=False)


class Store(Base):
    __tablename__ = "store"
    uuid = sa.Column(sa.String(32), primary_key=True)
    name = sa.Column(sa.String(100), nullable=False)
"""

FLASK_APP = """
import os

import sqlalchemy as sa
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Model(DeclarativeBase):
    metadata = sa.MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


db = SQLAlchemy(model_class=Model)
migrate = Migrate()


def create_app():
    app = Flask(__name__)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
        "ACME_DATABASE_URL", "sqlite:///" + os.path.join(root, "acme-production.db")
    )
    db.init_app(app)
    migrate.init_app(app, db)
    from . import models  # noqa: F401
    return app
"""

FLASK_MODELS = """
import sqlalchemy as sa

from .app import db

Base = db.Model


class Account(db.Model):
    __tablename__ = "accounts"
    id = sa.Column(sa.Integer, primary_key=True)
    email = sa.Column(sa.String(200), nullable=False)


class Store(db.Model):
    __tablename__ = "store"
    uuid = sa.Column(sa.String(32), primary_key=True)
    name = sa.Column(sa.String(100), nullable=False)
"""

SQLMODEL_MODELS = """
import uuid

from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=255)
    full_name: str | None = Field(default=None, max_length=255)
    hashed_password: str


class Item(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    title: str = Field(max_length=255)
    owner_id: uuid.UUID = Field(foreign_key="user.id", nullable=False, ondelete="CASCADE")
"""

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "acme"
version = "0.1"
dependencies = {dependencies}

[tool.setuptools]
packages = ["{package}"]
"""


@dataclass
class GeneratedHost:
    """A host made by its ecosystem's generator, and how a user points scaffold at it."""

    kind: str
    root: Path
    #: The ``host_alembic`` answer: what the user names as the host's Alembic environment.
    alembic: str
    base: str
    #: ``host_app`` (Flask-Migrate hosts).
    app: str = ""
    env: dict[str, str] = field(default_factory=dict)
    #: The application's package (``app`` for a SQLModel host) and its script directory.
    package: str = "acme"
    script: str = "migrations"

    @property
    def models(self) -> Path:
        return self.root / self.package / "models.py"

    @property
    def versions(self) -> Path:
        return self.root / self.script / "versions"

    @property
    def config_files(self) -> list[Path]:
        """The files of the host that `scaffold wire` may edit, those it has."""
        names = ("alembic.ini", "pyproject.toml", "migrations/alembic.ini", "migrations/env.py")
        return [self.root / name for name in names if (self.root / name).is_file()]

    def tool(
        self, *args: str, url: str | None = None, path: tuple[Path, ...] = ()
    ) -> subprocess.CompletedProcess[str]:
        """The host's own migration command (alembic, or flask db), run in the host's folder;
        ``path``: more folders importable (a plugin installed beside the host)."""
        pythonpath = os.pathsep.join(str(p) for p in (self.root, *path))
        env = {**os.environ, **self.env, "PYTHONPATH": pythonpath}
        if url is not None:
            env["ACME_DATABASE_URL"] = url
        if self.kind == "flask":
            command = [sys.executable, "-m", "flask", "--app", self.app, "db", *args]
        else:
            command = [sys.executable, "-m", "alembic", *args]
        return subprocess.run(
            command, cwd=self.root, env=env, capture_output=True, text=True, timeout=300
        )


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        list(args), cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def make_generated_host(root: Path, kind: str) -> GeneratedHost:
    """Create the ``acme`` host of ``kind`` in ``root`` with its own generator."""
    root.mkdir(parents=True)
    package = root / "acme"
    package.mkdir()
    (package / "__init__.py").write_text("")
    if kind == "flask":
        return _make_flask_host(root)
    (package / "models.py").write_text(MODELS)
    dependencies = (
        '["sqlalchemy[asyncio]", "alembic", "aiosqlite"]'
        if kind == "async"
        else '["sqlalchemy", "alembic"]'
    )
    # written first: `alembic init -t pyproject` appends its [tool.alembic] table to it
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(name="acme", package="acme", dependencies=dependencies)
    )
    _run(sys.executable, "-m", "alembic", "init", "-t", kind, "migrations", cwd=root)
    driver = "sqlite+aiosqlite" if kind == "async" else "sqlite"
    ini = root / "alembic.ini"
    text = ini.read_text().replace(
        "sqlalchemy.url = driver://user:pass@localhost/dbname",
        f"sqlalchemy.url = {driver}:///%(here)s/acme.db",
    )
    ini.write_text(text)
    env_py = root / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "target_metadata = None",
            "from acme.models import Base\ntarget_metadata = Base.metadata",
        )
    )
    host = GeneratedHost(
        kind=kind,
        root=root,
        alembic=str(root / ("pyproject.toml" if kind == "pyproject" else "alembic.ini")),
        base="acme.models:Base",
    )
    _first_revision(host)
    return host


def _make_flask_host(root: Path) -> GeneratedHost:
    (root / "acme" / "app.py").write_text(FLASK_APP)
    (root / "acme" / "models.py").write_text(FLASK_MODELS)
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(
            name="acme",
            package="acme",
            dependencies='["flask", "flask-sqlalchemy>=3", "flask-migrate"]',
        )
    )
    host = GeneratedHost(
        kind="flask",
        root=root,
        alembic=str(root / "migrations"),
        base="acme.models:Base",
        app="acme.app:create_app",
    )
    result = host.tool("init")
    assert result.returncode == 0, result.stderr
    _first_revision(host)
    return host


#: full-stack-fastapi-template's app/core/config.py, in short: pydantic-settings, the database
#: from the environment (ACME_DATABASE_URL), else the application's own file.
FASTAPI_SETTINGS = """
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACME_", extra="ignore")

    DATABASE_URL: str = "sqlite:///" + str(
        Path(__file__).resolve().parents[2] / "acme-production.db"
    )

    @property
    def SQLALCHEMY_DATABASE_URI(self) -> str:
        return self.DATABASE_URL


settings = Settings()
"""


def make_sqlmodel_host(
    root: Path, *, packaged: bool = True, settings: bool = False
) -> GeneratedHost:
    """A SQLModel application in ``root`` (full-stack-fastapi-template's ``backend/``).

    ``app/models.py`` holds SQLModel tables (``user``, ``item``: uuid keys, AutoString
    columns); ``alembic init -t generic app/alembic`` made its environment, whose env.py compares
    ``SQLModel.metadata``. ``packaged``: a ``pyproject.toml`` makes ``app`` installable, and
    script.py.mako imports ``sqlmodel.sql.sqltypes`` as the template's does. Else a bare app
    folder: no packaging (a ``requirements.txt``), no ``prepend_sys_path`` in its alembic.ini (as
    the template's has none), Alembic's own script.py.mako, and the import of
    ``sqlmodel.sql.sqltypes`` added by hand to the first revision, where autogenerate left it out.
    ``settings``: then edited as the template's env.py is, its database from
    ``app.core.config.settings`` (pydantic-settings: ACME_DATABASE_URL, else
    acme-production.db) put into the config section, alembic.ini back to the placeholder.
    """
    root.mkdir(parents=True)
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(SQLMODEL_MODELS)
    _run(sys.executable, "-m", "alembic", "init", "-t", "generic", "app/alembic", cwd=root)
    ini = root / "alembic.ini"
    text = ini.read_text().replace(
        "sqlalchemy.url = driver://user:pass@localhost/dbname",
        "sqlalchemy.url = sqlite:///%(here)s/acme.db",
    )
    script = root / "app" / "alembic"
    env_py = script / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "target_metadata = None",
            "from app.models import SQLModel\ntarget_metadata = SQLModel.metadata",
        )
    )
    if packaged:
        dependencies = (
            '["sqlmodel", "alembic", "pydantic-settings"]'
            if settings
            else ('["sqlmodel", "alembic"]')
        )
        (root / "pyproject.toml").write_text(
            PYPROJECT.format(name="app", package="app", dependencies=dependencies)
        )
        mako = script / "script.py.mako"
        mako.write_text(
            mako.read_text().replace(
                "import sqlalchemy as sa\n",
                "import sqlalchemy as sa\nimport sqlmodel.sql.sqltypes\n",
            )
        )
    else:
        (root / "requirements.txt").write_text("sqlmodel\nalembic\n")
        text = "".join(
            line
            for line in text.splitlines(keepends=True)
            if not line.startswith("prepend_sys_path")
        )
    ini.write_text(text)
    host = GeneratedHost(
        kind="sqlmodel",
        root=root,
        alembic=str(ini),
        base="app.models:SQLModel",
        package="app",
        script="app/alembic",
    )
    _first_revision(host, "user", "users and items")
    if not packaged:
        [first] = host.versions.glob("*.py")
        source = first.read_text()
        assert "sqlmodel.sql.sqltypes.AutoString" in source, source
        first.write_text(
            source.replace(
                "import sqlalchemy as sa\n",
                "import sqlalchemy as sa\nimport sqlmodel.sql.sqltypes\n",
                1,
            )
        )
    if settings:
        _settings_env_py(root, text, script / "env.py")
    return host


def _settings_env_py(root: Path, ini_text: str, env_py: Path) -> None:
    """full-stack-fastapi-template's env.py: settings.SQLALCHEMY_DATABASE_URI, not the ini."""
    (root / "app" / "core").mkdir()
    (root / "app" / "core" / "__init__.py").write_text("")
    (root / "app" / "core" / "config.py").write_text(FASTAPI_SETTINGS)
    (root / "alembic.ini").write_text(
        ini_text.replace(
            "sqlalchemy.url = sqlite:///%(here)s/acme.db",
            "sqlalchemy.url = driver://user:pass@localhost/dbname",
        )
    )
    text = env_py.read_text()
    text = _edit(
        text,
        "target_metadata = SQLModel.metadata",
        "target_metadata = SQLModel.metadata\n\nfrom app.core.config import settings  # noqa\n\n\n"
        "def get_url():\n    return str(settings.SQLALCHEMY_DATABASE_URI)",
    )
    text = _edit(text, '    url = config.get_main_option("sqlalchemy.url")', "    url = get_url()")
    text = _edit(
        text,
        "    connectable = engine_from_config(\n"
        "        config.get_section(config.config_ini_section, {}),",
        "    configuration = config.get_section(config.config_ini_section)\n"
        '    configuration["sqlalchemy.url"] = get_url()\n'
        "    connectable = engine_from_config(\n"
        "        configuration,",
    )
    env_py.write_text(text)


def _first_revision(
    host: GeneratedHost, table: str = "accounts", message: str = "accounts and stores"
) -> None:
    """The host's first revision, as its developers write it: their tool's autogenerate."""
    scratch = host.root / "scratch.db"
    url = f"sqlite:///{scratch}"
    rev_id = ("--rev-id", FIRST_REVISION[host.kind])
    if host.kind == "flask":
        result = host.tool("migrate", "-m", message, *rev_id, url=url)
    else:
        ini = host.root / "alembic.ini"
        original = ini.read_text()
        driver = "sqlite+aiosqlite" if host.kind == "async" else "sqlite"
        ini.write_text(original.replace(f"{driver}:///%(here)s/acme.db", f"{driver}:///{scratch}"))
        try:
            result = host.tool("revision", "--autogenerate", "-m", message, *rev_id)
        finally:
            ini.write_text(original)
    scratch.unlink(missing_ok=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"'{table}'" in result.stdout + result.stderr, result.stdout + result.stderr


def make_settings_host(root: Path, shape: str) -> GeneratedHost:
    """Create the ``acme`` host of ``shape`` (see :data:`SHAPES`): generated by its tool, then
    edited as real applications edit it, its database taken from ACME_DATABASE_URL."""
    kind = {"flask2": "flask", "async-env": "async"}.get(shape, "generic")
    root.mkdir(parents=True)
    package = root / "acme"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS)
    if kind == "flask":
        (package / "app.py").write_text(FLASK_APP)
        (package / "models.py").write_text(FLASK_MODELS)
        # Flask-SQLAlchemy makes the app's engine when the app is made (it never connects
        # then): an app on PostgreSQL in production lists its driver.
        dependencies = '["flask", "flask-sqlalchemy>=3", "flask-migrate", "psycopg[binary]"]'
    else:
        (package / "models.py").write_text(MODELS)
        dependencies = (
            '["sqlalchemy[asyncio]", "alembic", "aiosqlite"]'
            if kind == "async"
            else '["sqlalchemy", "alembic"]'
        )
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(name="acme", package="acme", dependencies=dependencies)
    )
    host = GeneratedHost(
        kind=kind,
        root=root,
        alembic=str(root / ("migrations" if kind == "flask" else "alembic.ini")),
        base="acme.models:Base",
        app="acme.app:create_app" if kind == "flask" else "",
    )
    if kind == "flask":
        result = host.tool("init")
        assert result.returncode == 0, result.stderr
    else:
        _run(sys.executable, "-m", "alembic", "init", "-t", kind, "migrations", cwd=root)
        assert "driver://user:pass@localhost/dbname" in (root / "alembic.ini").read_text()
    env_py = root / "migrations" / "env.py"
    text = env_py.read_text()
    if shape == "twelve-factor":
        text = TWELVE_FACTOR_ENV
    elif shape == "flask2":
        text = FLASK_MIGRATE_2_ENV
    elif shape == "settings":
        text = _edit(
            text,
            "target_metadata = None",
            (
                "from acme.models import Base\n"
                "from acme.settings import settings\n\n"
                "target_metadata = Base.metadata"
            ),
        )
        text = _edit(
            text,
            '    url = config.get_main_option("sqlalchemy.url")',
            ("    url = settings.database_uri"),
        )
        text = _edit(
            text,
            (
                "    connectable = engine_from_config(\n"
                "        config.get_section(config.config_ini_section, {}),"
            ),
            (
                "    configuration = config.get_section(config.config_ini_section, {})\n"
                '    configuration["sqlalchemy.url"] = settings.database_uri\n'
                "    connectable = engine_from_config(\n"
                "        configuration,"
            ),
        )
    else:  # async-env
        text = _edit(
            text,
            "target_metadata = None",
            ("from acme.models import Base\n\ntarget_metadata = Base.metadata"),
        )
        text = _edit(
            text,
            "config = context.config\n",
            (
                "config = context.config\n"
                "config.set_main_option(\n"
                '    "sqlalchemy.url",\n'
                '    os.environ.get("ACME_DATABASE_URL")\n'
                '    or "sqlite+aiosqlite:///" + os.path.join(\n'
                "        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "
                '"acme-production.db"\n'
                "    ),\n"
                ")\n"
            ),
        )
        text = "import os\n" + text
    env_py.write_text(text)
    # The host's first revision, by its own tool, on a scratch database named the app's way.
    scratch = root / "scratch.db"
    driver = "sqlite+aiosqlite" if kind == "async" else "sqlite"
    if kind == "flask":
        result = host.tool("migrate", "-m", "accounts and stores", url=f"sqlite:///{scratch}")
    else:
        result = host.tool(
            "revision",
            "--autogenerate",
            "-m",
            "accounts and stores",
            url=f"{driver}:///{scratch}",
        )
    scratch.unlink(missing_ok=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "accounts" in result.stdout + result.stderr, result.stdout + result.stderr
    assert not (root / APP_DATABASE).exists()
    return host


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} not in the generated env.py"
    return text.replace(old, new)


PLUGIN = "poser"


def render(host: GeneratedHost, dest: Path, **given: str) -> Path:
    """The plugin, rendered with copier from this checkout with the answers a user gives
    (``given`` answers more, or others)."""
    first = next(host.versions.glob("*.py")).name.split("_")[0]
    answers = {
        "plugin_name": PLUGIN,
        "host_base": host.base,
        "host_alembic": host.alembic,
        "host_branch": first,
        "extends": "store.uuid",
        "extends_type": "sa.String(length=32)",
        "host_requirement": str(host.root),
        "dev_url": "sqlite:///dev.db",
    }
    if host.app:
        answers["host_app"] = host.app
    answers.update(given)
    run_copy(str(ROOT), dest, data=answers, defaults=True, vcs_ref="HEAD", unsafe=False, quiet=True)
    return dest


def env_for(host: GeneratedHost, project: Path) -> dict[str, str]:
    """The host importable as if installed (PYTHONPATH), as a user's virtualenv would have it."""
    return {"PYTHONPATH": os.pathsep.join([str(host.root), str(project / "src")])}


__all__ = [
    "APP_DATABASE",
    "APP_URL_VARIABLE",
    "FIRST_REVISION",
    "KINDS",
    "PLUGIN",
    "SHAPES",
    "GeneratedHost",
    "env_for",
    "make_generated_host",
    "make_settings_host",
    "make_sqlmodel_host",
    "render",
]
