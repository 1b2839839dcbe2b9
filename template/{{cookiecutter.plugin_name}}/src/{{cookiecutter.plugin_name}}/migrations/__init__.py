"""Revisions of the {{ cookiecutter.plugin_name }} branch, one module each (`scaffold revision` writes them here)."""
