"""A host built in Rattail's manner, made here so that it runs without PyPI on every database.

Its package sits in a ``site-packages`` folder (an installed package, whose files scaffold must
not edit); its Alembic environment is the resource ``shop.db:alembic``, configured from the
application's own ``shop.conf``; env.py reads the database from that file and ignores what
scaffold hands in; it must set the host up before the model module is imported (as Rattail's
turns on SQLAlchemy-Continuum); its root is labelled ``shop`` and creates ``stores``, which a
later revision renames to ``store``, the table the plugin's side table references.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from conftest import run_scaffold
from plugin_scaffold.databases.servers import temporary_database
from plugin_scaffold.databases.urls import DatabaseURL

INIT = '''
"""The shop application's database package."""
import sys

configured = False


def configure():
    """Must run before shop.db.model is imported (as Continuum's make_versioned)."""
    global configured
    if "shop.db.model" in sys.modules and not configured:
        raise RuntimeError("shop.db.configure() must run before shop.db.model is imported")
    configured = True
'''

MODEL = """
import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Store(Base):
    __tablename__ = "store"
    uuid = sa.Column(sa.String(32), primary_key=True)
    name = sa.Column(sa.String(100), nullable=False)
"""

ENV = """
import configparser

from alembic import context
from sqlalchemy import create_engine

import shop.db

config = context.config
app = configparser.ConfigParser()
app.read(config.config_file_name)
shop.db.configure()
from shop.db import model  # noqa: E402

target_metadata = model.Base.metadata


def run_migrations_online():
    engine = create_engine(app["shop.db"]["default.url"])
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
"""

REVISIONS = {
    "1111aaaa1111_initial.py": (
        "1111aaaa1111",
        None,
        ("shop",),
        'op.create_table("stores", sa.Column("uuid", sa.String(32), primary_key=True),'
        ' sa.Column("name", sa.String(100), nullable=False))',
        'op.drop_table("stores")',
    ),
    "2222bbbb2222_rename.py": (
        "2222bbbb2222",
        "1111aaaa1111",
        None,
        'op.rename_table("stores", "store")',
        'op.rename_table("store", "stores")',
    ),
    "3333cccc3333_later.py": ("3333cccc3333", "2222bbbb2222", None, "pass", "pass"),
}

CONF = """\
[shop.db]
default.url = {url}

[alembic]
script_location = shop.db:alembic
version_locations = shop.db:alembic/versions
"""


def make_shop(root: Path) -> Path:
    """Install the shop package into ``root/site-packages``; return that folder."""
    site = root / "site-packages"
    alembic_dir = site / "shop" / "db" / "alembic"
    (alembic_dir / "versions").mkdir(parents=True)
    (site / "shop" / "__init__.py").write_text("")
    (site / "shop" / "db" / "__init__.py").write_text(INIT)
    (site / "shop" / "db" / "model.py").write_text(MODEL)
    (alembic_dir / "env.py").write_text(ENV)
    mako = Path(command.__file__).parent / "templates" / "generic" / "script.py.mako"
    (alembic_dir / "script.py.mako").write_text(mako.read_text())
    for name, (rev, down, labels, up, down_body) in REVISIONS.items():
        (alembic_dir / "versions" / name).write_text(
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = {labels!r}\n"
            f"depends_on = None\n\n\ndef upgrade():\n    {up}\n\n\n"
            f"def downgrade():\n    {down_body}\n"
        )
    return site


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(DatabaseURL.parse(url).text)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_plugin_for_an_installed_host_that_picks_its_own_database(
    tmp_path: Path, db_url: str
) -> None:
    site = make_shop(tmp_path)
    env_py = site / "shop/db/alembic/env.py"
    env_py_digest = _digest(env_py)
    conf = tmp_path / "shop.conf"
    conf.write_text(CONF.format(url=DatabaseURL.parse(db_url).text))
    conf_text = conf.read_text()
    project = tmp_path / "poser"
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(project / "src")])}
    answers = {
        "host_base": "shop.db.model:Base",
        "host_alembic": str(conf),
        "host_branch": "shop",
        "extends": "store.uuid",
        "extends_type": "sa.String(length=32)",
        "host_requirement": "shop",
        "dev_url": "",
    }
    data = [arg for k, v in answers.items() for arg in ("-d", f"{k}={v}")]
    run_scaffold("new", "poser", str(project), *data, cwd=tmp_path, env=env)

    wired = run_scaffold("wire", cwd=project, env=env).stdout
    assert f"wired poser: {conf}" in wired
    assert f"not edited: {env_py} belongs to an installed package" in wired
    assert _digest(env_py) == env_py_digest

    # behind: autogenerate compares with a scratch database, which env.py's engine (made from
    # shop.conf) is pointed at; the application's own database is left as it is
    behind = run_scaffold("revision", "-m", "x", "--autogenerate", cwd=project, env=env)
    assert "no changes in the plugin's tables; no revision written" in behind.stdout
    assert _tables(db_url) == set()

    # to every head, the host first: store exists (renamed in 2222bbbb2222) before poser's root
    run_scaffold("upgrade", cwd=project, env=env)
    assert {"store", "poser__store_extra"} <= _tables(db_url)
    # models imported once env.py has set the host up, on its MetaData
    checked = run_scaffold("check", "--models", cwd=project, env=env).stdout
    assert "models match migrations" in checked

    models = project / "src/poser/models.py"
    models.write_text(
        models.read_text().replace(
            "    note = sa.Column(",
            "    reviewed = sa.Column(sa.Boolean(), nullable=True)\n    note = sa.Column(",
        )
    )
    out = run_scaffold("revision", "-m", "reviewed", "--autogenerate", cwd=project, env=env)
    assert "poser__store_extra (add_column reviewed)" in out.stdout
    [written] = (project / "src/poser/migrations").glob("*_reviewed.py")
    assert "'store'" not in written.read_text().split("def upgrade", 1)[1]
    run_scaffold("upgrade", cwd=project, env=env)

    # --url names any database: env.py's engine is pointed at it, its own is left alone
    run_scaffold("--url", db_url, "current", cwd=project, env=env)
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    with temporary_database(kind) as other:
        before = _tables(db_url)
        run_scaffold("--url", other, "upgrade", cwd=project, env=env)
        assert {"store", "poser__store_extra"} <= _tables(other)
        run_scaffold("--url", other, "downgrade", "base", cwd=project, env=env)
        assert _tables(other) == {"alembic_version"}
        assert _tables(db_url) == before

    run_scaffold("downgrade", "--plugin", "poser", cwd=project, env=env)
    run_scaffold("unwire", "poser", cwd=project, env=env)
    assert conf.read_text() == conf_text
    assert _digest(env_py) == env_py_digest
    assert "store" in _tables(db_url)
    assert not {t for t in _tables(db_url) if t.startswith("poser__")}


# What a plugin author (or the site) writes once so that scaffold can hand env.py any database:
# the application's own config file with the database replaced, as a Config.
GLUE = """
import atexit
import configparser
import os
import tempfile

from alembic.config import Config


def alembic_config(config_file, url=None):
    if url is not None:
        app = configparser.ConfigParser(interpolation=None)
        app.read(config_file)
        app["shop.db"]["default.url"] = url
        fd, path = tempfile.mkstemp(prefix="shop-", suffix=".conf")
        with os.fdopen(fd, "w") as handle:
            app.write(handle)
        atexit.register(os.unlink, path)
        config_file = path
    return Config(config_file)
"""


def test_a_config_factory_hands_scratch_databases_to_a_host_that_picks_its_own(
    tmp_path: Path, db_url: str
) -> None:
    """The host reads its database from its own config file; a module:function that builds
    the Config for a given URL lets autogenerate use a scratch database and the plugin's own
    migration suite run on fresh databases, with no config file written by hand."""
    import subprocess
    import sys

    site = make_shop(tmp_path)
    conf = tmp_path / "shop.conf"
    conf.write_text(CONF.format(url=DatabaseURL.parse(db_url).text))
    glue = tmp_path / "glue"
    glue.mkdir()
    (glue / "shopglue.py").write_text(GLUE)
    project = tmp_path / "poser"
    path = [str(site), str(glue), str(project / "src")]
    env = {"PYTHONPATH": os.pathsep.join(path)}
    answers = {
        "host_base": "shop.db.model:Base",
        "host_alembic": "shopglue:alembic_config",
        "host_config": str(conf),
        "host_branch": "shop",
        "extends": "store.uuid",
        "extends_type": "sa.String(length=32)",
        "host_requirement": "shop",
        "dev_url": "",
    }
    data = [arg for k, v in answers.items() for arg in ("-d", f"{k}={v}")]
    run_scaffold("new", "poser", str(project), *data, cwd=tmp_path, env=env)

    # the developer's database is empty: autogenerate compares with a scratch database
    models = project / "src/poser/models.py"
    models.write_text(
        models.read_text().replace(
            "    note = sa.Column(",
            "    reviewed = sa.Column(sa.Boolean(), nullable=True)\n    note = sa.Column(",
        )
    )
    out = run_scaffold("revision", "-m", "reviewed", "--autogenerate", cwd=project, env=env)
    assert "poser__store_extra (add_column reviewed)" in out.stdout
    assert _tables(db_url) == set()

    # --url names any database now, and env.py migrates that one
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    with temporary_database(kind) as other:
        run_scaffold("--url", other, "upgrade", cwd=project, env=env)
        assert {"store", "poser__store_extra"} <= _tables(other)
    assert _tables(db_url) == set()

    # the plugin's own migration suite, each check on a fresh database of this kind
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"],
        cwd=project,
        env={**os.environ, **env, "SCAFFOLD_TEST_DB": kind},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert suite.returncode == 0, suite.stdout[-3000:] + suite.stderr[-2000:]
    assert "8 passed" in suite.stdout, suite.stdout[-3000:]
