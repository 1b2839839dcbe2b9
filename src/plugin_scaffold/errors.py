"""Typed errors of the core; the CLI turns each into one line and an exit code."""

from __future__ import annotations

from collections.abc import Iterable


def first_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message.

    A validation error of settings (pydantic's ``ValidationError``: "5 validation errors for
    Settings", the fields on the lines below) keeps the fields and what is wrong with each.
    """
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    name = type(exc).__name__
    fields = _invalid_fields(exc)
    if fields:
        line = f"{line}: {fields}"
    return f"{name}: {line}" if line else name


def _invalid_fields(exc: BaseException) -> str:
    """``FIELD: message; ...`` of a pydantic ValidationError, else ''."""
    errors = getattr(exc, "errors", None)
    if not callable(errors) or type(exc).__name__ != "ValidationError":
        return ""
    try:
        found = [
            f"{'.'.join(str(part) for part in error.get('loc', ())) or '?'}: {error.get('msg', '')}"
            for error in errors()
        ]
    except Exception:
        return ""
    shown = "; ".join(found[:5])
    return shown + (f"; and {len(found) - 5} more" if len(found) > 5 else "")


def closest(name: str, known: Iterable[str]) -> str | None:
    """The one of ``known`` that ``name`` looks like a typo of (difflib), or None."""
    from difflib import get_close_matches

    found = get_close_matches(name, sorted(set(known)), n=1, cutoff=0.75)
    return found[0] if found else None


def unknown_plugin(name: str, known: Iterable[str], otherwise: str) -> str:
    """``no plugin named 'x'``, then ``: did you mean 'y'?`` for a typo, else ``otherwise``."""
    close = closest(name, known)
    return f"no plugin named {name!r}" + (f": did you mean {close!r}?" if close else otherwise)


class ScaffoldError(Exception):
    """Base of every error that the CLI reports as one line."""

    exit_code = 1


class UsageError(ScaffoldError):
    """Bad input, usage or configuration: exit code 2."""

    exit_code = 2


class ConfigError(UsageError):
    """A host, plugin or project is configured in a way scaffold cannot use."""


class PluginError(UsageError):
    """A plugin cannot be found, imported or loaded."""


class OwnershipError(ScaffoldError):
    """A plugin claims a table it does not own (prefix missing, or a host/other plugin table)."""


class MigrationError(ScaffoldError):
    """A migration or a check ran and failed."""
