"""The plugin template: rendered by copier (without --trust) and cookiecutter alike, and correct.

Renders are real; what a rendered plugin declares is checked in a subprocess, because its
models register tables on the host's MetaData, which is shared by the whole process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import keyword
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from cookiecutter.main import cookiecutter
from copier import run_copy

from plugin_scaffold import resources
from plugin_scaffold.errors import UsageError
from plugin_scaffold.plugin.template import answer_error, render_plugin, validate_plugin_name

ROOT = resources.template_root()
COPIER = Path(sys.executable).with_name("copier")
ANSWERS_FILE = ".copier-answers.yml"

BAD_NAMES = {
    "my-plugin": "'my-plugin' is not a lowercase Python identifier (lowercase letters, digits",
    "Class": "'Class' is not a lowercase Python identifier",
    "1abc": "'1abc' is not a lowercase Python identifier",
    "": "a plugin name is required",
    "class": "'class' is a Python keyword",
    "core": "'core' is the host's branch label (host_branch)",
}

# Answer sets covering each shape of the starter table.
SIDE_TABLE = {"plugin_name": "media_tags"}
STANDALONE = {"plugin_name": "notes", "extends": ""}
RATTAIL_LIKE = {
    "plugin_name": "loyalty",
    "host_base": "fakehost.models:Base",
    "host_alembic": "fakehost:migrations",
    "host_requirement": "fakehost",
    "extends": "store.uuid",
    "extends_type": "sa.String(length=32)",
}

# A SQLModel host (SQLMODEL_HOST_MODELS), as full-stack-fastapi-template's app/models.py.
SQLMODEL_LIKE = {
    "plugin_name": "badges",
    "host_base": "fakeshop.models:SQLModel",
    "host_alembic": "fakeshop:alembic",
    "host_requirement": "fakeshop",
    "extends": "item.id",
    "extends_type": "sa.Uuid()",
}
SQLMODEL_HOST_MODELS = """
import uuid

from sqlmodel import Field, SQLModel


class Item(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    title: str = Field(max_length=255)
"""

# A host whose `store` table has Rattail's string keys, for the RATTAIL_LIKE renders.
FAKE_HOST_MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base(metadata=sa.MetaData(naming_convention={
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}))


class Store(Base):
    __tablename__ = "store"
    uuid = sa.Column(sa.String(length=32), primary_key=True)
    name = sa.Column(sa.String(length=100))
"""

# Runs the initial revision on a database holding the host's tables, then compares the
# plugin's models with what it created (types and server defaults included).
AGREEMENT_SCRIPT = """
import importlib, importlib.util, sys, tomllib
from pathlib import Path
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations

project, url = Path(sys.argv[1]), sys.argv[2]
settings = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["plugin-scaffold"]
module, attribute = settings["host-base"].split(":")
Base = getattr(importlib.import_module(module), attribute)
host_tables = list(Base.metadata.sorted_tables)
sys.path.insert(0, str(project / "src"))
models = importlib.import_module(settings["plugin"] + ".models")
prefix = models.TABLE_PREFIX + "__"
(path,) = (project / "src" / settings["plugin"] / "migrations").glob("*_initial.py")
spec = importlib.util.spec_from_file_location("initial", path)
initial = importlib.util.module_from_spec(spec)
spec.loader.exec_module(initial)

def plugin_only(name, type_):
    return type_ != "table" or name.startswith(prefix)

engine = sa.create_engine(url)
with engine.begin() as conn:
    Base.metadata.create_all(conn, tables=host_tables)
    with Operations.context(MigrationContext.configure(conn)):
        initial.upgrade()
with engine.connect() as conn:
    context = MigrationContext.configure(conn, opts={
        "compare_type": True,
        "compare_server_default": True,
        "include_name": lambda name, type_, parent: plugin_only(name, type_),
        "include_object": lambda obj, name, type_, reflected, other: plugin_only(name, type_),
    })
    diffs = compare_metadata(context, Base.metadata)
    created = sorted(n for n in sa.inspect(conn).get_table_names() if n.startswith(prefix))
print(repr(diffs))
print(repr(created))
"""


# -- helpers -----------------------------------------------------------------------------------


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with its text."""
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def copier_render(
    source: Path, dest: Path, answers: Mapping[str, str], vcs_ref: str = "HEAD"
) -> Path:
    run_copy(
        str(source),
        dest,
        data=dict(answers),
        defaults=True,
        unsafe=False,
        quiet=True,
        vcs_ref=vcs_ref,
    )
    return dest


def cookiecutter_render(source: Path, out: Path, answers: Mapping[str, str]) -> Path:
    return Path(
        cookiecutter(
            str(source / "template"),
            no_input=True,
            extra_context=dict(answers),
            output_dir=str(out),
            default_config=True,
        )
    )


def answers_in(project: Path) -> dict[str, Any]:
    data = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def import_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"rendered_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def initial_revision_of(project: Path, plugin: str) -> Path:
    (path,) = (project / "src" / plugin / "migrations").glob("*_initial.py")
    return path


def agreement(project: Path, database: Path, *pythonpath: Path) -> tuple[str, str]:
    """(autogenerate's diffs, plugin tables created) for the rendered ``project``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in pythonpath)}
    result = subprocess.run(
        [sys.executable, "-c", AGREEMENT_SCRIPT, str(project), f"sqlite:///{database}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    diffs, created = result.stdout.strip().splitlines()[-2:]
    return diffs, created


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's files outside git (as in the wheel's _data): copier reads them directly."""
    folder = tmp_path_factory.mktemp("template-source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.db")
    shutil.copy2(ROOT / "copier.yml", folder / "copier.yml")
    shutil.copytree(ROOT / "template", folder / "template", ignore=ignore)
    shutil.copytree(ROOT / "examples", folder / "examples", ignore=ignore)
    return folder


@pytest.fixture(autouse=True)
def _cookiecutter_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cookiecutter writes replay files under ~; keep them out of the real home."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def host_package(tmp_path_factory: pytest.TempPathFactory, name: str, models: str) -> Path:
    """A folder holding the package ``name`` whose ``models.py`` is ``models``."""
    folder = tmp_path_factory.mktemp(name)
    package = folder / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(models)
    return folder


@pytest.fixture(scope="module")
def fake_host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return host_package(tmp_path_factory, "fakehost", FAKE_HOST_MODELS)


@pytest.fixture(scope="module")
def fake_sqlmodel_host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return host_package(tmp_path_factory, "fakeshop", SQLMODEL_HOST_MODELS)


@pytest.fixture(scope="module")
def git_source(tmp_path_factory: pytest.TempPathFactory, source: Path) -> Iterator[Path]:
    """A git repository holding the working tree's template files, committed."""
    repo = tmp_path_factory.mktemp("git-source")
    shutil.copytree(source, repo, dirs_exist_ok=True)
    (repo / "pyproject.toml").write_text('[project]\nname = "plugin-scaffold"\n')
    (repo / "src" / "plugin_scaffold").mkdir(parents=True)
    (repo / "src" / "plugin_scaffold" / "__init__.py").write_text("")
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "template"], check=True)
    yield repo


# -- rendering ---------------------------------------------------------------------------------


def test_copier_cli_renders_a_git_source_at_head_without_trust(
    git_source: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "media_tags"
    result = subprocess.run(
        [
            str(COPIER),
            "copy",
            "--vcs-ref",
            "HEAD",
            "--defaults",
            "--quiet",
            "-d",
            "plugin_name=media_tags",
            str(git_source),
            str(dest),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    files = set(tree(dest))
    revision = hashlib.sha1(b"plugin-scaffold:media_tags").hexdigest()[:12]
    assert files == {
        ANSWERS_FILE,
        ".github/workflows/migrations.yml",
        ".gitignore",
        ".pre-commit-config.yaml",
        "README.md",
        "noxfile.py",
        "pyproject.toml",
        "src/media_tags/__init__.py",
        "src/media_tags/models.py",
        "src/media_tags/migrations/__init__.py",
        f"src/media_tags/migrations/{revision}_initial.py",
        "tests/test_migrations.py",
    }
    answers = answers_in(dest)
    assert answers["_commit"] and answers["_src_path"] == str(git_source)
    # Defaults point at the source folder that stays, not at copier's temporary clone.
    assert answers["host_requirement"] == (
        f"examplehost @ {git_source.as_uri()}/examples/examplehost"
    )
    assert answers["scaffold_requirement"] == f"plugin-scaffold @ {git_source.as_uri()}"
    assert "cookiecutter" not in answers and "initial_revision" not in answers


def test_a_bare_git_source_is_installed_from_the_commit_rendered(
    git_source: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "plugin-scaffold.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(git_source), str(bare)], check=True)
    commit = subprocess.run(
        ["git", "-C", str(bare), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    # (copier cannot render a bare repository at "HEAD": it looks for uncommitted changes)
    answers = answers_in(copier_render(bare, tmp_path / "p", SIDE_TABLE, vcs_ref=commit))
    location = f"git+{bare.as_uri()}@{commit}"
    assert answers["host_requirement"] == (
        f"examplehost @ {location}#subdirectory=examples/examplehost"
    )
    assert answers["scaffold_requirement"] == f"plugin-scaffold @ {location}"


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("gh:org/ps", "git+https://github.com/org/ps@abc"),
        ("gl:org/ps", "git+https://gitlab.com/org/ps@abc"),
        ("git@github.com:org/ps.git", "git+ssh://git@github.com/org/ps.git@abc"),
        ("https://example.com/ps.git", "git+https://example.com/ps.git@abc"),
        ("git+https://example.com/ps", "git+https://example.com/ps@abc"),
    ],
)
def test_remote_sources_are_installed_from_the_commit_rendered(src: str, expected: str) -> None:
    from jinja2.sandbox import SandboxedEnvironment

    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    env = SandboxedEnvironment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])
    location = env.from_string(questions["template_location"]["default"]).render(
        _src_path=src, _copier_conf={"vcs_ref_hash": "abc"}
    )
    assert location == expected


def test_render_plugin_gives_the_tree_copier_gives(git_source: Path, tmp_path: Path) -> None:
    answers = {**SIDE_TABLE, "host_requirement": "examplehost", "scaffold_requirement": "ps"}
    by_copier = copier_render(git_source, tmp_path / "copier", answers)
    by_scaffold = render_plugin(tmp_path / "scaffold", answers)

    expected, rendered = tree(by_copier), tree(by_scaffold)
    assert rendered.keys() == expected.keys()
    for name in expected.keys() - {ANSWERS_FILE}:
        assert rendered[name] == expected[name], name
    drop = {"_commit", "_src_path"}
    assert {k: v for k, v in answers_in(by_scaffold).items() if k not in drop} == {
        k: v for k, v in answers_in(by_copier).items() if k not in drop
    }
    assert answers_in(by_scaffold)["_src_path"] == str(ROOT)


def test_render_plugin_installs_this_plugin_scaffold_by_default(tmp_path: Path) -> None:
    project = render_plugin(tmp_path / "p", {"plugin_name": "media_tags"})
    requirement = resources.scaffold_requirement()
    assert answers_in(project)["scaffold_requirement"] == requirement
    assert json.dumps(requirement) in (project / "noxfile.py").read_text()
    assert requirement == f"plugin-scaffold @ {ROOT.as_uri()}"  # tests run from a checkout


@pytest.mark.parametrize(
    "answers",
    [
        SIDE_TABLE,
        STANDALONE,
        RATTAIL_LIKE,
        {**SIDE_TABLE, "host_requirement": "h", "host_branch": "x"},
        {
            **SIDE_TABLE,
            "host_alembic": "sitehost.db:alembic_config",
            "host_config": str(resources.example_host_dir() / "alembic.ini"),
            "host_app": "sitehost:create_app",
            "extends_type": "sqlalchemy.Integer()",
        },
        # constraint names over 63 bytes, shortened alike
        {**SIDE_TABLE, "table_prefix": "t" * 47},
        SQLMODEL_LIKE,
        {**SQLMODEL_LIKE, "extends": ""},
        {**SIDE_TABLE, "host_orm": "sqlmodel", "extends_type": "sa.String(length=32)"},
        # a host that is not installed: its folder, and no host requirement
        {**SIDE_TABLE, "host_path": str(resources.example_host_dir()), "host_requirement": ""},
    ],
    ids=[
        "side-table",
        "standalone",
        "rattail-like",
        "explicit",
        "host-kinds",
        "long-names",
        "sqlmodel",
        "sqlmodel-standalone",
        "sqlmodel-string-key",
        "host-path",
    ],
)
def test_cookiecutter_renders_the_same_tree_but_the_answers_file(
    source: Path, tmp_path: Path, answers: dict[str, str]
) -> None:
    by_copier = tree(copier_render(source, tmp_path / "copier", answers))
    by_cookiecutter = tree(cookiecutter_render(source, tmp_path / "cookiecutter", answers))

    assert set(by_copier) - set(by_cookiecutter) == {ANSWERS_FILE}
    del by_copier[ANSWERS_FILE]
    for name in by_copier:
        assert by_cookiecutter[name] == by_copier[name], name


def test_cookiecutter_json_asks_what_copier_asks(source: Path) -> None:
    questions = yaml.safe_load((source / "copier.yml").read_text())
    asked = [
        k for k, v in questions.items() if not k.startswith("_") and v.get("when") is not False
    ]
    context = json.loads((source / "template" / "cookiecutter.json").read_text())
    assert [k for k in context if not k.startswith("_")] == asked
    assert set(context["__prompts__"]) == set(asked)
    assert all(questions[name].get("help") for name in questions if not name.startswith("_"))


def test_wheel_layout_defaults_to_plugin_scaffold_by_name(source: Path, tmp_path: Path) -> None:
    project = copier_render(source, tmp_path / "p", SIDE_TABLE)
    answers = answers_in(project)
    assert answers["scaffold_requirement"] == "plugin-scaffold"
    assert answers["host_requirement"] == f"examplehost @ {source.as_uri()}/examples/examplehost"


def test_render_plugin_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(UsageError, match="already exists and is not empty"):
        render_plugin(tmp_path, SIDE_TABLE)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
    assert (tmp_path / "mine.txt").read_text() == "keep me"


# -- answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BAD_NAMES))
def test_bad_plugin_names_are_refused_everywhere(name: str, source: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as python_side:
        validate_plugin_name(name)
    assert str(python_side.value).startswith(f"plugin_name: {BAD_NAMES[name]}")
    assert "\n" not in str(python_side.value)

    with pytest.raises(UsageError, match=f"^plugin_name: {BAD_NAMES[name][:20]}"):
        render_plugin(tmp_path / "scaffold", {"plugin_name": name})

    # copier's own validators say the same, whichever question sees the clash first.
    with pytest.raises(ValueError, match="Validation error for question") as copier_side:
        copier_render(source, tmp_path / "copier", {"plugin_name": name})
    assert BAD_NAMES[name].split("(")[0].strip(" '") in str(copier_side.value) or (
        name == "core" and "'core' is also the plugin's name" in str(copier_side.value)
    )
    assert not (tmp_path / "copier").exists() and not (tmp_path / "scaffold").exists()


def test_scaffold_new_exits_2_on_a_bad_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from plugin_scaffold.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["new", "my-plugin"]) == 2
    assert (
        "plugin_name: 'my-plugin' is not a lowercase Python identifier" in capsys.readouterr().err
    )
    assert not list(tmp_path.iterdir())


def test_plugin_name_rule() -> None:
    for word in keyword.kwlist:
        assert answer_error("plugin_name", {"plugin_name": word}), word
    for name in ("match", "case", "type", "media_tags", "v2", "a1_b2"):
        assert answer_error("plugin_name", {"plugin_name": name}) == "", name
    for name in ("a__b", "a_", "_a", "é", "examplehost", "alembic"):
        assert answer_error("plugin_name", {"plugin_name": name}), name
    validate_plugin_name("core", host_branch="rattail")  # only the host's own label clashes
    with pytest.raises(UsageError, match="host's branch label"):
        validate_plugin_name("rattail", host_branch="rattail")


@pytest.mark.parametrize(
    ("question", "answer", "message"),
    [
        ("host_base", "examplehost.models", "not an import path of the form module.path:Attribute"),
        ("host_alembic", "migrations", "'migrations' does not exist (a relative path is taken"),
        ("host_alembic", "", "host_alembic is required"),
        ("host_app", "create_app", "not of the form module:factory or module:app"),
        ("host_config", "conf.ini", "'conf.ini' does not exist"),
        ("extends", "core__media_entries", "not of the form table.column"),
        ("extends_type", "Integer", "not an SQLAlchemy type expression"),
        ("table_prefix", "core", "is the prefix of the host's table core__media_entries"),
        ("host_branch", "media_tags", "also the plugin's name"),
        ("no_such_question", "x", "no such template question"),
    ],
)
def test_other_answers_are_checked(question: str, answer: str, message: str) -> None:
    answers = {"plugin_name": "media_tags", "extends": "core__media_entries.id", question: answer}
    assert message in answer_error(question, answers)


def test_good_answers_pass() -> None:
    for question, answer in [
        ("host_base", "rattail.db.model:Base"),
        ("host_base", "flaskbb.extensions:db.Model"),
        ("host_alembic", str(resources.example_host_dir() / "alembic.ini")),
        ("host_alembic", str(resources.example_host_dir())),
        ("host_alembic", "mediagoblin.db:migrations"),
        ("host_alembic", "mediagoblin.db.open:build_alembic_config"),
        ("host_orm", "sqlmodel"),
        ("host_orm", "sqlalchemy"),
        ("host_path", ""),
        ("host_path", str(resources.example_host_dir())),
        ("host_app", ""),
        ("host_app", "flaskbb:create_app"),
        ("host_app", "myapp.wsgi:app"),
        ("host_app", "myapp:create_app('testing')"),
        ("host_config", ""),
        ("extends_type", "sqlalchemy.String(32)"),
        ("extends_type", "sa.ARRAY(sa.Integer())"),
        ("extends", ""),
        ("extends_type", "sa.String(length=32)"),
    ]:
        assert answer_error(question, {"plugin_name": "p", question: answer}) == "", answer


# -- the rendered plugin -----------------------------------------------------------------------


def test_initial_revision_is_deterministic_and_labelled(source: Path, tmp_path: Path) -> None:
    first = copier_render(source, tmp_path / "a", SIDE_TABLE)
    again = copier_render(source, tmp_path / "b", {**SIDE_TABLE, "extends": ""})
    expected = hashlib.sha1(b"plugin-scaffold:media_tags").hexdigest()[:12]
    assert initial_revision_of(first, "media_tags").name == f"{expected}_initial.py"
    assert initial_revision_of(again, "media_tags").name == f"{expected}_initial.py"

    revision = import_file(initial_revision_of(first, "media_tags"))
    assert revision.revision == expected
    assert revision.down_revision is None
    assert revision.branch_labels == ("media_tags",)
    assert revision.depends_on == "core"


def test_side_table_extends_the_host_table_and_agrees_with_its_revision(
    source: Path, tmp_path: Path
) -> None:
    project = copier_render(source, tmp_path / "p", SIDE_TABLE)
    models = (project / "src" / "media_tags" / "models.py").read_text()
    assert '__tablename__ = "media_tags__media_security"' in models
    assert '"core__media_entries.id",\n            ondelete="CASCADE",' in models
    # the models name the constraints as the initial revision does, convention or not
    # 64 characters as the host's naming convention writes it: shortened as SQLAlchemy does
    assert 'name=conv("fk_media_tags__media_security_media_entry_id_core__medi_7c3f")' in models
    assert 'name=conv("pk_media_tags__media_security")' in models
    assert "MODELS = [MediaSecurity]" in models
    revision = initial_revision_of(project, "media_tags").read_text()
    assert 'op.f("fk_media_tags__media_security_media_entry_id_core__medi_7c3f")' in revision
    assert 'op.f("pk_media_tags__media_security")' in revision

    assert agreement(project, tmp_path / "db.sqlite") == ("[]", "['media_tags__media_security']")


def test_empty_extends_gives_a_standalone_table(source: Path, tmp_path: Path) -> None:
    project = copier_render(source, tmp_path / "p", STANDALONE)
    models = (project / "src" / "notes" / "models.py").read_text()
    assert '__tablename__ = "notes__items"' in models
    assert "ForeignKey" not in models
    assert "ForeignKey" not in initial_revision_of(project, "notes").read_text()

    assert agreement(project, tmp_path / "db.sqlite") == ("[]", "['notes__items']")


def test_string_keyed_host_table_gets_a_matching_side_table(
    source: Path, tmp_path: Path, fake_host: Path
) -> None:
    project = copier_render(source, tmp_path / "p", RATTAIL_LIKE)
    models = (project / "src" / "loyalty" / "models.py").read_text()
    assert "from fakehost.models import Base" in models
    assert '__tablename__ = "loyalty__store_extra"' in models
    assert "    store_uuid = sa.Column(\n        sa.String(length=32),\n" in models
    assert '"store.uuid",\n            ondelete="CASCADE",' in models
    assert 'name=conv("fk_loyalty__store_extra_store_uuid_store")' in models
    revision = initial_revision_of(project, "loyalty").read_text()
    assert 'op.f("fk_loyalty__store_extra_store_uuid_store")' in revision

    assert agreement(project, tmp_path / "db.sqlite", fake_host) == (
        "[]",
        "['loyalty__store_extra']",
    )


@pytest.mark.parametrize("extends", ["item.id", ""], ids=["side-table", "standalone"])
def test_sqlmodel_host_gets_table_models_that_agree_with_their_revision(
    source: Path, tmp_path: Path, fake_sqlmodel_host: Path, extends: str
) -> None:
    """host_base naming SQLModel: SQLModel table models on its metadata, and an initial
    revision writing their str columns as SQLModel's autogenerate does (AutoString)."""
    project = copier_render(source, tmp_path / "p", {**SQLMODEL_LIKE, "extends": extends})
    models = (project / "src" / "badges" / "models.py").read_text()
    assert "from fakeshop.models import SQLModel\n" in models
    table = "badges__item_extra" if extends else "badges__items"
    name = "ItemExtra" if extends else "Item"
    assert f"class {name}(SQLModel, table=True):" in models
    assert f"MODELS = [{name}]" in models
    revision = initial_revision_of(project, "badges").read_text()
    assert "import sqlmodel.sql.sqltypes\n" in revision
    assert "sqlmodel.sql.sqltypes.AutoString(length=" in revision
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert "sqlmodel>=0.0.14" in dependencies["dependencies"]

    assert agreement(project, tmp_path / "db.sqlite", fake_sqlmodel_host) == ("[]", f"['{table}']")


def test_generated_project_settings(source: Path, tmp_path: Path) -> None:
    project = copier_render(source, tmp_path / "p", SIDE_TABLE)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "media_tags"
    assert pyproject["project"]["dependencies"] == ["sqlalchemy>=1.4.46", "alembic>=1.12"]
    assert pyproject["project"]["entry-points"]["plugin_scaffold.plugins"] == {
        "media_tags": "media_tags"
    }
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/media_tags"]
    assert pyproject["tool"]["plugin-scaffold"] == {
        "plugin": "media_tags",
        "host-alembic": "examplehost:migrations",
        "host-base": "examplehost.models:Base",
        "url": "sqlite:///dev.db",
    }
    noxfile = (project / "noxfile.py").read_text()
    assert 'os.environ.get("PLUGIN_SCAFFOLD_REQUIREMENT")' in noxfile
    assert 'nox.param("postgresql", id="postgresql", tags=["postgresql"])' in noxfile
    assert "PLUGIN_SCAFFOLD_REQUIREMENT" in (project / "README.md").read_text()
    assert {"dev.db", ".nox/"} <= set((project / ".gitignore").read_text().split())
    compile((project / "noxfile.py").read_text(), "noxfile.py", "exec")
    compile((project / "tests" / "test_migrations.py").read_text(), "test_migrations.py", "exec")


# -- resources ---------------------------------------------------------------------------------


def test_template_root_holds_the_template_and_the_example_host() -> None:
    assert (ROOT / "copier.yml").is_file()
    assert (ROOT / "template" / "cookiecutter.json").is_file()
    assert (resources.example_host_dir() / "alembic.ini").is_file()


# What a rendered plugin pip-installs to get plugin-scaffold, read from a really installed
# distribution: tests/test_installed_distribution.py.
