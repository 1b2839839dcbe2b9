"""Typed errors of the core; the CLI turns each into one line and an exit code."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    name = type(exc).__name__
    return f"{name}: {line}" if line else name


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
