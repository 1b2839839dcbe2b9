"""``scaffold wire``/``unwire``: the edits that let plain ``alembic`` in the host see a plugin.

Two edits, both reversible line for line: the plugin's migrations folder is added to the host's
``version_locations`` (so ``alembic heads`` sees its branch), and ``env.py`` imports the plugin's
models (so ``alembic revision --autogenerate`` knows its tables and proposes no ``drop_table``).
A file that an installed package owns (an env.py shipped in site-packages, as Rattail's) is never
edited: it is reported as left alone.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import ensure_writable, installed_file, newline_of, read_text, write_atomically
from .host import Host, is_resource

MARK = "plugin-scaffold: wired"
TOML_MARK = "plugin-scaffold: version_locations added by `scaffold wire`"
ADDED_MARK = f"# {TOML_MARK}"
MOVED_MARK = "# plugin-scaffold: `scaffold wire` took the inline comment off the next line: "
_WIRED_LINE = re.compile(
    r"^import (?P<package>[\w.]+)\.models\b.*# " + MARK + r" (?P<name>\w+)\s*$"
)
_SEPARATOR_CHARS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}


@dataclass(frozen=True)
class WireChange:
    """What one wire or unwire did to the host's files (empty when nothing had to change)."""

    changed: tuple[Path, ...]
    #: Files that an installed package owns, which would have needed the edit but were left alone.
    left_alone: tuple[Path, ...] = ()
    #: ``path:line: text`` of wiring that unwire did not recognise (edited by hand) and left.
    left_behind: tuple[str, ...] = ()
    #: The host's file that holds (or would hold) the plugin's version_locations entry.
    config: Path | None = None


def wired_plugins(host: Host) -> dict[str, str]:
    """``{plugin name: package}`` of the plugins wired into the host's env.py."""
    env = host.script_location / "env.py"
    found: dict[str, str] = {}
    for line in read_text(env).splitlines():
        match = _WIRED_LINE.match(line)
        if match:
            found[match["name"]] = match["package"]
    return found


def wire(host: Host, name: str, package: str, migrations: Path) -> WireChange:
    """Add the plugin's migrations to the host's version_locations and its models to env.py."""
    config = _config_of(host)
    config_text = read_text(config)
    env = host.script_location / "env.py"
    env_text = read_text(env)
    if config == host.toml_path:
        new_config = _toml_add(config_text, package, config)
    else:
        new_config = _add_location(config_text, host, package, migrations, config)
    new_env = _add_import(env_text, name, package, env)
    change = _write({config: (config_text, new_config), env: (env_text, new_env)})
    return replace(change, config=config)


def unwire(host: Host, name: str, package: str | None) -> WireChange:
    """Undo :func:`wire`; what hand edits left unrecognisable stays and is named."""
    config = _config_of(host)
    env = host.script_location / "env.py"
    config_text = read_text(config)
    env_text = read_text(env)
    package = package or wired_plugins(host).get(name)
    if package is None:
        return WireChange((), config=config)
    env_lines = env_text.splitlines(keepends=True)
    for k in reversed(range(len(env_lines))):
        match = _WIRED_LINE.match(env_lines[k].rstrip("\r\n"))
        if match and match["name"] == name:
            _delete_lines(env_lines, k, k + 1)
    new_env = "".join(env_lines)
    if config == host.toml_path:
        new_config = _toml_remove(config_text, package, config)
    else:
        new_config = _remove_location(config_text, host, package)
    change = _write({config: (config_text, new_config), env: (env_text, new_env)})
    left = _left_behind(config, new_config, name, package)
    left += _left_behind(env, new_env, name, package)
    return WireChange(change.changed, change.left_alone, tuple(left), config)


def importable(host: Host, package: str) -> bool:
    """Whether ``package`` imports where plain ``alembic`` (or ``flask db``) runs for this host.

    Asked of a fresh interpreter (the same one) in the host's folder, with the host's
    prepend_sys_path: scaffold's own process has the plugin project's sources on sys.path,
    which plain ``alembic`` will not have.
    """
    import subprocess
    import sys

    probe = (
        "import importlib.util, sys\n"
        "sys.path[:0] = sys.argv[2:]\n"
        "sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 1)\n"
    )
    paths = [str(p) for p in host.prepend_sys_path]
    try:
        result = subprocess.run(
            [sys.executable, "-c", probe, package, *paths],
            cwd=host_folder(host),
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return True  # cannot tell: no warning rather than a wrong one
    return result.returncode == 0


def host_folder(host: Host) -> Path:
    """Where the host's developers run ``alembic`` (or ``flask db``)."""
    if host.toml_path is not None:
        return host.toml_path.parent
    if host.ini_path is not None and host.ini_path.parent != host.script_location:
        return host.ini_path.parent
    # Flask-Migrate's migrations/alembic.ini (and MediaGoblin's) sits in the script
    # directory; its application runs from the folder above.
    return host.script_location.parent


def _write(edits: dict[Path, tuple[str, str]]) -> WireChange:
    wanted = [path for path, (old, new) in edits.items() if old != new]
    changed = [path for path in wanted if not installed_file(path)]
    for path in changed:  # all checked before any is written: all edits or none
        ensure_writable(path)
    for path in changed:
        write_atomically(path, edits[path][1], overwrite=True)
    return WireChange(tuple(changed), tuple(p for p in wanted if p not in changed))


def _config_of(host: Host) -> Path:
    """The file that holds the host's version_locations: [tool.alembic] when the host has one."""
    path = host.toml_path or host.ini_path
    if host.toml_path is not None and host.ini_path is not None:
        # Alembic takes version_locations from the ini when it has one, before [tool.alembic]
        plain = read_text(host.ini_path).splitlines()
        try:
            start, end = _section_bounds(plain, host.ini_section, host.ini_path)
        except ConfigError:
            pass
        else:
            if _find_option(plain, "version_locations", start, end):
                path = host.ini_path
    if path is None:
        if host.factory is not None:
            raise ConfigError(
                f"config factory {host.factory.spec} builds its Config from no file "
                "(config_file_name is None): there is no file to add version_locations to; "
                "install the plugin (its entry point makes scaffold find it) and enable it "
                "where the host's own config says which plugins it loads"
            )
        raise ConfigError(
            f"host {host.described_as} has no alembic.ini to wire into: install the plugin "
            "(its entry point makes scaffold find it) or pass -c with the host's ini"
        )
    if installed_file(path):
        if host.factory is not None:
            raise ConfigError(
                f"{path} (the file config factory {host.factory.spec} builds its Config from) "
                "belongs to an installed package and is not edited: install the plugin (its "
                "entry point makes scaffold find it) and enable it where the host's own config "
                "says which plugins it loads"
            )
        raise ConfigError(
            f"{path} belongs to an installed package and is not edited: install the "
            "plugin (its entry point makes scaffold find it), or pass -c with your own config "
            "file that holds the host's [alembic] section"
        )
    return path


def factory_overrides(host: Host, migrations: Path) -> bool:
    """True when the host's config factory leaves ``migrations`` out of the Config it builds
    although its file lists it (MediaGoblin's sets version_locations in code): the host's own
    tool then does not see what ``wire`` added there."""
    if host.factory is None:
        return False
    rebuilt = Host.from_factory(host.factory)
    return migrations.resolve() not in {p.resolve() for p in rebuilt.version_locations}


def _left_behind(path: Path, text: str, name: str, package: str) -> list[str]:
    """``path:line: text`` of the lines that still name this plugin's wiring after unwire:
    hand edits made them unrecognisable (an import moved into a ``try:``, an entry commented
    out), so they were left as they are."""
    folder = "/".join((*package.split("."), "migrations"))
    mine = re.compile(
        rf"{re.escape(MARK)} {re.escape(name)}\b"
        rf"|(?<![\w.]){re.escape(package)}:migrations\b"
        rf"|[/\\]{re.escape(folder)}(?![\w.])"
    )
    return [
        f"{path}:{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), start=1)
        if mine.search(line)
    ]


def _insert_lines(lines: list[str], at: int, new: list[str], newline: str) -> None:
    """Insert whole lines (each ending in ``newline``); a file that ends without a line ending
    still does."""
    new = list(new)
    if at > 0 and not lines[at - 1].endswith("\n"):
        lines[at - 1] += newline
        new[-1] = new[-1].removesuffix(newline)
    lines[at:at] = new


def _delete_lines(lines: list[str], start: int, end: int) -> None:
    """The inverse of :func:`_insert_lines`."""
    if end == len(lines) and not lines[end - 1].endswith("\n") and start > 0:
        lines[start - 1] = lines[start - 1].rstrip("\r\n")
    del lines[start:end]


# --- pyproject.toml [tool.alembic] ------------------------------------------------------------


def _alembic_table(text: str, toml: Path) -> tuple[Any, Any]:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"{toml}: cannot be read as TOML ({exc})") from None
    table = doc.get("tool", {}).get("alembic")
    if table is None:
        raise ConfigError(f"{toml}: no [tool.alembic] table")
    return doc, table


def _toml_add(text: str, package: str, toml: Path) -> str:
    import tomlkit
    from tomlkit.items import InlineTable

    doc, table = _alembic_table(text, toml)
    entry = f"{package}:migrations"
    current = table.get("version_locations")
    if current is not None:
        if not isinstance(current, list):
            raise ConfigError(f"{toml}: [tool.alembic] version_locations is not a list")
        if any(_is_entry_for(str(token), package) for token in current):
            return text
        current.append(entry)
    else:
        location = table.get("script_location")
        if not isinstance(location, str):
            raise ConfigError(f"{toml}: [tool.alembic] has no script_location")
        if isinstance(table, InlineTable):
            raise ConfigError(
                f"{toml}: tool.alembic is an inline table; add version_locations to it by hand"
            )
        # Alembic's default, kept: a version_locations list replaces <script_location>/versions.
        locations = tomlkit.array()
        locations.extend([f"{location.rstrip('/')}/versions", entry])
        locations.comment(TOML_MARK)
        beside = _after_script_location(text, locations, toml)
        if beside is not None:
            return beside
        table.add("version_locations", locations)
    return _keep_newlines(text, doc.as_string())


def _after_script_location(text: str, locations: Any, toml: Path) -> str | None:
    """``text`` with a ``version_locations`` line right after ``[tool.alembic]``'s
    ``script_location`` line, where the reader looks (tomlkit has no public way to insert a
    key at a place); None when that line is not found or the result does not read back."""
    import tomlkit

    line = tomlkit.dumps({"version_locations": locations}).strip("\n")
    newline = newline_of(text)
    lines = text.splitlines(keepends=True)
    section = ""
    for at, raw in enumerate(lines):
        stripped = raw.strip()
        if stripped.startswith("["):
            section = stripped.split("#")[0].strip()
        elif section == "[tool.alembic]" and re.match(r"script_location\s*=", stripped):
            _insert_lines(lines, at + 1, [line + newline], newline)
            made = "".join(lines)
            try:
                read = _alembic_table(made, toml)[1].get("version_locations")
            except ConfigError:
                return None
            return made if read == list(locations) else None
    return None


def _toml_remove(text: str, package: str, toml: Path) -> str:
    doc, table = _alembic_table(text, toml)
    current = table.get("version_locations")
    if not isinstance(current, list):
        return text
    mine = [i for i, token in enumerate(current) if _is_entry_for(str(token), package)]
    if not mine:
        return text
    kept = [str(t) for i, t in enumerate(current) if i not in mine]
    location = str(table.get("script_location", "")).rstrip("/")
    candidates = []
    marked = TOML_MARK in getattr(getattr(current, "trivia", None), "comment", "")
    if kept == [f"{location}/versions"] and marked:
        whole, whole_table = _alembic_table(text, toml)
        del whole_table["version_locations"]
        candidates.append(_keep_newlines(text, whole.as_string()))
    for i in reversed(mine):
        del current[i]
    candidates.append(_keep_newlines(text, doc.as_string()))
    if _drop_last_comma(current):
        # wire appended after an item without a trailing comma and gave it one; tomlkit keeps
        # that comma when ours goes
        candidates.append(_keep_newlines(text, doc.as_string()))
    for candidate in candidates:
        if _toml_add(candidate, package, toml) == text:
            return candidate
    return candidates[-1]


def _drop_last_comma(array: Any) -> bool:
    """Take the comma off the last item of a tomlkit array (tomlkit offers no public way)."""
    try:
        groups = [g for g in array._value if not g.is_whitespace()]
        if not groups or groups[-1].comma is None:
            return False
        groups[-1].comma = None
    except AttributeError:
        return False
    return True


def _keep_newlines(old: str, new: str) -> str:
    """tomlkit writes the lines it adds with ``\n``; a CRLF file keeps CRLF throughout."""
    if newline_of(old) == "\r\n" and "\n" not in old.replace("\r\n", ""):
        return re.sub(r"(?<!\r)\n", "\r\n", new)
    return new


# --- alembic.ini -----------------------------------------------------------------------------
#
# Edited line by line rather than through an ini library: every line scaffold does not add or
# take away keeps its bytes (case, comments, continuation indents, line endings), and unwire
# removes exactly the text wire added.


def _section_bounds(lines: list[str], section: str, ini: Path) -> tuple[int, int]:
    start = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if start is not None:
                return start, i
            if stripped[1:-1].strip() == section:
                start = i + 1
    if start is None:
        raise ConfigError(f"{ini}: no [{section}] section")
    return start, len(lines)


def _find_option(lines: list[str], name: str, start: int, end: int) -> tuple[int, int] | None:
    """The lines of option ``name`` (ConfigParser reads option names case-insensitively)."""
    pattern = re.compile(rf"^{re.escape(name)}\s*[=:]", re.IGNORECASE)
    for i in range(start, end):
        if pattern.match(lines[i]):
            j = i + 1
            while j < end and lines[j][:1] in (" ", "\t") and lines[j].strip():
                j += 1
            return i, j
    return None


def _value_start(line: str) -> int:
    """Index where the value begins on an option's first line."""
    match = re.match(r"^[^=:]*[=:][ \t]*", line)
    return match.end() if match else 0


def _separator(lines: list[str], start: int, end: int) -> str | None:
    for name in ("path_separator", "version_path_separator"):
        found = _find_option(lines, name, start, end)
        if found:
            value = lines[found[0]][_value_start(lines[found[0]]) :].strip()
            if value not in _SEPARATOR_CHARS:
                raise ConfigError(f"{name} = {value!r} is not a separator Alembic knows")
            return _SEPARATOR_CHARS[value]
    return None


def _entry(package: str, migrations: Path, separator: str | None) -> str:
    # A package resource survives moving virtualenvs, but contains ':' and so cannot be used
    # where ':' separates the entries.
    if separator in (":", os.pathsep) and os.pathsep == ":":
        return str(migrations)
    return f"{package}:migrations"


def _split_pattern(separator: str | None) -> str:
    """What separates entries in a version_locations value, continuation lines included."""
    if separator is None:  # Alembic's legacy splitting: spaces and commas
        return r"[\s,]+"
    if separator in (" ", "\n"):
        return r"\s+" if separator == " " else r"\s*\n\s*"
    return rf"\s*[{re.escape(separator)}\n]\s*"


def _tokens(value: str, separator: str | None) -> list[str]:
    return [t for t in re.split(_split_pattern(separator), value.strip()) if t]


def _option_value(lines: list[str], start: int, end: int) -> str:
    first = lines[start][_value_start(lines[start]) :]
    return "\n".join([first.strip(), *(line.strip() for line in lines[start + 1 : end])])


def _is_entry_for(token: str, package: str) -> bool:
    if token == f"{package}:migrations":
        return True
    parts = Path(token).parts
    wanted = (*package.split("."), "migrations")
    return tuple(parts[-len(wanted) :]) == wanted


def _default_versions(plain: list[str], start: int, end: int, host: Host, sep: str | None) -> str:
    """The entry that stands for Alembic's default versions folder of this host."""
    found = _find_option(plain, "script_location", start, end)
    if found is None:
        # Flask-Migrate sets script_location in code to the ini's own folder
        return "%(here)s/versions"
    line = plain[found[0]]
    raw = line[_value_start(line) :].strip().rstrip("/")
    if is_resource(raw) and sep in (":", os.pathsep) and os.pathsep == ":":
        # a package:path cannot be written where ':' separates the entries
        return str(host.script_location / "versions")
    return f"{raw}/versions"


def _move_separator_comment(
    lines: list[str], plain: list[str], start: int, end: int, newline: str
) -> bool:
    """Alembic reads ``path_separator = os  # comment`` as a value with the comment in it (the
    ini `alembic init` wrote in 1.13) and fails once version_locations is set; move the
    comment onto a marker line of its own, which unwire puts back."""
    for name in ("path_separator", "version_path_separator"):
        found = _find_option(plain, name, start, end)
        if not found:
            continue
        line = plain[found[0]]
        value = line[_value_start(line) :]
        if "#" in value and value.split("#", 1)[0].strip() in _SEPARATOR_CHARS:
            clean = f"{line[: _value_start(line)]}{value.split('#', 1)[0].strip()}"
            lines[found[0] : found[0] + 1] = [MOVED_MARK + line + newline, clean + newline]
            return True
    return False


def _restore_separator_comment(lines: list[str]) -> None:
    for i, line in enumerate(lines[:-1]):
        if line.startswith(MOVED_MARK):
            newline = "\r\n" if line.endswith("\r\n") else "\n"
            lines[i : i + 2] = [line.rstrip("\r\n")[len(MOVED_MARK) :] + newline]
            return


def _add_location(text: str, host: Host, package: str, migrations: Path, ini: Path) -> str:
    lines = text.splitlines(keepends=True)
    newline = newline_of(text)
    plain = [line.rstrip("\r\n") for line in lines]
    start, end = _section_bounds(plain, host.ini_section, ini)
    if _move_separator_comment(lines, plain, start, end, newline):
        return _add_location("".join(lines), host, package, migrations, ini)
    separator = _separator(plain, start, end)
    entry = _entry(package, migrations, separator)
    found = _find_option(plain, "version_locations", start, end)
    if found is not None:
        i, j = found
        if any(_is_entry_for(t, package) for t in _tokens(_option_value(plain, i, j), separator)):
            return text
        if separator == "\n":
            indent = plain[j - 1][: len(plain[j - 1]) - len(plain[j - 1].lstrip())]
            line = f"{indent if j - 1 > i and indent else '    '}{entry}{newline}"
            _insert_lines(lines, j, [line], newline)
        else:
            last = plain[j - 1]
            body = last.rstrip()
            ending = lines[j - 1][len(body) :]  # trailing blanks and the line's own ending
            lines[j - 1] = body + (separator or " ") + entry + ending
        return "".join(lines)
    if _find_option(plain, "script_location", start, end) is None:
        if host.script_location != ini.parent:
            raise ConfigError(f"{ini}: [{host.ini_section}] has no script_location")
        at = start  # Flask-Migrate: right under [alembic]
    else:
        at = _find_option(plain, "script_location", start, end)[1]  # type: ignore[index]
    default = _default_versions(plain, start, end, host, separator)
    joiner = "\n    " if separator == "\n" else (separator or " ")
    value = f"{default}{joiner}{entry}".replace("\n", newline)
    _insert_lines(
        lines, at, [ADDED_MARK + newline, f"version_locations = {value}{newline}"], newline
    )
    return "".join(lines)


def _remove_location(text: str, host: Host, package: str) -> str:
    lines = text.splitlines(keepends=True)
    plain = [line.rstrip("\r\n") for line in lines]
    start, end = _section_bounds(plain, host.ini_section, host.ini_path or Path("alembic.ini"))
    separator = _separator(plain, start, end)
    found = _find_option(plain, "version_locations", start, end)
    if found is None:
        return text
    i, j = found
    tokens = _tokens(_option_value(plain, i, j), separator)
    kept = [t for t in tokens if not _is_entry_for(t, package)]
    if len(kept) == len(tokens):
        return text
    added_by_us = i > 0 and plain[i - 1].strip() == ADDED_MARK
    if added_by_us and kept == [_default_versions(plain, start, end, host, separator)]:
        _delete_lines(lines, i - 1, j)
        _restore_separator_comment(lines)
        return "".join(lines)
    for token in tokens:
        if token not in kept:
            _drop_token(lines, i, j, token, separator)
    return "".join(lines)


def _drop_token(lines: list[str], i: int, j: int, token: str, separator: str | None) -> None:
    """Take ``token`` and the separator that joined it out of the option's lines, in place.

    Everything else on those lines (indents, other entries, the line endings) is kept.
    """
    between = _split_pattern(separator)
    for k in range(j - 1, i - 1, -1):
        body = lines[k].rstrip("\r\n")
        ending = lines[k][len(body) :]
        offset = _value_start(body) if k == i else 0
        prefix, value = body[:offset], body[offset:]
        for match in re.finditer(re.escape(token), value):
            before, after = value[: match.start()], value[match.end() :]
            if (before.strip() and not re.search(between + r"\Z", before)) or (
                after.strip() and not re.match(between, after)
            ):
                continue  # part of a longer entry
            if before.strip():
                # joined to the entry before it: drop the separator in front
                value = re.sub(between + r"\Z", "", before) + after
            else:
                value = before + re.sub(r"\A" + between, "", after, count=1)
            if k > i and not value.strip():
                _delete_lines(lines, k, k + 1)  # a continuation line of its own
            else:
                lines[k] = prefix + value + ending
            return


# --- env.py ----------------------------------------------------------------------------------


def _add_import(text: str, name: str, package: str, env: Path) -> str:
    line = f"import {package}.models  # noqa: E402,F401  # {MARK} {name}"
    plain = text.splitlines()
    for existing in plain:
        match = _WIRED_LINE.match(existing)
        if match and match["name"] == name:
            return text
    try:
        tree = ast.parse(text, filename=str(env))
    except SyntaxError as exc:
        raise ConfigError(f"{env}:{exc.lineno}: syntax error: {exc.msg}") from None
    after = 0
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            after = node.end_lineno or node.lineno
        elif _assigns(node, "target_metadata"):
            after = node.end_lineno or node.lineno
            break
    newline = newline_of(text)
    lines = text.splitlines(keepends=True)
    _insert_lines(lines, after, [line + newline], newline)
    return "".join(lines)


def _assigns(node: ast.stmt, name: str) -> bool:
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    return any(isinstance(t, ast.Name) and t.id == name for t in targets)


__all__ = ["WireChange", "is_resource", "unwire", "wire", "wired_plugins"]
