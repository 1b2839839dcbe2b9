"""``python -m plugin_scaffold`` runs the ``scaffold`` command."""

from .cli import run

run()
