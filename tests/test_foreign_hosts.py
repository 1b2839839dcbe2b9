"""The walking path on hosts nobody wrote for us: plain `alembic init` environments."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import run_alembic, run_scaffold, tables, versions
from hosts import make_host, make_plugin, revision_id


@pytest.mark.parametrize("labelled", [True, False], ids=["labelled-root", "unlabelled-root"])
@pytest.mark.parametrize("env_style", ["url", "connection", "session"])
def test_walking_path_on_plain_alembic_host(
    tmp_path: Path, db_url: str, labelled: bool, env_style: str
) -> None:
    ini = make_host(tmp_path / "host", labelled=labelled, env_style=env_style)
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    url = ["--url", db_url]

    first = run_scaffold(*url, "revision", "-m", "poser tables", "--autogenerate", cwd=project)
    written = sorted((project / "src/poser/migrations").glob("*_poser_tables.py"))
    assert len(written) == 1, first.stdout
    source = written[0].read_text()
    assert (
        "branch_labels = ('poser',)" in source
        or "branch_labels: Union[str, Sequence[str], None] = ('poser',)" in source
    )
    assert "op.create_table('poser__store_extra'" in source
    assert "accounts" not in source and "'store'" not in source

    run_scaffold(*url, "upgrade", cwd=project)
    assert {"accounts", "store", "poser__store_extra", "alembic_version"} <= tables(db_url)
    run_scaffold(*url, "check", cwd=project)

    heads = run_scaffold(*url, "heads", cwd=project).stdout
    assert "(poser) (head)" in heads

    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO store (uuid, name) VALUES ('s1', 'Main street')"))
    engine.dispose()
    run_scaffold(*url, "downgrade", "--plugin", "poser", cwd=project)
    assert "poser__store_extra" not in tables(db_url)
    assert {"accounts", "store"} <= tables(db_url)
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM store")).scalar_one() == "Main street"
    engine.dispose()


def test_revision_leaves_host_changes_out_and_lists_them(tmp_path: Path, sqlite_url: str) -> None:
    ini = make_host(tmp_path / "host")
    models = tmp_path / "host/acme/models.py"
    # a pending host change: a new column on a host table
    models.write_text(
        models.read_text().replace(
            "email = sa.Column(sa.String(200), nullable=False)",
            "email = sa.Column(sa.String(200), nullable=False)\n"
            "    phone = sa.Column(sa.String(20))",
        )
    )
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    out = run_scaffold(
        "--url", sqlite_url, "revision", "-m", "one", "--autogenerate", cwd=project
    ).stdout
    assert (
        "left out 1 change(s) to tables the plugin does not own: accounts (add_column phone)" in out
    )
    [written] = (project / "src/poser/migrations").glob("*_one.py")
    assert "phone" not in written.read_text()
    assert not list((tmp_path / "host/migrations/versions").glob("*_one.py"))


def test_revision_works_when_database_is_behind(tmp_path: Path, sqlite_url: str) -> None:
    ini = make_host(tmp_path / "host", revisions=4)
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    run_scaffold("--url", sqlite_url, "upgrade", revision_id(2), cwd=project)
    run_scaffold("--url", sqlite_url, "revision", "-m", "one", "--autogenerate", cwd=project)
    # the developer's database was not touched
    assert versions(sqlite_url) == {revision_id(2)}
    # a second autogenerate against the (scratch) heads finds nothing more
    out = run_scaffold(
        "--url", sqlite_url, "revision", "-m", "two", "--autogenerate", cwd=project
    ).stdout
    assert "no changes in the plugin's tables; no revision written" in out
    assert len(list((project / "src/poser/migrations").glob("*.py"))) == 2  # __init__ + one


def test_empty_diff_writes_no_file(tmp_path: Path, sqlite_url: str) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    run_scaffold("--url", sqlite_url, "revision", "-m", "one", "--autogenerate", cwd=project)
    run_scaffold("--url", sqlite_url, "upgrade", cwd=project)
    before = sorted(p.name for p in (project / "src/poser/migrations").iterdir())
    out = run_scaffold(
        "--url", sqlite_url, "revision", "-m", "nothing", "--autogenerate", cwd=project
    )
    assert "no revision written" in out.stdout
    assert sorted(p.name for p in (project / "src/poser/migrations").iterdir()) == before


def test_model_without_prefix_is_refused_and_nothing_written(
    tmp_path: Path, sqlite_url: str
) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    models = project / "src/poser/models.py"
    models.write_text(models.read_text().replace('"poser__store_extra"', '"store_extra"'))
    result = run_scaffold(
        "--url", sqlite_url, "revision", "-m", "x", "--autogenerate", cwd=project, check=1
    )
    assert "table 'store_extra'" in result.stderr and "prefix" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert [p.name for p in (project / "src/poser/migrations").iterdir()] == ["__init__.py"]


def test_model_colliding_with_host_table_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    models = project / "src/poser/models.py"
    models.write_text(models.read_text().replace('"poser__store_extra"', '"accounts"'))
    result = run_scaffold(
        "--url", sqlite_url, "revision", "-m", "x", "--autogenerate", cwd=project, check=1
    )
    assert "'accounts'" in result.stderr and "already defines" in result.stderr
    assert [p.name for p in (project / "src/poser/migrations").iterdir()] == ["__init__.py"]


def test_syntax_error_in_models_names_file_and_line(tmp_path: Path, sqlite_url: str) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    models = project / "src/poser/models.py"
    models.write_text(models.read_text() + "\ndef broken(:\n")
    result = run_scaffold(
        "--url", sqlite_url, "revision", "-m", "x", "--autogenerate", cwd=project, check=2
    )
    assert f"{models}:" in result.stderr and "syntax error" in result.stderr
    assert "Traceback" not in result.stderr


def test_host_with_hundreds_of_revisions(tmp_path: Path, sqlite_url: str) -> None:
    ini = make_host(tmp_path / "host", labelled=False, revisions=300)
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    run_scaffold("--url", sqlite_url, "revision", "-m", "one", "--autogenerate", cwd=project)
    run_scaffold("--url", sqlite_url, "upgrade", "--plugin", "poser", cwd=project)
    current = run_scaffold("--url", sqlite_url, "current", cwd=project).stdout
    assert "(poser) (head)" in current
    assert revision_id(300) in versions(sqlite_url) or len(versions(sqlite_url)) == 1
    history = run_scaffold("--url", sqlite_url, "history", cwd=project).stdout
    assert revision_id(150) in history


def test_env_py_that_ignores_the_url_is_refused_before_migrating(
    tmp_path: Path, sqlite_url: str
) -> None:
    make_host(tmp_path / "host")
    env = tmp_path / "host/migrations/env.py"
    elsewhere = tmp_path / "elsewhere.db"
    env.write_text(
        env.read_text().replace(
            "config.get_section(config.config_ini_section, {})",
            f"{{'sqlalchemy.url': 'sqlite:///{elsewhere}'}}",
        )
    )
    result = run_scaffold("--url", sqlite_url, "upgrade", cwd=tmp_path / "host", check=2)
    assert "ignores the connection" in result.stderr and str(elsewhere) in result.stderr
    assert "alembic_version" not in tables(f"sqlite:///{elsewhere}")
    assert tables(sqlite_url) == set()


def test_password_is_never_printed(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host")
    result = run_scaffold(
        "-c",
        str(ini),
        "--url",
        "postgresql+psycopg://alice:s3cr3t@127.0.0.1:1/nodb",
        "upgrade",
        cwd=tmp_path,
        check=1,
    )
    assert "s3cr3t" not in result.stderr + result.stdout
    assert "alice:***@127.0.0.1:1/nodb" in result.stderr


def test_plain_alembic_sees_a_wired_plugin_and_unwire_restores_files(
    tmp_path: Path, sqlite_url: str
) -> None:
    ini = make_host(tmp_path / "host")
    env = tmp_path / "host/migrations/env.py"
    original = {ini: ini.read_bytes(), env: env.read_bytes()}
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    run_scaffold("--url", sqlite_url, "revision", "-m", "one", "--autogenerate", cwd=project)
    run_scaffold("wire", cwd=project)
    wired = {ini: ini.read_bytes(), env: env.read_bytes()}
    assert run_scaffold("wire", cwd=project).stdout.startswith("poser is already wired")
    assert {ini: ini.read_bytes(), env: env.read_bytes()} == wired

    plain_env = {"PYTHONPATH": str(project / "src")}
    heads = run_alembic("heads", cwd=tmp_path / "host", env=plain_env)
    assert "(poser) (head)" in heads.stdout, heads.stderr
    host = tmp_path / "host"
    upgrade = run_alembic("-x", "unused=1", "upgrade", "heads", cwd=host, env=plain_env)
    assert upgrade.returncode == 0, upgrade.stderr
    auto = run_alembic(
        "revision", "--autogenerate", "-m", "plain", "--head", "acme@head", cwd=host, env=plain_env
    )
    assert auto.returncode == 0, auto.stderr
    [plain] = (host / "migrations/versions").glob("*_plain.py")
    assert "drop_table" not in plain.read_text()
    plain.unlink()

    run_scaffold("unwire", "poser", cwd=project)
    assert {ini: ini.read_bytes(), env: env.read_bytes()} == original


def test_password_in_a_malformed_url_is_never_printed(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host")
    for url in ("alice:s3cr3t@127.0.0.1/db", "postgresql://alice:s3cr3t@127.0.0.1:port/db"):
        result = run_scaffold("-c", str(ini), "--url", url, "current", cwd=tmp_path, check=2)
        assert "s3cr3t" not in result.stderr + result.stdout
        assert "not a database URL" in result.stderr


def test_models_on_their_own_base_are_refused(tmp_path: Path, sqlite_url: str) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    models = project / "src/poser/models.py"
    models.write_text(
        models.read_text()
        .replace(
            "from acme.models import Base",
            "from sqlalchemy.orm import declarative_base\nBase = declarative_base()",
        )
        .replace('sa.ForeignKey("store.uuid"), ', "")
    )
    result = run_scaffold(
        "--url", sqlite_url, "revision", "-m", "x", "--autogenerate", cwd=project, check=2
    )
    assert "not on the MetaData the host's env.py compares" in result.stderr
    assert [p.name for p in (project / "src/poser/migrations").iterdir()] == ["__init__.py"]


def test_a_dependency_the_host_lacks_names_the_revision(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    (project / "src/poser/migrations/aaa111_root.py").write_text(
        'revision = "aaa111"\ndown_revision = None\nbranch_labels = ("poser",)\n'
        'depends_on = "rattail"\n\ndef upgrade():\n    pass\n\ndef downgrade():\n    pass\n'
    )
    for command in ("heads", "upgrade", "plugins"):
        result = run_scaffold(command, cwd=project, check=2)
        assert "revision aaa111" in result.stderr and "'rattail' in depends_on" in result.stderr


def test_env_py_reads_x_arguments_and_options_go_after_the_command(
    tmp_path: Path, sqlite_url: str
) -> None:
    ini = make_host(tmp_path / "host")
    env = tmp_path / "host/migrations/env.py"
    env.write_text(
        env.read_text().replace(
            "target_metadata = Base.metadata",
            "target_metadata = Base.metadata\n"
            "print('tenant', context.get_x_argument(as_dictionary=True).get('tenant'))",
        )
    )
    out = run_scaffold(
        "upgrade", "-c", str(ini), "--url", sqlite_url, "-x", "tenant=blue", cwd=tmp_path
    )
    assert "tenant blue" in out.stdout


def test_unwire_works_when_the_wired_plugin_is_no_longer_installed(
    tmp_path: Path, sqlite_url: str
) -> None:
    ini = make_host(tmp_path / "host")
    text = ini.read_text().replace("path_separator = os", "path_separator = space")
    ini.write_text(text)
    env = tmp_path / "host/migrations/env.py"
    original = (ini.read_bytes(), env.read_bytes())
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    run_scaffold("--url", sqlite_url, "revision", "-m", "one", "--autogenerate", cwd=project)
    run_scaffold("wire", cwd=project)
    assert "poser:migrations" in ini.read_text()
    # from the host folder, where the plugin is not importable
    heads = run_scaffold("heads", cwd=tmp_path / "host", check=2)
    assert "poser" in heads.stderr and "scaffold unwire poser" in heads.stderr
    run_scaffold("unwire", "poser", cwd=tmp_path / "host")
    assert (ini.read_bytes(), env.read_bytes()) == original
