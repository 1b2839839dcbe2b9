"""Every rule on the template's answers, through `scaffold new` and through copier.

A refused answer is exit code 2 and one line naming the question (copier: one validation
error naming it), and nothing is written. Rules that need the host imported, or Python's own
parser, are applied by `scaffold new` only: copier cannot without --trust (docs/template.md).
"""

from __future__ import annotations

import re
import shutil
import sys
import tomllib
import warnings
from collections.abc import Mapping
from pathlib import Path

import pytest
from copier import run_copy

from conftest import run_scaffold
from plugin_scaffold import resources
from plugin_scaffold.plugin.template import (
    answer_error,
    build_type,
    sqlalchemy_type_names,
    type_expression,
    type_expression_error,
)

ROOT = resources.template_root()
EXAMPLE_INI = resources.example_host_dir() / "alembic.ini"
LOWERCASE_IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
INJECTION = "sa.Integer() if __import__('os').system('touch pwned') else sa.Integer()"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's files outside git (as in the wheel's _data): copier reads them directly."""
    folder = tmp_path_factory.mktemp("template-source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.db")
    shutil.copy2(ROOT / "copier.yml", folder / "copier.yml")
    shutil.copytree(ROOT / "template", folder / "template", ignore=ignore)
    shutil.copytree(ROOT / "examples", folder / "examples", ignore=ignore)
    return folder


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    """Files and folders that answers below name, as {placeholder: path}."""
    (tmp_path / "empty-dir").mkdir()
    (tmp_path / "empty-dir" / "notes.txt").write_text("not an Alembic folder\n")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "pyproject.toml").write_text('[project]\nname = "plain"\n')
    (tmp_path / "host.ini").write_text("[alembic]\nscript_location = migrations\n")
    (tmp_path / "bare").mkdir()
    return {"{tmp}": str(tmp_path), "{example_ini}": str(EXAMPLE_INI)}


def fill(answers: Mapping[str, str], places: Mapping[str, str]) -> dict[str, str]:
    filled = {}
    for key, value in answers.items():
        for placeholder, path in places.items():
            value = value.replace(placeholder, path)
        filled[key] = value
    return filled


def scaffold_new(
    tmp_path: Path, answers: Mapping[str, str], *, check: int = 0, env: dict[str, str] | None = None
) -> tuple[Path, str]:
    """``scaffold new`` with ``answers`` in a subprocess: (its folder, its stderr)."""
    dest = tmp_path / "by-scaffold"
    data = [a for k, v in answers.items() if k != "plugin_name" for a in ("-d", f"{k}={v}")]
    result = run_scaffold(
        "new", answers["plugin_name"], str(dest), *data, cwd=tmp_path, env=env, check=check
    )
    return dest, result.stderr


def copier_new(source: Path, tmp_path: Path, answers: Mapping[str, str]) -> Path:
    dest = tmp_path / "by-copier"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_copy(str(source), dest, data=dict(answers), defaults=True, unsafe=False, quiet=True)
    return dest


def assert_scaffold_refuses(
    tmp_path: Path,
    answers: Mapping[str, str],
    question: str,
    message: str,
    env: dict[str, str] | None = None,
) -> None:
    dest, stderr = scaffold_new(tmp_path, answers, check=2, env=env)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"scaffold: error: {question}: "), lines[0]
    assert message in lines[0], lines[0]
    assert not dest.exists()


def assert_copier_refuses(
    source: Path, tmp_path: Path, answers: Mapping[str, str], question: str, message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        copier_new(source, tmp_path, answers)
    text = str(refused.value).strip()
    assert "\n" not in text, text
    assert text.startswith(f"Validation error for question '{question}': "), text
    assert message in text, text
    assert not (tmp_path / "by-copier").exists()


# (answers, question named, part of the message): refused by scaffold new AND by copier.
BOTH = {
    "stdlib-json": ({"plugin_name": "json"}, "plugin_name", "shadow the standard library's json"),
    "stdlib-os": ({"plugin_name": "os"}, "plugin_name", "shadow the standard library's os module"),
    "long-plugin-name": (
        {"plugin_name": "p" * 60},
        "plugin_name",
        f"the table name '{'p' * 60}__media_security' ",
    ),
    "long-table-prefix": (
        {"plugin_name": "poser", "table_prefix": "t" * 50},
        "table_prefix",
        f"the table name '{'t' * 50}__media_security' is 66 bytes, over PostgreSQL's limit of 63",
    ),
    "long-key-column": (
        {"plugin_name": "poser", "extends": "store." + "c" * 60},
        "extends",
        f"the side table's key column 'store_{'c' * 60}' is 66 bytes, over PostgreSQL's limit",
    ),
    "code-as-extends_type": (
        {"plugin_name": "poser", "extends_type": INJECTION},
        "extends_type",
        "is not an SQLAlchemy type expression such as sa.Integer()",
    ),
    "name-as-extends_type": (
        {"plugin_name": "poser", "extends_type": "Integer"},
        "extends_type",
        "is not an SQLAlchemy type expression",
    ),
    "unknown-type": (
        {"plugin_name": "poser", "extends_type": "sa.Thing(length=3)"},
        "extends_type",
        "Thing is not an SQLAlchemy type",
    ),
    "dunder-attribute": (
        {"plugin_name": "poser", "extends_type": "sa.__loader__"},
        "extends_type",
        "__loader__ is not an SQLAlchemy type",
    ),
    "variable-argument": (
        {"plugin_name": "poser", "extends_type": "sa.String(length=n)"},
        "extends_type",
        "is not an SQLAlchemy type expression",
    ),
    "missing-ini": (
        {"plugin_name": "poser", "host_alembic": "{tmp}/nowhere/alembic.ini"},
        "host_alembic",
        "nowhere/alembic.ini' does not exist",
    ),
    "missing-relative-folder": (
        {"plugin_name": "poser", "host_alembic": "../no/migrations"},
        "host_alembic",
        "'../no/migrations' does not exist (a relative path is taken from the plugin's folder)",
    ),
    "relative-to-the-shell": (
        # host.ini is beside the plugin's folder, not in it
        {"plugin_name": "poser", "host_alembic": "host.ini"},
        "host_alembic",
        "'host.ini' does not exist (a relative path is taken from the plugin's folder)",
    ),
    "folder-without-alembic": (
        {"plugin_name": "poser", "host_alembic": "{tmp}/empty-dir"},
        "host_alembic",
        "holds neither env.py nor alembic.ini",
    ),
    "missing-pyproject": (
        {"plugin_name": "poser", "host_alembic": "{tmp}/no/pyproject.toml"},
        "host_alembic",
        "does not exist",
    ),
    "host_app-without-attribute": (
        {"plugin_name": "poser", "host_app": "myapp"},
        "host_app",
        "'myapp' is not of the form module:factory or module:app",
    ),
    "host_app-path": (
        {"plugin_name": "poser", "host_app": "my-app:create_app"},
        "host_app",
        "is not of the form module:factory or module:app",
    ),
    "host_config-missing": (
        {"plugin_name": "poser", "host_alembic": "hostpkg.db:config", "host_config": "site.ini"},
        "host_config",
        "'site.ini' does not exist (a relative path is taken from the plugin's folder)",
    ),
    "host_orm-unknown": (
        {"plugin_name": "poser", "host_orm": "django"},
        "host_orm",
        "'django' is neither sqlalchemy nor sqlmodel",
    ),
    "host_path-missing": (
        {"plugin_name": "poser", "host_path": "../backend"},
        "host_path",
        "'../backend' is not a folder holding the host's code (a relative path is taken from",
    ),
    "host_path-empty-folder": (
        {"plugin_name": "poser", "host_path": "{tmp}/bare"},
        "host_path",
        "bare' is not a folder holding the host's code",
    ),
    "no-host-requirement-nor-host_path": (
        {"plugin_name": "poser", "host_requirement": ""},
        "host_requirement",
        "a host requirement is required (or a host_path, for a host that is not installed)",
    ),
    "host_config-for-an-ini": (
        {"plugin_name": "poser", "host_alembic": "{example_ini}", "host_config": "{example_ini}"},
        "host_config",
        "only a module:function host_alembic is given the host's config file",
    ),
}

# Refused by scaffold new only: copier cannot import the host or parse Python without --trust.
SCAFFOLD_ONLY = {
    "unbalanced-type": (
        {"plugin_name": "poser", "extends_type": "sa.Integer())"},
        "extends_type",
        "is not an SQLAlchemy type expression",
    ),
    "type-arguments-refused": (
        {"plugin_name": "poser", "extends_type": "sa.ARRAY()"},
        "extends_type",
        "sa.ARRAY() fails: TypeError:",
    ),
    "no-such-table": (
        {"plugin_name": "poser", "extends": "core__media.id"},
        "extends",
        "the host has no table 'core__media' (in examplehost.models:Base)",
    ),
    "no-such-column": (
        {"plugin_name": "poser", "extends": "core__media_entries.uuid"},
        "extends",
        "the host's table core__media_entries has no column 'uuid' (its columns: id, ",
    ),
    "not-a-key": (
        {"plugin_name": "poser", "extends": "core__media_entries.title"},
        "extends",
        "core__media_entries.title is neither the primary key of core__media_entries nor unique",
    ),
    "type-mismatch": (
        {"plugin_name": "poser", "extends_type": "sa.String(length=32)"},
        "extends_type",
        "sa.String(length=32) does not match the host's key core__media_entries.id, which is "
        "sa.Integer()",
    ),
    "not-a-sqlmodel-base": (
        {"plugin_name": "poser", "host_orm": "sqlmodel"},
        "host_orm",
        "examplehost.models:Base is not a SQLModel class: answer host_orm=sqlalchemy",
    ),
    "no-such-base": (
        {"plugin_name": "poser", "host_base": "examplehost.models:Model"},
        "host_base",
        "'examplehost.models:Model': examplehost.models has no 'Model'",
    ),
    "no-such-resource": (
        {"plugin_name": "poser", "host_alembic": "examplehost:alembic"},
        "host_alembic",
        "'examplehost:alembic': examplehost has neither a folder 'alembic' (package:path",
    ),
    "pyproject-without-tool-alembic": (
        {"plugin_name": "poser", "host_alembic": "{tmp}/plain/pyproject.toml"},
        "host_alembic",
        "pyproject.toml has no [tool.alembic] table",
    ),
    "host_config-for-a-script-directory": (
        {
            "plugin_name": "poser",
            "host_alembic": "examplehost:migrations",
            "host_config": "{example_ini}",
        },
        "host_config",
        "'examplehost:migrations' is a script directory, which is given no config file",
    ),
}


@pytest.mark.parametrize("case", list(BOTH))
def test_scaffold_new_and_copier_refuse(
    case: str, source: Path, tmp_path: Path, places: dict[str, str]
) -> None:
    answers, question, message = BOTH[case]
    answers = fill(answers, places)
    assert_scaffold_refuses(tmp_path, answers, question, message)
    assert_copier_refuses(source, tmp_path, answers, question, message)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("case", list(SCAFFOLD_ONLY))
def test_scaffold_new_refuses(case: str, tmp_path: Path, places: dict[str, str]) -> None:
    answers, question, message = SCAFFOLD_ONLY[case]
    assert_scaffold_refuses(tmp_path, fill(answers, places), question, message)


def test_host_kinds_are_accepted_and_recorded(source: Path, tmp_path: Path) -> None:
    """pyproject.toml with [tool.alembic], Flask-Migrate's folder, a config factory."""
    host = tmp_path / "host"
    (host / "migrations").mkdir(parents=True)
    (host / "migrations" / "alembic.ini").write_text("[alembic]\n")
    (host / "migrations" / "env.py").write_text("")
    (host / "pyproject.toml").write_text('[tool.alembic]\nscript_location = "migrations"\n')
    (host / "site.ini").write_text("[app]\n")
    kinds = {
        "pyproject": ({"host_alembic": "../host/pyproject.toml"}, {}),
        "flask-migrate": (
            {"host_alembic": "../host/migrations", "host_app": "flaskhost:create_app"},
            {"host-app": "flaskhost:create_app"},
        ),
        "factory": (
            {"host_alembic": "sitehost.db:alembic_config", "host_config": "../host/site.ini"},
            {"host-config": "../host/site.ini"},
        ),
    }
    for kind, (answers, recorded) in kinds.items():
        workdir = tmp_path / kind
        workdir.mkdir()
        # both render beside ../host: a relative path is taken from the plugin's folder
        shutil.copytree(host, workdir / "host")
        by_copier = copier_new(source, workdir, {"plugin_name": "poser", **answers})
        by_scaffold, _ = scaffold_new(workdir, {"plugin_name": "poser", **answers})
        for project in (by_copier, by_scaffold):
            settings = tomllib.loads((project / "pyproject.toml").read_text())
            table = settings["tool"]["plugin-scaffold"]
            assert table["host-alembic"] == answers["host_alembic"], kind
            for key in ("host-app", "host-config"):
                assert table.get(key) == recorded.get(key), (kind, key)


def test_the_longest_names_accepted_fit_every_database(source: Path, tmp_path: Path) -> None:
    prefix = "t" * (63 - len("__store_extra"))
    answers = {
        "plugin_name": "poser",
        "table_prefix": prefix,
        "extends": "store.uuid",
        "extends_type": "sa.String(length=32)",
        "host_base": "fakehost.models:Base",  # not importable: the answers stand as given
    }
    by_copier = copier_new(source, tmp_path, answers)
    by_scaffold, _ = scaffold_new(tmp_path, answers)
    for project in (by_copier, by_scaffold):
        models = (project / "src/poser/models.py").read_text()
        [initial] = (project / "src/poser/migrations").glob("*_initial.py")
        named = re.findall(r'conv\("([^"]+)"\)', models)
        assert sorted(named) == sorted(re.findall(r'op\.f\("([^"]+)"\)', initial.read_text()))
        assert f'__tablename__ = "{prefix}__store_extra"' in models
        assert len(f"{prefix}__store_extra") == 63
        assert all(len(name) <= 63 for name in named), named
        # shortened as SQLAlchemy shortens a conv() name that is too long for PostgreSQL
        long_fk = f"fk_{prefix}__store_extra_store_uuid_store"
        assert any(name.startswith(long_fk[:55] + "_") for name in named)
    assert (by_copier / "src/poser/models.py").read_text() == (
        by_scaffold / "src/poser/models.py"
    ).read_text()


def test_sqlalchemy_spelled_out_renders_models_that_import(source: Path, tmp_path: Path) -> None:
    answers = {"plugin_name": "poser", "extends_type": "sqlalchemy.Integer()"}
    for project in (copier_new(source, tmp_path, answers), scaffold_new(tmp_path, answers)[0]):
        models = (project / "src/poser/models.py").read_text()
        assert "import sqlalchemy\n" in models and "        sqlalchemy.Integer(),\n" in models
        [initial] = (project / "src/poser/migrations").glob("*_initial.py")
        assert "import sqlalchemy\n" in initial.read_text()
        compile(models, "models.py", "exec")


# -- the lists copier.yml keeps in step with Python ------------------------------------------------


def test_copier_knows_every_standard_library_module() -> None:
    names = [n for n in sys.stdlib_module_names if LOWERCASE_IDENTIFIER.match(n)]
    assert len(names) > 150
    for name in names:
        message = answer_error("plugin_name", {"plugin_name": name})
        assert "standard library" in message, name


def test_copier_knows_every_sqlalchemy_type() -> None:
    assert {"Integer", "String", "Uuid", "ARRAY"} <= sqlalchemy_type_names()
    for name in sqlalchemy_type_names():
        answer = f"sa.{name}"
        assert answer_error("extends_type", {"plugin_name": "p", "extends_type": answer}) == ""
        assert type_expression_error(answer) == ""


@pytest.mark.parametrize(
    "text",
    [
        "sa.Integer()",
        "sa.Integer",
        "sa.String(length=32)",
        "sa.String(32, collation='C')",
        "sqlalchemy.Numeric(10, -2)",
        'sa.Enum("a", "b", name="kind")',
        "sa.ARRAY(sa.Integer(), dimensions=2)",
        "sa.DateTime(timezone=True)",
        "sa.String(length=None)",
    ],
)
def test_type_expressions_accepted(text: str) -> None:
    assert type_expression_error(text) == ""
    assert answer_error("extends_type", {"plugin_name": "p", "extends_type": text}) == ""
    build_type(text)


@pytest.mark.parametrize(
    "text",
    [
        INJECTION,
        "sa.String(length=32).with_variant(sa.Text(), 'sqlite')",
        "sa.String(*[32])",
        "sa.String(**{'length': 32})",
        "sa.String(length=32 + 1)",
        "sa.String(b'32')",
        "sa.String(f'{32}')",
        "(lambda: sa.Integer())()",
        "sa.types.Integer()",
        "sa.Integer()\nimport os",
        "",
    ],
)
def test_type_expressions_refused(text: str) -> None:
    assert type_expression_error(text)
    with pytest.raises(ValueError):
        build_type(text)


def test_type_expression_writes_host_types_back() -> None:
    import sqlalchemy as sa

    assert type_expression(sa.String(32)) == "sa.String(length=32)"
    assert type_expression(sa.Integer) == "sa.Integer()"
    assert type_expression(sa.ARRAY(sa.Integer())) == "sa.ARRAY(sa.Integer())"
    assert type_expression(sa.Numeric(10, 2)) == "sa.Numeric(precision=10, scale=2)"

    class Stored(sa.types.TypeDecorator[str]):
        impl = sa.String(32)
        cache_ok = True

    class PerDatabase(Stored):
        def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[str]:
            return dialect.type_descriptor(sa.Text())

    assert type_expression(Stored()) == "sa.String(length=32)"
    assert type_expression(PerDatabase()) is None

    # SQLModel's str columns: String(length) on every database, but VARCHAR(255) on MariaDB
    # when no length is given, which sa.String() does not say
    from sqlmodel.sql.sqltypes import AutoString

    assert type_expression(AutoString(length=32)) == "sa.String(length=32)"
    assert type_expression(AutoString()) is None
