"""Plugins installed in the environment that were written for another host."""

from __future__ import annotations

from pathlib import Path

from conftest import run_scaffold, scaffold_lines, versions
from hosts import install_entry_point, make_host, make_plugin, revision_id, write_plugin_root

WARNING = (
    "scaffold: warning: plugin library (entry point) left out: its revisions depend on "
    "'library_host', which this host does not have"
)


def install_library(site: Path) -> None:
    """Another host's plugin ``library``, installed in ``site``: its root depends on
    ``library_host``, a label of its own host."""
    migrations = site / "library" / "migrations"
    migrations.mkdir(parents=True)
    (site / "library" / "__init__.py").write_text("")
    (migrations / "__init__.py").write_text("")
    write_plugin_root(migrations, "library", depends_on="library_host")
    install_entry_point(site, "library", "library")


def test_another_hosts_installed_plugin_is_left_out_with_one_warning(
    tmp_path: Path, sqlite_url: str
) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    root = write_plugin_root(project / "src/poser/migrations", "poser", depends_on="acme")
    install_library(tmp_path / "site")
    env = {"PYTHONPATH": str(tmp_path / "site")}
    url = ("--url", sqlite_url)

    for command in (
        ("heads",),
        ("plugins",),
        ("upgrade",),
        ("current",),
        ("history",),
        ("revision", "-m", "nothing", "--autogenerate"),
    ):
        result = run_scaffold(*url, *command, cwd=project, env=env)
        assert scaffold_lines(result.stderr) == [WARNING], (command, result.stderr)
        assert "library" not in result.stdout, (command, result.stdout)
    assert versions(sqlite_url) == {revision_id(2), root}
    written = sorted(p.name for p in (project / "src/poser/migrations").glob("*.py"))
    assert written == ["__init__.py", f"{root}_poser_tables.py"]


def test_a_wired_plugin_for_another_host_is_still_an_error(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host")
    install_library(tmp_path / "site")
    env_py = tmp_path / "host/migrations/env.py"
    env_py.write_text(
        env_py.read_text() + "\nimport library.models  # plugin-scaffold: wired library\n"
    )
    result = run_scaffold(
        "-c", str(ini), "heads", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site")}, check=2
    )
    assert "warning" not in result.stderr
    assert "revision library0001" in result.stderr
    assert "'library_host' in depends_on" in result.stderr
