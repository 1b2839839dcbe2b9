"""A plugin removed without `scaffold downgrade --plugin`: its row stays in alembic_version.

Every command still works (one warning naming the row, which no command touches), `scaffold
plugins` lists the orphan with its tables, `scaffold forget NAME` removes it, and plain
`alembic current` works again. The end-to-end case installs the plugins into a venv of their
own, as a user would, and uninstalls one with pip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import ROOT, execute, rows, run_scaffold, scaffold_lines, tables, versions
from conftest import uv_binary as _uv
from hosts import install_entry_point, make_host, make_plugin, revision_id, write_plugin_root
from test_progress import on_terminal
from test_reliability_lock import waiting_runs

HOST = revision_id(2)
WARNING = "scaffold: warning: alembic_version holds poser0001, which no configured folder has"
#: Where the host keeps its rows: none of them may change.
HOST_TABLES = {"accounts", "store"}


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def _uv_pip(venv: Path, *args: str) -> None:
    base = [_uv(), "pip", *args, "-q", "--python", str(venv / "bin" / "python")]
    for offline in (["--offline"], []):  # from uv's cache, else fetched once
        done = subprocess.run(
            [*base, *offline], env=_clean_env(), capture_output=True, text=True, timeout=300
        )
        if done.returncode == 0:
            return
    raise AssertionError(f"uv pip {' '.join(args)}: {done.stderr}")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with plugin-scaffold (and the PostgreSQL driver) installed, shared by the module."""
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [_uv(), "venv", "--offline", "-q", "--python", sys.executable, str(folder)],
        env=_clean_env(),
        check=True,
        timeout=120,
    )
    _uv_pip(folder, "install", "-e", f"{ROOT}[postgresql]")
    return folder


def in_venv(
    venv: Path, program: str, *args: str, cwd: Path, check: int | None = 0
) -> subprocess.CompletedProcess[str]:
    """Run the venv's ``scaffold`` or ``alembic`` as its user would, stdin not a terminal."""
    done = subprocess.run(
        [str(venv / "bin" / program), *args],
        cwd=cwd,
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check is not None and done.returncode != check:
        raise AssertionError(
            f"{program} {' '.join(args)} exited {done.returncode}, expected {check}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


BUILD = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["src/{name}"]
"""


def plugin_project(root: Path, name: str, ini: Path) -> Path:
    """A plugin project pip can install (its root depends on the host's label ``acme``)."""
    project = make_plugin(root / name, name, host_ini=ini)
    write_plugin_root(project / "src" / name / "migrations", name, depends_on="acme")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + BUILD.format(name=name))
    return project


def test_a_plugin_uninstalled_with_pip_without_downgrading(
    tmp_path: Path, db_url: str, venv: Path
) -> None:
    ini = make_host(tmp_path / "host")
    host = ini.parent
    text = ini.read_text().replace("sqlite:///%(here)s/host.db", db_url)
    ini.write_text(text)  # plain alembic in the host uses this database too
    poser = plugin_project(tmp_path, "poser", ini)
    badge = plugin_project(tmp_path, "badge", ini)
    _uv_pip(venv, "install", "--reinstall", str(poser), str(badge))

    def scaffold(*args: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
        return in_venv(venv, "scaffold", *args, cwd=host, check=check)

    try:
        scaffold("wire", "poser")
        scaffold("wire", "badge")
        scaffold("upgrade")
        assert versions(db_url) == {HOST, "poser0001", "badge0001"}
        execute(db_url, "INSERT INTO store (uuid, name) VALUES ('s1', 'corner shop')")
        execute(db_url, "INSERT INTO poser__store_extra (store_uuid, rating) VALUES ('s1', 5)")

        # The site admin removes poser as any package: unwire, pip uninstall, code deleted.
        scaffold("unwire", "poser")
        _uv_pip(venv, "uninstall", "poser")
        shutil.rmtree(poser)
        assert in_venv(venv, "alembic", "current", cwd=host, check=None).returncode != 0

        def works(*args: str, warns: bool = True) -> str:
            done = scaffold(*args)
            said = scaffold_lines(done.stderr)
            if warns:
                assert len(said) == 1 and said[0].startswith(WARNING), (args, done.stderr)
                assert "scaffold forget NAME" in said[0] and "scaffold plugins" in said[0]
            else:
                assert said == [], (args, done.stderr)
            assert "poser0001" in versions(db_url), args  # the orphan row is left alone
            return done.stdout

        out = works("current")
        assert f"{HOST} (acme) (head)  [host]" in out and "badge0001 (badge) (head)" in out
        assert "poser" not in out
        assert "already at heads" in works("upgrade")
        # a plugin's branch out and in again, a host revision down and up, around the orphan
        assert "downgraded" in works("downgrade", "--plugin", "badge")
        assert versions(db_url) == {HOST, "poser0001"}
        assert "badge__store_extra" not in tables(db_url)
        works("stamp", revision_id(1))
        assert versions(db_url) == {revision_id(1), "poser0001"}
        assert "upgraded" in works("upgrade", HOST)
        assert versions(db_url) == {HOST, "poser0001"}
        assert "upgraded" in works("upgrade", "--plugin", "badge")
        assert versions(db_url) == {HOST, "poser0001", "badge0001"}
        execute(db_url, "INSERT INTO badge__store_extra (store_uuid, rating) VALUES ('s1', 3)")
        assert "poser0001" not in works("upgrade", "--sql", warns=False)  # offline: no database
        out = works("revision", "-m", "nothing", "--autogenerate", "--plugin", "badge")
        assert "no changes in the plugin's tables" in out
        out = works("revision", "-m", "nothing", "--autogenerate", "--host")
        assert "no changes in the host's tables" in out
        assert "poser__store_extra (drop_table)" in out  # left out: never the host's
        assert sorted(p.name for p in (host / "migrations" / "versions").glob("*.py")) == [
            f"{revision_id(1)}_first.py",
            f"{HOST}_step.py",
        ]
        assert "models match migrations" in works("check", "--plugin", "badge", "--url", db_url)
        # the graph alone: no database read, nothing to warn of
        assert "poser" not in works("heads", warns=False)
        assert "poser" not in works("history", warns=False)
        works("unwire", "badge", warns=False)
        works("wire", "badge", warns=False)

        listed = works("plugins", warns=False)
        assert "badge  (entry point; package badge; 1 revision; head badge0001)" in listed
        assert (
            "poser  (orphaned: its code is not found; alembic_version poser0001; "
            "tables poser__store_extra (1 row); remove with scaffold forget poser)"
        ) in listed

        # stdin is no terminal and --yes is missing: one line, nothing done
        refused = scaffold("forget", "poser", "--drop-tables", check=2)
        assert scaffold_lines(refused.stderr) == [
            "scaffold: error: forget changes the database: answer on a terminal, or pass --yes"
        ]
        assert "  remove row poser0001 from alembic_version" in refused.stdout
        assert "  drop table poser__store_extra (1 row)" in refused.stdout
        assert "poser0001" in versions(db_url) and "poser__store_extra" in tables(db_url)

        done = scaffold("forget", "poser", "--drop-tables", "--yes")
        assert "forgot poser: removed row poser0001, dropped poser__store_extra" in done.stdout
        assert scaffold_lines(done.stderr) == []
        assert versions(db_url) == {HOST, "badge0001"}
        assert not {t for t in tables(db_url) if t.startswith("poser__")}
        assert HOST_TABLES | {"badge__store_extra"} <= tables(db_url)
        assert rows(db_url, "SELECT uuid, name FROM store") == [("s1", "corner shop")]
        assert rows(db_url, "SELECT store_uuid, rating FROM badge__store_extra") == [("s1", 3)]

        # plain Alembic in the host works again
        current = in_venv(venv, "alembic", "current", cwd=host)
        assert HOST in current.stdout and "badge0001" in current.stdout
        assert scaffold_lines(scaffold("current").stderr) == []
        assert "poser" not in scaffold("plugins").stdout
    finally:
        _uv_pip(venv, "uninstall", "poser", "badge")


# --- the same removal, cheaper: plugins announced from a folder on PYTHONPATH ---------------


def removed_plugin(root: Path, url: str, *, also: str | None = None) -> tuple[Path, dict[str, str]]:
    """A host upgraded with plugin ``poser`` (and ``also``) installed, then poser's code deleted
    without a downgrade; returns the host's alembic.ini and the environment to run in."""
    ini, env = installed_plugins(root, url, also=also)
    site = Path(env["PYTHONPATH"])
    shutil.rmtree(site / "poser")
    shutil.rmtree(site / "poser-0.1.dist-info")
    return ini, env


def installed_plugins(
    root: Path, url: str, *, also: str | None = None
) -> tuple[Path, dict[str, str]]:
    """A host upgraded with plugin ``poser`` (and ``also``) installed from a folder on
    PYTHONPATH, a store and poser's row for it; returns the host's alembic.ini and the
    environment to run in."""
    ini = make_host(root / "host")
    site = root / "site"
    for name in ("poser", also) if also else ("poser",):
        migrations = site / name / "migrations"
        migrations.mkdir(parents=True)
        (site / name / "__init__.py").write_text("")
        (migrations / "__init__.py").write_text("")
        (site / name / "models.py").write_text(
            textwrap.dedent(
                f"""
                import sqlalchemy as sa
                from acme.models import Base

                class Extra(Base):
                    __tablename__ = "{name}__store_extra"
                    store_uuid = sa.Column(
                        sa.String(32), sa.ForeignKey("store.uuid"), primary_key=True
                    )
                    rating = sa.Column(sa.Integer, nullable=False, server_default="0")

                MODELS = [Extra]
                """
            )
        )
        write_plugin_root(migrations, name, depends_on="acme")
        install_entry_point(site, name, name)
    env = {"PYTHONPATH": str(site)}
    run_scaffold("-c", str(ini), "--url", url, "upgrade", cwd=root, env=env)
    execute(url, "INSERT INTO store (uuid, name) VALUES ('s1', 'corner shop')")
    execute(url, "INSERT INTO poser__store_extra (store_uuid, rating) VALUES ('s1', 5)")
    return ini, env


def test_forget_without_drop_tables_keeps_them_and_refuses_what_is_not_an_orphan(
    tmp_path: Path, db_url: str
) -> None:
    ini, env = removed_plugin(tmp_path, db_url, also="badge")
    cli = ["-c", str(ini), "--url", db_url]

    live = run_scaffold(*cli, "forget", "badge", "--yes", cwd=tmp_path, env=env, check=2)
    assert scaffold_lines(live.stderr) == [
        "scaffold: error: plugin badge is installed (its code is found): remove it with "
        "`scaffold downgrade --plugin badge` before uninstalling it, not with forget"
    ]
    typo = run_scaffold(*cli, "forget", "posr", "--yes", cwd=tmp_path, env=env, check=2)
    assert scaffold_lines(typo.stderr) == [
        "scaffold: error: nothing to forget: no orphan named posr (did you mean poser? see "
        "scaffold plugins)"
    ]
    host_row = run_scaffold(
        *cli, "forget", "--revision", HOST, "--yes", cwd=tmp_path, env=env, check=2
    )
    assert "belongs to the host, whose code is found" in host_row.stderr
    assert versions(db_url) == {HOST, "poser0001", "badge0001"}

    kept = run_scaffold(*cli, "forget", "poser", "--yes", cwd=tmp_path, env=env)
    assert "keep tables poser__store_extra (add --drop-tables to drop them)" in kept.stdout
    assert "forgot poser: removed row poser0001" in kept.stdout
    assert versions(db_url) == {HOST, "badge0001"}
    assert rows(db_url, "SELECT store_uuid, rating FROM poser__store_extra") == [("s1", 5)]
    # its tables are still listed, under their prefix, until dropped
    listed = run_scaffold(*cli, "plugins", cwd=tmp_path, env=env).stdout
    assert "poser  (orphaned: its code is not found; alembic_version no row; " in listed
    assert scaffold_lines(run_scaffold(*cli, "current", cwd=tmp_path, env=env).stderr) == []


def test_a_forget_cut_short_is_finished_by_running_it_again(tmp_path: Path, any_url: str) -> None:
    """On MariaDB each DROP commits by itself: a run cut short after the row went (it goes
    first) leaves the tables, which `forget NAME --drop-tables` still finds by their prefix.
    The tables go in foreign-key order (a table of the plugin's references another).

    A host table pointing at one of them stops it first, on every database, nothing changed:
    SQLite would drop the table under the host's rows, MariaDB fail half way."""
    ini, env = removed_plugin(tmp_path, any_url)
    cli = ["-c", str(ini), "--url", any_url]
    execute(
        any_url,
        "CREATE TABLE poser__note (id INTEGER PRIMARY KEY, extra VARCHAR(32) NOT NULL, "
        "FOREIGN KEY (extra) REFERENCES poser__store_extra (store_uuid))",
    )
    execute(any_url, "INSERT INTO poser__note (id, extra) VALUES (1, 's1')")
    execute(
        any_url,
        "CREATE TABLE store_badges (id INTEGER PRIMARY KEY, extra VARCHAR(32), CONSTRAINT "
        "fk_store_badges_extra FOREIGN KEY (extra) REFERENCES poser__store_extra (store_uuid))",
    )
    execute(any_url, "INSERT INTO store_badges (id, extra) VALUES (1, 's1')")
    before = tables(any_url)
    refused = run_scaffold(
        *cli, "forget", "poser", "--drop-tables", "--yes", cwd=tmp_path, env=env, check=2
    )
    assert scaffold_lines(refused.stderr) == [
        "scaffold: error: table store_badges references poser__store_extra (foreign key "
        "fk_store_badges_extra on extra): dropping poser's tables would leave that table's rows "
        "pointing at nothing; drop that foreign key first (a revision of its owner), or leave "
        "out --drop-tables; nothing changed"
    ]
    assert refused.stdout == ""
    assert tables(any_url) == before and versions(any_url) == {HOST, "poser0001"}
    assert rows(any_url, "SELECT id, extra FROM poser__note") == [(1, "s1")]
    assert rows(any_url, "SELECT id, extra FROM store_badges") == [(1, "s1")]

    execute(any_url, "DROP TABLE store_badges")
    execute(any_url, "DELETE FROM alembic_version WHERE version_num = 'poser0001'")
    done = run_scaffold(*cli, "forget", "poser", "--drop-tables", "--yes", cwd=tmp_path, env=env)
    assert "  drop table poser__note (1 row)" in done.stdout
    assert "forgot poser: dropped poser__note, dropped poser__store_extra" in done.stdout
    assert tables(any_url) == HOST_TABLES | {"alembic_version"}
    assert versions(any_url) == {HOST}
    assert rows(any_url, "SELECT uuid, name FROM store") == [("s1", "corner shop")]


def test_forgets_at_once_all_exit_0_one_forgets(tmp_path: Path, any_url: str) -> None:
    """Four runs at once: one forgets, each other says it is gone already (exit 0), whether it
    read the database before that run forgot it or waited for it to finish."""
    ini, env = removed_plugin(tmp_path, any_url)
    forget = ["-c", str(ini), "--url", any_url, "forget", "poser", "--drop-tables", "--yes"]
    gone = "nothing to forget: poser is gone already (another run forgot it)"

    def at_once(count: int, *, while_held: Callable[[], None] = lambda: None) -> list[str]:
        """``count`` runs started while another holds the lock (and does ``while_held``)."""
        _, outcomes = waiting_runs(
            any_url, forget, n=count, cwd=tmp_path, env=env, while_held=while_held
        )
        for code, out, err in outcomes:
            assert code == 0, out + err
        return sorted(out.splitlines()[-1] for _, out, _ in outcomes)

    assert at_once(4) == [
        "forgot poser: removed row poser0001, dropped poser__store_extra",
        gone,
        gone,
        gone,
    ]
    assert versions(any_url) == {HOST}
    assert tables(any_url) == HOST_TABLES | {"alembic_version"}

    # The other run has forgotten it already, and not let go of the lock yet: a run started
    # then reads what it left once it may, and says so.
    execute(any_url, "INSERT INTO alembic_version (version_num) VALUES ('poser0001')")
    execute(any_url, "CREATE TABLE poser__store_extra (store_uuid VARCHAR(32) PRIMARY KEY)")

    def forget_by_hand() -> None:
        execute(any_url, "DELETE FROM alembic_version WHERE version_num = 'poser0001'")
        execute(any_url, "DROP TABLE poser__store_extra")

    assert at_once(1, while_held=forget_by_hand) == [gone]
    assert versions(any_url) == {HOST}

    # Later (a deploy script that forgets on every run): nothing left, nothing done, exit 0.
    again = run_scaffold(*forget, cwd=tmp_path, env=env).stdout
    assert again == (
        "nothing to forget: poser is gone already, or was never here (alembic_version has no "
        "row of it and no table is named poser__*; see scaffold plugins)\n"
    )
    assert versions(any_url) == {HOST}


def test_a_database_newer_than_the_host_code_is_not_upgraded(tmp_path: Path, db_url: str) -> None:
    """The host's own newest revision is unknown (its code is older than the database): with
    no host row left to start from, upgrading would run the host's revisions again."""
    ini = make_host(tmp_path / "host", revisions=3)
    cli = ["-c", str(ini), "--url", db_url]
    run_scaffold(*cli, "upgrade", cwd=tmp_path)
    (ini.parent / "migrations" / "versions" / f"{revision_id(3)}_step.py").unlink()

    refused = run_scaffold(*cli, "upgrade", cwd=tmp_path, check=2)
    [error] = [line for line in scaffold_lines(refused.stderr) if "error" in line]
    assert error.startswith(
        f"scaffold: error: alembic_version holds {revision_id(3)}, unknown here, and no "
        "revision of the host: scaffold cannot tell where the host is"
    )
    assert versions(db_url) == {revision_id(3)}
    current = run_scaffold(*cli, "current", cwd=tmp_path)
    assert "the database is at no revision found here" in current.stdout
    # a row with no plugin tables is not offered as an orphan with a name
    listed = run_scaffold(*cli, "plugins", cwd=tmp_path).stdout
    assert f"orphaned revision {revision_id(3)} in alembic_version" in listed
    # stamp and forget repair what the user knows: here, that the host is at 2 after all
    run_scaffold(*cli, "stamp", revision_id(2), cwd=tmp_path)
    assert versions(db_url) == {revision_id(2), revision_id(3)}
    run_scaffold(*cli, "forget", "--revision", revision_id(3), "--yes", cwd=tmp_path)
    assert versions(db_url) == {revision_id(2)}
    assert "already at heads" in run_scaffold(*cli, "upgrade", cwd=tmp_path).stdout


def test_forget_keeps_the_row_that_alone_places_the_host(tmp_path: Path, db_url: str) -> None:
    """A plugin root that depends on the host's head takes over the host's row: forgetting
    its orphaned row alone would make the host look unmigrated; stamp the host back first."""
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    write_plugin_root(project / "src/poser/migrations", "poser", depends_on=HOST)
    run_scaffold("--url", db_url, "upgrade", cwd=project)
    assert versions(db_url) == {"poser0001"}  # Alembic's one row per branch tip
    shutil.rmtree(project)  # the plugin's code is gone
    cli = ["-c", str(ini), "--url", db_url]

    refused = run_scaffold(*cli, "forget", "poser", "--yes", cwd=tmp_path, check=2)
    [error] = [line for line in scaffold_lines(refused.stderr) if "error" in line]
    assert error.startswith(
        "scaffold: error: forgetting poser0001 would leave no row saying where the host is"
    )
    assert f"the host's head: {HOST}" in error
    assert versions(db_url) == {"poser0001"}

    run_scaffold(*cli, "stamp", HOST, cwd=tmp_path)
    assert versions(db_url) == {HOST, "poser0001"}
    done = run_scaffold(*cli, "forget", "poser", "--drop-tables", "--yes", cwd=tmp_path)
    assert "forgot poser: removed row poser0001, dropped poser__store_extra" in done.stdout
    assert versions(db_url) == {HOST}
    assert tables(db_url) >= HOST_TABLES and "poser__store_extra" not in tables(db_url)
    upgraded = run_scaffold(*cli, "upgrade", cwd=tmp_path)
    assert "already at heads" in upgraded.stdout


def test_forget_asks_on_a_terminal(tmp_path: Path, sqlite_url: str) -> None:
    ini, env = removed_plugin(tmp_path, sqlite_url)
    args = ["-c", str(ini), "--url", sqlite_url, "forget", "poser", "--drop-tables"]

    def answer(typed: bytes) -> tuple[int, str]:
        code, output = on_terminal(
            args,
            cwd=tmp_path,
            env={**os.environ, **env},
            when=b"go ahead? [y/N]",
            type_in=typed,
        )
        return code, output.decode()

    code, said = answer(b"n\n")
    assert code == 1 and "drop table poser__store_extra" in said and "nothing done" in said
    assert "poser0001" in versions(sqlite_url) and "poser__store_extra" in tables(sqlite_url)

    code, said = answer(b"y\n")
    assert code == 0, said
    assert "forgot poser: removed row poser0001, dropped poser__store_extra" in said
    assert "poser0001" not in versions(sqlite_url)
    assert "poser__store_extra" not in tables(sqlite_url)


def test_an_unreadable_migrations_folder_stops_every_command(tmp_path: Path) -> None:
    """Alembic skips a version location it cannot read without a word: the live plugin's row
    would look orphaned, and forget would remove it. Every command refuses instead, naming the
    folder, while the process cannot read it (its user is not the folder's owner)."""
    url = f"sqlite:///{tmp_path / 'site.db'}"
    ini, env = installed_plugins(tmp_path, url)
    folder = Path(env["PYTHONPATH"]) / "poser" / "migrations"
    cli = ["-c", str(ini), "--url", url]
    as_stranger = not_the_owner_of(folder)
    expected = (
        f"scaffold: error: cannot read {folder} (plugin poser's migrations): permission denied; "
        "scaffold reads every configured migrations folder before it acts (unread, its "
        "revisions would look unknown and their rows orphaned): make it readable to this user, "
        "or unwire the plugin\n"
    )
    try:
        for args in [
            ("plugins",),
            ("forget", "poser", "--drop-tables", "--yes"),
            ("forget", "--revision", "poser0001", "--yes"),
            ("upgrade",),
            ("stamp", "heads"),
            ("current",),
            ("heads",),
        ]:
            refused = run_as(as_stranger, *cli, *args, cwd=tmp_path, env=env, check=2)
            assert refused.stderr == expected, (args, refused.stderr)
            assert refused.stdout == "", (args, refused.stdout)
        assert versions(url) == {HOST, "poser0001"}
        assert rows(url, "SELECT store_uuid, rating FROM poser__store_extra") == [("s1", 5)]
    finally:
        folder.chmod(0o755)
    listed = run_as(as_stranger, *cli, "plugins", cwd=tmp_path, env=env).stdout
    assert listed.startswith("poser  (entry point; package poser; 1 revision; head poser0001)")
    assert "orphan" not in listed
    assert "already at heads" in run_as(as_stranger, *cli, "upgrade", cwd=tmp_path, env=env).stdout


def not_the_owner_of(folder: Path) -> list[str]:
    """Make ``folder`` unreadable to the scaffold runs of :func:`run_as`; the command prefix
    they run under. As root (a container), the folder goes to another user and scaffold runs
    as root without the capabilities that bypass permissions; else, the owner's mode is 0."""
    if os.geteuid() != 0:
        folder.chmod(0)
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: no way to be refused a folder")
    os.chown(folder, 65534, 65534)
    folder.chmod(0o700)
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def run_as(
    prefix: list[str], *args: str, cwd: Path, env: dict[str, str], check: int = 0
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "plugin_scaffold", *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == check, (args, done.stdout, done.stderr)
    return done


def test_a_host_table_with_the_hosts_prefix_is_never_an_orphan(tmp_path: Path, db_url: str) -> None:
    """``core__legacy`` is in no MetaData, but its prefix is the host's own (``core__users``):
    it is the host's, never listed as an orphan, never dropped by `forget core`."""
    from test_stamp_branches import render

    project, _ = render(tmp_path)
    cli = ["--url", db_url]
    run_scaffold(*cli, "upgrade", cwd=project)
    execute(db_url, "CREATE TABLE core__legacy (id INTEGER PRIMARY KEY, note VARCHAR(20))")
    execute(db_url, "INSERT INTO core__legacy (id, note) VALUES (1, 'kept')")

    listed = run_scaffold(*cli, "plugins", cwd=project).stdout
    assert "orphan" not in listed and "core__legacy" not in listed, listed
    refused = run_scaffold(*cli, "forget", "core", "--drop-tables", "--yes", cwd=project, check=2)
    assert scaffold_lines(refused.stderr) == [
        "scaffold: error: nothing to forget: core__* tables are the host's (core__media_entries "
        "is in its models), not a removed plugin's (see scaffold plugins)"
    ]
    assert rows(db_url, "SELECT id, note FROM core__legacy") == [(1, "kept")]
