"""The docs site: it builds with --strict, its command reference's usage and options come from
the parser, nothing drifts.

``mkdocs build --strict`` runs once per module (seconds) into a temporary folder; no database.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import docwords
from plugin_scaffold.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: The Alembic messages plugin authors hit (issue 10), each with a piece of its text as it
#: stands in Alembic's source: the troubleshooting page must have an entry for every one.
ALEMBIC_MESSAGES = {
    "Multiple head revisions are present": "Multiple head revisions are present",
    "Multiple version locations present, please specify --version-path": (
        "Multiple version locations present"
    ),
    "Target database is not up to date": "Target database is not up to date",
    "Can't locate revision identified by": "Can't locate revision identified by",
    "No support for ALTER of constraints in SQLite dialect": (
        "No support for ALTER of constraints in SQLite dialect"
    ),
    "Path … is not represented in current version locations": "is not represented in current",
    "Requested revision … overlaps with other requested revisions": "overlaps with ",
}


load_hook = docwords.load_hook


def commands() -> dict[str, argparse.ArgumentParser]:
    return load_hook().subcommands(build_parser())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as `nox -s docs` builds it (strict), into a temporary folder."""
    folder = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    assert "WARNING" not in result.stderr, result.stderr
    return folder


def page_text(site: Path, name: str) -> str:
    return html.unescape((site / name / "index.html").read_text())


def test_the_site_builds_strict_with_every_page(site: Path) -> None:
    assert (site / "index.html").is_file()
    for page in sorted(DOCS.glob("*.md")):
        built = site / "index.html" if page.stem == "index" else site / page.stem / "index.html"
        assert built.is_file(), f"{page.name} was not built"
    # The Mermaid graph of merging.md is handed to Mermaid, not shown as code.
    assert '<pre class="mermaid">' in (site / "merging" / "index.html").read_text()


def test_the_command_reference_has_every_command_of_the_parser_and_its_options(
    site: Path,
) -> None:
    text = page_text(site, "commands")
    assert "<!-- scaffold-help -->" not in text and "<!-- command-sections -->" not in text
    parser = build_parser()
    hook = load_hook()
    global_options = hook.global_option_strings(parser)
    assert {"--config", "--url", "-x", "--verbose"} <= global_options
    for name, command in commands().items():
        assert f'<h2 id="{name}">' in text, f"no section for {name}"
        section = text.split(f'<h2 id="{name}">', 1)[1].split("<h2 ", 1)[0]
        # the generated help first, then the hand-written part
        assert section.index(f"usage: scaffold {name} ") < section.index("<p>")
        assert command.description and command.description.split("`")[0] in section
        for action in command._actions:
            for option in action.option_strings:
                if option not in global_options:
                    assert option in section, f"{name}: {option} missing"
            if not action.option_strings and action.dest != "help":
                assert (action.metavar or action.dest) in section
    # The global options are listed once, in scaffold --help, not again under every command.
    assert text.count("database URL (overrides sqlalchemy.url)") == 1


#: A command reference as docs/commands.md writes it, for a parser made up here.
PAGE = """# Command reference

<!-- scaffold-help -->

## Global options

Before or after the command.

<!-- command-sections -->

## tidy

Tidies up, with an example.

## prune

Prunes.
"""


def made_up_parser(*names: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scaffold")
    parser.add_argument("--url", help="the database")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in names:
        made = sub.add_parser(name, description=f"{name} the plugin")
        made.add_argument("--url", help="the database")
        made.add_argument("--dry-run", action="store_true", help="only say what would go")
    return parser


def test_the_reference_is_generated_not_hand_listed() -> None:
    """A command's usage and options come from the parser, under its hand-written section."""
    text = load_hook().render(PAGE, made_up_parser("tidy", "prune"))
    top, tidy = text.split("## tidy", 1)
    assert "```text\nusage: scaffold [-h] [--url URL] COMMAND ..." in top
    assert "the database" in top.split("## Global options")[0]
    assert tidy.startswith("\n\n```text\nusage: scaffold tidy [-h] [--url URL] [--dry-run]\n")
    help_text, written = tidy.split("\n```\n", 1)
    assert "tidy the plugin" in help_text and "--dry-run" in help_text
    assert "the database" not in help_text  # a global option, listed once under scaffold
    assert written.lstrip().startswith("Tidies up, with an example.")
    assert "usage: scaffold prune" in written.split("## prune", 1)[1]


@pytest.mark.parametrize(
    ("names", "problem"),
    [
        (("tidy", "prune", "sweep"), "no section for sweep, which the parser has"),
        (("tidy",), "a section for prune, which the parser does not have"),
        (("prune", "tidy"), "sections not in the order of scaffold --help: prune, tidy"),
    ],
)
def test_a_reference_that_is_not_the_parsers_commands_is_refused(
    names: tuple[str, ...], problem: str
) -> None:
    hook = load_hook()
    with pytest.raises(hook.MismatchError, match=re.escape(problem)):
        hook.render(PAGE, made_up_parser(*names))
    with pytest.raises(hook.MismatchError, match="more than one section for tidy"):
        hook.render(PAGE + "\n## tidy\n\nAgain.\n", made_up_parser("tidy", "prune"))


def test_a_command_without_its_section_fails_the_docs_build(tmp_path: Path) -> None:
    """The real page and parser, a section taken out: mkdocs stops, naming the command."""
    (tmp_path / "docs").mkdir()
    page = (DOCS / "commands.md").read_text()
    start = page.index("\n## heads\n")
    (tmp_path / "docs" / "commands.md").write_text(
        page[:start] + page[page.index("\n## ", start + 1) :]
    )
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: x\nhooks:\n  - {DOCS / 'hooks' / 'cli_reference.py'}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--site-dir", str(tmp_path / "site")],
        cwd=tmp_path,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "commands.md: no section for heads, which the parser has" in result.stderr


def test_the_404_page_links_from_the_sites_own_path_so_a_sub_path_works(site: Path) -> None:
    """404.html is served for a missing page at any depth: its links (unlike the other pages',
    relative) start at site_url's path, a sub-path, and reach the site's files from there."""
    from mkdocs.config import load_config

    base = urlsplit(load_config(str(ROOT / "mkdocs.yml")).site_url).path
    assert base.startswith("/") and base.endswith("/") and base != "/"
    links = re.findall(r'(?:href|src)="([^"#]*)"', (site / "404.html").read_text())
    local = [link for link in links if link and not urlsplit(link).scheme]
    assert len(local) > 20, links
    for link in local:
        assert link.startswith(base), f"404.html: {link} is not under {base}"
        target = site / link[len(base) :]
        assert target.is_file() or (target / "index.html").is_file(), f"404.html: {link}"


def test_the_site_url_is_where_it_is_published(monkeypatch: pytest.MonkeyPatch) -> None:
    from mkdocs.config import load_config

    monkeypatch.setenv("SCAFFOLD_DOCS_URL", "https://docs.example.test/tools/plugin-scaffold/")

    config = load_config(str(ROOT / "mkdocs.yml"))

    assert config.site_url == "https://docs.example.test/tools/plugin-scaffold/"


def test_the_command_reference_shows_scaffolds_usage_line_first() -> None:
    """The page opens with what it is, then `scaffold --help`: its usage line first."""
    parser = build_parser()
    hook = load_hook()
    usage = hook.at_width(parser).format_usage().strip()
    text = hook.render((DOCS / "commands.md").read_text(), build_parser())
    assert text.startswith("# Command reference\n")
    first_block = text.split("```text\n", 1)[1]
    assert first_block.startswith(usage), first_block[:200]
    assert text.index(usage) < text.index("## Global options")


def test_the_command_reference_is_one_page() -> None:
    """commands.md holds every command, in the order of scaffold --help; no page is left
    that lists the commands apart, nor a link to one."""
    names = load_hook().section_names((DOCS / "commands.md").read_text())
    assert names == list(commands())
    assert not (DOCS / "cli.md").exists()
    for page in [*DOCS.glob("*.md"), ROOT / "README.md"]:
        assert "cli.md" not in page.read_text(), page.name


def nav_files(entries: object) -> set[str]:
    """The file names a MkDocs ``nav`` lists, at any depth."""
    if isinstance(entries, str):
        return {entries}
    if isinstance(entries, dict):
        return set().union(*(nav_files(value) for value in entries.values()))
    if isinstance(entries, list):
        return set().union(*(nav_files(entry) for entry in entries))
    return set()


def test_every_page_is_in_the_nav() -> None:
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    in_nav = nav_files(config.nav)
    not_in_nav = config.not_in_nav
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    left_out = sorted(
        page for page in pages - in_nav if not (not_in_nav and not_in_nav.match_file(page))
    )
    assert not left_out, f"pages neither in the nav nor in not_in_nav: {left_out}"
    assert not in_nav - pages, f"the nav names missing pages: {sorted(in_nav - pages)}"


def test_troubleshooting_has_every_alembic_message() -> None:
    import alembic

    source = "\n".join(path.read_text() for path in Path(alembic.__file__).parent.rglob("*.py"))
    headings = re.findall(r"^### (.+)$", (DOCS / "troubleshooting.md").read_text(), re.M)
    for message, in_alembic in ALEMBIC_MESSAGES.items():
        assert in_alembic in source, f"not an Alembic message: {message}"
        assert any(heading.startswith(message.split(" … ")[0]) for heading in headings), message
        assert any(heading.endswith(message.split(" … ")[-1]) for heading in headings), message


def nav_labels(entries: object) -> list[tuple[str | None, str]]:
    """(label, file) of each page of a MkDocs ``nav``: the label None when the entry names the
    file alone, so that the page's own title is its label."""
    if isinstance(entries, str):
        return [(None, entries)]
    if isinstance(entries, dict):
        found: list[tuple[str | None, str]] = []
        for label, value in entries.items():
            found += [(label, value)] if isinstance(value, str) else nav_labels(value)
        return found
    if isinstance(entries, list):
        return [pair for entry in entries for pair in nav_labels(entry)]
    return []


def test_nav_labels_are_the_page_titles_and_releasing_is_for_contributors() -> None:
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    for label, page in nav_labels(config.nav):
        title = (DOCS / page).read_text().splitlines()[0].removeprefix("# ")
        assert label in (None, title), f"{page}: nav says {label!r}, the page {title!r}"
    sections = {next(iter(entry)): entry for entry in config.nav if isinstance(entry, dict)}
    assert "releasing.md" in nav_files(sections["Contributing"])
    # the how-to list fits on one screen; the kinds of host are a section of their own
    assert len(nav_files(sections["How-to guides"])) <= 10
    assert {"flask.md", "async.md", "pyproject.md", "rattail.md"} <= nav_files(
        sections["Host kinds"]
    )


def test_the_docs_are_short_enough_to_read() -> None:
    """At most docwords.MAX_WORDS words (the reference aside), no sentence over
    docwords.MAX_SENTENCE words: `python tests/docwords.py` prints the figures."""
    words, long = docwords.report(docwords.measure())
    assert words <= docwords.MAX_WORDS, f"{words} words in docs/ (at most {docwords.MAX_WORDS})"
    assert not long, "\n".join(f"{page}: {sentence}" for page, sentence in long)


def test_the_sentence_measure_splits_prose_not_code() -> None:
    text = (
        "# Title\n\nOne sentence here. Another one, with `a.b.c` code? Yes!\n\n"
        "- an item\n- another: `x. y`\n\n```sh\nnot. prose. at all.\n```\n"
        "| a | b. c |\n|---|---|\n"
    )
    assert docwords.sentences(text) == [
        "# Title",
        "One sentence here",
        "Another one, with `a_b_c` code",
        "Yes!",
        "- an item",
        "- another: `x_ y`",
        "a",
        "b",
        "c",
        "---",
        "---",
    ]
    # a code span may go over a line break; it still ends no sentence, and the next one does
    assert docwords.sentences("It prints `a b.\nc d`. Then `e\nf`.\n") == [
        "It prints `a b_ c d`",
        "Then `e f`.",
    ]


#: The tests that run pages as their readers do (tests/docpages.py).
PAGE_RUNNERS = ("test_tutorial.py", "test_docs_howtos.py", "test_docs_hosts.py")


def test_every_page_with_commands_is_run_by_a_test() -> None:
    """A ```console block is a promise that the page's commands print what it shows: some test
    follows the page, so that a change of behaviour fails the suite."""
    tests = Path(__file__).parent
    runners = "\n".join((tests / name).read_text() for name in PAGE_RUNNERS)
    for page in [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]:
        if "```console" in page.read_text():
            assert f'"{page.name}"' in runners, f"{page.name} has commands that no test runs"
