"""MkDocs hook: docs/cli.md's command reference, generated from the CLI's own argparse parser.

`on_page_markdown` replaces the marker in docs/cli.md by the help that
``plugin_scaffold.cli.build_parser()`` gives: ``scaffold --help`` once (the global options), then
for every subcommand the parser has, a heading, its description, its usage and its own options
as argparse formats them. Nothing is listed by hand, so the page cannot drift from the code.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any

MARKER = "<!-- cli-reference -->"
#: Columns argparse wraps at, whatever the terminal that runs mkdocs.
WIDTH = 100


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every subcommand of ``parser``, by name, in the order the parser lists them."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def global_option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """The top-level options that every subcommand accepts too (help and version aside)."""
    skip = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)
    return {
        option
        for action in parser._actions
        if not isinstance(action, skip)
        for option in action.option_strings
    }


def _formatter(parser: argparse.ArgumentParser) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(parser.prog, width=WIDTH)


def at_width(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser``, its help formatted ``WIDTH`` columns wide by its own formatter."""
    parser.formatter_class = functools.partial(parser.formatter_class, width=WIDTH)
    return parser


def usage(parser: argparse.ArgumentParser) -> str:
    """The usage line exactly as ``scaffold COMMAND --help`` prints it (``[global options]``)."""
    return at_width(parser).format_usage().strip()


def own_options(parser: argparse.ArgumentParser, global_options: set[str]) -> str:
    """The argument sections of ``parser``'s help, without the global options it repeats."""
    formatter = _formatter(parser)
    for group in parser._action_groups:
        actions = [
            action
            for action in group._group_actions
            if not (action.option_strings and set(action.option_strings) <= global_options)
        ]
        if actions:
            formatter.start_section(group.title)
            formatter.add_arguments(actions)
            formatter.end_section()
    return formatter.format_help().strip()


def _text_block(text: str) -> str:
    return f"```text\n{text}\n```"


def reference(parser: argparse.ArgumentParser) -> str:
    """The Markdown of the whole reference: ``scaffold --help``, then one section per command."""
    at_width(parser)
    global_options = global_option_strings(parser)
    parts = [
        "## scaffold",
        "The global options go before or after the command. "
        "[Command reference: global options](commands.md#global-options).",
        _text_block(parser.format_help().strip()),
    ]
    for name, command in subcommands(parser).items():
        parts += [
            f"## {name}",
            command.description or "",
            _text_block(usage(command)),
            _text_block(own_options(command, global_options)),
            f"Also the [global options](#scaffold). In prose, with examples: "
            f"[Command reference: {name}](commands.md#{name}).",
        ]
    return "\n\n".join(part for part in parts if part) + "\n"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    from plugin_scaffold.cli import build_parser

    return markdown.replace(MARKER, reference(build_parser()))
