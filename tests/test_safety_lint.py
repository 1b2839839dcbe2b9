"""The production-safety rules of `scaffold check` (src/plugin_scaffold/graph/production.py) on
two corpora of plugin revisions: tests/safety_corpus/unsafe/ (each caught, with the codes its
docstring's ``expect:`` line names) and tests/safety_corpus/safe/ (nothing found). A file's
``databases:`` line names the databases its plugin runs on (all three without one).

The plugin of the corpora is ``corp`` (tables ``corp__*``) on the example host (``core__users``,
``core__media_entries``). The ``autogen_*`` files are what `scaffold revision --autogenerate`
wrote, on SQLite and on PostgreSQL, for the model changes the existing tests make (the demo's
column, test_autogen_every_database's tables, ...): safe, but for the indexed foreign key added
to an existing table. The revisions the template renders are linted here too. The tests that
autogenerate run `scaffold check` on what they wrote as well.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from plugin_scaffold.graph import production
from plugin_scaffold.plugin.project import DATABASES

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "safety_corpus"
UNSAFE = sorted((CORPUS / "unsafe").glob("*.py"))
SAFE = sorted((CORPUS / "safe").glob("*.py"))
HOST = ("core__users", "core__media_entries", "core__privileges")
#: The columns of corp's current models.
DECLARED = {
    "corp__items": frozenset({"id", "name", "status", "body", "kind", "owner_id", "legacy"}),
    "corp__events": frozenset({"id", "item_id", "at"}),
}


def header(path: Path) -> tuple[list[str], tuple[str, ...]]:
    """The codes a corpus file expects, and the databases its plugin runs on."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    fields = dict(
        line.split(":", 1)
        for line in doc.splitlines()
        if line.startswith(("expect:", "databases:"))
    )
    expect = fields["expect"].split()
    databases = tuple(fields.get("databases", " ".join(DATABASES)).split())
    return ([] if expect == ["nothing"] else expect), databases


def context(databases: tuple[str, ...] = DATABASES, prefix: str = "corp") -> production.Context:
    return production.Context(
        owns=lambda table: table.startswith(f"{prefix}__"),
        host=HOST,
        declared=DECLARED,
        databases=databases,
    )


def lint(path: Path, branch: list[Path]) -> list[production.Hazard]:
    """``path`` linted as one revision of a branch holding ``branch``."""
    _, databases = header(path)
    return production.lint(branch, context(databases))[path]


def test_the_corpora_are_large_enough_and_plant_every_rule() -> None:
    assert len(UNSAFE) >= 30 and len(SAFE) >= 30
    planted = {code for path in UNSAFE for code in header(path)[0]}
    assert planted == set(production.CODES)


@pytest.mark.parametrize("path", UNSAFE, ids=[p.stem for p in UNSAFE])
def test_unsafe_revisions_are_caught(path: Path) -> None:
    expected, _ = header(path)
    assert expected, f"{path.name} expects nothing: it belongs in safe/"
    found = lint(path, UNSAFE)
    assert Counter(h.code for h in found) == Counter(expected), found
    source = path.read_text().splitlines()
    for hazard in found:
        # The line is the operation's own (the statement in upgrade() or the helper it calls).
        assert "def upgrade" not in source[hazard.line - 1], hazard
        assert hazard.line > 1 and hazard.message and "\n" not in hazard.message
        expected_severity = "error" if hazard.code == production.FOREIGN_DDL else "warning"
        assert hazard.severity == expected_severity
        # ...and the message names the table (or model) at fault.
        assert re.search(r"\b(corp__\w+|core__\w+|Item)\b", hazard.message), hazard


@pytest.mark.parametrize("path", SAFE, ids=[p.stem for p in SAFE])
def test_safe_revisions_pass(path: Path) -> None:
    expected, _ = header(path)
    assert not expected
    assert lint(path, SAFE) == []


def test_a_drop_is_unsafe_while_the_models_still_declare_it() -> None:
    """The contract step of expand/contract passes once the models stopped using the column; the
    same revision is caught while they still declare it."""
    path = CORPUS / "safe/drop_column_no_longer_declared.py"
    assert production.lint([path], context())[path] == []
    declaring = production.Context(
        owns=lambda table: table.startswith("corp__"),
        declared={"corp__items": frozenset({"id", "retired"})},
    )
    [found] = production.lint([path], declaring)[path]
    assert found.code == production.DROP
    assert "drops column corp__items.retired, which the plugin's models still declare" in (
        found.message
    )


def test_a_constraint_validated_under_the_lock_that_added_it() -> None:
    """NOT VALID then VALIDATE in one transaction is the scan under the lock again; after an
    autocommit_block's commit, or in a later release's revision, it is not."""
    unsafe = CORPUS / "unsafe/check_validated_in_same_transaction.py"
    [found] = production.lint([unsafe], context())[unsafe]
    assert (found.code, found.line) == (production.CONSTRAINT, 19)
    assert "VALIDATE CONSTRAINT ck_corp__events_at on corp__events in the transaction" in (
        found.message
    )
    for name in ["check_validated_autocommit", "fk_not_valid", "fk_validated"]:
        path = CORPUS / f"safe/{name}.py"
        assert production.lint([path], context())[path] == [], name


def test_postgresql_rules_need_postgresql() -> None:
    """The same revisions on a plugin that runs on SQLite only: no PostgreSQL rule applies."""
    for name in ["index_plain", "fk_plain", "set_not_null", "index_sql", "unique_constraint"]:
        path = CORPUS / f"unsafe/{name}.py"
        assert production.lint([path], context(("sqlite",)))[path] == [], name
    # ...and those that are not PostgreSQL's stay.
    path = CORPUS / "unsafe/not_null_batch.py"
    assert [h.code for h in production.lint([path], context(("sqlite",)))[path]] == [
        production.NOT_NULL
    ]


def test_host_tables_are_left_to_foreign_table() -> None:
    """op.* calls on a table the plugin does not own are check's foreign-table error: the safety
    rules do not report them a second time. Seen as another plugin's, corp's revisions are
    judged on raw SQL only (DDL on a host table)."""
    found = {
        path.stem: [h.code for h in production.lint([path], context(prefix="other"))[path]]
        for path in UNSAFE
    }
    assert found["index_plain"] == [] and found["fk_plain"] == []
    assert found["host_alter_sql"] == [production.FOREIGN_DDL]


@pytest.mark.parametrize(
    "answers",
    [
        {"plugin_name": "media_tags"},
        {"plugin_name": "notes", "extends": ""},
        {"plugin_name": "loyalty", "extends": "store.uuid", "extends_type": "sa.String(length=32)"},
        {"plugin_name": "badges", "host_orm": "sqlmodel", "extends_type": "sa.Uuid()"},
        {"plugin_name": "badges", "host_orm": "sqlmodel", "extends": ""},
        {"plugin_name": "media_tags", "table_prefix": "t" * 47},
    ],
    ids=["side-table", "standalone", "string-key", "sqlmodel", "sqlmodel-standalone", "long"],
)
def test_the_revisions_the_template_renders_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: dict[str, str]
) -> None:
    """Rendered by cookiecutter, which renders the tree copier does (test_template.py) without
    importing a host."""
    from cookiecutter.main import cookiecutter

    monkeypatch.setenv("HOME", str(tmp_path))  # cookiecutter's replay files
    project = Path(
        cookiecutter(
            str(ROOT / "template"),
            no_input=True,
            extra_context=answers,
            output_dir=str(tmp_path / "out"),
            default_config=True,
        )
    )
    name = answers["plugin_name"]
    prefix = answers.get("table_prefix", name)
    [revision] = (project / f"src/{name}/migrations").glob("*_initial.py")
    assert production.lint([revision], context(prefix=prefix)) == {revision: []}
    # ...and read: an index on the table it makes is on a new table, one on another is not.
    text = revision.read_text()
    [table] = re.findall(r'op\.create_table\(\s*"(\w+)"', text)
    later = tmp_path / "later.py"
    added = (
        f"    op.create_index('ix_a', {table!r}, ['a'])\n"
        f"    op.create_index('ix_b', '{prefix}__b', ['b'])"
    )
    later.write_text(text.replace("\n\n\ndef downgrade()", f"\n{added}\n\n\ndef downgrade()"))
    found = production.lint([later], context(prefix=prefix))[later]
    assert [(h.code, f"{prefix}__b" in h.message) for h in found] == [(production.INDEX, True)]
