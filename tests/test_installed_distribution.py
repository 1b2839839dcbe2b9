"""plugin-scaffold as a user installs it: a wheel built from this tree, in a venv of its own.

Nothing here is monkeypatched: the wheel is built once (``uv build --wheel``), installed into
throwaway venvs (dependencies from uv's cache when it has them), and each venv's own Python and
``scaffold`` run with no access to this source tree. What the wheel must carry (the template,
the example host) and what a rendered plugin is told to pip-install to get plugin-scaffold back
(its PEP 610 origin: the wheel file, a folder, a git commit, or the bare name from an index) are
read from the installed distribution itself. The wheel alone is the runtime, what a host's
environment and a plugin's tests install; with its extra ``[new]`` it brings the authoring tools
that ``scaffold new`` and ``scaffold demo`` render with.

The wheel is built as a release builds it (``nox -s build``): the sdist first, then the wheel from
the unpacked sdist, so the sdist is proven to hold everything the wheel needs; both pass
``twine check``, and a plugin that names the released version finds it from an index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import uv_binary as _uv

ROOT = Path(__file__).resolve().parents[1]
#: No package index, no network: a proxy that refuses every connection.
OFFLINE = {
    "UV_OFFLINE": "1",
    "PIP_NO_INDEX": "1",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
}

Venv = Callable[..., Path]


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # A clean environment: nothing from this tree's venv or checkout leaks in.
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        argv, cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, (
        f"{argv}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


#: The one version number (pyproject.toml reads it from here, hatchling's dynamic version).
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (ROOT / "src/plugin_scaffold/__init__.py").read_text(), re.M
)[1]  # type: ignore[index]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release files, as ``nox -s build`` makes them: the sdist, then the wheel from it."""
    out = tmp_path_factory.mktemp("dist")
    # No --sdist/--wheel: uv builds the sdist, unpacks it and builds the wheel from that.
    _run([_uv(), "build", "--offline", "--out-dir", str(out), str(ROOT)], cwd=out)
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (built,) = dist.glob("plugin_scaffold-*.whl")
    return built


@pytest.fixture(scope="module")
def sdist(dist: Path) -> Path:
    (built,) = dist.glob("plugin_scaffold-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A new venv with ``requirement`` installed: its folder (``bin/python``, ``bin/scaffold``)."""
    uv = _uv()

    def make(*requirement: str) -> Path:
        folder = tmp_path_factory.mktemp("venv")
        _run([uv, "venv", "--offline", "-q", "--python", sys.executable, str(folder)], cwd=folder)
        install = [uv, "pip", "install", "-q", "--python", str(folder / "bin" / "python")]
        try:
            _run([*install, "--offline", *requirement], cwd=folder)
        except AssertionError:  # a dependency not in uv's cache yet: fetch it once
            _run([*install, *requirement], cwd=folder)
        return folder

    return make


@pytest.fixture(scope="module")
def from_wheel(venv: Venv, wheel: Path) -> Path:
    """The wheel with its authoring extra, as someone who writes plugins installs it."""
    return venv(f"plugin-scaffold[new] @ {wheel.as_uri()}")


@pytest.fixture(scope="module")
def runtime(venv: Venv, wheel: Path) -> Path:
    """The wheel alone, as a host's environment or a plugin's test session installs it."""
    return venv(str(wheel))


def installed(folder: Path, cwd: Path) -> dict[str, str | None]:
    """What the venv's own plugin_scaffold says about itself."""
    code = (
        "import json, plugin_scaffold\n"
        "from importlib import metadata\n"
        "from plugin_scaffold import resources\n"
        "checkout = resources.source_checkout()\n"
        "print(json.dumps({'module': plugin_scaffold.__file__,\n"
        "    'template_root': str(resources.template_root()),\n"
        "    'checkout': str(checkout) if checkout else None,\n"
        "    'requirement': resources.scaffold_requirement(),\n"
        "    'direct_url': metadata.distribution('plugin-scaffold').read_text('direct_url.json')}))"
    )
    return dict(json.loads(_run([str(folder / "bin" / "python"), "-c", code], cwd=cwd).stdout))


def test_the_wheel_carries_the_template_and_the_example_host(
    from_wheel: Path, tmp_path: Path
) -> None:
    found = installed(from_wheel, tmp_path)
    package = Path(str(found["module"])).parent
    assert package.is_relative_to(from_wheel) and not package.is_relative_to(ROOT)
    assert found["checkout"] is None
    data = package / "_data"
    assert found["template_root"] == str(data)
    assert (data / "copier.yml").is_file()
    assert (data / "template" / "cookiecutter.json").is_file()
    assert (data / "examples" / "examplehost" / "alembic.ini").is_file()
    assert sorted(p.name for p in (data / "template").iterdir()) == sorted(
        p.name for p in (ROOT / "template").iterdir()
    )


def test_installed_from_a_wheel_file_a_plugin_is_told_that_wheel(
    from_wheel: Path, wheel: Path, tmp_path: Path
) -> None:
    found = installed(from_wheel, tmp_path)
    assert json.loads(str(found["direct_url"]))["url"] == wheel.as_uri()
    assert found["requirement"] == f"plugin-scaffold @ {wheel.as_uri()}"


def test_scaffold_new_renders_offline_from_the_installed_package(
    from_wheel: Path, wheel: Path, tmp_path: Path
) -> None:
    data = installed(from_wheel, tmp_path)["template_root"]
    result = _run(
        [str(from_wheel / "bin" / "scaffold"), "new", "media_tags"], cwd=tmp_path, **OFFLINE
    )
    assert result.stdout.splitlines()[0] == "created plugin media_tags in media_tags"
    project = tmp_path / "media_tags"
    answers = (project / ".copier-answers.yml").read_text()
    assert f"_src_path: {data}\n" in answers
    noxfile = (project / "noxfile.py").read_text()
    assert f'or "plugin-scaffold @ {wheel.as_uri()}"' in noxfile
    assert f'or "examplehost @ file://{data}/examples/examplehost"' in noxfile
    revisions = list((project / "src" / "media_tags" / "migrations").glob("*_initial.py"))
    assert len(revisions) == 1
    assert 'branch_labels = ("media_tags",)' in revisions[0].read_text()


def test_scaffold_demo_runs_offline_from_the_installed_package(
    from_wheel: Path, tmp_path: Path
) -> None:
    result = _run(
        [str(from_wheel / "bin" / "scaffold"), "demo", str(tmp_path / "d")], cwd=tmp_path, **OFFLINE
    )
    out = result.stdout
    assert f"upgraded sqlite:///{tmp_path}/d/flair/dev.db to heads" in out, out
    assert "plugin flair: models match migrations" in out, out
    assert "flair__media_security(media_entry_id, level, note, reviewed_at)" in out, out


#: What only `scaffold new` and `scaffold demo` need: the authoring extra, never the runtime.
AUTHORING = {"copier", "cookiecutter", "jinja2", "pyyaml", "pydantic", "requests", "rich"}


def test_the_runtime_install_brings_at_most_ten_distributions(runtime: Path) -> None:
    listed = _run(
        [_uv(), "pip", "list", "--format", "json", "--python", str(runtime / "bin" / "python")],
        cwd=runtime,
    )
    names = sorted(d["name"] for d in json.loads(listed.stdout))
    assert "plugin-scaffold" in names and "alembic" in names
    assert len(names) <= 10, names
    assert not AUTHORING & set(names), names


@pytest.mark.parametrize("command", [["new", "media_tags"], ["demo", "d"]])
def test_without_the_authoring_extra_new_and_demo_say_how_to_install_it(
    runtime: Path, wheel: Path, tmp_path: Path, command: list[str]
) -> None:
    argv = [str(runtime / "bin" / "scaffold"), *command]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert done.stderr == (
        f"scaffold: error: copier is not installed: scaffold {command[0]} renders the template "
        "with copier, which plugin-scaffold's extra [new] brings: "
        f"pip install 'plugin-scaffold[new] @ {wheel.as_uri()}'\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_runtime_install_runs_the_commands_of_a_hosts_environment(
    runtime: Path, from_wheel: Path, tmp_path: Path
) -> None:
    # Rendered by the authoring install; everything after, by the runtime alone, offline.
    host = tmp_path / "host"
    shutil.copytree(ROOT / "examples" / "examplehost", host)
    alembic_ini = f"host_alembic={host / 'alembic.ini'}"
    _run([str(from_wheel / "bin" / "scaffold"), "new", "poser", "-d", alembic_ini], cwd=tmp_path)
    project = tmp_path / "poser"
    models = project / "src" / "poser" / "models.py"

    def scaffold(*args: str) -> str:
        return _run([str(runtime / "bin" / "scaffold"), *args], cwd=project, **OFFLINE).stdout

    assert "upgraded sqlite:///" in scaffold("upgrade")
    assert "plugin poser: models match migrations" in scaffold("check", "--models")
    models.write_text(
        models.read_text().replace(
            "    note = sa.Column(", "    stars = sa.Column(sa.Integer)\n    note = sa.Column("
        )
    )
    assert "wrote " in scaffold("revision", "-m", "add stars", "--autogenerate")
    assert "wired poser: " in scaffold("wire")
    assert "unwired poser: " in scaffold("unwire", "poser")


def test_installed_from_a_folder_a_plugin_is_told_that_folder(venv: Venv, tmp_path: Path) -> None:
    found = installed(venv(str(ROOT)), tmp_path)
    assert found["checkout"] is None
    assert json.loads(str(found["direct_url"]))["dir_info"] == {}
    assert found["requirement"] == f"plugin-scaffold @ {ROOT.as_uri()}"


def test_installed_from_git_a_plugin_is_told_that_commit(venv: Venv, tmp_path: Path) -> None:
    commit = _run(["git", "rev-parse", "HEAD"], cwd=ROOT).stdout.strip()
    found = installed(venv(f"plugin-scaffold @ git+{ROOT.as_uri()}@{commit}"), tmp_path)
    assert json.loads(str(found["direct_url"]))["vcs_info"]["commit_id"] == commit
    assert found["requirement"] == f"plugin-scaffold @ git+{ROOT.as_uri()}@{commit}"


def test_installed_by_name_from_an_index_a_plugin_is_told_the_release(
    venv: Venv, wheel: Path, tmp_path: Path
) -> None:
    # --find-links is what an index install looks like to the venv: no direct_url.json. The
    # plugin is pinned to the release whose template rendered it.
    found = installed(venv("--find-links", str(wheel.parent), "plugin-scaffold"), tmp_path)
    assert found["direct_url"] is None
    assert found["requirement"] == f"plugin-scaffold=={VERSION}"


def test_the_release_files_carry_the_one_version_and_pass_twine_check(
    dist: Path, sdist: Path, wheel: Path, from_wheel: Path, tmp_path: Path
) -> None:
    assert sdist.name == f"plugin_scaffold-{VERSION}.tar.gz"
    assert wheel.name == f"plugin_scaffold-{VERSION}-py3-none-any.whl"
    result = _run([str(from_wheel / "bin" / "scaffold"), "--version"], cwd=tmp_path)
    assert result.stdout.strip() == f"plugin-scaffold {VERSION}"
    twine = Path(sys.executable).with_name("twine")
    if not twine.is_file():
        pytest.skip("twine is not installed (dependency group 'release')")
    checked = _run([str(twine), "check", "--strict", str(sdist), str(wheel)], cwd=tmp_path)
    assert checked.stdout.count("PASSED") == 2, checked.stdout


def test_the_sdist_holds_the_template_the_example_host_and_no_local_state(sdist: Path) -> None:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {
        "pyproject.toml",
        "README.md",
        "copier.yml",
        "src/plugin_scaffold/__init__.py",
        "template/cookiecutter.json",
        "examples/examplehost/alembic.ini",
        "examples/examplehost/pyproject.toml",
    } <= names, sorted(names)
    tracked = _run(["git", "ls-files", "template", "examples/examplehost"], cwd=ROOT).stdout
    assert set(tracked.split()) <= names
    local = [n for n in names if n.startswith((".venv", ".nox/", "dist/")) or "__pycache__" in n]
    assert local == [], local
    assert not any(n.endswith((".db", ".pyc")) for n in names), sorted(names)


def test_a_plugin_naming_a_released_version_gets_it_from_the_index(
    from_wheel: Path, wheel: Path, tmp_path: Path
) -> None:
    requirement = f"plugin-scaffold=={VERSION}"
    scaffold = str(from_wheel / "bin" / "scaffold")
    _run(
        [scaffold, "new", "media_tags", "-d", f"scaffold_requirement={requirement}"],
        cwd=tmp_path,
        **OFFLINE,
    )
    project = tmp_path / "media_tags"
    answers = (project / ".copier-answers.yml").read_text()
    assert f"scaffold_requirement: {requirement}\n" in answers
    assert f'or "{requirement}"' in (project / "noxfile.py").read_text()
    # The plugin's own SQLite session, offline: the wheel's folder stands for the index.
    result = _run(
        [sys.executable, "-m", "nox", "-s", "tests(sqlite)", "--", "-q"],
        cwd=project,
        **OFFLINE,
        UV_FIND_LINKS=str(wheel.parent),
        PIP_FIND_LINKS=str(wheel.parent),
        NOX_DEFAULT_VENV_BACKEND="uv|virtualenv",
    )
    (session,) = (project / ".nox").glob("tests*sqlite*")
    show = "from importlib import metadata as m; d = m.distribution('plugin-scaffold'); "
    show += "print(d.version, d.read_text('direct_url.json'))"
    origin = _run([str(session / "bin" / "python"), "-c", show], cwd=project)
    # By name and version, as from an index: no direct_url.json naming a file or folder.
    assert origin.stdout.split() == [VERSION, "None"], origin.stdout
    assert re.search(r"^\d+ passed", result.stdout + result.stderr, re.M), result.stdout
