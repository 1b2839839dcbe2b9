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

KINDS = ("generic", "pyproject", "async", "flask")

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
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
        "ACME_DATABASE_URL", "sqlite:///" + os.path.join(os.path.dirname(__file__), "acme.db")
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


def make_sqlmodel_host(root: Path, *, packaged: bool = True) -> GeneratedHost:
    """A SQLModel application in ``root`` (full-stack-fastapi-template's ``backend/``).

    ``app/models.py`` holds SQLModel tables (``user``, ``item``: uuid keys, AutoString
    columns); ``alembic init -t generic app/alembic`` made its environment, whose env.py compares
    ``SQLModel.metadata``. ``packaged``: a ``pyproject.toml`` makes ``app`` installable, and
    script.py.mako imports ``sqlmodel.sql.sqltypes`` as the template's does. Else a bare app
    folder: no packaging (a ``requirements.txt``), no ``prepend_sys_path`` in its alembic.ini (as
    the template's has none), Alembic's own script.py.mako, and the import of
    ``sqlmodel.sql.sqltypes`` added by hand to the first revision, where autogenerate left it out.
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
        (root / "pyproject.toml").write_text(
            PYPROJECT.format(name="app", package="app", dependencies='["sqlmodel", "alembic"]')
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
    return host


def _first_revision(
    host: GeneratedHost, table: str = "accounts", message: str = "accounts and stores"
) -> None:
    """The host's first revision, as its developers write it: their tool's autogenerate."""
    scratch = host.root / "scratch.db"
    url = f"sqlite:///{scratch}"
    if host.kind == "flask":
        result = host.tool("migrate", "-m", message, url=url)
    else:
        ini = host.root / "alembic.ini"
        original = ini.read_text()
        driver = "sqlite+aiosqlite" if host.kind == "async" else "sqlite"
        ini.write_text(original.replace(f"{driver}:///%(here)s/acme.db", f"{driver}:///{scratch}"))
        try:
            result = host.tool("revision", "--autogenerate", "-m", message)
        finally:
            ini.write_text(original)
    scratch.unlink(missing_ok=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"'{table}'" in result.stdout + result.stderr, result.stdout + result.stderr


__all__ = ["KINDS", "GeneratedHost", "make_generated_host", "make_sqlmodel_host"]
