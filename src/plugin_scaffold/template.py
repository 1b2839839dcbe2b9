"""Rendering the plugin template into a new project, and the rules its answers must follow.

The rules live once, as the validators of ``copier.yml``; :func:`answer_error` renders them
here the way copier does, so that ``scaffold new`` refuses a bad answer before copier starts.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .errors import UsageError
from .resources import scaffold_requirement, template_root

#: The question whose answer names the plugin.
PLUGIN_NAME = "plugin_name"

_COPIER_VALIDATION = re.compile(r"^Validation error for question '(?P<name>[^']+)': (?P<msg>.*)$")


def render_plugin(dest: Path, answers: Mapping[str, str], *, defaults: bool = True) -> Path:
    """Render the plugin template into ``dest``, a new or empty folder, and return it.

    ``answers`` answer template questions by name (``plugin_name`` at least, unless copier
    may ask); the others take their defaults, or are asked when ``defaults`` is false.
    ``scaffold_requirement`` defaults to this very plugin-scaffold. A bad answer, or a
    ``dest`` that holds anything, is a :class:`UsageError`; no existing file is touched.
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest}: already exists and is not empty; choose a new folder")
    data = dict(answers)
    data.setdefault("scaffold_requirement", scaffold_requirement())
    for question in data:
        message = answer_error(question, data)
        if message:
            raise UsageError(f"{question}: {message}")

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


def validate_plugin_name(name: str, host_branch: str | None = None) -> None:
    """Raise :class:`UsageError` unless ``name`` is a valid plugin name for a host.

    ``host_branch`` is the host's branch label (the template's default when ``None``): a
    plugin's own branch label, its name, must differ from it.
    """
    answers = {PLUGIN_NAME: name}
    if host_branch is not None:
        answers["host_branch"] = host_branch
    message = answer_error(PLUGIN_NAME, answers)
    if message:
        raise UsageError(f"{PLUGIN_NAME}: {message}")


def answer_error(question: str, answers: Mapping[str, str]) -> str:
    """What is wrong with ``answers[question]`` by its ``copier.yml`` validator ("" if nothing).

    The other answers are those given, else the questions' plain (non-templated) defaults.
    An unknown question is an error; a question without a validator accepts anything.
    """
    questions = _questions()
    if question not in questions:
        known = ", ".join(name for name, spec in questions.items() if spec.get("when") is not False)
        return f"no such template question (questions: {known})"
    validator = questions[question].get("validator")
    if not validator:
        return ""
    context: dict[str, Any] = {
        name: spec["default"]
        for name, spec in questions.items()
        if isinstance(spec.get("default"), str) and "{" not in spec["default"]
    }
    context.update(answers)
    return str(_jinja().from_string(validator).render(context)).strip()


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


@cache
def _jinja() -> Any:
    """A Jinja environment like the one copier renders validators in."""
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else text
