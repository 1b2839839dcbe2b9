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
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .files import installed_file, write_atomically
from .host import Host, is_resource

MARK = "plugin-scaffold: wired"
ADDED_MARK = "# plugin-scaffold: version_locations added by `scaffold wire`"
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


def wired_plugins(host: Host) -> dict[str, str]:
    """``{plugin name: package}`` of the plugins wired into the host's env.py."""
    env = host.script_location / "env.py"
    found: dict[str, str] = {}
    for line in env.read_text(encoding="utf-8").splitlines():
        match = _WIRED_LINE.match(line)
        if match:
            found[match["name"]] = match["package"]
    return found


def wire(host: Host, name: str, package: str, migrations: Path) -> WireChange:
    ini = _ini_of(host)
    ini_text = ini.read_text(encoding="utf-8")
    env = host.script_location / "env.py"
    env_text = env.read_text(encoding="utf-8")
    new_ini = _add_location(ini_text, host, package, migrations, ini)
    new_env = _add_import(env_text, name, package, env)
    return _write({ini: (ini_text, new_ini), env: (env_text, new_env)})


def unwire(host: Host, name: str, package: str | None) -> WireChange:
    ini = _ini_of(host)
    env = host.script_location / "env.py"
    ini_text = ini.read_text(encoding="utf-8")
    env_text = env.read_text(encoding="utf-8")
    package = package or wired_plugins(host).get(name)
    if package is None:
        return WireChange(())
    new_env = "".join(
        line
        for line in env_text.splitlines(keepends=True)
        if not ((m := _WIRED_LINE.match(line.rstrip("\r\n"))) and m["name"] == name)
    )
    new_ini = _remove_location(ini_text, host, package)
    return _write({ini: (ini_text, new_ini), env: (env_text, new_env)})


def _write(edits: dict[Path, tuple[str, str]]) -> WireChange:
    wanted = [path for path, (old, new) in edits.items() if old != new]
    changed = [path for path in wanted if not installed_file(path)]
    for path in changed:
        write_atomically(path, edits[path][1], overwrite=True)
    return WireChange(tuple(changed), tuple(p for p in wanted if p not in changed))


def _ini_of(host: Host) -> Path:
    if host.ini_path is None:
        raise ConfigError(
            f"host {host.described_as} has no alembic.ini to wire into: install the plugin "
            "(its entry point makes scaffold find it) or pass -c with the host's ini"
        )
    if installed_file(host.ini_path):
        raise ConfigError(
            f"{host.ini_path} belongs to an installed package and is not edited: install the "
            "plugin (its entry point makes scaffold find it), or pass -c with your own config "
            "file that holds the host's [alembic] section"
        )
    return host.ini_path


# --- alembic.ini -----------------------------------------------------------------------------


@dataclass
class _Option:
    start: int  # index of the "name = value" line
    end: int  # index one past its last continuation line
    separator: str | None  # the configured separator character, None for legacy splitting


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
    pattern = re.compile(rf"^{re.escape(name)}\s*[=:]")
    for i in range(start, end):
        if pattern.match(lines[i]):
            j = i + 1
            while j < end and lines[j][:1] in (" ", "\t") and lines[j].strip():
                j += 1
            return i, j
    return None


def _separator(lines: list[str], start: int, end: int) -> str | None:
    for name in ("path_separator", "version_path_separator"):
        found = _find_option(lines, name, start, end)
        if found:
            value = lines[found[0]].split("=", 1)[-1].strip()
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


def _tokens(value: str, separator: str | None) -> list[str]:
    if separator is None:
        return [t for t in re.split(r", *|(?: +)", value.strip()) if t]
    return [t.strip() for t in value.split(separator) if t.strip()]


def _option_value(lines: list[str], start: int, end: int) -> str:
    first = lines[start].split("=", 1)[1] if "=" in lines[start] else lines[start].split(":", 1)[1]
    return "\n".join([first.strip(), *(line.strip() for line in lines[start + 1 : end])])


def _is_entry_for(token: str, package: str) -> bool:
    if token == f"{package}:migrations":
        return True
    parts = Path(token).parts
    wanted = (*package.split("."), "migrations")
    return tuple(parts[-len(wanted) :]) == wanted


def _default_versions(script_line: str, host: Host, separator: str | None) -> str:
    """The entry that stands for Alembic's default versions folder of this host."""
    raw = script_line.split("=", 1)[1].strip().rstrip("/")
    if is_resource(raw) and separator in (":", os.pathsep) and os.pathsep == ":":
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
        value = line.split("=", 1)[-1]
        if "#" in value and value.split("#", 1)[0].strip() in _SEPARATOR_CHARS:
            clean = f"{name} = {value.split('#', 1)[0].strip()}"
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
    newline = "\r\n" if text.endswith("\r\n") else "\n"
    start, end = _section_bounds([line.rstrip("\r\n") for line in lines], host.ini_section, ini)
    plain = [line.rstrip("\r\n") for line in lines]
    if _move_separator_comment(lines, plain, start, end, newline):
        return _add_location("".join(lines), host, package, migrations, ini)
    separator = _separator(plain, start, end)
    entry = _entry(package, migrations, separator)
    found = _find_option(plain, "version_locations", start, end)
    if found is not None:
        i, j = found
        tokens = _tokens(_option_value(plain, i, j), separator or " ")
        if any(_is_entry_for(t, package) for t in tokens):
            return text
        if separator == "\n":
            lines.insert(j, f"    {entry}{newline}")
        else:
            joiner = separator or " "
            lines[j - 1] = plain[j - 1].rstrip() + joiner + entry + newline
        return "".join(lines)
    location = _find_option(plain, "script_location", start, end)
    if location is None:
        raise ConfigError(f"{ini}: [{host.ini_section}] has no script_location")
    default = _default_versions(plain[location[0]], host, separator)
    joiner = "\n    " if separator == "\n" else (separator or " ")
    added = [ADDED_MARK + newline, f"version_locations = {default}{joiner}{entry}{newline}"]
    lines[location[1] : location[1]] = added
    return "".join(lines)


def _remove_location(text: str, host: Host, package: str) -> str:
    lines = text.splitlines(keepends=True)
    plain = [line.rstrip("\r\n") for line in lines]
    newline = "\r\n" if text.endswith("\r\n") else "\n"
    start, end = _section_bounds(plain, host.ini_section, host.ini_path or Path("alembic.ini"))
    separator = _separator(plain, start, end)
    found = _find_option(plain, "version_locations", start, end)
    if found is None:
        return text
    i, j = found
    tokens = _tokens(_option_value(plain, i, j), separator or " ")
    kept = [t for t in tokens if not _is_entry_for(t, package)]
    if len(kept) == len(tokens):
        return text
    added_by_us = i > 0 and plain[i - 1].strip() == ADDED_MARK
    script = _find_option(plain, "script_location", start, end)
    default = _default_versions(plain[script[0]], host, separator) if script else ""
    if added_by_us and kept == [default]:
        del lines[i - 1 : j]
        _restore_separator_comment(lines)
        return "".join(lines)
    if separator == "\n":
        # Each entry sits on a line of its own: drop just the plugin's lines.
        for k in range(j - 1, i, -1):
            if _is_entry_for(plain[k].strip(), package):
                del lines[k]
        if _is_entry_for(_option_value(plain, i, i + 1).strip(), package):
            lines[i] = f"version_locations ={newline}"
        return "".join(lines)
    else:
        joiner = " " if separator is None else separator
        body = [f"version_locations = {joiner.join(kept)}{newline}"]
    lines[i:j] = body
    return "".join(lines)


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
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    lines.insert(after, line + newline)
    return "".join(lines)


def _assigns(node: ast.stmt, name: str) -> bool:
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    return any(isinstance(t, ast.Name) and t.id == name for t in targets)


__all__ = ["WireChange", "is_resource", "unwire", "wire", "wired_plugins"]
