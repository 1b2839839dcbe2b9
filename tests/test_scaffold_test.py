"""`scaffold test`: the plugin's nox sessions, from its folder, for the databases named."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLE_HOST, require_server, run_scaffold, uv_binary

BROKEN = Path(__file__).parent / "broken"


@pytest.mark.mysql
def test_runs_the_sessions_of_the_databases_named_with_pytest_arguments(tmp_path: Path) -> None:
    require_server("mysql")
    run_scaffold("new", "flawed", str(tmp_path / "flawed"), cwd=tmp_path)
    project = tmp_path / "flawed"

    done = run_scaffold(
        "test", "--db", "sqlite", "--db", "mariadb", "--", "-k", "to_heads", cwd=project / "src"
    )
    output = done.stdout + done.stderr
    assert "Creating virtual environment" in output
    assert "Session tests(sqlite) was successful" in output
    assert "Session tests(mysql) was successful" in output
    assert "tests(postgresql)" not in output
    assert output.count("1 passed, 7 deselected") == 2
    # After nox's output, one line per database and a summary.
    assert re.search(r"^sqlite: passed in \d+:\d\d\nmysql: passed in \d+:\d\d\n", done.stdout, re.M)
    assert re.search(r"^scaffold test: 2 passed in \d+:\d\d$", done.stdout, re.M)
    assert "postgresql:" not in done.stdout

    # A check that fails makes the command fail.
    shutil.copytree(BROKEN / "model_without_revision", project, dirs_exist_ok=True)
    failed = run_scaffold("test", "--db", "sqlite", "--", "-k", "models", cwd=project, check=1)
    output = failed.stdout + failed.stderr
    # The session's virtualenv is kept between runs; nothing its installs depend on changed
    # (the plugin is installed editable: its changed models are what is checked).
    assert "Reusing existing virtual environment at .nox/tests-sqlite" in output
    assert "Creating virtual environment" not in output and "uv pip install" not in output
    assert "installs skipped: nothing they depend on changed since the last" in output
    assert "flawed__media_security (add_column reviewed_at)" in output
    assert "Session tests(sqlite) failed" in output
    summary = r"^sqlite: FAILED in \d+:\d\d\nscaffold test: 1 failed in "
    assert re.search(summary, failed.stdout, re.M)


def test_a_server_that_does_not_answer_is_a_skipped_database_line(tmp_path: Path) -> None:
    run_scaffold("new", "flawed", str(tmp_path / "flawed"), cwd=tmp_path)
    nowhere = {
        "CI": "",
        "SCAFFOLD_MYSQL_URL": "mysql+pymysql://root@127.0.0.1:1/test",
        "SCAFFOLD_POSTGRES_URL": "postgresql+psycopg://scaffold:s3cret@127.0.0.1:2/postgres",
    }
    done = run_scaffold(
        "test", "--db", "mariadb", "--db", "pg", cwd=tmp_path / "flawed", env=nowhere
    )
    # No session is run (nox would say "Running session"), nothing is printed but the lines.
    *lines, summary = done.stdout.splitlines()
    assert lines == [
        "postgresql: skipped (no server at 127.0.0.1:2: set SCAFFOLD_POSTGRES_URL)",
        "mysql: skipped (no server at 127.0.0.1:1: set SCAFFOLD_MYSQL_URL)",
    ]
    # Two refused connections take no time; a loaded machine may still tick a second.
    assert re.fullmatch(r"scaffold test: 2 skipped in 0:0[0-2]", summary), summary
    assert done.stderr == ""
    assert "s3cret" not in done.stdout


def test_outside_a_plugin_project_says_where_it_looked(tmp_path: Path) -> None:
    result = run_scaffold("test", cwd=tmp_path, check=2)
    assert f"no plugin project at or above {tmp_path}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_database_is_refused(tmp_path: Path) -> None:
    run_scaffold("new", "flawed", str(tmp_path / "flawed"), cwd=tmp_path)
    result = run_scaffold("test", "--db", "oracle", cwd=tmp_path / "flawed", check=2)
    assert "unknown database 'oracle': choose one of sqlite, postgresql, mysql" in result.stderr


#: A host's pins that plugin-scaffold's authoring tools cannot live with: copier needs
#: jinja2>=3.1.5, and typing_extensions>=4.6.1 through pydantic. Beside them the session resolves
#: the newest SQLAlchemy and Alembic that accept typing_extensions 4.5 (2.0.24 and 1.14.1 today).
HOST_PINS = {"jinja2": "3.1.2", "typing-extensions": "4.5.0"}


def test_a_host_pinning_old_jinja2_and_typing_extensions_passes_its_plugins_tests(
    tmp_path: Path,
) -> None:
    host = tmp_path / "pinnedhost"
    shutil.copytree(EXAMPLE_HOST, host, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    pyproject = host / "pyproject.toml"
    pins = ", ".join(f'"{name}=={version}"' for name, version in HOST_PINS.items())
    text = pyproject.read_text()
    assert '"alembic>=1.12"]' in text
    pyproject.write_text(text.replace('"alembic>=1.12"]', f'"alembic>=1.12", {pins}]'))
    data = [
        *("-d", f"host_alembic={host / 'alembic.ini'}"),
        *("-d", f"host_requirement=examplehost @ {host.as_uri()}"),
    ]
    run_scaffold("new", "pinned", str(tmp_path / "pinned"), *data, cwd=tmp_path)
    project = tmp_path / "pinned"

    # As rendered: the session installs the host, plugin-scaffold's runtime and pytest together.
    done = run_scaffold("test", "--db", "sqlite", cwd=project)
    assert re.search(r"^scaffold test: 1 passed in ", done.stdout, re.M), done.stdout
    (session,) = (project / ".nox").glob("tests*sqlite*")
    listed = subprocess.run(
        [uv_binary(), "pip", "list", "--format", "json", "--python", str(session / "bin/python")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    installed = {d["name"]: d["version"] for d in json.loads(listed.stdout)}
    assert {name: installed.get(name) for name in HOST_PINS} == HOST_PINS, installed
    assert "copier" not in installed and "plugin-scaffold" in installed, installed


def test_a_nox_that_cannot_run_here_gives_way_to_the_one_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host's pins can break the nox installed beside it (microblog's attrs==23.1.0): the nox
    of a pipx install, on PATH, runs the sessions then; with neither, one line says what to do."""
    from plugin_scaffold.errors import ConfigError
    from plugin_scaffold.testing import sessions

    working = tmp_path / "bin" / "nox"
    working.parent.mkdir()
    working.write_text("#!/bin/sh\necho 2025.2.9\n")
    working.chmod(0o755)
    # This environment's nox, broken as a host's pins break it.
    broken = tmp_path / "python"
    broken.write_text(
        "#!/bin/sh\necho \"AttributeError: module 'attrs.validators' has no attribute 'or_'\" >&2"
        "\nexit 1\n"
    )
    broken.chmod(0o755)
    monkeypatch.setattr(sessions.sys, "executable", str(broken))
    monkeypatch.setenv("PATH", str(working.parent))
    assert sessions.runnable_nox() == [str(working)]

    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError) as refused:
        sessions.runnable_nox()
    assert str(refused.value) == (
        "nox cannot run here (AttributeError: module 'attrs.validators' has no attribute "
        "'or_'): the host's pins break it in this environment; install nox on its own (pipx "
        "install nox) and run scaffold test again"
    )


def test_a_kept_virtualenv_installs_again_when_what_it_holds_would_change(tmp_path: Path) -> None:
    """The sessions skip their installs into a kept virtualenv only while the requirements,
    pyproject.toml, the noxfile and the local folders a requirement names are unchanged; plain
    nox (a new virtualenv) installs, and a failed install is not taken for a done one."""
    run_scaffold("new", "media_tags", str(tmp_path / "media_tags"), cwd=tmp_path)
    project = tmp_path / "media_tags"
    host = tmp_path / "host"
    shutil.copytree(
        EXAMPLE_HOST, host, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__")
    )
    env = {"HOST_REQUIREMENT": f"examplehost @ {host.as_uri()}"}

    def session(*more: str, check: int = 0) -> str:
        done = run_scaffold("test", "--db", "sqlite", *more, cwd=project, env=env, check=check)
        return done.stdout + done.stderr

    def installed(output: str) -> bool:
        skipped = "installs skipped: nothing they depend on changed" in output
        assert skipped != ("uv pip install -e ." in output), output
        return not skipped

    assert installed(session())
    assert not installed(session())
    # A file of a local folder a requirement names (the host's, here).
    (host / "examplehost" / "models.py").write_text(
        (host / "examplehost" / "models.py").read_text() + "\n# edited\n"
    )
    assert installed(session())
    assert not installed(session())
    # The plugin's pyproject.toml (its dependencies, its entry points).
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# edited\n")
    assert installed(session())
    # Another requirement.
    env["HOST_REQUIREMENT"] += "\nSQLAlchemy"
    assert installed(session())
    assert not installed(session())
    # An install that fails leaves the virtualenv marked as not installed.
    env["HOST_REQUIREMENT"] += "\nno-such-package-plugin-scaffold-test==0"
    assert "Session tests(sqlite) failed" in session(check=1)
    env["HOST_REQUIREMENT"] = env["HOST_REQUIREMENT"].rsplit("\n", 1)[0]
    assert installed(session())
