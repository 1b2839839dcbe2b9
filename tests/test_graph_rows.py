"""What the graph says a database has run and keeps in alembic_version (graph/revisions.py),
checked against the definitions spelled out by hand on a graph with a label, depends_on, a
fork, a merge and a plugin that depends on another plugin; and walked once on a long line."""

from __future__ import annotations

import itertools
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from plugin_scaffold.graph.revisions import Graph
from plugin_scaffold.plugin.plugin import Plugin


def _revision(folder: Path, rev: str, down: object, **fields: object) -> None:
    lines = [f"revision = {rev!r}", f"down_revision = {down!r}"]
    lines += [f"{key} = {value!r}" for key, value in fields.items()]
    lines += ["def upgrade():\n    pass", "def downgrade():\n    pass"]
    (folder / f"{rev}_.py").write_text("\n".join(lines) + "\n")


def _graph(tmp_path: Path) -> Graph:
    """host: h1 (core) <- h2; poser: p1 (depends on core) <- p2a, p2b <- m;
    other: o1 (depends on p2a) <- o2."""
    folders = {name: tmp_path / name for name in ("host", "poser", "other")}
    for folder in folders.values():
        folder.mkdir()
    _revision(folders["host"], "h1", None, branch_labels=("core",))
    _revision(folders["host"], "h2", "h1")
    _revision(folders["poser"], "p1", None, branch_labels=("poser",), depends_on="core")
    _revision(folders["poser"], "p2a", "p1")
    _revision(folders["poser"], "p2b", "p1")
    _revision(folders["poser"], "m", ("p2a", "p2b"))
    _revision(folders["other"], "o1", None, branch_labels=("other",), depends_on="p2a")
    _revision(folders["other"], "o2", "o1")
    config = Config()
    config.set_main_option("script_location", str(tmp_path))
    config.set_main_option("path_separator", "space")
    config.set_main_option("version_locations", " ".join(str(f) for f in folders.values()))
    plugins = []
    for name in ("poser", "other"):
        plugin = Plugin(name, name, "project")
        plugin.__dict__["migrations"] = folders[name].resolve()
        plugins.append(plugin)
    return Graph(ScriptDirectory.from_config(config), plugins)


#: What each revision names directly (labels resolved): the definitions below start here.
NAMES = {
    "h1": [], "h2": ["h1"], "p1": ["h1"], "p2a": ["p1"], "p2b": ["p1"], "m": ["p2a", "p2b"],
    "o1": ["p2a"], "o2": ["o1"],
}  # fmt: skip


def _ancestors(revision: str) -> set[str]:
    found: set[str] = set()
    for named in NAMES[revision]:
        found |= {named, *_ancestors(named)}
    return found


def test_ancestors_applied_and_version_rows_follow_their_definitions(tmp_path: Path) -> None:
    graph = _graph(tmp_path)
    for revision in NAMES:
        assert graph.ancestors(revision) == _ancestors(revision), revision
    assert graph.ancestors("not-a-revision") == frozenset()
    for size in (1, 2, 3):
        for rows in itertools.combinations(sorted(NAMES), size):
            applied = set(rows).union(*(_ancestors(r) for r in rows))
            assert graph.applied(rows) == applied, rows
            named = set().union(*(_ancestors(r) for r in applied))
            assert set(graph.version_rows(applied)) == applied - named, rows
    assert set(graph.version_rows(graph.applied(["m", "o2", "h2"]))) == {"m", "o2", "h2"}
    assert graph.whose("o1") == "plugin other" and graph.whose("gone") == "not found here"


def test_rows_at_heads_without_a_plugin_leave_out_what_depends_on_it(tmp_path: Path) -> None:
    graph = _graph(tmp_path)
    assert set(graph.rows_at_heads()) == {"h2", "m", "o2"}
    assert set(graph.rows_at_heads(without="poser")) == {"h2"}  # other depends on poser
    assert set(graph.rows_at_heads(without="other")) == {"h2", "m"}


def test_a_line_of_thousands_of_revisions(tmp_path: Path) -> None:
    """Each answer is one walk of the line: a host of 3,000 revisions in a row (answers
    that kept every revision's ancestors would hold 4.5 million ids)."""
    folder = tmp_path / "versions"
    folder.mkdir()
    count = 3000
    for n in range(count):
        _revision(folder, f"r{n:04d}", f"r{n - 1:04d}" if n else None)
    config = Config()
    config.set_main_option("script_location", str(tmp_path))
    config.set_main_option("version_locations", str(folder))
    config.set_main_option("path_separator", "os")
    graph = Graph(ScriptDirectory.from_config(config), [])
    top = f"r{count - 1:04d}"
    assert len(graph.applied([top])) == count
    assert graph.version_rows(graph.applied([top, "r0100"])) == (top,)
    assert graph.rows_at_heads() == (top,)
    assert len(graph.ancestors(top)) == count - 1
