"""The bad-input matrix: every refusal is one line naming the culprit, and changes nothing.

Each case is a command line, and possibly a broken project state laid over a copy of one shared
tree: the example host (copied, so that its own files can be broken too) and a plugin ``badin``
rendered for it, whose development database (SQLite, in the tree) is at every head. For each
case: the exit code (2 for bad input, usage or configuration; 1 for an operation that ran and
failed), stdout empty, stderr one line ``scaffold: error: ...`` naming the culprit, no
traceback, every file of the tree byte for byte as it was (the SQLite database included), and
on PostgreSQL and MariaDB the database's schema and rows as they were.

Template answers have their own table (tests/test_template_rules.py): here only what ``scaffold
new`` refuses before a question is asked.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLE_HOST, require_server
from forkrun import ForkServer
from plugin_scaffold.databases.schema import contents, reflect
from plugin_scaffold.databases.servers import make_engine, temporary_database
from plugin_scaffold.plugin.template import render_plugin

INITIAL = "61a654dd15fe"  # the deterministic id of badin's initial revision
MIGRATIONS = "plug/src/badin/migrations"
MODELS = "plug/src/badin/models.py"
PYPROJECT = "plug/pyproject.toml"
ENV_PY = "host/examplehost/migrations/env.py"
HOST_INI = "host/alembic.ini"

Mutation = Callable[[Path], None]


# --- broken project states ----------------------------------------------------------------------


def edit(relative: str, old: str, new: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / relative
        text = path.read_text()
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new, 1))

    return mutate


def write(relative: str, text: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return mutate


def append(relative: str, text: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / relative
        path.write_text(path.read_text() + text)

    return mutate


def prepend(relative: str, text: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / relative
        path.write_text(text + path.read_text())

    return mutate


def remove(relative: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / relative
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()

    return mutate


def together(*mutations: Mutation) -> Mutation:
    def mutate(root: Path) -> None:
        for mutation in mutations:
            mutation(root)

    return mutate


def revision(
    rev: str,
    down: str | None,
    upgrade: str = "pass",
    downgrade: str = "pass",
    *,
    file: str | None = None,
) -> Mutation:
    """A revision of badin, written by hand."""
    return write(
        f"{MIGRATIONS}/{file or rev}_step.py",
        f'"""{rev}"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
        f"depends_on = None\n\n\ndef upgrade():\n    {upgrade}\n\n\n"
        f"def downgrade():\n    {downgrade}\n",
    )


def in_sqlite(*statements: str) -> Mutation:
    """Statements run on the plugin's development database."""

    def mutate(root: Path) -> None:
        connection = sqlite3.connect(root / "plug/dev.db")
        for statement in statements:
            connection.execute(statement)
        connection.commit()
        connection.close()

    return mutate


FACTORY = write("plug/src/hostconfig.py", "def make(config_file):\n    raise AssertionError\n")
TWO_HEADS = together(revision("r1", INITIAL), revision("r2", INITIAL))
TWICE = together(revision("r1", INITIAL), revision("r1", INITIAL, file="r1copy"))
DANGLING = revision("r1", "nowhere")
FAILING = revision("r1", INITIAL, 'op.execute("SELECT * FROM no_such_table")')
RAISING = revision("r1", INITIAL, "raise ValueError('boom')")
IMPORTS_MISSING = together(
    revision("r1", INITIAL),
    edit(f"{MIGRATIONS}/r1_step.py", "import sqlalchemy as sa", "import nosuchmodule"),
)
NO_PREFIX = edit(MODELS, '"badin__media_security"', '"media_security"')
UNKNOWN_ROW = "UPDATE alembic_version SET version_num = 'deadbeef0000' WHERE version_num = "
UNKNOWN_ROW += f"'{INITIAL}'"


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    code: int
    says: str
    mutate: Mutation | None
    cwd: str
    db: str


def case(
    id: str,
    argv: str | list[str],
    code: int,
    says: str,
    mutate: Mutation | None = None,
    *,
    cwd: str = "plug",
    db: str = "sqlite",
) -> Case:
    args = tuple(argv.split()) if isinstance(argv, str) else tuple(argv)
    return Case(id, args, code, says, mutate, cwd, db)


CLI = [
    # a bare `scaffold` prints its help: tests/test_cli_helps.py
    case("unknown-command", "frob", 2, "invalid choice: 'frob'"),
    case("mistyped-command", "upgarde", 2, "unknown command 'upgarde': did you mean 'upgrade'?"),
    case("unknown-option", "upgrade --frob", 2, "unrecognized arguments: --frob"),
    case("unknown-global-option", "--frob current", 2, "unrecognized arguments: --frob"),
    case("option-without-value", "revision -m", 2, "argument -m/--message: expected one argument"),
    case("x-without-value", "upgrade -x", 2, "argument -x: expected one argument"),
    case("argument-missing", "unwire", 2, "the following arguments are required: name"),
    case("url-empty", ["--url", "", "current"], 2, "--url is empty"),
    case("url-not-a-url", "--url notaurl current", 2, "not a database URL: 'notaurl'"),
    case("url-unknown-dialect", "--url nosuchdb://u@h/d current", 2, "no dialect for nosuchdb"),
    case(
        "url-bad-port",
        "--url postgresql://alice:s3cr3t@127.0.0.1:port/db current",
        2,
        "not a database URL: 'postgresql://alice:***@127.0.0.1:port/db'",
    ),
    case(
        "url-at-in-password",
        "--url postgresql://alice:s3@cr3t@127.0.0.1/db current",
        2,
        "has an '@' in its password",
    ),
    case(
        "url-sqlite-folder-missing",
        "--url sqlite:///nowhere/at/all.db upgrade",
        1,
        "cannot connect to sqlite:///nowhere/at/all.db",
    ),
    case(
        "url-server-refuses",
        "--url postgresql+psycopg://postgres@127.0.0.1:1/x upgrade",
        1,
        "cannot connect to postgresql+psycopg://postgres@127.0.0.1:1/x",
    ),
    case("config-file-missing", "-c missing.ini current", 2, "missing.ini: no such Alembic config"),
    case(
        "config-folder-without-env-py",
        "-c ../empty current",
        2,
        "no env.py in",
        write("empty/notes.txt", "not an Alembic folder\n"),
    ),
    case(
        "config-ini-without-alembic-section",
        "-c ../other.ini current",
        2,
        "other.ini: no [alembic] section",
        write("other.ini", "[app]\nx = 1\n"),
    ),
    case(
        "config-script-location-nowhere",
        "-c ../other.ini current",
        2,
        "other.ini: script_location 'nowhere' has no env.py",
        write("other.ini", "[alembic]\nscript_location = nowhere\n"),
    ),
    case("config-unknown-package", "-c nosuchpkg:migrations current", 2, "'nosuchpkg'"),
    case("config-factory-unknown-module", "-c nosuchpkg.cfg:make current", 2, "'nosuchpkg.cfg'"),
    case("no-host-outside-a-project", "current", 2, "no alembic.ini in", cwd="."),
    case("upgrade-unknown-plugin", "upgrade --plugin nosuch", 2, "no plugin named 'nosuch'"),
    case("downgrade-unknown-plugin", "downgrade --plugin nosuch", 2, "no plugin named 'nosuch'"),
    case("revision-unknown-plugin", "revision -m x --plugin nosuch", 2, "no plugin named 'nosuch'"),
    case("check-unknown-plugin", "check --plugin nosuch", 2, "no plugin named 'nosuch'"),
    case("history-unknown-plugin", "history --plugin nosuch", 2, "no plugin named 'nosuch'"),
    case("wire-unknown-plugin", "wire nosuch", 2, "no plugin named 'nosuch'"),
    case("unwire-unknown-plugin", "unwire nosuch", 2, "no plugin named 'nosuch' is wired"),
    case(
        "upgrade-mistyped-plugin",
        "upgrade --plugin badim",
        2,
        "named 'badim': did you mean 'badin'?",
    ),
    case(
        "check-mistyped-plugin", "check --plugin badni", 2, "named 'badni': did you mean 'badin'?"
    ),
    case("unwire-mistyped-plugin", "unwire bdain", 2, "named 'bdain': did you mean 'badin'?"),
    case(
        "revision-in-the-hosts-folder",
        "revision -m x --autogenerate",
        2,
        "and no plugin found: run scaffold revision inside a plugin project, or pass --host",
        cwd="host",
    ),
    case("upgrade-plugin-and-target", f"upgrade --plugin badin {INITIAL}", 2, "not both"),
    case("downgrade-plugin-and-target", "downgrade --plugin badin base", 2, "not both"),
    case("revision-host-and-plugin", "revision -m x --host --plugin badin", 2, "not both"),
    case("downgrade-without-target", "downgrade", 2, "downgrade needs a TARGET"),
    case("upgrade-range-without-sql", "upgrade base:heads", 2, "only allowed with --sql"),
    case("downgrade-range-without-sql", "downgrade heads:base", 2, "only allowed with --sql"),
    case("rev-id-existing", f"revision -m x --rev-id {INITIAL}", 2, f"'{INITIAL}' already exists"),
    case("rev-id-a-path", "revision -m x --rev-id ../evil", 2, "'../evil' is not a revision id"),
    case("upgrade-unknown-revision", "upgrade nosuchrev", 2, "no revision 'nosuchrev'"),
    case("downgrade-unknown-revision", "downgrade nosuchrev", 2, "no revision 'nosuchrev'"),
    case("upgrade-unknown-branch", "upgrade nosuch@head", 2, "no revision 'nosuch'"),
    case("upgrade-relative-too-far", "upgrade badin@+9", 2, "Relative revision +9"),
    case("downgrade-relative-too-far", "downgrade badin@-9", 2, "Relative revision -9"),
    case("history-unknown-range", "history -r nosuch:heads", 2, "'nosuch'"),
    case(
        "history-graph-into-a-missing-folder",
        "history --graph mermaid -o missing/dir/graph.mmd",
        2,
        "-o missing/dir/graph.mmd: folder missing/dir does not exist",
    ),
    case("history-graph-into-a-folder", "history --graph dot -o src", 2, "-o src: is a folder"),
    case("test-unknown-database", "test --db nosuchdb", 2, "unknown database 'nosuchdb'"),
    case("new-data-without-equals", "new fresh -d host_branch", 2, "not 'host_branch'", cwd="."),
    case("new-unknown-question", "new fresh -d flavour=sweet", 2, "flavour: no such", cwd="."),
    case("new-into-a-full-folder", "new fresh plug", 2, "plug: already exists", cwd="."),
    case("new-bad-name", "new Bad-Name", 2, "plugin_name: 'Bad-Name'", cwd="."),
]

PROJECT = [
    case("models-syntax-error", "check", 2, "models.py:1: syntax error", prepend(MODELS, "f(:\n")),
    case(
        "models-syntax-error-autogenerate",
        "revision -m x --autogenerate",
        2,
        "models.py:1: syntax error",
        prepend(MODELS, "f(:\n"),
    ),
    case(
        "models-import-error",
        "check",
        2,
        "cannot import badin.models: No module named 'nosuchmodule'",
        append(MODELS, "\nimport nosuchmodule\n"),
    ),
    case(
        "models-raise",
        "check",
        2,
        "importing badin.models failed: RuntimeError: boom",
        append(MODELS, "\nraise RuntimeError('boom')\n"),
    ),
    case("models-missing", "check", 2, "cannot import badin.models", remove(MODELS)),
    case(
        "models-on-their-own-base",
        "check --models",
        2,
        "'badin__media_security' is not on the MetaData",
        edit(
            MODELS,
            "from examplehost.models import Base",
            "from sqlalchemy.orm import declarative_base\nBase = declarative_base()",
        ),
    ),
    case(
        "models-models-not-a-list",
        "revision -m x --autogenerate",
        2,
        "plugin badin: badin.models.MODELS must be a list of mapped classes or tables, not int",
        append(MODELS, "\nMODELS = 5\n"),
    ),
    case(
        "models-models-not-a-list-check",
        "check",
        2,
        "badin.models.MODELS must be a list of mapped classes or tables, not int",
        append(MODELS, "\nMODELS = 5\n"),
    ),
    case(
        "models-table-without-prefix-autogenerate",
        "revision -m x --autogenerate",
        1,
        "'media_security' in badin.models lacks the plugin's prefix",
        NO_PREFIX,
    ),
    case(
        "models-table-of-the-host",
        "revision -m x --autogenerate",
        1,
        "'core__users'",
        edit(MODELS, '"badin__media_security"', '"core__users"'),
    ),
    case(
        "pyproject-not-toml",
        "current",
        2,
        "pyproject.toml: not valid TOML",
        append(PYPROJECT, "\n[broken\n"),
    ),
    case(
        "pyproject-plugin-missing",
        "current",
        2,
        'needs plugin = "<name>"',
        edit(PYPROJECT, 'plugin = "badin"\n', ""),
    ),
    case(
        "pyproject-plugin-not-an-identifier",
        "current",
        2,
        'needs plugin = "<name>"',
        edit(PYPROJECT, 'plugin = "badin"', 'plugin = "bad-in"'),
    ),
    case(
        "pyproject-plugin-of-another-name",
        "current",
        2,
        "plugin other (project): package other.migrations not found",
        edit(PYPROJECT, 'plugin = "badin"', 'plugin = "other"'),
    ),
    case(
        "pyproject-host-alembic-nowhere",
        "current",
        2,
        "nowhere/alembic.ini: no such Alembic config file",
        edit(PYPROJECT, '"../host/alembic.ini"', '"../nowhere/alembic.ini"'),
    ),
    case(
        "pyproject-host-alembic-unknown-package",
        "current",
        2,
        "'nosuchpkg'",
        edit(PYPROJECT, '"../host/alembic.ini"', '"nosuchpkg:migrations"'),
    ),
    case(
        "pyproject-host-config-missing-for-a-factory",
        "current",
        2,
        "host-config",
        together(FACTORY, edit(PYPROJECT, '"../host/alembic.ini"', '"hostconfig:make"')),
    ),
    case(
        "pyproject-host-config-nowhere",
        "current",
        2,
        "nowhere.ini",
        together(
            FACTORY,
            edit(
                PYPROJECT,
                '"../host/alembic.ini"',
                '"hostconfig:make"\nhost-config = "../nowhere.ini"',
            ),
        ),
    ),
    case(
        "pyproject-version-locations-not-a-list",
        "current",
        2,
        "version-locations must be a list of strings",
        edit(PYPROJECT, 'plugin = "badin"', 'plugin = "badin"\nversion-locations = "x"'),
    ),
    case(
        "pyproject-url-not-a-url",
        "current",
        2,
        "not a database URL: 'dev.db'",
        edit(PYPROJECT, 'url = "sqlite:///dev.db"', 'url = "dev.db"'),
    ),
    case(
        "migrations-folder-missing",
        "heads",
        2,
        "package badin.migrations not found",
        remove(MIGRATIONS),
    ),
    case("package-missing", "heads", 2, "package badin.migrations not found", remove("plug/src")),
    case(
        "env-py-syntax-error",
        "current",
        2,
        "env.py:60) failed: syntax error",
        append(ENV_PY, "\nf(:\n"),
    ),
    case("env-py-missing", "current", 2, "has no env.py", remove(ENV_PY)),
    case(
        "env-py-import-error",
        "current",
        2,
        "env.py:9) failed: ModuleNotFoundError: No module named 'nosuchmodule'",
        edit(
            ENV_PY,
            "from alembic import context",
            "from alembic import context\nimport nosuchmodule",
        ),
    ),
    case(
        "env-py-exits",
        "current",
        2,
        "env.py:9) failed: called sys.exit(3)",
        edit(
            ENV_PY,
            "from alembic import context",
            "from alembic import context\nimport sys; sys.exit(3)",
        ),
    ),
    case(
        "env-py-exits-upgrade",
        "upgrade",
        2,
        "env.py:9) failed: called sys.exit(3)",
        edit(
            ENV_PY,
            "from alembic import context",
            "from alembic import context\nimport sys; sys.exit(3)",
        ),
    ),
    case(
        "ini-not-an-ini-file",
        "current",
        2,
        "alembic.ini: cannot be read as an ini file",
        append(HOST_INI, "\nnot an ini line\n"),
    ),
    case(
        "ini-url-percent-not-doubled",
        "current",
        2,
        "alembic.ini: [alembic] sqlalchemy.url: a '%' is written '%%' in an ini file",
        edit(
            HOST_INI,
            "sqlite:///%(here)s/examplehost.db",
            "postgresql://alice:s3cr3t%40x@127.0.0.1/db",
        ),
    ),
    case(
        "ini-script-location-nowhere",
        "current",
        2,
        "script_location '",
        edit(HOST_INI, "%(here)s/examplehost/migrations", "%(here)s/nowhere"),
    ),
    case(
        "revision-syntax-error",
        "heads",
        2,
        "bad_step.py:2: syntax error",
        write(f"{MIGRATIONS}/bad_step.py", "revision = 'bad'\ndown_revision = (\n"),
    ),
    case(
        "revision-syntax-error-upgrade",
        "upgrade",
        2,
        "bad_step.py:2: syntax error",
        write(f"{MIGRATIONS}/bad_step.py", "revision = 'bad'\ndown_revision = (\n"),
    ),
    case(
        "revision-imports-a-missing-module-upgrade",
        "upgrade",
        2,
        f"{MIGRATIONS}/r1_step.py:2: cannot be imported: ModuleNotFoundError: No module named "
        "'nosuchmodule'",
        IMPORTS_MISSING,
    ),
    case(
        "revision-imports-a-missing-module-check",
        "check --json",
        2,
        f"{MIGRATIONS}/r1_step.py:2: cannot be imported: ModuleNotFoundError",
        IMPORTS_MISSING,
    ),
    case(
        "merge-revisions-that-are-not-heads",
        f"merge {INITIAL} r1",
        2,
        f"revision {INITIAL} is not a head of plugin badin (its heads: r1, r2): scaffold merge "
        "joins heads; name heads, or none for all",
        TWO_HEADS,
    ),
    case("down-revision-nowhere-heads", "heads", 2, "names 'nowhere' in down_revision", DANGLING),
    case("down-revision-nowhere-history", "history", 2, "'nowhere' in down_revision", DANGLING),
    case("down-revision-nowhere-upgrade", "upgrade", 2, "'nowhere' in down_revision", DANGLING),
    case("down-revision-nowhere-check", "check", 2, "'nowhere' in down_revision", DANGLING),
    case(
        "depends-on-nowhere",
        "upgrade",
        2,
        "names 'nowhere' in depends_on",
        edit(f"{MIGRATIONS}/{INITIAL}_initial.py", 'depends_on = "core"', 'depends_on = "nowhere"'),
    ),
    case("revision-id-twice-heads", "heads", 2, "revision id r1 is used by 2 files", TWICE),
    case("revision-id-twice-history", "history", 2, "revision id r1 is used by 2 files", TWICE),
    case("revision-id-twice-upgrade", "upgrade", 2, "revision id r1 is used by 2 files", TWICE),
    case("revision-id-twice-revision", "revision -m x", 2, "revision id r1 is used by 2", TWICE),
    case(
        "revision-template-writes-no-python",
        "revision -m x",
        2,
        "script.py.mako: the revision it wrote is not valid Python (line 1: invalid syntax); "
        "nothing was written",
        write("host/examplehost/migrations/script.py.mako", "x = = 1\n"),
    ),
    case("two-heads-revision", "revision -m x", 1, "plugin badin has 2 heads (r1, r2)", TWO_HEADS),
    case(
        "two-heads-autogenerate",
        "revision -m x --autogenerate",
        1,
        "plugin badin has 2 heads (r1, r2)",
        TWO_HEADS,
    ),
    case("revision-fails", "upgrade", 1, "revision r1 (", FAILING),
    case("revision-raises", "upgrade", 1, "ValueError: boom", RAISING),
    case(
        "revision-fails-on-the-way-down",
        f"downgrade {INITIAL}",
        1,
        "revision r1 (",
        together(
            revision("r1", INITIAL, "pass", 'op.execute("SELECT * FROM no_such_table")'),
            in_sqlite(
                f"UPDATE alembic_version SET version_num = 'r1' WHERE version_num = '{INITIAL}'"
            ),
        ),
    ),
    case(
        "database-not-a-database",
        "current",
        2,
        "plug/dev.db: not an SQLite database (file is not a database)",
        write("plug/dev.db", "this is not a database\n" * 100),
    ),
    case(
        "database-not-a-database-upgrade",
        "upgrade",
        2,
        "plug/dev.db: not an SQLite database (file is not a database)",
        write("plug/dev.db", "this is not a database\n" * 100),
    ),
    # The plugin's row is unknown (a newer release's revision?) and its tables are there:
    # upgrading would create them again (`current` shows it as a row left alone: test_orphans).
    case(
        "database-at-an-unknown-revision",
        "upgrade",
        2,
        "alembic_version holds deadbeef0000, unknown here: it comes with no removed plugin's",
        in_sqlite(UNKNOWN_ROW),
    ),
]


def on_server(db: str) -> list[Case]:
    """What a server changes: its URLs, and failures that must leave its database as it was."""
    url = ["--url", "{url}"]
    return [
        case(f"{db}-{c.id}", [*url, *c.argv], c.code, c.says, c.mutate, db=db)
        for c in [
            case("upgrade-unknown-revision", "upgrade nosuchrev", 2, "no revision 'nosuchrev'"),
            case("downgrade-unknown-revision", "downgrade nosuchrev", 2, "no revision"),
            case("range-without-sql", "downgrade heads:base", 2, "only allowed with --sql"),
            case("unknown-plugin", "downgrade --plugin nosuch", 2, "no plugin named 'nosuch'"),
            case("revision-fails", "upgrade", 1, "revision r1 (", FAILING),
            case("revision-raises", "upgrade", 1, "ValueError: boom", RAISING),
            case("two-heads", "revision -m x --autogenerate", 1, "2 heads", TWO_HEADS),
            case(
                "without-prefix", "revision -m x --autogenerate", 1, "'media_security'", NO_PREFIX
            ),
            case(
                "env-py-import-error",
                "current",
                2,
                "nosuchmodule",
                edit(
                    ENV_PY,
                    "from alembic import context",
                    "from alembic import context\nimport nosuchmodule",
                ),
            ),
        ]
    ]


CASES = [*CLI, *PROJECT, *on_server("postgresql"), *on_server("mysql")]


# --- the shared tree, the servers' databases ---------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, server: ForkServer) -> Path:
    """The example host and the plugin badin for it, its SQLite database at every head."""
    root = tmp_path_factory.mktemp("bad-input")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.db")
    shutil.copytree(EXAMPLE_HOST, root / "host", ignore=ignore)
    project = render_plugin(root / "plug", {"plugin_name": "badin"})
    assert (project / "src/badin/migrations" / f"{INITIAL}_initial.py").is_file()
    edit(PYPROJECT, '"examplehost:migrations"', '"../host/alembic.ini"')(root)
    result = server.run("upgrade", cwd=project)
    assert result.returncode == 0, result.stderr
    return root


class _Databases(dict[str, str]):
    """kind -> URL of a database at every head, made on first use and dropped at the end."""

    def __init__(self, stack: contextlib.ExitStack, project: Path, server: ForkServer) -> None:
        super().__init__()
        self.stack, self.project, self.server = stack, project, server

    def __missing__(self, kind: str) -> str:
        require_server(kind)
        url = self.stack.enter_context(temporary_database(kind, prefix="scaffold_badinput"))
        result = self.server.run("--url", url, "upgrade", cwd=self.project)
        assert result.returncode == 0, result.stderr
        self[kind] = url
        return url


@pytest.fixture(scope="module")
def servers(pristine: Path, server: ForkServer) -> Iterator[dict[str, str]]:
    with contextlib.ExitStack() as stack:
        yield _Databases(stack, pristine / "plug", server)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def dump(url: str) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
    """A database's schema, alembic_version included, and every row of every table."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            snapshot = reflect(connection)
            return snapshot, contents(connection, snapshot.tables)
    finally:
        engine.dispose()


def _param(bad: Case) -> Any:
    marks = [getattr(pytest.mark, bad.db)] if bad.db != "sqlite" else []
    return pytest.param(bad, id=bad.id, marks=marks)


@pytest.mark.parametrize("bad", [_param(c) for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(
    bad: Case, pristine: Path, server: ForkServer, servers: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "case"
    shutil.copytree(pristine, root)
    if bad.mutate is not None:
        bad.mutate(root)
    url = servers[bad.db] if bad.db != "sqlite" else None
    argv = [a.replace("{url}", url) if url else a for a in bad.argv]
    files = tree(root)
    before = dump(url) if url else None

    result = server.run(*argv, cwd=root / bad.cwd)

    output = f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    assert result.returncode == bad.code, output
    assert result.stdout == "", output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("scaffold: error: "), output
    assert bad.says in lines[0], output
    assert "Traceback" not in result.stderr
    assert "s3cr3t" not in result.stderr
    assert tree(root) == files, "files changed"
    if url:
        assert dump(url) == before, "the database changed"


def test_an_unexpected_error_is_one_line_and_its_traceback_only_with_verbose(
    pristine: Path, server: ForkServer, tmp_path: Path
) -> None:
    """An exception scaffold has no words for (here Mako's, from the host's broken revision
    template) is still one line, exit 1; ``-v`` adds the traceback above the same line."""
    root = tmp_path / "case"
    shutil.copytree(pristine, root)
    write("host/examplehost/migrations/script.py.mako", "${ broken(\n")(root)
    files = tree(root)

    plain = server.run("revision", "-m", "x", cwd=root / "plug")
    verbose = server.run("-v", "revision", "-m", "x", cwd=root / "plug")

    line = plain.stderr.splitlines()
    assert plain.returncode == 1 and plain.stdout == "" and len(line) == 1, plain.stderr
    assert line[0].startswith("scaffold: error: SyntaxException: ")
    assert "script.py.mako" in line[0] and line[0].endswith("(run with -v for details)")
    assert "Traceback" not in plain.stderr
    assert verbose.returncode == 1
    assert verbose.stderr.startswith("Traceback (most recent call last):\n")
    assert 'File "' in verbose.stderr and "mako" in verbose.stderr
    assert verbose.stderr.splitlines()[-1] == line[0]
    assert tree(root) == files
