"""The one module that reads Alembic's private names answers as scaffold expects.

Runs in the main sessions (the newest Alembic) and in ``compat`` (Alembic 1.12, the oldest
supported): an Alembic release that renames a private name fails here first.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from plugin_scaffold import alembic_private
from plugin_scaffold.databases.servers import make_engine

#: The revisions of :func:`_config`'s graph.
REVISIONS = ["h1", "h2", "m", "p1", "p2a", "p2b"]


def _revision(folder: Path, rev: str, down: object, **fields: object) -> None:
    lines = [f"revision = {rev!r}", f"down_revision = {down!r}"]
    lines += [f"{key} = {value!r}" for key, value in fields.items()]
    lines += ["def upgrade():\n    pass", "def downgrade():\n    pass"]
    (folder / f"{rev}_.py").write_text("\n".join(lines) + "\n")


@pytest.fixture
def script(tmp_path: Path) -> ScriptDirectory:
    return ScriptDirectory.from_config(_config(tmp_path))


def _config(tmp_path: Path) -> Config:
    """host: h1 (label core) <- h2; plugin: p1 (label poser, depends on core) <- p2a, p2b <- m."""
    host = tmp_path / "host" / "versions"
    plugin = tmp_path / "poser" / "migrations"
    host.mkdir(parents=True)
    plugin.mkdir(parents=True)
    _revision(host, "h1", None, branch_labels=("core",))
    _revision(host, "h2", "h1")
    _revision(plugin, "p1", None, branch_labels=("poser",), depends_on="core")
    _revision(plugin, "p2a", "p1")
    _revision(plugin, "p2b", "p1")
    _revision(plugin, "m", ("p2a", "p2b"))
    config = Config()
    config.set_main_option("script_location", str(tmp_path / "host"))
    config.set_main_option("version_locations", f"{host} {plugin}")
    config.set_main_option("path_separator", "space")
    return config


def test_revision_files_reads_every_file(script: ScriptDirectory) -> None:
    assert sorted(r.revision for r in alembic_private.revision_files(script)) == REVISIONS


def test_revision_files_reads_a_graph_that_cannot_be_built(tmp_path: Path) -> None:
    folder = tmp_path / "versions"
    folder.mkdir()
    _revision(folder, "a1", "gone")
    config = Config()
    config.set_main_option("script_location", str(tmp_path))
    config.set_main_option("version_locations", str(folder))
    broken = ScriptDirectory.from_config(config)
    with pytest.raises(Exception, match="gone"):
        broken.get_heads()
    assert [r.down_revision for r in alembic_private.revision_files(broken)] == ["gone"]


def test_plans(script: ScriptDirectory) -> None:
    up = [
        alembic_private.step_revision(s).revision
        for s in alembic_private.upgrade_plan(script, "heads", ())
    ]
    assert sorted(up) == ["h1", "h2", "m", "p1", "p2a", "p2b"]
    assert up.index("h1") < up.index("p1") < up.index("p2a") < up.index("m")
    several = alembic_private.upgrade_plan(script, ("h2", "p2a"), ())
    assert sorted(alembic_private.step_revision(s).revision for s in several) == [
        "h1",
        "h2",
        "p1",
        "p2a",
    ]

    down = alembic_private.downgrade_plan(script, "poser@base", ("h2", "m"))
    assert sorted(alembic_private.step_revision(s).revision for s in down) == [
        "m",
        "p1",
        "p2a",
        "p2b",
    ]
    stamp = alembic_private.stamp_plan(script, "h2", ())
    assert len(stamp) == 1


def test_version_folders(script: ScriptDirectory, tmp_path: Path) -> None:
    assert {p.resolve() for p in alembic_private.version_folders(script)} == {
        (tmp_path / "host" / "versions").resolve(),
        (tmp_path / "poser" / "migrations").resolve(),
    }


def test_what_a_revision_declares(script: ScriptDirectory) -> None:
    p2a = script.get_revision("p2a")
    p1 = script.get_revision("p1")
    merge = script.get_revision("m")
    assert p2a is not None and p1 is not None and merge is not None
    assert "poser" in p2a.branch_labels  # inherited from the root ...
    assert alembic_private.declared_branch_labels(p2a) == set()  # ... not declared
    assert alembic_private.declared_branch_labels(p1) == {"poser"}
    assert alembic_private.down_revisions(p1) == ()
    assert alembic_private.dependencies(p1) == ("h1",)  # the label, resolved
    assert set(alembic_private.down_revisions_and_dependencies(p1)) == {"h1"}
    assert set(alembic_private.down_revisions(merge)) == {"p2a", "p2b"}


@pytest.mark.parametrize(
    ("configured", "expected"),
    [({}, (True, True)), ({"compare_type": False}, (True, True))],
)
def test_compare_switches(configured: dict[str, object], expected: tuple[bool, bool]) -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=configured)
        alembic_private.compare_types_and_server_defaults(context)
        assert alembic_private.compares(context) == expected


def test_a_comparison_function_of_env_py_is_kept() -> None:
    def mine(*args: object) -> None:
        return None

    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": mine})
        alembic_private.compare_types_and_server_defaults(context)
        assert alembic_private.compares(context)[0] is mine


def test_step_transaction_commits_a_change_made_in_a_callback(tmp_path: Path) -> None:
    """As a revision step's: with no transaction begun by env.py (SQLite), it begins one and
    commits it, so that the change outlives the connection."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        with context.begin_transaction():  # env.py's: none on SQLite
            connection.exec_driver_sql("SELECT 1")  # autobegun, as Alembic's own reads are
            with alembic_private.step_transaction(context):
                connection.exec_driver_sql("CREATE TABLE kept (id INTEGER)")
                connection.exec_driver_sql("INSERT INTO kept (id) VALUES (1)")
    engine.dispose()
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT id FROM kept").scalar() == 1
    engine.dispose()


def test_alembic_commands_take_the_script_already_read(tmp_path: Path) -> None:
    """Inside the block ``command.heads`` reads no revision file: one written after the script
    was read is not seen; outside it (or for another config) it is, and from_config is back."""
    config = _config(tmp_path)
    script = ScriptDirectory.from_config(config)
    assert sorted(script.get_heads()) == ["h2", "m"]  # the files read now
    _revision(tmp_path / "host" / "versions", "h3", "h2")
    config.stdout = inside = io.StringIO()
    with alembic_private.commands_reading(script, config):
        command.heads(config)
        assert ScriptDirectory.from_config(_config(tmp_path / "other")) is not script
    config.stdout = outside = io.StringIO()
    command.heads(config)
    assert "h2 (core) (head)" in inside.getvalue() and "h3" not in inside.getvalue()
    assert "h3 (core) (head)" in outside.getvalue() and "h2" not in outside.getvalue()


def test_hand_over_transaction_lets_autocommit_block_commit_the_run_so_far(
    tmp_path: Path,
) -> None:
    """A connection handed in with its transaction begun (scaffold's one transaction): what ran
    before an ``autocommit_block`` is committed by it, and a transaction goes on after it."""
    # scaffold's SQLite engine: DDL in real transactions, as on PostgreSQL
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as connection:
        connection.begin()
        context = MigrationContext.configure(connection)
        # what Alembic does with no hand-over
        with pytest.raises(AssertionError), context.autocommit_block():
            pass
    with engine.connect() as connection:
        connection.begin()
        context = MigrationContext.configure(connection)
        alembic_private.hand_over_transaction(context, connection)
        connection.exec_driver_sql("CREATE TABLE before_block (id INTEGER)")
        with context.autocommit_block():
            connection.exec_driver_sql("CREATE TABLE in_block (id INTEGER)")
        assert connection.in_transaction()
        connection.exec_driver_sql("CREATE TABLE after_block (id INTEGER)")
        connection.get_transaction().rollback()  # type: ignore[union-attr]
    with engine.connect() as connection:
        names = {r[0] for r in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert names == {"before_block", "in_block"}
    engine.dispose()


def test_script_directory_hands_revision_files_to_the_loader_and_nothing_else(
    tmp_path: Path,
) -> None:
    """Each revision file goes through the loader once; env.py is loaded as Alembic loads it;
    Alembic's own loader is back in place once the graph is read."""
    from alembic import util

    config = _config(tmp_path)
    (tmp_path / "host" / "env.py").write_text("LOADED_BY_ALEMBIC = True\n")
    handed: list[str] = []

    def load_file(path: str, load: object) -> object:
        handed.append(Path(path).name)
        return load()  # type: ignore[operator]

    original = util.load_python_file
    script = alembic_private.script_directory(config, load_file)
    assert sorted(script.get_heads()) == ["h2", "m"]
    assert sorted(handed) == ["h1_.py", "h2_.py", "m_.py", "p1_.py", "p2a_.py", "p2b_.py"]
    assert util.load_python_file is original
    assert sorted(r.revision for r in alembic_private.revision_files(script)) == REVISIONS
    assert len(handed) == 12
    assert util.load_python_file(tmp_path / "host", "env.py").LOADED_BY_ALEMBIC
    assert len(handed) == 12
    # Without a loader, Alembic's own ScriptDirectory.
    assert sorted(alembic_private.script_directory(config, None).get_heads()) == ["h2", "m"]


def _upgraded(script: ScriptDirectory, url: str, target: str, *, bound: bool) -> list[tuple]:
    """Upgrade the database at ``url`` to ``target``; the UPDATEs of alembic_version run."""
    from sqlalchemy import event

    engine = create_engine(url)
    updates: list[tuple] = []

    def executed(conn: object, cursor: object, statement: str, params: object, *a: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE ALEMBIC_VERSION"):
            updates.append((" ".join(statement.split()), params))

    event.listen(engine, "before_cursor_execute", executed)
    with engine.begin() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"fn": lambda heads, ctx: alembic_private.upgrade_plan(script, target, heads)},
        )
        if bound:
            alembic_private.bind_version_writes(context)
        context.run_migrations()
    engine.dispose()
    return updates


def test_bound_version_writes_move_the_same_rows_with_parameters(tmp_path: Path) -> None:
    """In a run scaffold binds, each step's UPDATE carries the ids as parameters (one compiled
    statement per run); a run it does not bind keeps Alembic's literal SQL."""
    script = ScriptDirectory.from_config(_config(tmp_path))
    bound_url = f"sqlite:///{tmp_path / 'bound.sqlite'}"
    raw_url = f"sqlite:///{tmp_path / 'raw.sqlite'}"
    assert _upgraded(script, bound_url, "h2", bound=True) == [
        (
            "UPDATE alembic_version SET version_num=? WHERE alembic_version.version_num = ?",
            ("h2", "h1"),
        )
    ]
    (statement, params) = _upgraded(script, raw_url, "h2", bound=False)[0]
    assert "'h2'" in statement and "'h1'" in statement and not params
    for url in (bound_url, raw_url):
        engine = create_engine(url)
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        engine.dispose()
        assert rows == [("h2",)]


def test_bound_version_writes_keep_alembics_check_of_one_row(tmp_path: Path) -> None:
    """A row that is not there: Alembic's own error, nothing written."""
    from alembic.runtime.migration import HeadMaintainer
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(_config(tmp_path))
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _upgraded(script, url, "h1", bound=True)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM alembic_version")
        context = MigrationContext.configure(connection)
        alembic_private.bind_version_writes(context)
        with pytest.raises(
            CommandError, match="expected to match one row when updating 'h1' to 'h2'"
        ):
            HeadMaintainer(context, ("h1",))._update_version("h1", "h2")
        assert connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 0
    engine.dispose()


def _odd_folders(tmp_path: Path, *, sourceless: bool = False) -> Config:
    """Version folders with everything Alembic's listing has a rule for: a folder reached through
    a symbolic link, a revision file that is a link, the same folder named twice, a nested
    folder (``recursive_version_locations``), ``__init__.py``, an editor's lock file, a text
    file, a ``__pycache__``, a file without ``revision`` (its id from its name), and with
    ``sourceless`` a revision left only as a ``.pyc``."""
    import py_compile

    real = tmp_path / "real" / "versions"
    (real / "nested").mkdir(parents=True)
    _revision(real, "a1", None, branch_labels=("core",))
    _revision(real, "a2", "a1")
    _revision(real / "nested", "n1", "a2")
    (real / "__init__.py").write_text("")
    (real / ".#a2_.py").write_text("not python at all (")
    (real / "notes.txt").write_text("not a revision")
    (real / "__pycache__").mkdir()
    (real / "__pycache__" / "stray.py").write_text("revision = 'stray'\ndown_revision = None\n")
    (real / "0ff1ce.py").write_text("down_revision = 'n1'\n")  # Alembic 0.1: id from the name
    linked = tmp_path / "linked"
    linked.symlink_to(real, target_is_directory=True)
    other = tmp_path / "other"
    other.mkdir()
    _revision(other, "o1", "a1")
    (other / "via_link_.py").symlink_to(real / "a2_.py")  # the same file again, as a link
    if sourceless:
        _revision(other, "c1", "o1")
        compiled = other / "c1_.pyc"
        py_compile.compile(str(other / "c1_.py"), cfile=str(compiled))
        (other / "c1_.py").unlink()
    config = Config()
    config.set_main_option("script_location", str(tmp_path / "real"))
    config.set_main_option("version_locations", f"{linked} {other} {real}")
    config.set_main_option("path_separator", "space")
    config.set_main_option("recursive_version_locations", "true")
    if sourceless:
        config.set_main_option("sourceless", "true")
    return config


def _listed(scripts: object) -> list[tuple[object, ...]]:
    return [
        (s.revision, s.path, s.down_revision, s.branch_labels, s.dependencies)  # type: ignore[attr-defined]
        for s in scripts  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize("sourceless", [False, True], ids=["sources", "sourceless"])
def test_script_directory_lists_the_files_alembic_lists_under_the_same_names(
    tmp_path: Path, sourceless: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revisions read through the loader are Alembic's own, one for one: the same files in
    the same order, under the same (real) paths, with the same warnings, each loaded once."""
    import sys

    # (Loading a file writes no bytecode beside it: both listings see the same folders.)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    config = _odd_folders(tmp_path, sourceless=sourceless)
    with pytest.warns(UserWarning) as alembics_warnings:
        expected = _listed(ScriptDirectory.from_config(config)._load_revisions())
    handed: list[str] = []

    def load_file(path: str, load: object) -> object:
        handed.append(path)
        return load()  # type: ignore[operator]

    script = alembic_private.script_directory(config, load_file)
    with pytest.warns(UserWarning) as ours:
        found = _listed(alembic_private.revision_files(script))
    assert found == expected
    assert [str(w.message) for w in ours] == [str(w.message) for w in alembics_warnings]
    assert any("loaded twice" in str(w.message) for w in ours)
    ids = [row[0] for row in found]
    assert "0ff1ce" in ids
    # Sourceless, Alembic also reads what it finds in __pycache__ (a .pyc left alone, or not).
    assert ("c1" in ids) is sourceless and ("stray" in ids) is sourceless
    assert sorted(handed) == sorted(set(handed))
    assert len(handed) == len(found)
