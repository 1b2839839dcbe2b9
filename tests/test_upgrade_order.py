"""Upgrade order: heads that depend on heads, and a plugin installed before later host revisions.

Two host shapes that Alembic's own order gets wrong for scaffold, or that scaffold got wrong:
another plugin system's branches in version_locations whose roots depend on the core (some on
its label, some on its head, which is then a head another head depends on), and a Rattail-style
host whose plugin depends on the labelled root and references a table a later host revision
renames.
"""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import ROOT, run_alembic, run_scaffold, tables, versions
from hosts import make_host, make_plugin, revision_id, write_plugin_root
from plugin_scaffold.databases.servers import temporary_database
from plugin_scaffold.databases.urls import kind_of

sys.path.insert(0, str(ROOT / "bench"))
from hostgen import Layout, core_id, generate


def test_upgrade_equals_alembic_upgrade_heads_when_other_branches_depend_on_the_core(
    tmp_path: Path, db_url: str
) -> None:
    # 63 revisions: a 3-revision core labelled "core", 6 branches of another plugin system,
    # their roots depending in turn on the label and on the core head.
    layout = Layout(
        tmp_path / "generated",
        tmp_path / "databases",
        plugins=6,
        revisions=10,
        core_revisions=3,
        depends_on=("core", core_id(3)),
        wired=False,
    )
    layout.databases.mkdir()
    generate(layout)
    env = layout.env(bytecode=True)
    with temporary_database(kind_of(db_url)) as twin:
        raw = run_alembic("-x", f"url={twin}", "upgrade", "heads", cwd=layout.host, env=env)
        assert raw.returncode == 0, raw.stderr
        run_scaffold("-c", str(layout.ini), "--url", db_url, "upgrade", cwd=layout.host, env=env)
        assert versions(db_url) == versions(twin)
        assert tables(db_url) == tables(twin)
    # every branch's head; the core head has no row of its own (branches depend on it)
    assert versions(db_url) == {f"{name}r010" for name in layout.names}


def test_plugin_upgrade_on_empty_database_runs_later_host_revisions_first(
    tmp_path: Path, db_url: str
) -> None:
    # Rattail's shape: the root, labelled, creates "stores"; revision 2 renames it "store";
    # the plugin's root depends on the label and has a foreign key to store.uuid.
    ini = make_host(tmp_path / "host", revisions=3, store_renamed_at=2)
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    root = write_plugin_root(project / "src/poser/migrations", "poser", depends_on="acme")

    out = run_scaffold("--url", db_url, "upgrade", "--plugin", "poser", cwd=project).stdout
    assert "upgraded" in out
    assert versions(db_url) == {revision_id(3), root}
    assert {"accounts", "store", "poser__store_extra"} <= tables(db_url)
    assert "stores" not in tables(db_url)


def test_plugin_upgrade_leaves_branches_it_does_not_depend_on(
    tmp_path: Path, sqlite_url: str
) -> None:
    # Another plugin system's branches depend on the core label too; installing one scaffold
    # plugin brings the core to its head, not those branches.
    layout = Layout(
        tmp_path / "generated",
        tmp_path / "databases",
        plugins=3,
        revisions=2,
        core_revisions=3,
        depends_on=("core",),
        wired=False,
    )
    layout.databases.mkdir()
    generate(layout)
    # p00 becomes a scaffold plugin: wired by its marker in env.py
    env_py = layout.host / "migrations/env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "import p00.models  # noqa: E402,F401",
            "import p00.models  # noqa: E402,F401  # plugin-scaffold: wired p00",
        )
    )
    env = layout.env(bytecode=True)
    args = ("-c", str(layout.ini), "--url", sqlite_url)
    run_scaffold(*args, "upgrade", "--plugin", "p00", cwd=layout.host, env=env)
    assert versions(sqlite_url) == {core_id(3), "p00r002"}
    assert "p01__items" not in tables(sqlite_url)


def test_walking_path_when_other_branches_depend_on_the_core(tmp_path: Path, db_url: str) -> None:
    """The whole path on the host of the first test: render, upgrade, scoped autogenerate,
    check, uninstall (every other branch intact), wire and unwire."""
    import os

    layout = Layout(
        tmp_path / "generated",
        tmp_path / "databases",
        plugins=6,
        revisions=10,
        core_revisions=3,
        depends_on=("core", core_id(3)),
        wired=False,
    )
    layout.databases.mkdir()
    generate(layout)
    env = layout.env(bytecode=True)
    project = tmp_path / "poser"
    answers = {
        "host_base": "hostapp.models:Base",
        "host_alembic": str(layout.ini),
        "host_branch": "core",
        "extends": "core__users.id",
        "dev_url": "",
    }
    data = [arg for key, value in answers.items() for arg in ("-d", f"{key}={value}")]
    run_scaffold("new", "poser", str(project), *data, cwd=tmp_path, env=env)
    env["PYTHONPATH"] = os.pathsep.join([str(project / "src"), env["PYTHONPATH"]])
    url = ["--url", db_url]

    run_scaffold(*url, "upgrade", cwd=project, env=env)
    others = {f"{name}r010" for name in layout.names}
    assert others <= versions(db_url)
    models = project / "src/poser/models.py"
    models.write_text(
        models.read_text().replace(
            "    note = sa.Column(",
            "    stars = sa.Column(sa.Integer, nullable=True)\n    note = sa.Column(",
        )
    )
    made = run_scaffold(*url, "revision", "-m", "stars", "--autogenerate", cwd=project, env=env)
    [written] = (project / "src/poser/migrations").glob("*_stars.py")
    assert "'stars'" in written.read_text() and "core__" not in written.read_text(), made.stdout
    run_scaffold(*url, "upgrade", cwd=project, env=env)
    assert "models match migrations" in run_scaffold(*url, "check", cwd=project, env=env).stdout
    run_scaffold(*url, "downgrade", "--plugin", "poser", cwd=project, env=env)
    assert versions(db_url) == others
    assert not {t for t in tables(db_url) if t.startswith("poser__")}

    before = {p: p.read_bytes() for p in (layout.ini, layout.host / "migrations/env.py")}
    run_scaffold("wire", cwd=project, env=env)
    heads = run_alembic("heads", cwd=layout.host, env=env)
    assert "(poser)" in heads.stdout, heads.stdout + heads.stderr
    run_scaffold("unwire", "poser", cwd=project, env=env)
    assert {p: p.read_bytes() for p in before} == before
