"""Plugins are found through the project, installed entry points, or wiring — never by guessing."""

from __future__ import annotations

from pathlib import Path

from conftest import run_scaffold
from hosts import make_host, make_plugin


def install_entry_point(site: Path, name: str) -> None:
    """What pip leaves behind for an installed plugin: a dist-info with its entry point."""
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[plugin_scaffold.plugins]\n{name} = {name}\n")


def test_installed_plugin_is_found_through_its_entry_point_without_editing_host_files(
    tmp_path: Path, sqlite_url: str
) -> None:
    ini = make_host(tmp_path / "host")
    env_py = tmp_path / "host/migrations/env.py"
    before = (ini.read_bytes(), env_py.read_bytes())
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    run_scaffold("--url", sqlite_url, "revision", "-m", "one", "--autogenerate", cwd=project)

    site = tmp_path / "site"
    install_entry_point(site, "poser")
    env = {"PYTHONPATH": f"{site}:{project / 'src'}"}
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    listed = run_scaffold("-c", str(ini), "plugins", cwd=outside, env=env).stdout
    assert listed.startswith("poser  (entry point; package poser; 1 revision; head ")
    heads = run_scaffold("-c", str(ini), "heads", cwd=outside, env=env).stdout
    assert "(poser) (head)" in heads
    run_scaffold("-c", str(ini), "--url", sqlite_url, "upgrade", cwd=outside, env=env)
    current = run_scaffold("-c", str(ini), "--url", sqlite_url, "current", cwd=outside, env=env)
    assert "[poser]" in current.stdout
    assert (ini.read_bytes(), env_py.read_bytes()) == before


def test_two_plugins_with_one_name_are_refused(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    site = tmp_path / "site"
    info = site / "other-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: other\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[plugin_scaffold.plugins]\nposer = other_package\n")
    result = run_scaffold("plugins", cwd=project, env={"PYTHONPATH": str(site)}, check=2)
    assert "two plugins are named 'poser'" in result.stderr


def test_no_host_found_says_how_to_name_one(tmp_path: Path) -> None:
    result = run_scaffold("heads", cwd=tmp_path, check=2)
    assert "no alembic.ini" in result.stderr and "-c/--config" in result.stderr
