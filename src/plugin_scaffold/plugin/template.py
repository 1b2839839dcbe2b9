"""Rendering the plugin template into a new project, and the rules its answers must follow.

The rules copier can apply live once, as the validators of ``copier.yml``; :func:`answer_error`
renders them here the way copier does. What Jinja cannot check, :func:`render_plugin` checks in
Python before copier starts: ``extends_type`` parsed with ``ast``, the standard library's module
names, the length of every identifier the template creates and, when the host can be imported
(in a child process, so that its modules stay out of this one), that ``host_alembic``,
``extends`` and ``extends_type`` agree with it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import UsageError, first_line
from ..resources import install_command, scaffold_requirement, template_root

#: The extra of plugin-scaffold that brings the authoring tools, which the runtime install (what
#: a host's environment and a plugin's tests need) leaves out.
AUTHORING_EXTRA = "new"
#: What rendering imports, by the distribution that provides it (all in the authoring extra).
AUTHORING_MODULES = {"copier": "copier", "jinja2": "jinja2", "yaml": "pyyaml"}

#: The question whose answer names the plugin.
PLUGIN_NAME = "plugin_name"

#: PostgreSQL truncates identifiers to 63 bytes; MariaDB and MySQL refuse more than 64 characters.
POSTGRESQL_MAX_BYTES = 63
MARIADB_MAX_CHARS = 64

#: The names an ``extends_type`` may start from: ``sa.Integer()``, ``sqlalchemy.String(32)``.
SQLALCHEMY_MODULE_NAMES = ("sa", "sqlalchemy")

_COPIER_VALIDATION = re.compile(r"^Validation error for question '(?P<name>[^']+)': (?P<msg>.*)$")
#: Marks the one line of the host probe's output that is its answer (the host may print too).
_PROBE_MARK = "plugin-scaffold-probe:"
#: A ``module:attribute`` answer (package resource, config factory), not a path (``C:\\...``).
_CODE_SPEC = re.compile(r"^(?![A-Za-z]:)[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[^:]+$")


def render_plugin(dest: Path, answers: Mapping[str, str], *, defaults: bool = True) -> Path:
    """Render the plugin template into ``dest``, a new or empty folder, and return it.

    ``answers`` answer template questions by name (``plugin_name`` at least, unless copier
    may ask); the others take their defaults, or are asked when ``defaults`` is false.
    ``scaffold_requirement`` defaults to this very plugin-scaffold, and ``extends_type`` to the
    type of the host's ``extends`` column when the host can be imported. A ``host_alembic``
    naming a config factory plugin-scaffold ships (MediaGoblin's) fills in ``host_requirement``
    (the host as installed here, and what it needs to import) and ``host_init``. A bad answer,
    or a ``dest`` that holds anything, is a :class:`UsageError`; nothing is written then.
    """
    from ..hosts import known_host

    require_authoring_tools("new")
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest}: already exists and is not empty; choose a new folder")
    data = dict(answers)
    data.setdefault("scaffold_requirement", scaffold_requirement())
    known = known_host(data.get("host_alembic", ""))
    for question, answer in (known.answers() if known is not None else {}).items():
        data.setdefault(question, answer)
    for question in data:
        message = answer_error(question, data, dest=dest)
        if message:
            raise UsageError(f"{question}: {message}")
    data = checked_answers(data, dest)

    from copier import run_copy
    from copier.errors import CopierWarning, UserMessageError

    try:
        with warnings.catch_warnings():
            # A source checkout with uncommitted changes is rendered as it is on disk, on purpose.
            warnings.simplefilter("ignore", CopierWarning)
            run_copy(
                str(template_root()),
                dest,
                data=data,
                defaults=defaults,
                # In a git checkout: the working tree, uncommitted changes included.
                vcs_ref="HEAD",
                unsafe=False,
                quiet=True,
                overwrite=False,
                skip_tasks=True,
            )
    except UserMessageError as exc:
        raise UsageError(_first_line(str(exc))) from None
    except ValueError as exc:
        match = _COPIER_VALIDATION.match(_first_line(str(exc)))
        if match is None:
            raise
        raise UsageError(f"{match['name']}: {match['msg']}") from None
    return dest


def require_authoring_tools(command: str) -> None:
    """Raise :class:`UsageError`, saying how to install them, unless what renders is installed.

    ``command`` is the ``scaffold`` command that renders (``new``, ``demo``).
    """
    for module, distribution in AUTHORING_MODULES.items():
        if importlib.util.find_spec(module) is None:
            raise UsageError(
                f"{distribution} is not installed: scaffold {command} renders the template with "
                f"copier, which plugin-scaffold's extra [{AUTHORING_EXTRA}] brings: "
                f"{install_command(AUTHORING_EXTRA)}"
            )


def host_to_install(dest: Path) -> list[str] | None:
    """What to pip-install before scaffold can work in the plugin just rendered in ``dest``.

    The host's requirements (its ``host_requirement`` answer, one per line) when
    ``host_alembic`` names the host's package (``package:path``, ``module:function``, or a
    config factory plugin-scaffold ships for a host) and that package is not importable here;
    None when it is, when ``host_alembic`` is a path, whose ``prepend_sys_path`` may make the
    host importable without an install, or when ``host_path`` names the host's folder.
    """
    import yaml

    from ..hosts import known_host

    try:
        answers = yaml.safe_load((dest / ".copier-answers.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(answers, dict) or not _CODE_SPEC.match(str(answers.get("host_alembic"))):
        return None
    if answers.get("host_path"):
        return None  # the host's code is its folder, which scaffold puts on sys.path
    known = known_host(str(answers["host_alembic"]))
    if known is not None:
        package = known.package
    else:
        package = str(answers["host_alembic"]).partition(":")[0].partition(".")[0]
    if importlib.util.find_spec(package) is not None:
        return None
    lines = str(answers.get("host_requirement") or package).splitlines()
    return [line.strip() for line in lines if line.strip()]


def validate_plugin_name(name: str, host_branch: str | None = None) -> None:
    """Raise :class:`UsageError` unless ``name`` is a valid plugin name for a host.

    ``host_branch`` is the host's branch label (the template's default when ``None``): a
    plugin's own branch label, its name, must differ from it.
    """
    answers = {PLUGIN_NAME: name}
    if host_branch is not None:
        answers["host_branch"] = host_branch
    message = answer_error(PLUGIN_NAME, answers) or _stdlib_error(name)
    if message:
        raise UsageError(f"{PLUGIN_NAME}: {message}")


def answer_error(question: str, answers: Mapping[str, str], *, dest: Path | None = None) -> str:
    """What is wrong with ``answers[question]`` by its ``copier.yml`` validator ("" if nothing).

    The other answers are those given, else the questions' plain (non-templated) defaults.
    ``dest`` is the plugin's folder, from which relative paths are taken (the current folder
    when ``None``). An unknown question is an error; a question without a validator accepts
    anything.
    """
    questions = _questions()
    if question not in questions:
        known = ", ".join(name for name, spec in questions.items() if spec.get("when") is not False)
        return f"no such template question (questions: {known})"
    validator = questions[question].get("validator")
    if not validator:
        return ""
    context = _plain_defaults()
    context.update(answers)
    context["_copier_conf"] = {"dst_path": str(dest) if dest is not None else "."}
    return str(_jinja().from_string(validator).render(context)).strip()


def checked_answers(answers: Mapping[str, str], dest: Path) -> dict[str, str]:
    """``answers`` after the checks Jinja cannot make, with ``extends_type`` from the host.

    Refuses (:class:`UsageError`, one line naming the question) a plugin name that shadows a
    standard-library module, an ``extends_type`` that is not an SQLAlchemy type expression, an
    identifier too long for PostgreSQL or MariaDB, a ``pyproject.toml`` without
    ``[tool.alembic]``, and what the host, when it can be imported, does not have.
    """
    data = dict(answers)
    values = {**_plain_defaults(), **data}
    values.setdefault("table_prefix", values[PLUGIN_NAME])

    message = _stdlib_error(values[PLUGIN_NAME])
    if message:
        raise UsageError(f"{PLUGIN_NAME}: {message}")
    if values["extends"] and "extends_type" in data:
        message = type_expression_error(data["extends_type"])
        if message:
            raise UsageError(f"extends_type: {message}")
        try:
            build_type(data["extends_type"])
        except Exception as exc:
            raise UsageError(
                f"extends_type: {data['extends_type']} fails: {first_line(exc)}"
            ) from None
    for kind, name, question in _identifiers(values, given=data):
        message = identifier_error(name, kind)
        if message:
            raise UsageError(f"{question}: {message}")
    message = _pyproject_error(values["host_alembic"], dest)
    if message:
        raise UsageError(f"host_alembic: {message}")

    probe = _probe_host(values, dest, given_type="extends_type" in data)
    if probe.get("error"):
        raise UsageError(str(probe["error"]))
    if probe.get("extends_type") and "extends_type" not in data:
        data["extends_type"] = str(probe["extends_type"])
    orm = probe.get("host_orm")
    if orm and "host_orm" not in data:
        data["host_orm"] = str(orm)
    elif orm and data["host_orm"] != orm:
        kind = "a SQLModel class" if orm == "sqlmodel" else "not a SQLModel class"
        raise UsageError(
            f"host_orm: {values['host_base']} is {kind}: answer host_orm={orm} (or leave it out)"
        )
    return data


# --- the rules ----------------------------------------------------------------------------------


def identifier_error(name: str, kind: str = "identifier") -> str:
    """Why ``name`` cannot be a PostgreSQL and MariaDB identifier as it is ("" if it can)."""
    size = len(name.encode("utf-8"))
    if size > POSTGRESQL_MAX_BYTES:
        return (
            f"the {kind} '{name}' is {size} bytes, over PostgreSQL's limit of "
            f"{POSTGRESQL_MAX_BYTES} bytes (MariaDB's: {MARIADB_MAX_CHARS} characters)"
        )
    if len(name) > MARIADB_MAX_CHARS:
        return (
            f"the {kind} '{name}' is {len(name)} characters, over MariaDB's limit of "
            f"{MARIADB_MAX_CHARS}"
        )
    return ""


@cache
def sqlalchemy_type_names() -> frozenset[str]:
    """The names of SQLAlchemy's own column types, as ``sqlalchemy`` exports them."""
    import sqlalchemy
    from sqlalchemy.types import TypeDecorator, TypeEngine

    internal = {"TupleType", "NullType", "Variant", "UserDefinedType"}
    return frozenset(
        name
        for name in dir(sqlalchemy)
        if not name.startswith("_")
        and name not in internal
        and isinstance(obj := getattr(sqlalchemy, name), type)
        and issubclass(obj, TypeEngine)
        and obj is not TypeDecorator
    )


def type_expression_error(text: str) -> str:
    """Why ``text`` is not an SQLAlchemy type expression ("" if it is).

    Accepted: ``sa.Name`` or ``sqlalchemy.Name`` where Name is one of SQLAlchemy's types, or a
    call of one with literal arguments (numbers, strings, booleans, None, keyword arguments of
    those) and nested type expressions, e.g. ``sa.ARRAY(sa.Integer())``. Nothing else is
    accepted, since the answer is written into the plugin's models and run with them.
    """
    shape = (
        f"'{text}' is not an SQLAlchemy type expression such as sa.Integer() or "
        "sa.String(length=32) (sa.<Type> with literal arguments)"
    )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return shape
    problem = _type_node_problem(tree.body)
    if problem is None:
        return ""
    if problem:
        return f"'{text}': {problem} is not an SQLAlchemy type (sa.Integer(), sa.String(32), ...)"
    return shape


def _type_node_problem(node: ast.expr) -> str | None:
    """None if ``node`` is an accepted type expression; else the unknown type name, or ""."""
    if isinstance(node, ast.Call):
        problem = _type_reference_problem(node.func)
        if problem is not None:
            return problem
        for argument in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(argument, ast.Starred):
                return ""
            problem = _literal_problem(argument)
            if problem is not None:
                return problem
        if any(k.arg is None for k in node.keywords):  # **kwargs
            return ""
        return None
    return _type_reference_problem(node)


def _type_reference_problem(node: ast.expr) -> str | None:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in SQLALCHEMY_MODULE_NAMES
    ):
        return None if node.attr in sqlalchemy_type_names() else node.attr
    return ""


def _literal_problem(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant):
        literal = node.value is None or isinstance(node.value, bool | int | float | str)
        return None if literal else ""
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    ):
        return None
    return _type_node_problem(node)


def build_type(text: str) -> Any:
    """The SQLAlchemy type an accepted expression (:func:`type_expression_error`) stands for."""
    import sqlalchemy

    if type_expression_error(text):
        raise ValueError(f"not an SQLAlchemy type expression: {text!r}")
    tree = ast.parse(text.strip(), mode="eval")
    # Safe: only SQLAlchemy type names and literals get this far, and no builtins are given.
    namespace: dict[str, Any] = {"__builtins__": {}, "sa": sqlalchemy, "sqlalchemy": sqlalchemy}
    return eval(compile(tree, "<extends_type>", "eval"), namespace)


def type_expression(type_: Any) -> str | None:
    """``type_`` written as an accepted expression (``sa.String(length=32)``), or None.

    None for what cannot be written so: a dialect's or an application's own type. A
    ``TypeDecorator`` is written as the type it stores, unless it stores another one on
    PostgreSQL, MariaDB or SQLite.
    """
    import sqlalchemy
    from sqlalchemy.types import TypeDecorator

    if isinstance(type_, type):
        type_ = type_()
    if isinstance(type_, TypeDecorator):
        impl = getattr(type_, "impl_instance", None) or type_.impl
        overridden = type(type_).load_dialect_impl is not TypeDecorator.load_dialect_impl
        # SQLModel's AutoString(length=32) picks per database, yet is String(32) on each
        if overridden and _ddl(type_) != _ddl(impl):
            return None
        type_ = impl
    if getattr(sqlalchemy, type(type_).__name__, None) is not type(type_):
        return None
    try:
        tree = ast.parse(repr(type_), mode="eval")
    except SyntaxError:
        return None
    names = sqlalchemy_type_names()

    class Qualify(ast.NodeTransformer):
        # repr() names SQLAlchemy's classes bare: String(length=32) -> sa.String(length=32)
        def visit_Name(self, node: ast.Name) -> ast.expr:
            if node.id in names:
                sa = ast.Name(id="sa", ctx=ast.Load())
                return ast.Attribute(value=sa, attr=node.id, ctx=ast.Load())
            return node

    tree = ast.fix_missing_locations(Qualify().visit(tree))
    text = ast.unparse(tree)
    return None if type_expression_error(text) else text


def _stdlib_error(name: str) -> str:
    if name in sys.stdlib_module_names:
        return (
            f"'{name}' would shadow the standard library's {name} module; choose another "
            "plugin name"
        )
    return ""


def _identifiers(values: Mapping[str, str], given: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """Every database identifier the template creates: (what it is, name, question it is from).

    The constraint names are shortened as SQLAlchemy shortens long names (``copier.yml``:
    starter_pk, starter_fk), so they always fit; they are checked all the same.
    """
    computed = _computed(values)
    prefix_question = "table_prefix" if "table_prefix" in given else PLUGIN_NAME
    names = [
        ("table name", f"{values['table_prefix']}__{computed['starter_table']}", prefix_question),
        ("primary key name", computed["starter_pk"], prefix_question),
    ]
    if values["extends"]:
        names += [
            ("side table's key column", computed["starter_key"], "extends"),
            ("foreign key name", computed["starter_fk"], "extends"),
        ]
    return names


def _computed(values: Mapping[str, str]) -> dict[str, str]:
    """The computed values of ``copier.yml`` (names of the starter table and its parts)."""
    questions = _questions()
    context: dict[str, Any] = dict(values)
    for name in ("starter_table", "starter_key", "starter_pk", "starter_fk"):
        context[name] = str(_jinja().from_string(questions[name]["default"]).render(context))
        context[name] = context[name].strip()
    return {name: str(context[name]) for name in context}


def _pyproject_error(host_alembic: str, dest: Path) -> str:
    """A pyproject.toml given as host_alembic must hold the ``[tool.alembic]`` Alembic reads."""
    if _CODE_SPEC.match(host_alembic):
        return ""
    path = Path(os.path.expanduser(host_alembic))
    # the plugin folder does not exist yet: "../host" is resolved without it
    path = (path if path.is_absolute() else dest / path).resolve()
    if path.is_dir():
        if (path / "alembic.ini").is_file() or (path / "env.py").is_file():
            return ""
        path = path / "pyproject.toml"
    if path.name != "pyproject.toml" or not path.is_file():
        return ""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return f"{path}: not readable TOML ({_first_line(str(exc))})"
    if not isinstance(data.get("tool", {}).get("alembic"), dict):
        return f"{path} has no [tool.alembic] table (Alembic >= 1.16 reads its settings there)"
    return ""


# --- what the host says: in a child process -----------------------------------------------------


def _probe_host(values: Mapping[str, str], dest: Path, *, given_type: bool) -> dict[str, Any]:
    """Run :func:`_probe` in a child process; {} when the host cannot be probed at all."""
    # plugin_scaffold itself last, so that it does not put a host installed beside it first
    package_parent = str(Path(__file__).resolve().parents[2])
    # host_path, taken from the plugin's folder (which does not exist yet), first
    host_path = values.get("host_path", "")
    folder = str((dest / os.path.expanduser(host_path)).resolve()) if host_path else ""
    python_path = os.pathsep.join(
        p for p in (folder, os.environ.get("PYTHONPATH", ""), package_parent) if p
    )
    request = {
        "host_base": values["host_base"],
        "host_alembic": values["host_alembic"],
        "host_config": values.get("host_config", ""),
        "host_app": values.get("host_app", ""),
        "host_init": values.get("host_init", ""),
        "extends": values["extends"],
        "extends_type": values.get("extends_type", "") if given_type else "",
    }
    code = "from plugin_scaffold.plugin.template import _probe_main; _probe_main()"
    try:
        result = subprocess.run(
            [sys.executable, "-c", code, json.dumps(request)],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": python_path},
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(_PROBE_MARK):
            answer = json.loads(line.removeprefix(_PROBE_MARK))
            return answer if isinstance(answer, dict) else {}
    return {}


def _probe_main() -> None:
    request = json.loads(sys.argv[1])
    try:
        answer: dict[str, Any] = _probe(request)
    except UsageError as exc:
        answer = {"error": str(exc)}
    print(_PROBE_MARK + json.dumps(answer), flush=True)


def _probe(request: Mapping[str, str]) -> dict[str, str | None]:
    """Check the answers against the host, imported here: what it tells of the answers.

    ``extends_type``: the host key's type, if known; ``host_orm``: ``sqlmodel`` when host_base
    is SQLModel or a subclass of it, ``sqlalchemy`` when it is another Base, None when the host
    cannot be imported. A host that cannot be imported is not checked: the answers stand as
    given.
    """
    _probe_host_alembic(request["host_alembic"], request["host_config"])
    _probe_host_init(request.get("host_init", ""))
    _probe_host_kind(request)
    base = _host_base(request["host_base"])
    answer: dict[str, str | None] = {"host_orm": _orm_of(base) if base is not None else None}
    metadata = _host_metadata(base, request["host_base"]) if base is not None else None
    if metadata is not None and request["extends"]:
        column = _host_key(metadata, request["extends"], request["host_base"])
        answer["extends_type"] = _key_type(
            column, request["extends"], request["extends_type"] or None
        )
    return answer


def _probe_host_alembic(spec: str, host_config: str) -> None:
    """``package:folder`` must be a folder of the package, ``module:function`` a function."""
    if not _CODE_SPEC.match(spec):
        return
    module_name, _, rest = spec.partition(":")
    try:
        found = importlib.util.find_spec(module_name)
    except Exception:
        return
    if found is None:
        return
    for location in found.submodule_search_locations or ():
        if (Path(location) / rest).is_dir():
            if host_config:
                raise UsageError(
                    f"host_config: '{spec}' is a script directory, which is given no config "
                    "file; only a module:function host_alembic is (leave host_config empty)"
                )
            return
    try:
        target: Any = importlib.import_module(module_name)
    except Exception:
        return
    for part in rest.split("."):
        target = getattr(target, part, None) if part.isidentifier() else None
    if not callable(target):
        raise UsageError(
            f"host_alembic: '{spec}': {module_name} has neither a folder {rest!r} (package:path "
            f"of a script directory) nor a function {rest!r} (module:function returning an "
            "alembic Config)"
        )


def _probe_host_init(spec: str) -> None:
    """``host_init`` must name a function of its module, when the module imports here."""
    if not spec:
        return
    module_name, _, attribute = spec.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except Exception:
        return  # the host is not installed here: checked by the first command that needs it
    for part in attribute.split("."):
        target = getattr(target, part, None)
    if not callable(target):
        raise UsageError(f"host_init: '{spec}': {module_name} has no function {attribute!r}")


def _probe_host_kind(request: Mapping[str, str]) -> None:
    """A host environment scaffold refuses (multidb), or whose env.py needs a Flask app that
    host_app does not name, is refused now rather than by the plugin's first command."""
    from ..errors import ConfigError
    from ..host.host import Host
    from ..host.kinds import UnsupportedHost

    spec = request["host_alembic"]
    if not _CODE_SPEC.match(spec) and not Path(os.path.expanduser(spec)).is_absolute():
        return  # relative to a folder that does not exist yet: checked by its first command
    try:
        Host.from_spec(
            spec,
            base=Path.cwd(),
            app=request.get("host_app") or None,
            host_config=request.get("host_config") or None,
        )
    except UnsupportedHost as exc:
        raise UsageError(f"{exc.question}: {exc}") from None
    except ConfigError:
        return  # what else the host's config says is the first command's to report


def _host_base(host_base: str) -> Any:
    """What ``host_base`` names, or None when the host cannot be imported here."""
    module_name, _, attribute = host_base.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except Exception:
        return None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise UsageError(f"host_base: '{host_base}': {module_name} has no {attribute!r}")
        target = getattr(target, part)
    return target


def _orm_of(base: Any) -> str:
    """``sqlmodel`` for SQLModel or a subclass of it, else ``sqlalchemy``."""
    sqlmodel = sys.modules.get("sqlmodel")  # imported by the host's module if it uses it
    model = getattr(sqlmodel, "SQLModel", None)
    if isinstance(base, type) and isinstance(model, type) and issubclass(base, model):
        return "sqlmodel"
    return "sqlalchemy"


def _host_metadata(target: Any, host_base: str) -> Any:
    """The MetaData of the host's Base ``target`` (None if it has no table yet)."""
    from sqlalchemy import MetaData

    metadata = getattr(target, "metadata", None)
    if not isinstance(metadata, MetaData):
        raise UsageError(
            f"host_base: '{host_base}' has no MetaData (.metadata): not a declarative Base"
        )
    # No table at all: importing the Base's module does not load the host's models.
    return metadata if metadata.tables else None


def _host_key(metadata: Any, extends: str, host_base: str) -> Any:
    """The host column ``extends`` names; it must be a key (primary or unique)."""
    from sqlalchemy import UniqueConstraint

    table_name, _, column_name = extends.partition(".")
    tables = [t for t in metadata.tables.values() if t.name == table_name]
    if not tables:
        raise UsageError(f"extends: the host has no table {table_name!r} (in {host_base})")
    table = tables[0]
    column = table.columns.get(column_name)
    if column is None:
        known = ", ".join(c.name for c in table.columns)
        raise UsageError(
            f"extends: the host's table {table_name} has no column {column_name!r} "
            f"(its columns: {known})"
        )
    unique = (
        column.primary_key
        or column.unique
        or any(
            isinstance(c, UniqueConstraint) and list(c.columns) == [column]
            for c in table.constraints
        )
        or any(index.unique and list(index.columns) == [column] for index in table.indexes)
    )
    if not unique:
        raise UsageError(
            f"extends: {extends} is neither the primary key of {table_name} nor unique; a side "
            "table extends one row, so it refers to a key"
        )
    return column


def _key_type(column: Any, extends: str, given: str | None) -> str | None:
    """The side table's key type: the host's, or the given one if the databases see the same."""
    host_type = column.type
    host_expression = type_expression(host_type)
    host_name = host_expression or repr(host_type)
    if given is None and host_expression is not None:
        return host_expression
    answer = given or _plain_defaults()["extends_type"]
    try:
        answer_type = build_type(answer)
    except Exception as exc:
        raise UsageError(f"extends_type: {answer} fails: {first_line(exc)}") from None
    if _ddl(answer_type) != _ddl(host_type):
        if given is None:
            raise UsageError(
                f"extends_type: the host's key {extends} is {host_name}, which is not an "
                "SQLAlchemy type expression; answer extends_type with the sa.<Type>(...) its "
                "databases store it as"
            )
        raise UsageError(
            f"extends_type: {answer} does not match the host's key {extends}, which is {host_name}"
        )
    return None


def _ddl(type_: Any) -> tuple[str, ...]:
    """How PostgreSQL, MariaDB and SQLite write ``type_``: equal for interchangeable types."""
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    if isinstance(type_, type):
        type_ = type_()
    written = []
    factories: list[Any] = [postgresql.dialect, mysql.dialect, sqlite.dialect]
    for factory in factories:
        try:
            written.append(str(type_.compile(dialect=factory())))
        except Exception as exc:
            written.append(type(exc).__name__)
    return tuple(written)


# --- copier.yml ---------------------------------------------------------------------------------


@cache
def _questions() -> dict[str, dict[str, Any]]:
    """The questions of ``copier.yml`` by name (not its settings, whose names start with _)."""
    import yaml  # type: ignore[import-untyped]

    path = template_root() / "copier.yml"
    with path.open(encoding="utf-8") as stream:
        config = yaml.safe_load(stream) or {}
    return {
        str(name): spec if isinstance(spec, dict) else {"default": spec}
        for name, spec in config.items()
        if not str(name).startswith("_")
    }


def _plain_defaults() -> dict[str, Any]:
    """The questions' defaults that are plain values (not Jinja templates)."""
    return {
        name: spec["default"]
        for name, spec in _questions().items()
        if isinstance(spec.get("default"), str) and "{" not in spec["default"]
    }


@cache
def _jinja() -> Any:
    """A Jinja environment like the one copier renders validators in."""
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else text
