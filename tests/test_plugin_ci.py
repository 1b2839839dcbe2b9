"""CI for every rendered plugin: its GitHub workflow is valid, and what each job runs passes here.

A plugin is rendered once per module with copier (``scaffold new``) and once with cookiecutter.
Its ``.github/workflows/migrations.yml`` is checked against GitHub's workflow schema
(check-jsonschema's vendored copy, offline) and by ``actionlint`` when one is on PATH. Then each
job is run as a runner would: its ``run:`` steps verbatim, with bash, in the plugin's folder,
with the workflow's and the job's ``env`` (repository variables unset, as on a fresh
repository), ``python`` from a fresh venv standing in for ``actions/setup-python``, and each
service container's URL pointed at this machine's server of the same kind (SQLite, PostgreSQL
at 127.0.0.1:5432, MariaDB at 127.0.0.1:3306). These job runs are the suite's run of a fresh
plugin's own nox sessions on all three databases. The pre-commit hooks' commands run on the
render too, and ``scaffold check`` (the local hook) fails on a revision that alters a host table.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from conftest import ROOT, require_server, run_scaffold
from plugin_scaffold.databases.servers import server_url
from plugin_scaffold.testing import MigrationSuite

WORKFLOW = ".github/workflows/migrations.yml"
PRE_COMMIT = ".pre-commit-config.yaml"
BIN = Path(sys.executable).parent
BROKEN = Path(__file__).parent / "broken"
#: The plugin tests/broken/ lays its faults over (default answers otherwise).
PLUGIN = "flawed"

#: Each database job: the server kind it needs (None: SQLite) and the nox tag it runs.
DATABASE_JOBS = {
    "sqlite": (None, "sqlite"),
    "postgresql": ("postgresql", "postgresql"),
    "mariadb": ("mysql", "mysql"),
}
#: The service container of each server kind: image, and what its health check runs.
SERVICES = {
    "postgresql": ("postgres:16", "pg_isready"),
    "mysql": ("mariadb:11", "healthcheck.sh --connect"),
}
#: The variables naming the server of each kind (plugin_scaffold.databases.servers reads them).
URL_VARIABLES = {"postgresql": "SCAFFOLD_POSTGRES_URL", "mysql": "SCAFFOLD_MYSQL_URL"}

#: Every check of the migration suite, as the rendered tests/test_migrations.py inherits them.
CHECKS = sorted(name for name in dir(MigrationSuite) if name.startswith("test_"))
#: The checks that read the revision files only: no database, so no database in their id.
STATIC = {"test_branch_is_well_formed"}
RESULT = re.compile(
    r"^tests/test_migrations\.py::TestMigrations::(?P<check>test_\w+)(?:\[(?P<db>\w+)\])? "
    r"(?P<outcome>PASSED|FAILED|SKIPPED|ERROR)"
)
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


# -- helpers -----------------------------------------------------------------------------------


def workflow_of(project: Path) -> dict[Any, Any]:
    data = yaml.safe_load((project / WORKFLOW).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[Any, Any]) -> Any:
    """The ``on:`` key, which YAML 1.1 (PyYAML) reads as the boolean True."""
    return workflow.get("on", workflow.get(True))


def evaluate(value: object, variables: dict[str, str]) -> str:
    """A workflow ``env`` value as the runner sees it: ``${{ vars.NAME }}`` is the variable's
    value, "" when unset; any other expression in an ``env`` or ``run`` is not expected."""

    def substitute(match: re.Match[str]) -> str:
        expression = match.group(1)
        name = re.fullmatch(r"vars\.([A-Za-z_][A-Za-z0-9_]*)", expression)
        assert name, f"unexpected expression in an env or run value: {expression}"
        return variables.get(name.group(1), "")

    return EXPRESSION.sub(substitute, str(value))


def published_port(service: dict[str, Any]) -> int:
    (mapping,) = service["ports"]
    host_port, _, container_port = str(mapping).partition(":")
    assert host_port == container_port, mapping
    return int(host_port)


def local_server(kind: str, workflow_url: str, service: dict[str, Any]) -> str:
    """The workflow's URL for a service container, pointed at this machine's server of that
    kind: the host and port change (``localhost`` and the published port in the workflow),
    the driver, user and database stay as the workflow gives them."""
    url = make_url(workflow_url)
    assert url.host == "localhost" and url.port == published_port(service), workflow_url
    here = make_url(server_url(kind))
    return url.set(host=here.host, port=here.port).render_as_string(hide_password=False)


def job_environment(
    workflow: dict[Any, Any], job: dict[str, Any], runner: Path, **more: str
) -> dict[str, str]:
    """The environment a job's ``run:`` steps see, on this machine."""
    environment = {**os.environ}
    for name, value in {**workflow.get("env", {}), **job.get("env", {})}.items():
        environment[name] = evaluate(value, variables={})
    for service in job.get("services", {}).values():
        kind = next(k for k, (image, _) in SERVICES.items() if image == service["image"])
        variable = URL_VARIABLES[kind]
        environment[variable] = local_server(kind, environment[variable], service)
    # python and pip from a fresh venv, as actions/setup-python puts them first on PATH.
    environment["PATH"] = os.pathsep.join([str(runner / "bin"), environment.get("PATH", "")])
    environment.pop("VIRTUAL_ENV", None)
    environment.update(more)
    return environment


def run_job(project: Path, name: str, runner: Path, **more: str) -> str:
    """Run job ``name``'s ``run:`` steps as GitHub's runner does (bash -eo pipefail, in the
    checkout); return what they printed. Only checkout and setup-python are ``uses:`` steps."""
    workflow = workflow_of(project)
    job = workflow["jobs"][name]
    environment = job_environment(workflow, job, runner, **more)
    output = []
    for step in job["steps"]:
        if "uses" in step:
            assert step["uses"].split("@")[0] in ("actions/checkout", "actions/setup-python")
            continue
        command = evaluate(step["run"], variables={})
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
            cwd=project,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=900,
        )
        output.append(done.stdout)
        assert done.returncode == 0, (
            f"step {step.get('name', command)!r} failed:\n" + (done.stdout[-4000:])
        )
    return "\n".join(output)


def run_steps(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def by_session(output: str) -> dict[str, list[str]]:
    """The lines nox printed for each session it ran, by the session's database."""
    sessions: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        started = re.search(r"nox > Running session tests\((\w+)\)$", line)
        if started:
            current = sessions.setdefault(started.group(1), [])
        elif current is not None:
            current.append(line)
    return sessions


def files_of(folder: Path) -> dict[str, bytes]:
    skip = {".nox", ".git", ".ruff_cache", "__pycache__", ".pytest_cache"}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not skip & set(path.relative_to(folder).parts)
    }


def ruff_clean(project: Path, ruff: Path) -> None:
    """``ruff check`` and ``ruff format --check`` pass on ``project``, with its own settings."""
    for command in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run(
            [str(ruff), *command], cwd=project, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"ruff {' '.join(command)}:\n{done.stdout}{done.stderr}"


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plugin rendered by `scaffold new` (copier) from this checkout."""
    folder = tmp_path_factory.mktemp("copier")
    run_scaffold("new", PLUGIN, str(folder / PLUGIN), cwd=folder)
    return folder / PLUGIN


def cookiecutter_render(out: Path, **answers: str) -> Path:
    answers = {"plugin_name": PLUGIN, **answers}
    arguments = [str(ROOT / "template"), *(f"{name}={value}" for name, value in answers.items())]
    done = subprocess.run(
        [str(BIN / "cookiecutter"), "--no-input", "--default-config", "-o", str(out), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        # cookiecutter writes replay files under ~: keep them out of the real home.
        env={**os.environ, "HOME": str(out / "home")},
    )
    assert done.returncode == 0, done.stderr
    return out / answers["plugin_name"]


@pytest.fixture(scope="module")
def cookiecutter_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cookiecutter_render(tmp_path_factory.mktemp("cookiecutter"))


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv, standing in for the Python that actions/setup-python installs."""
    folder = tmp_path_factory.mktemp("runner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    return folder


@pytest.fixture(scope="module")
def lint_job(plugin: Path, runner: Path) -> Iterator[tuple[str, Path]]:
    """The lint job, run once: what it printed, and the venv of the nox session it ran."""
    output = run_job(plugin, "lint", runner)
    yield output, plugin / ".nox" / "lint" / "bin"


# -- the workflow file -------------------------------------------------------------------------


def test_both_tools_render_the_same_ci_files_with_github_expressions_intact(
    plugin: Path, cookiecutter_plugin: Path
) -> None:
    for name in (WORKFLOW, PRE_COMMIT):
        assert (plugin / name).read_text() == (cookiecutter_plugin / name).read_text(), name
    text = (plugin / WORKFLOW).read_text()
    # Jinja rendered the plugin's name and left GitHub's own expressions alone.
    assert text.startswith(f"# CI of the {PLUGIN} plugin,")
    assert "HOST_REQUIREMENT: ${{ vars.HOST_REQUIREMENT }}\n" in text
    assert "PLUGIN_SCAFFOLD_REQUIREMENT: ${{ vars.PLUGIN_SCAFFOLD_REQUIREMENT }}\n" in text
    assert "group: migrations-${{ github.ref }}\n" in text
    assert "{%" not in text and "cookiecutter" not in text


@pytest.mark.parametrize(
    "schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"]
)
def test_workflow_passes_githubs_schema(plugin: Path, tmp_path: Path, schema: str) -> None:
    check = [str(BIN / "check-jsonschema"), "--builtin-schema", schema]
    done = subprocess.run(
        [*check, str(plugin / WORKFLOW)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr

    # ... and the same check finds a job that says neither where it runs nor for how long.
    workflow = workflow_of(plugin)
    del workflow["jobs"]["sqlite"]["runs-on"], workflow["jobs"]["sqlite"]["timeout-minutes"]
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump({"on": triggers(workflow), **workflow}))
    done = subprocess.run([*check, str(broken)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "sqlite" in done.stdout


def test_workflow_passes_actionlint(plugin: Path) -> None:
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (a Go binary; the schema check still runs)")
    done = subprocess.run(
        [actionlint, "-no-color", WORKFLOW], cwd=plugin, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflow_runs_the_nox_sessions_against_service_containers(plugin: Path) -> None:
    workflow = workflow_of(plugin)
    on = triggers(workflow)
    assert set(on) == {"push", "pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert set(jobs) == {*DATABASE_JOBS, "lint"}

    noxfile = (plugin / "noxfile.py").read_text()
    for name, (kind, tag) in DATABASE_JOBS.items():
        job = jobs[name]
        # the command a plugin author runs, for a tag the noxfile gives one session
        assert run_steps(job) == ["python -m pip install 'nox[uv]>=2025.2.9'", f"nox -t {tag}"]
        assert noxfile.count(f'tags=["{tag}"]') == 1
        if kind is None:
            assert "services" not in job and "env" not in job
            continue
        (service,) = job["services"].values()
        image, health = SERVICES[kind]
        assert service["image"] == image
        assert f'--health-cmd "{health}' in service["options"]
        url = make_url(job["env"][URL_VARIABLES[kind]])
        assert (url.host, url.port) == ("localhost", published_port(service))
    assert run_steps(jobs["lint"]) == ["python -m pip install 'nox[uv]>=2025.2.9'", "nox -s lint"]
    # the requirements come from repository variables when set, else from the noxfile
    assert workflow["env"]["CI"] == "true"
    for variable in ("HOST_REQUIREMENT", "PLUGIN_SCAFFOLD_REQUIREMENT"):
        assert workflow["env"][variable] == f"${{{{ vars.{variable} }}}}"
        assert f'os.environ.get("{variable}")' in noxfile


def test_pre_commit_config_runs_the_pinned_ruff_and_scaffold_check(plugin: Path) -> None:
    done = subprocess.run(
        [str(BIN / "pre-commit"), "validate-config", PRE_COMMIT],
        cwd=plugin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load((plugin / PRE_COMMIT).read_text())
    ruff_repo, local = config["repos"]
    assert ruff_repo["repo"] == "https://github.com/astral-sh/ruff-pre-commit"
    assert [hook["id"] for hook in ruff_repo["hooks"]] == ["ruff-check", "ruff-format"]
    pinned = re.search(r'^RUFF = "ruff==([\d.]+)"$', (plugin / "noxfile.py").read_text(), re.M)
    assert pinned and ruff_repo["rev"] == f"v{pinned.group(1)}"
    assert local["repo"] == "local"
    (hook,) = local["hooks"]
    assert hook["entry"] == "scaffold check"
    assert hook["language"] == "system" and hook["pass_filenames"] is False


# -- what the jobs run, here -------------------------------------------------------------------


@pytest.mark.parametrize(
    "job",
    [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mariadb", marks=pytest.mark.mysql),
    ],
)
def test_database_job_passes_here(plugin: Path, runner: Path, job: str) -> None:
    kind, database = DATABASE_JOBS[job]
    if kind is not None:
        require_server(kind)
    # -v: one line per check (PYTEST_ADDOPTS reaches the session's pytest, nothing else changes)
    output = run_job(plugin, job, runner, PYTEST_ADDOPTS="-v")

    sessions = by_session(output)
    assert list(sessions) == [database], output[-4000:]
    lines = sessions[database]
    text = "\n".join(lines)
    results = sorted(
        (m["check"], m["db"], m["outcome"]) for line in lines if (m := RESULT.match(line))
    )
    # every check of the suite ran once, on this job's database, and passed
    assert len(CHECKS) == 8, CHECKS
    expected = [(c, None if c in STATIC else database, "PASSED") for c in CHECKS]
    assert results == expected, text[-4000:]
    assert re.search(rf"^=+ {len(CHECKS)} passed in [\d.]+s", text, re.M), text[-4000:]
    assert f"nox > Session tests({database}) was successful" in text, text[-4000:]


def test_lint_job_passes_here(lint_job: tuple[str, Path]) -> None:
    output, _ = lint_job
    assert "nox > ruff check .\nAll checks passed!" in output
    assert re.search(r"nox > ruff format --check \.\n\d+ files already formatted", output)
    assert f"nox > scaffold check\nplugin {PLUGIN}: no findings" in output
    assert "nox > Session lint was successful" in output


def test_pre_commit_hooks_pass_and_change_nothing(plugin: Path, lint_job: tuple[str, Path]) -> None:
    """Each hook's command as pre-commit runs it (the ruff hooks' entries, with their args and
    the Python files), in the lint session's venv: exit 0, and no file rewritten."""
    _, tools = lint_job
    config = yaml.safe_load((plugin / PRE_COMMIT).read_text())
    entries = {
        "ruff-check": "ruff check --force-exclude",
        "ruff-format": "ruff format --force-exclude",
    }
    python_files = sorted(p for p in files_of(plugin) if p.endswith(".py"))
    before = files_of(plugin)
    environment = {**os.environ, "PATH": os.pathsep.join([str(tools), os.environ["PATH"]])}
    for repo in config["repos"]:
        for hook in repo["hooks"]:
            entry = hook.get("entry") or entries[hook["id"]]
            files = [] if hook.get("pass_filenames") is False else python_files
            command = [*entry.split(), *hook.get("args", []), *files]
            done = subprocess.run(
                command, cwd=plugin, env=environment, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, f"{hook['id']}: {done.stdout}{done.stderr}"
    assert files_of(plugin) == before


def test_scaffold_check_hook_fails_on_a_revision_altering_a_host_table(
    plugin: Path, lint_job: tuple[str, Path], tmp_path: Path
) -> None:
    _, tools = lint_job
    broken = tmp_path / PLUGIN
    shutil.copytree(plugin, broken, ignore=shutil.ignore_patterns(".nox", "*.db"))
    shutil.copytree(BROKEN / "alters_host_table", broken, dirs_exist_ok=True)
    done = subprocess.run(
        [str(tools / "scaffold"), "check"], cwd=broken, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "op.add_column on core__users, a table the plugin does not own" in done.stdout
    assert "[foreign-table]" in done.stdout


@pytest.mark.parametrize(
    "answers",
    [
        {"extends": ""},
        {"table_prefix": "t" * 47},
        {"table_prefix": "t" * 47, "extends": ""},
        {
            "host_base": "fakehost.models:Base",
            "host_alembic": "fakehost:migrations",
            "host_requirement": "fakehost",
            "extends": "store.uuid",
            "extends_type": "sa.String(length=32)",
        },
    ],
    ids=["standalone", "long-names", "standalone-long-names", "rattail-like"],
)
def test_other_renders_pass_ruff(
    tmp_path: Path, lint_job: tuple[str, Path], answers: dict[str, str]
) -> None:
    _, tools = lint_job
    ruff_clean(cookiecutter_render(tmp_path, **answers), tools / "ruff")


def test_cookiecutter_render_passes_ruff(
    cookiecutter_plugin: Path, lint_job: tuple[str, Path]
) -> None:
    ruff_clean(cookiecutter_plugin, lint_job[1] / "ruff")


def test_revisions_alembic_writes_pass_ruff(
    plugin: Path, lint_job: tuple[str, Path], tmp_path: Path
) -> None:
    """An autogenerated revision and an empty one, as the host's script.py.mako writes them."""
    _, tools = lint_job
    project = tmp_path / PLUGIN
    shutil.copytree(plugin, project, ignore=shutil.ignore_patterns(".nox", "*.db"))
    models = project / "src" / PLUGIN / "models.py"
    text = models.read_text()
    column = "    note = sa.Column(sa.UnicodeText, nullable=True)\n"
    assert column in text
    added = '    reviewed_by = sa.Column(sa.Unicode(200), nullable=True, server_default="nobody")\n'
    models.write_text(text.replace(column, column + added))
    run_scaffold("upgrade", cwd=project)
    run_scaffold("revision", "-m", "add reviewed_by", "--autogenerate", cwd=project)
    run_scaffold("revision", "-m", "nothing yet", cwd=project)
    written = sorted((project / "src" / PLUGIN / "migrations").glob("*_add_reviewed_by.py"))
    assert len(written) == 1 and "batch_op.add_column(" in written[0].read_text()
    assert len(list((project / "src" / PLUGIN / "migrations").glob("*_nothing_yet.py"))) == 1
    ruff_clean(project, tools / "ruff")


def test_sessions_stop_at_a_folder_the_runner_does_not_have(tmp_path: Path) -> None:
    missing = tmp_path / "gone" / "plugin-scaffold"
    run_scaffold(
        "new",
        PLUGIN,
        str(tmp_path / PLUGIN),
        "-d",
        f"scaffold_requirement=plugin-scaffold @ {missing.as_uri()}",
        cwd=tmp_path,
    )
    project = tmp_path / PLUGIN
    environment = {**os.environ, "PLUGIN_SCAFFOLD_REQUIREMENT": "", "HOST_REQUIREMENT": ""}
    done = subprocess.run(
        [str(BIN / "nox"), "-s", "lint"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert (
        f"PLUGIN_SCAFFOLD_REQUIREMENT: 'plugin-scaffold @ {missing.as_uri()}' names {missing}, "
        "which this machine does not have; set PLUGIN_SCAFFOLD_REQUIREMENT to a version or a "
        "VCS URL (see README.md)"
    ) in done.stderr
