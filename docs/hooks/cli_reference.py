"""MkDocs hook: the command reference, docs/commands.md, completed from the CLI's own parser.

docs/commands.md holds what the parser cannot: what each command does, its examples, its exit
codes and notes, in one ``## COMMAND`` section per command after the marker
:data:`SECTIONS`. When the site is built, this hook puts under each such heading what
``scaffold COMMAND --help`` prints (its usage line, description and own options; the global
options, which every command's help repeats, are shown once), and replaces :data:`TOP` with
``scaffold --help``. All of it comes from ``plugin_scaffold.cli.build_parser()``: nothing is
listed by hand, so the usage lines and options cannot drift from the code.

The build fails, strict or not, when the page and the parser disagree: a command with no
section, a section that names no command, or the sections in another order than ``scaffold
--help`` lists the commands.
"""

from __future__ import annotations

import argparse
import functools
import re
from typing import Any

#: Replaced by ``scaffold --help``: the commands and the global options.
TOP = "<!-- scaffold-help -->"
#: Every ``## `` heading after this marker is a command's section.
SECTIONS = "<!-- command-sections -->"
#: Columns argparse wraps at, whatever the terminal that runs mkdocs.
WIDTH = 100

_HEADING = re.compile(r"^## +(.+?) *$", re.M)


class MismatchError(Exception):
    """The page's command sections are not the parser's commands."""


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


def at_width(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser``, its help formatted ``WIDTH`` columns wide by its own formatter."""
    parser.formatter_class = functools.partial(parser.formatter_class, width=WIDTH)
    return parser


def usage(parser: argparse.ArgumentParser) -> str:
    """The usage line exactly as ``scaffold COMMAND --help`` prints it (``[global options]``)."""
    return at_width(parser).format_usage().strip()


def own_options(parser: argparse.ArgumentParser, global_options: set[str]) -> str:
    """The argument sections of ``parser``'s help, without the global options it repeats."""
    formatter = argparse.HelpFormatter(parser.prog, width=WIDTH)
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


def command_help(command: argparse.ArgumentParser, global_options: set[str]) -> str:
    """``scaffold COMMAND --help`` without its group of global options."""
    parts = [usage(command), command.description or "", own_options(command, global_options)]
    return "\n\n".join(part for part in parts if part)


def _text_block(text: str) -> str:
    return f"```text\n{text}\n```"


def section_names(markdown: str) -> list[str]:
    """The names of the page's command sections: its ``## `` headings after :data:`SECTIONS`."""
    return _HEADING.findall(markdown.split(SECTIONS, 1)[1]) if SECTIONS in markdown else []


def mismatches(names: list[str], commands: list[str]) -> list[str]:
    """How the page's command sections differ from the parser's commands (none: they agree)."""
    problems = []
    missing = [name for name in commands if name not in names]
    unknown = [name for name in names if name not in commands]
    twice = sorted({name for name in names if names.count(name) > 1})
    if missing:
        problems.append(f"no section for {', '.join(missing)}, which the parser has")
    if unknown:
        problems.append(f"a section for {', '.join(unknown)}, which the parser does not have")
    if twice:
        problems.append(f"more than one section for {', '.join(twice)}")
    if not problems and names != commands:
        problems.append(f"sections not in the order of scaffold --help: {', '.join(commands)}")
    return problems


def render(markdown: str, parser: argparse.ArgumentParser) -> str:
    """The page with the parser's help in it: ``scaffold --help`` at :data:`TOP`, and each
    command's help under its heading. Raises :class:`MismatchError` when the sections after
    :data:`SECTIONS` are not the parser's commands, one each, in its order."""
    if SECTIONS not in markdown:
        raise MismatchError(f"no {SECTIONS} marker before the command sections")
    commands = subcommands(parser)
    problems = mismatches(section_names(markdown), list(commands))
    if problems:
        raise MismatchError("; ".join(problems))
    global_options = global_option_strings(parser)
    head, body = markdown.split(SECTIONS, 1)
    head = head.replace(TOP, _text_block(at_width(parser).format_help().strip()))

    def complete(match: re.Match[str]) -> str:
        help_text = command_help(commands[match.group(1)], global_options)
        return f"{match.group(0)}\n\n{_text_block(help_text)}\n"

    return head + _HEADING.sub(complete, body)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if SECTIONS not in markdown and TOP not in markdown:
        return markdown
    from mkdocs.exceptions import PluginError

    from plugin_scaffold.cli import build_parser

    try:
        return render(markdown, build_parser())
    except MismatchError as error:
        raise PluginError(f"{page.file.src_path}: {error} (docs/hooks/cli_reference.py)") from None
