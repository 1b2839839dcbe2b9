"""Testing a plugin's migrations on every database: the checks, a pytest suite, the nox runner.

``from plugin_scaffold.testing import MigrationSuite`` in a plugin's tests switches the checks
on; see docs/testing.md. Names are imported lazily: the ``scaffold`` command uses parts of this
package without pytest installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checks import CheckFailed, MigrationChecks, NothingToCheck, RowsByRevision
    from .suite import MigrationSuite

__all__ = ["CheckFailed", "MigrationChecks", "MigrationSuite", "NothingToCheck", "RowsByRevision"]

_WHERE = {
    "CheckFailed": "checks",
    "MigrationChecks": "checks",
    "NothingToCheck": "checks",
    "RowsByRevision": "checks",
    "MigrationSuite": "suite",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
