"""Autogenerate when the database env.py names does not exist yet (a dev database not created):
it compares on a scratch database on that database's server, not on SQLite, where a host's
PostgreSQL-only revisions fail (Rattail's ``ALTER`` of constraints)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import require_server
from hosts import make_host, make_plugin, revision_id, write_plugin_root
from plugin_scaffold.commands import cached
from plugin_scaffold.commands.revision import check
from plugin_scaffold.commands.workspace import Workspace
from plugin_scaffold.databases.servers import server_url
from plugin_scaffold.databases.urls import DatabaseURL
from test_template_cache import cache

pytestmark = pytest.mark.postgresql

__all__ = ["cache"]  # the fixture, shared with test_template_cache


@pytest.mark.parametrize("named_in", ["alembic.ini", "environment"])
def test_a_missing_dev_database_is_compared_on_a_scratch_one_on_its_server(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, named_in: str
) -> None:
    require_server("postgresql")
    missing = f"scaffold_notcreated_{uuid.uuid4().hex[:8]}"
    dev = DatabaseURL.parse(server_url("postgresql")).with_database(missing)
    package, name = f"awayhost{uuid.uuid4().hex[:6]}", f"awayplug{uuid.uuid4().hex[:6]}"
    if named_in == "alembic.ini":
        ini = make_host(tmp_path / "host", package=package, url=dev.text)
    else:  # alembic.ini keeps Alembic's placeholder; env.py reads the URL from the environment
        placeholder = "driver://user:pass@localhost/dbname"
        ini = make_host(tmp_path / "host", package=package, url=placeholder)
        env = ini.parent / "migrations" / "env.py"
        env.write_text(env.read_text().replace(
            "config = context.config\n",
            "config = context.config\nimport os\n"
            "config.set_main_option('sqlalchemy.url', os.environ['AWAY_URL'])\n",
            1,
        ))  # fmt: skip
        monkeypatch.setenv("AWAY_URL", dev.text)
    root = make_plugin(tmp_path / name, name, host_ini=ini, host_package=package)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('url = "sqlite:///dev.db"\n', ""))
    write_plugin_root(root / "src" / name / "migrations", name, depends_on=revision_id(1))
    where: list[str] = []
    real = cached.database_at

    def database_at(ws: Any, kind_or_url: str, *args: Any, **kw: Any) -> Any:
        where.append(kind_or_url)
        return real(ws, kind_or_url, *args, **kw)

    monkeypatch.setattr(cached, "database_at", database_at)
    ws = Workspace.open(config=None, url=None, cwd=root)
    assert (ws.url is None) == (named_in == "environment")  # env.py chooses: scaffold names none
    result = check(ws, plugin_name=name)
    assert result.operations == [] and result.compared_with == "scratch database"
    (kind_or_url,) = where
    scratch_server = DatabaseURL.parse(kind_or_url)
    assert scratch_server.kind == "postgresql", kind_or_url
    assert scratch_server.url.host == dev.url.host and scratch_server.url.port == dev.url.port
