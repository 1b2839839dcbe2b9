"""The template and the host: the side table's key takes the host key's type, the plugin's
tests get the host from HOST_REQUIREMENT, and a host that fails to import says why."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from copier import run_copy

from conftest import run_scaffold, tables
from hosts import make_host
from plugin_scaffold import resources
from plugin_scaffold.errors import ConfigError
from plugin_scaffold.host.host import resolve_resource
from plugin_scaffold.plugin.template import render_plugin

STRING_KEYED = {
    "host_base": "acme.models:Base",
    "host_branch": "acme",
    "extends": "store.uuid",
    "host_requirement": "acme",
}


def new_for_acme(tmp_path: Path, *extra: str, check: int = 0) -> tuple[Path, str]:
    """``scaffold new poser`` for the make_host() host, whose ``store.uuid`` is String(32)."""
    ini = make_host(tmp_path / "host")
    answers = {**STRING_KEYED, "host_alembic": str(ini)}
    data = [arg for k, v in answers.items() for arg in ("-d", f"{k}={v}")]
    project = tmp_path / "poser"
    env = {"PYTHONPATH": str(tmp_path / "host")}
    result = run_scaffold(
        "new", "poser", str(project), *data, *extra, cwd=tmp_path, env=env, check=check
    )
    return project, result.stderr


def test_side_table_key_takes_the_host_key_type_and_upgrades(tmp_path: Path, db_url: str) -> None:
    project, _ = new_for_acme(tmp_path)
    models = (project / "src/poser/models.py").read_text()
    assert "    store_uuid = sa.Column(\n        sa.String(length=32),\n" in models
    [initial] = (project / "src/poser/migrations").glob("*_initial.py")
    assert '"store_uuid",\n            sa.String(length=32),\n' in initial.read_text()

    run_scaffold("--url", db_url, "upgrade", cwd=project)
    assert {"store", "poser__store_extra"} <= tables(db_url)
    engine = sa.create_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        [key] = [
            c for c in inspector.get_columns("poser__store_extra") if c["name"] == "store_uuid"
        ]
        assert isinstance(key["type"], sa.String) and key["type"].length == 32
        [fk] = inspector.get_foreign_keys("poser__store_extra")
        assert (fk["referred_table"], fk["referred_columns"]) == ("store", ["uuid"])
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO store (uuid, name) VALUES ('a' || 'b', 'Main')"))
            conn.execute(sa.text("INSERT INTO poser__store_extra (store_uuid) VALUES ('ab')"))
    finally:
        engine.dispose()
    run_scaffold("--url", db_url, "check", cwd=project)


def test_a_key_type_the_host_does_not_have_is_refused(tmp_path: Path) -> None:
    project, stderr = new_for_acme(tmp_path, "-d", "extends_type=sa.Integer()", check=2)
    assert stderr.strip() == (
        "scaffold: error: extends_type: sa.Integer() does not match the host's key store.uuid, "
        "which is sa.String(length=32)"
    )
    assert not project.exists()


def test_an_equivalent_key_type_is_kept_as_given(tmp_path: Path) -> None:
    project, _ = new_for_acme(tmp_path, "-d", "extends_type=sa.VARCHAR(32)")
    assert "        sa.VARCHAR(32),\n" in (project / "src/poser/models.py").read_text()


def test_copier_takes_the_key_type_as_given(tmp_path: Path) -> None:
    """copier cannot import the host without --trust: the answer (or sa.Integer()) stands."""
    ini = make_host(tmp_path / "host")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_copy(
            str(resources.template_root()),
            tmp_path / "poser",
            data={"plugin_name": "poser", **STRING_KEYED, "host_alembic": str(ini)},
            defaults=True,
            unsafe=False,
            quiet=True,
            vcs_ref="HEAD",
        )
    assert "        sa.Integer(),\n" in (tmp_path / "poser/src/poser/models.py").read_text()


def test_noxfile_takes_the_host_from_host_requirement(tmp_path: Path) -> None:
    project = render_plugin(tmp_path / "p", {"plugin_name": "media_tags"})
    script = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('noxfile', sys.argv[1])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(module.HOST_REQUIREMENT)\n"
    )

    def host_requirement(**env: str) -> str:
        environ = {k: v for k, v in os.environ.items() if k != "HOST_REQUIREMENT"}
        result = subprocess.run(
            [sys.executable, "-c", script, str(project / "noxfile.py")],
            env={**environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    default = f"examplehost @ {resources.example_host_dir().as_uri()}"
    assert host_requirement() == default
    assert host_requirement(HOST_REQUIREMENT="/src/host-checkout") == "/src/host-checkout"
    readme = (project / "README.md").read_text()
    assert "`HOST_REQUIREMENT=/path/to/host nox`" in readme


def test_a_host_that_fails_to_import_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "brokenhost"
    (package / "db" / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("import pkg_resources_is_not_here\n")
    (package / "db" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as failed:
        resolve_resource("brokenhost.db:migrations")
    assert str(failed.value) == (
        "importing 'brokenhost.db' (named by 'brokenhost.db:migrations') failed: "
        "ModuleNotFoundError: No module named 'pkg_resources_is_not_here'"
    )
    with pytest.raises(ConfigError, match=r"'nothere\.db:migrations': is it installed"):
        resolve_resource("nothere.db:migrations")
