"""The CLI helps as git's and Alembic's do: help grouped, typos answered, quiet in a pipe, every
message saying what to do next (issue 16, "A CLI that helps")."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE_HOST, run_alembic, run_scaffold
from plugin_scaffold.cli import GLOBAL_OPTIONS, build_parser
from plugin_scaffold.databases import servers
from plugin_scaffold.databases.servers import DriverMissing, ServerUnavailable, check_server
from plugin_scaffold.plugin.template import render_plugin
from plugin_scaffold.resources import install_command

#: argparse wraps at $COLUMNS - 2: the same help whatever terminal runs the tests.
WIDE = {"COLUMNS": "102"}
NO_PLUGINS = "no plugins found (a plugin project, an installed entry point, or a wired plugin)"
HOST_ONLY = f"scaffold: warning: host only: {NO_PLUGINS}\n"


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A copy of the example host: a host's folder with no plugin project and no plugin."""
    folder = tmp_path / "host"
    shutil.copytree(EXAMPLE_HOST, folder, ignore=shutil.ignore_patterns("*.db", "__pycache__"))
    return folder


def sections(help_text: str) -> list[str]:
    """The titles of a help text's sections, in order."""
    return [
        line[:-1] for line in help_text.splitlines() if line and line[0] != " " and line[-1] == ":"
    ]


# --- help -----------------------------------------------------------------------------------


def test_a_commands_help_shows_its_own_options_first_and_the_global_ones_once(
    tmp_path: Path,
) -> None:
    result = run_scaffold("upgrade", "--help", cwd=tmp_path, env=WIDE)

    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "usage: scaffold upgrade [-h] [--plugin NAME] [--sql] [--from-models] [--no-progress] "
        "[--plan]",
        "                        [--json] [--lock-timeout DURATION] [--trace-locks]",
        "                        [TARGET] [global options]",
    ]
    assert sections(result.stdout) == ["positional arguments", "options", GLOBAL_OPTIONS]
    own, global_ = result.stdout.split(f"\n{GLOBAL_OPTIONS}:")
    for option in ("--plugin NAME", "--sql", "--from-models", "--no-progress", "--plan"):
        assert f"\n  {option} " in own and option not in global_
    for option in ("-c PATH, --config PATH", "--host-config PATH", "--url URL", "-x KEY=VALUE"):
        assert result.stdout.count(option) == 1 and f"\n  {option}" in global_
    assert result.stdout.count("-v, --verbose") == 1 and "\n  -v, --verbose " in global_


def test_every_command_lists_the_global_options_once_after_its_own() -> None:
    parser = build_parser()
    top = parser.format_help()
    assert sections(top) == ["positional arguments", "options", GLOBAL_OPTIONS]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands = action.choices
    for name, command in commands.items():
        text = command.format_help()
        assert sections(text)[-1] == GLOBAL_OPTIONS, name
        assert text.count("--host-config PATH") == 1, name
        usage = command.format_usage()
        assert "--url" not in usage and usage.rstrip().endswith("[global options]"), name


@pytest.mark.parametrize("where", ["before", "after"])
def test_the_global_options_go_before_or_after_the_command(where: str, tmp_path: Path) -> None:
    url = ["--url", f"sqlite:///{tmp_path / 'nothing.db'}"]
    argv = [*url, "current"] if where == "before" else ["current", *url]

    result = run_scaffold("-c", str(EXAMPLE_HOST / "alembic.ini"), *argv, cwd=tmp_path)

    assert result.stdout == (
        f"the database has no revision applied ({tmp_path / 'nothing.db'} does not exist yet)\n"
    )


def test_a_bare_scaffold_prints_its_help_and_exits_2(tmp_path: Path) -> None:
    result = run_scaffold(cwd=tmp_path, env=WIDE, check=2)

    parser = build_parser()
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=100)
    assert result.stdout == ""
    assert result.stderr == parser.format_help()
    assert result.stderr.startswith(
        "usage: scaffold [-h] [--version] [-c PATH] [--host-config PATH] [--url URL] "
        "[-x KEY=VALUE] [-v]\n"
    )


# --- did you mean ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["upgrdae"],
            "unknown command 'upgrdae': did you mean 'upgrade'? (see scaffold --help)",
        ),
        (
            ["--url", "sqlite:///x.db", "histroy"],
            "unknown command 'histroy': did you mean 'history'? (see scaffold --help)",
        ),
        (
            ["history", "--graph", "mermiad"],
            "argument --graph: invalid choice: 'mermiad': did you mean 'mermaid'? "
            "(see scaffold history --help)",
        ),
    ],
    ids=["command", "command-after-an-option", "choice"],
)
def test_a_mistyped_command_or_choice_gets_did_you_mean(
    argv: list[str], line: str, tmp_path: Path
) -> None:
    result = run_scaffold(*argv, cwd=tmp_path, check=2)

    assert (result.stdout, result.stderr) == ("", f"scaffold: error: {line}\n")


def test_a_command_like_no_other_still_lists_the_commands(tmp_path: Path) -> None:
    result = run_scaffold("frob", cwd=tmp_path, check=2)

    assert result.stderr.startswith(
        "scaffold: error: argument COMMAND: invalid choice: 'frob' (choose from 'new', "
    )
    assert len(result.stderr.splitlines()) == 1


# --- upgrade without plugins ----------------------------------------------------------------


def test_upgrade_says_host_only_when_it_finds_no_plugin(host: Path) -> None:
    result = run_scaffold("upgrade", cwd=host)

    assert result.stdout == f"upgraded sqlite:///{host / 'examplehost.db'} to heads\n"
    assert result.stderr == HOST_ONLY


def test_upgrade_sql_says_host_only_on_stderr_leaving_the_sql_alone(host: Path) -> None:
    result = run_scaffold("upgrade", "--sql", cwd=host)

    assert result.stdout.startswith("-- scaffold: SQL for a database whose alembic_version holds")
    assert "host only" not in result.stdout
    assert result.stderr == HOST_ONLY


# --- a pipe closed early --------------------------------------------------------------------


GONE = 128 + signal.SIGPIPE


@pytest.mark.parametrize(
    ("argv", "codes"),
    [
        # The host-only warning comes once the upgrade is done: a run whose reader has gone
        # ends before it.
        (["upgrade", "--sql"], {GONE}),
        (["plugins"], {GONE}),
        # argparse's own: later Pythons (3.11.7) ignore the failed write and exit 0; earlier
        # ones (Debian 12's 3.11.2) raise BrokenPipeError, which scaffold ends as for any output.
        (["--help"], {0, GONE}),
    ],
    ids=["upgrade-sql", "plugins", "help"],
)
def test_output_into_a_closed_pipe_ends_quietly_as_unix_tools_do(
    argv: list[str], codes: set[int], host: Path
) -> None:
    """`scaffold upgrade --sql | head` once head has gone: no error, SIGPIPE's exit code."""
    read, write = os.pipe()
    os.close(read)  # the reader has gone before scaffold writes: every write fails
    try:
        done = subprocess.run(
            [sys.executable, "-m", "plugin_scaffold", *argv],
            cwd=host,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)

    assert done.stderr == ""
    assert done.returncode in codes


def test_upgrade_sql_piped_into_head_prints_no_error(host: Path) -> None:
    done = subprocess.run(
        f"{sys.executable} -m plugin_scaffold upgrade --sql 2>err.txt | head -n 1",
        shell=True,
        cwd=host,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.stdout == (
        "-- scaffold: SQL for a database whose alembic_version holds no row (an empty database)\n"
    )
    # Nothing but the host-only warning, which is said only if the SQL was all written before
    # head left (the pipe's buffer can hold it all).
    assert (host / "err.txt").read_text() in ("", HOST_ONLY)


# --- a missing driver -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "url", "how"),
    [
        ("psycopg", "postgresql+psycopg://alice:s3cr3t@127.0.0.1:1/x", "{postgresql}"),
        ("pymysql", "mysql+pymysql://alice:s3cr3t@127.0.0.1:1/x", "{mysql}"),
        (
            "psycopg2",
            "postgresql+psycopg2://alice:s3cr3t@127.0.0.1:1/x",
            "pip install psycopg2-binary, or name postgresql+psycopg:// and {postgresql}",
        ),
        (
            "MySQLdb",
            "mysql+mysqldb://alice:s3cr3t@127.0.0.1:1/x",
            "pip install mysqlclient, or name mysql+pymysql:// and {mysql}",
        ),
    ],
)
def test_a_missing_driver_names_what_installs_it(
    module: str, url: str, how: str, host: Path, tmp_path: Path
) -> None:
    # The driver as it is where it was not installed: importing it fails.
    fake = tmp_path / "without" / module
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        f'raise ModuleNotFoundError("No module named {module!r}", name={module!r})\n'
    )
    path = os.pathsep.join([str(tmp_path / "without"), os.environ.get("PYTHONPATH", "")])

    result = run_scaffold("--url", url, "current", cwd=host, env={"PYTHONPATH": path}, check=2)

    shown = url.replace("s3cr3t", "***")
    extras = {extra: install_command(extra) for extra in ("postgresql", "mysql")}
    assert result.stdout == ""
    assert result.stderr == (
        f"scaffold: error: database driver {module!r} for {shown} is not installed: "
        f"{how.format(**extras)}\n"
    )


def test_an_async_env_py_missing_its_driver_names_what_installs_it(tmp_path: Path) -> None:
    """`alembic init -t async`'s env.py makes its engine on the URL scaffold hands it; without
    aiosqlite that is one line naming env.py's line and the install, not env.py's failure."""
    assert run_alembic("init", "-t", "async", "migrations", cwd=tmp_path).returncode == 0
    fake = tmp_path / "without" / "aiosqlite"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        'raise ModuleNotFoundError("No module named \'aiosqlite\'", name="aiosqlite")\n'
    )
    env_py = tmp_path / "migrations" / "env.py"
    lines = env_py.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "async_engine_from_config(" in text)

    result = run_scaffold(
        "--url",
        "sqlite:///x.db",
        "upgrade",
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "without")},
        check=2,
    )

    assert result.stderr == (
        "scaffold: error: database driver 'aiosqlite' for sqlite+aiosqlite:///x.db is not "
        f"installed (host env.py ({env_py}:{line}) makes an async engine on it): "
        "pip install aiosqlite\n"
    )


def test_a_test_failed_for_a_missing_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg: ModuleNotFoundError

    with pytest.raises(DriverMissing) as raised:
        check_server("postgresql+psycopg://postgres@127.0.0.1:1/x")

    assert str(raised.value) == (
        "database driver 'psycopg' for postgresql+psycopg://postgres@127.0.0.1:1/x is not "
        f"installed: {install_command('postgresql')}"
    )


# --- a skip reason --------------------------------------------------------------------------


def test_a_skip_reason_is_cut_between_words_never_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise Exception(" ".join(["abcdefghij"] * 40))

    monkeypatch.setattr(servers, "make_engine", refused)

    with pytest.raises(ServerUnavailable) as raised:
        check_server("postgresql+psycopg://postgres@127.0.0.1:1/x")

    quoted = " ".join(["abcdefghij"] * 13)
    assert str(raised.value) == (
        "postgresql server at postgresql+psycopg://postgres@127.0.0.1:1/x does not answer "
        f"(Exception: {quoted} ...); set SCAFFOLD_POSTGRES_URL to point at one"
    )


# --- revision where no plugin is ------------------------------------------------------------


def test_revision_in_the_hosts_folder_says_where_to_run_it(host: Path) -> None:
    result = run_scaffold("revision", "-m", "x", "--autogenerate", cwd=host, check=2)

    assert (result.stdout, result.stderr) == (
        "",
        f"scaffold: error: no plugin project in {host} and no plugin found: run scaffold "
        "revision inside a plugin project, or pass --host for the host's own revision\n",
    )


def test_revision_in_the_hosts_folder_with_several_plugins_names_them(
    host: Path, tmp_path: Path
) -> None:
    ini = str(host / "alembic.ini")
    for name in ("flair", "badges"):
        render_plugin(tmp_path / name, {"plugin_name": name, "host_alembic": ini})
        run_scaffold("wire", cwd=tmp_path / name)
    path = os.pathsep.join(str(tmp_path / name / "src") for name in ("flair", "badges"))

    result = run_scaffold("revision", "-m", "x", cwd=host, env={"PYTHONPATH": path}, check=2)

    assert (result.stdout, result.stderr) == (
        "",
        f"scaffold: error: no plugin project in {host}: run scaffold revision inside a plugin "
        "project, or pass --plugin NAME (badges, flair), or --host for the host's own revision\n",
    )
