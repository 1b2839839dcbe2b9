"""Real MediaGoblin 0.15 with ``plugin_scaffold.hosts.mediagoblin:alembic_config``.

MediaGoblin 0.15 is not on PyPI (its ``mediagoblin`` there is 0.9.0, without an Alembic
environment), so the walking path runs only when ``SCAFFOLD_MEDIAGOBLIN_SOURCE`` names a
MediaGoblin 0.15 source: a checkout's folder or anything ``uv pip install`` takes (a VCS URL).
Without it the test skips, in CI too. It installs that source into a throwaway virtualenv
with this checkout of plugin-scaffold, makes a default site from the ``mediagoblin.example.ini``
MediaGoblin installs, creates its database with ``gmg dbupdate``, and walks a plugin through
scaffold with nothing hand-written: the Config is the one MediaGoblin's own code builds.

The error when MediaGoblin is absent needs no MediaGoblin and always runs.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, rows, run_scaffold, tables
from conftest import uv_binary as _uv

FACTORY = "plugin_scaffold.hosts.mediagoblin:alembic_config"
SOURCE_VARIABLE = "SCAFFOLD_MEDIAGOBLIN_SOURCE"
#: MediaGoblin 0.15's heads after `gmg dbupdate` on a default site (core, image, subtitles).
MG_HEADS = {"cc3651803714", "a98c1a320e88", "afd3d1da5e29"}
MG_ROOT = "52bf0ccbedc1"


# --- without MediaGoblin ------------------------------------------------------------------------


def test_mediagoblin_absent_is_one_line(tmp_path: Path) -> None:
    site = tmp_path / "mediagoblin.ini"
    site.write_text("[mediagoblin]\n")
    if importlib.util.find_spec("mediagoblin") is not None:
        pytest.skip("MediaGoblin is installed in the test environment")
    done = run_scaffold("-c", FACTORY, "--host-config", str(site), "current", cwd=tmp_path, check=2)
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr == (
        f"scaffold: error: {FACTORY} needs MediaGoblin (0.15, with its Alembic environment) "
        "importable where scaffold runs: No module named 'mediagoblin' (PyPI's mediagoblin is "
        "0.9.0, without it: install MediaGoblin from its source)\n"
    )


def test_mediagoblin_import_error_is_shown_as_it_is(tmp_path: Path) -> None:
    # MediaGoblin imports pkg_resources without declaring setuptools: the real error is shown.
    fake = tmp_path / "fake" / "mediagoblin"
    (fake / "init").mkdir(parents=True)
    (fake / "__init__.py").write_text("import pkg_resources_is_not_here  # noqa\n")
    (fake / "init" / "__init__.py").write_text("")
    (fake / "init" / "config.py").write_text("")
    site = tmp_path / "mediagoblin.ini"
    site.write_text("[mediagoblin]\n")
    done = run_scaffold(
        "-c",
        FACTORY,
        "--host-config",
        str(site),
        "current",
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "fake")},
        check=2,
    )
    assert done.stderr == (
        f"scaffold: error: importing 'mediagoblin.init.config' (named by '{FACTORY}') failed: "
        "ModuleNotFoundError: No module named 'pkg_resources_is_not_here'\n"
    )


# --- real MediaGoblin ---------------------------------------------------------------------------


def _source(tmp_path: Path) -> str:
    """What to install MediaGoblin 0.15 from; a checkout gets its _version.py as configure
    writes it (from _version.py.in and configure.ac's AC_INIT), in a copy."""
    source = os.environ.get(SOURCE_VARIABLE, "").strip()
    if not source:
        pytest.skip(
            f"{SOURCE_VARIABLE} is not set: MediaGoblin 0.15 is not on PyPI (0.9.0 there has no "
            "Alembic environment), so a real MediaGoblin must be named to run this"
        )
    checkout = Path(source).expanduser()
    if not checkout.is_dir():
        return source
    if (checkout / "mediagoblin" / "_version.py").is_file():
        return str(checkout)
    version = re.search(
        r"AC_INIT\(\[mediagoblin\],\s*\[([^\]]+)\]", (checkout / "configure.ac").read_text()
    )
    assert version, f"{checkout}/configure.ac: no AC_INIT([mediagoblin], [VERSION])"
    copy = tmp_path / "mediagoblin-src"
    shutil.copytree(checkout, copy, ignore=shutil.ignore_patterns(".git", "node_modules"))
    template = (copy / "mediagoblin" / "_version.py.in").read_text()
    (copy / "mediagoblin" / "_version.py").write_text(
        template.replace("@PACKAGE_VERSION@", version.group(1))
    )
    return str(copy)


class MediaGoblin:
    """A throwaway virtualenv holding MediaGoblin and this checkout of plugin-scaffold."""

    def __init__(self, root: Path, uv: str) -> None:
        self.root = root
        self.uv = uv
        self.pythonpath = ""

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def env(self) -> dict[str, str]:
        ignored = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
        env = {k: v for k, v in os.environ.items() if k not in ignored}
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        return env

    def run(self, *command: str, cwd: Path, check: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            list(command), cwd=cwd, env=self.env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == check, (
            f"{' '.join(command)} exited {done.returncode}, expected {check}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
        return done

    def scaffold(self, *args: str, cwd: Path) -> str:
        return self.run(str(self.bin / "python"), "-m", "plugin_scaffold", *args, cwd=cwd).stdout


@pytest.fixture(scope="module")
def mediagoblin(tmp_path_factory: pytest.TempPathFactory) -> MediaGoblin:
    tmp = tmp_path_factory.mktemp("mediagoblin")
    source = _source(tmp)
    uv = _uv()
    root = tmp / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(root)], check=True)
    environment = MediaGoblin(root, uv)
    # MediaGoblin imports pkg_resources without declaring setuptools (gone from setuptools 81).
    # [new]: the plugin is rendered with `scaffold new` in this environment.
    environment.run(
        uv, "pip", "install", "--quiet", "--python", str(root / "bin" / "python"),
        source, "setuptools<81", "-e", f"{ROOT}[new]", cwd=tmp,
    )  # fmt: skip
    return environment


def test_a_default_mediagoblin_site_with_nothing_hand_written(
    mediagoblin: MediaGoblin, tmp_path: Path
) -> None:
    # A default site: the example config MediaGoblin installs, on a SQLite file of its own.
    site = tmp_path / "site"
    site.mkdir()
    database = site / "mediagoblin.db"
    url = f"sqlite:///{database}"
    example = (mediagoblin.root / "etc" / "mediagoblin" / "mediagoblin.example.ini").read_text()
    ini = site / "mediagoblin.ini"
    ini.write_text(example.replace("[mediagoblin]\n", f"[mediagoblin]\nsql_engine = {url}\n", 1))
    mediagoblin.run(str(mediagoblin.bin / "gmg"), "-cf", str(ini), "dbupdate", cwd=site)
    assert {r[0] for r in rows(url, "SELECT version_num FROM alembic_version")} == MG_HEADS
    privileges = rows(url, "SELECT count(*) FROM core__privileges")

    answers = {
        "host_alembic": FACTORY,
        "host_config": str(ini),
        "host_base": "mediagoblin.db.base:Base",
        "host_branch": MG_ROOT,
        "extends": "core__media_entries.id",
    }
    data = [arg for key, value in answers.items() for arg in ("-d", f"{key}={value}")]
    project = tmp_path / "mediasec"
    mediagoblin.scaffold("new", "mediasec", str(project), *data, cwd=tmp_path)
    mediagoblin.pythonpath = str(project / "src")
    on = ["--url", url]
    # The plugin's test sessions install this MediaGoblin, with what it needs to import, and
    # scaffold lays MediaGoblin's foundations on the databases it creates.
    noxfile = (project / "noxfile.py").read_text()
    assert re.search(r'or "mediagoblin @ file:///[^"]+\\nsetuptools<81"\n', noxfile), noxfile
    assert (
        'host-init = "plugin_scaffold.hosts.mediagoblin:foundations"'
        in (project / "pyproject.toml").read_text()
    )
    privilege_names = "SELECT privilege_name FROM core__privileges ORDER BY id"
    for path in ("migrated.db", "from-models.db"):
        fresh = f"sqlite:///{site / path}"
        made = mediagoblin.scaffold(
            "--url", fresh, "upgrade", *(["--from-models"] if "models" in path else []), cwd=project
        )
        assert "ran host-init plugin_scaffold.hosts.mediagoblin:foundations" in made
        assert rows(fresh, privilege_names) == rows(url, privilege_names)

    assert "upgraded" in mediagoblin.scaffold(*on, "upgrade", cwd=project)
    current = mediagoblin.scaffold(*on, "current", cwd=project)
    # the image media type's branch, which only MediaGoblin's code knows about, is there
    assert "a98c1a320e88 (image_media_type) (head)  [host]" in current
    assert "(mediasec) (head)  [mediasec]" in current
    assert "models match migrations" in mediagoblin.scaffold(*on, "check", cwd=project)

    models = project / "src" / "mediasec" / "models.py"
    models.write_text(
        models.read_text().replace(
            "    note = sa.Column(",
            "    reviewer = sa.Column(sa.Unicode(64), nullable=True)\n    note = sa.Column(",
        )
    )
    mediagoblin.scaffold(*on, "revision", "-m", "reviewer", "--autogenerate", cwd=project)
    written = list((project / "src" / "mediasec" / "migrations").glob("*_reviewer.py"))
    assert len(written) == 1
    revision = written[0].read_text()
    assert "reviewer" in revision
    assert "core__" not in revision and "image__" not in revision
    mediagoblin.scaffold(*on, "upgrade", cwd=project)
    assert "models match migrations" in mediagoblin.scaffold(*on, "check", cwd=project)
    assert "mediasec__media_security" in tables(url)

    # The site enables the plugin; MediaGoblin's own dbupdate then finds nothing to do.
    ini.write_text(ini.read_text() + "\n[[mediasec]]\n")
    mediagoblin.run(str(mediagoblin.bin / "gmg"), "-cf", str(ini), "dbupdate", cwd=site)

    # A site admin removes the plugin from outside its project, with the site's files only.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    command = ["-c", FACTORY, "--host-config", str(ini)]
    assert "downgraded" in mediagoblin.scaffold(
        *command, *on, "downgrade", "--plugin", "mediasec", cwd=outside
    )
    assert not {t for t in tables(url) if t.startswith("mediasec__")}
    assert {r[0] for r in rows(url, "SELECT version_num FROM alembic_version")} == MG_HEADS
    assert rows(url, "SELECT count(*) FROM core__privileges") == privileges
    # without --url, the database is the site's sql_engine
    current = mediagoblin.scaffold(*command, "current", cwd=outside)
    assert "a98c1a320e88 (image_media_type) (head)  [host]" in current
    assert "mediasec" not in current
