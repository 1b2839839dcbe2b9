"""Rattail from PyPI, as a new user meets it, in an environment of its own.

Rattail 0.21 pins SQLAlchemy 1.4; its Alembic environment ships inside the installed package
(``rattail.db:alembic``, 273 revisions, root labelled ``rattail``); its env.py takes the database
from the application's own config file (``[rattail.db] default.url``), never from scaffold; its
revisions run on PostgreSQL only; its keys are uuid strings (``store.uuid``). A plugin ``poser``
is rendered for it with the answers of docs/rattail.md and walks the whole path there.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import ROOT, require_server
from conftest import uv_binary as _uv
from docpages import DOCS, Edit, steps
from plugin_scaffold.databases.servers import temporary_database
from plugin_scaffold.databases.urls import redact_text

# Rattail's revisions run on PostgreSQL only: these tests belong to nox's tests(postgresql).
pytestmark = pytest.mark.postgresql

#: The release these facts are about; its revisions are what "Rattail's revisions" means below.
RATTAIL = "rattail[db]==0.21.3"
RATTAIL_REVISIONS = 273
RATTAIL_HEAD = "c2ef84c99c93"


def _page() -> tuple[dict[str, str], str]:
    """The answers of docs/rattail.md's `scaffold new` and its rattail.conf (its database URL
    as ``{url}``): what this test renders and configures, so that the page cannot drift."""
    text = (DOCS / "rattail.md").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("scaffold new poser "))
    words = shlex.split(line)
    answers = dict(words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "-d")
    [conf] = [s for s in steps(text) if isinstance(s, Edit) and s.path == "rattail.conf"]
    body = "\n".join(conf.lines) + "\n"
    return answers, re.sub(r"(?m)^default\.url = .*$", "default.url = {url}", body)


ANSWERS, CONF = _page()


def test_the_page_names_every_answer_and_no_dev_database() -> None:
    assert set(ANSWERS) == {
        *("host_base", "host_alembic", "host_branch", "extends", "extends_type"),
        *("host_requirement", "dev_url"),
    }, ANSWERS
    # Rattail's env.py picks its database itself: no url in the project
    assert ANSWERS["dev_url"] == ""
    assert "default.url = {url}" in CONF and "script_location = rattail.db:alembic" in CONF


# How many revisions the database has applied: its heads and all they descend from.
APPLIED = """
import sys
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

script = ScriptDirectory.from_config(Config(sys.argv[1]))
engine = create_engine(sys.argv[2])
with engine.connect() as conn:
    heads = tuple(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))
applied = {r.revision for r in script.revision_map._get_ancestor_nodes(
    script.revision_map.get_revisions(heads))}
print(len(applied), len(list(script.walk_revisions())))
"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_index() -> None:
    """Skip (in CI, fail) when the package index does not answer: Rattail comes from it."""
    index = (
        os.environ.get("UV_DEFAULT_INDEX")
        or os.environ.get("UV_INDEX_URL")
        or os.environ.get("PIP_INDEX_URL")
        or "https://pypi.org/simple"
    )
    try:
        urllib.request.urlopen(f"{index.rstrip('/')}/rattail/", timeout=10).close()
    except (OSError, ValueError) as exc:
        reason = f"the package index {redact_text(index)} does not answer ({exc})"
        if _in_ci():
            pytest.fail(f"CI needs Rattail from the package index: {reason}")
        pytest.skip(reason)


@dataclass(frozen=True)
class RattailEnv:
    """A virtual environment holding Rattail from PyPI and this checkout of plugin-scaffold."""

    root: Path
    uv: str

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def env(self) -> dict[str, str]:
        ignored = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
        return {k: v for k, v in os.environ.items() if k not in ignored}

    def install(self, *requirements: str) -> None:
        self.run(
            [self.uv, "pip", "install", "--quiet", "--python", str(self.python), *requirements]
        )

    def uninstall(self, name: str) -> None:
        self.run([self.uv, "pip", "uninstall", "--quiet", "--python", str(self.python), name])

    def run(self, command: list[str], cwd: Path | None = None) -> str:
        done = subprocess.run(
            command, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def scaffold(self, *args: str, cwd: Path, check: int = 0) -> subprocess.CompletedProcess[str]:
        """``scaffold`` run by this environment's Python, as a Rattail developer would."""
        done = subprocess.run(
            [str(self.python), "-m", "plugin_scaffold", *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == check, (
            f"scaffold {' '.join(args)} exited {done.returncode}, expected {check}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
        return done

    def alembic(self, *args: str, cwd: Path) -> str:
        return self.run([str(self.python), "-m", "alembic", *args], cwd=cwd)

    @property
    def env_py(self) -> Path:
        found = self.run(
            [str(self.python), "-c", "import rattail.db, sys; print(rattail.db.__file__)"]
        )
        return Path(found.strip()).parent / "alembic" / "env.py"


@pytest.fixture(scope="module")
def rattail(tmp_path_factory: pytest.TempPathFactory) -> RattailEnv:
    require_server("postgresql")
    require_index()
    uv = _uv()
    root = tmp_path_factory.mktemp("rattail") / "venv"
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(root)], check=True, timeout=120
    )
    environment = RattailEnv(root, uv)
    # psycopg2: SQLAlchemy 1.4 has no psycopg 3 dialect, and rattail[db] installs no driver.
    # [new]: the plugin is rendered with `scaffold new` here, as docs/rattail.md does.
    environment.install(RATTAIL, "psycopg2-binary", "-e", f"{ROOT}[new]")
    return environment


@pytest.fixture
def rattail_db(rattail: RattailEnv) -> Iterator[str]:
    """A fresh PostgreSQL database, as SQLAlchemy 1.4 (psycopg2) names it in rattail.conf."""
    with temporary_database("postgresql", prefix="scaffold_rattail") as url:
        yield str(sa.engine.make_url(url).set(drivername="postgresql+psycopg2"))


def _conf(tmp_path: Path, url: str) -> Path:
    conf = tmp_path / "rattail.conf"
    conf.write_text(CONF.format(url=url))
    return conf


def _engine(url: str) -> sa.engine.Engine:
    # This process's own driver (psycopg 3 under SQLAlchemy 2) on the same database.
    from plugin_scaffold.databases.servers import make_engine

    return make_engine(str(sa.engine.make_url(url).set(drivername="postgresql+psycopg")))


def _versions(url: str) -> set[str]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))}
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = _engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _operated_tables(revision_file: Path) -> list[str]:
    """The tables that upgrade() and downgrade() of a revision file operate on."""
    body = revision_file.read_text().split("def upgrade", 1)[1]
    table_ops = "batch_alter_table|create_table|drop_table|add_column|drop_column|alter_column"
    return re.findall(rf"\bop\.(?:{table_ops})\(\s*['\"](\w+)['\"]", body)


def test_poser_plugin_walks_the_whole_path_on_rattail(
    rattail: RattailEnv, rattail_db: str, tmp_path: Path
) -> None:
    conf = _conf(tmp_path, rattail_db)
    conf_text = conf.read_text()
    env_py, env_py_digest = rattail.env_py, _digest(rattail.env_py)

    # render, with the answers of docs/rattail.md
    data = [
        arg for k, v in {**ANSWERS, "host_alembic": str(conf)}.items() for arg in ("-d", f"{k}={v}")
    ]
    rattail.scaffold("new", "poser", str(tmp_path / "poser"), *data, cwd=tmp_path)
    project = tmp_path / "poser"
    models = project / "src/poser/models.py"
    assert 'sa.String(length=32),\n        sa.ForeignKey(\n            "store.uuid",' in (
        models.read_text()
    )
    [initial] = (project / "src/poser/migrations").glob("*_initial.py")
    assert 'depends_on = "rattail"' in initial.read_text()
    assert "url =" not in (project / "pyproject.toml").read_text()
    rattail.install("-e", str(project))

    # wire: the application's config file is edited, Rattail's installed env.py is not
    wired = rattail.scaffold("wire", cwd=project).stdout
    assert f"wired poser: {conf}" in wired
    assert f"not edited: {env_py} belongs to an installed package" in wired
    assert "poser:migrations" in conf.read_text()
    assert _digest(env_py) == env_py_digest
    heads = rattail.alembic("-c", str(conf), "heads", cwd=tmp_path)
    assert f"{RATTAIL_HEAD} (rattail) (head)" in heads and "(poser) (head)" in heads

    # behind: autogenerate compares with a scratch database on the server rattail.conf names
    # (Rattail's revisions run on PostgreSQL only), Rattail's engine pointed at it
    behind = rattail.scaffold("revision", "-m", "x", "--autogenerate", cwd=project)
    assert "no changes in the plugin's tables; no revision written" in behind.stdout
    assert _tables(rattail_db) == set()

    # upgrade a fresh database to all heads: the side table's key references store.uuid,
    # which Rattail's third revision creates (its root creates "stores")
    rattail.scaffold("upgrade", cwd=project)
    assert _versions(rattail_db) == {RATTAIL_HEAD, initial.name.split("_")[0]}
    rattail_tables = _tables(rattail_db) - {"poser__store_extra"}
    assert {"store", "user", "product"} <= rattail_tables
    engine = _engine(rattail_db)
    try:
        [fk] = sa.inspect(engine).get_foreign_keys("poser__store_extra")
    finally:
        engine.dispose()
    assert (fk["referred_table"], fk["referred_columns"]) == ("store", ["uuid"])
    assert "models match migrations" in rattail.scaffold("check", "--models", cwd=project).stdout

    # a second revision, autogenerated against Rattail's own database: only poser__ tables
    models.write_text(
        models.read_text().replace(
            "    note = sa.Column(",
            "    reviewed = sa.Column(sa.Boolean(), nullable=True)\n    note = sa.Column(",
        )
    )
    out = rattail.scaffold("revision", "-m", "add reviewed", "--autogenerate", cwd=project).stdout
    assert "poser__store_extra (add_column reviewed)" in out
    [second] = (project / "src/poser/migrations").glob("*_add_reviewed.py")
    assert f"down_revision = '{initial.name.split('_')[0]}'" in second.read_text()
    operated = _operated_tables(second)
    assert operated and all(name.startswith("poser__") for name in operated), operated
    quoted = set(re.findall(r"['\"](\w+)['\"]", second.read_text().split("def upgrade", 1)[1]))
    assert not quoted & rattail_tables
    rattail.scaffold("upgrade", cwd=project)
    assert second.name.split("_")[0] in _versions(rattail_db)

    # uninstall: the plugin's tables and version row go, Rattail's 273 revisions stay applied
    rattail.scaffold("downgrade", "--plugin", "poser", cwd=project)
    rattail.scaffold("unwire", "poser", cwd=project)
    rattail.uninstall("poser")
    assert conf.read_text() == conf_text
    assert _digest(env_py) == env_py_digest
    assert _versions(rattail_db) == {RATTAIL_HEAD}
    assert _tables(rattail_db) == rattail_tables
    applied = rattail.run([str(rattail.python), "-c", APPLIED, str(conf), rattail_db])
    assert applied.split() == [str(RATTAIL_REVISIONS)] * 2
    assert "(poser)" not in rattail.scaffold("-c", str(conf), "heads", cwd=tmp_path).stdout


def test_url_names_any_database_and_rattails_own_is_left_alone(
    rattail: RattailEnv, rattail_db: str, tmp_path: Path
) -> None:
    """Rattail's env.py migrates the engine it makes from rattail.conf: scaffold points that
    engine at --url, and the database rattail.conf names is never migrated."""
    conf = _conf(tmp_path, rattail_db)
    same = rattail.scaffold("-c", str(conf), "--url", rattail_db, "current", cwd=tmp_path)
    assert "no revision applied" in same.stdout
    with temporary_database("postgresql", prefix="scaffold_elsewhere") as other:
        other = str(sa.engine.make_url(other).set(drivername="postgresql+psycopg2"))
        rattail.scaffold("-c", str(conf), "--url", other, "upgrade", cwd=tmp_path)
        assert _versions(other) == {RATTAIL_HEAD}
        assert {"store", "user", "product"} <= _tables(other)
    assert _tables(rattail_db) == set()
