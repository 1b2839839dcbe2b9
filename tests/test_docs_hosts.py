"""The host-kind pages, run as their readers run them (tests/docpages.py), each on the host its
page describes, built here by that host's own generator (tests/hostmatrix.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from docpages import Reader
from forkrun import ForkServer
from hostmatrix import make_generated_host, make_sqlmodel_host
from hosts import make_mediagoblin_015, make_mediagoblin_site


def installed(*folders: Path) -> dict[str, str]:
    """The host (and the plugin) importable, as if installed in the reader's environment."""
    return {"PYTHONPATH": os.pathsep.join(str(folder) for folder in folders)}


@pytest.mark.parametrize(
    ("page", "kind"), [("flask.md", "flask"), ("async.md", "async"), ("pyproject.md", "pyproject")]
)
def test_host_kind_page_runs_as_shown(
    tmp_path: Path, page: str, kind: str, server: ForkServer
) -> None:
    host = make_generated_host(tmp_path / "acme", kind)
    before = {path: path.read_bytes() for path in host.config_files}
    reader = Reader(tmp_path, server=server, env=installed(host.root, tmp_path / "poser" / "src"))
    reader.follow(page)
    # the page ends unwired: the host's config as it was, byte for byte
    assert {path: path.read_bytes() for path in host.config_files} == before
    assert len(list(host.versions.glob("*_nickname.py"))) == 1


def test_config_in_code_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    site = tmp_path / "site"
    config = make_mediagoblin_site(site)
    reader = Reader(
        tmp_path,
        server=server,
        env=installed(site, tmp_path / "mediasec" / "src"),
        replace={"/srv/site": str(site)},
    )
    reader.follow("config-in-code.md", sections=("Hosts whose", "1.", "2."))
    # what the page's admin has: the plugin enabled in the site's config
    config.write_text(config.read_text().replace("plugins = ", "plugins = mediasec"))
    reader.follow("config-in-code.md", sections=("3.", '"In the database'))


def test_multidb_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    Reader(tmp_path, server=server).follow("multidb.md")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["alembic.ini", "migrations"]


def test_sqlmodel_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    make_sqlmodel_host(tmp_path / "backend", packaged=False)
    Reader(tmp_path, server=server).follow("sqlmodel.md")


def test_mediagoblin_page_runs_as_shown(tmp_path: Path, server: ForkServer) -> None:
    """On the stand-in for MediaGoblin 0.15 (tests/test_mediagoblin_real.py: the real one)."""
    site = tmp_path / "srv"
    make_mediagoblin_015(site)
    reader = Reader(
        tmp_path,
        server=server,
        env=installed(site, tmp_path / "mediasec" / "src"),
        replace={"/srv/mediagoblin": str(site)},
    )
    reader.follow("mediagoblin.md")
