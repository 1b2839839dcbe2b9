"""How much the docs ask a reader to read: words per page, and the longest sentences.

``python tests/docwords.py`` prints the figures and exits 1 when the pages in docs/ (the command
reference aside) hold more than :data:`MAX_WORDS` words, or a sentence of their prose (the
reference's included) is longer than :data:`MAX_SENTENCE` words. ``nox -s docs`` runs it;
tests/test_docs_site.py checks it.

Words are what ``wc -w`` counts, code blocks included: an example is read too. The command
reference is measured as the site shows it, with the usage lines and options that
docs/hooks/cli_reference.py puts in from the parser. Sentences are the prose's: code blocks,
HTML comments and link targets left out, each heading, list item and table cell a sentence of
its own at least.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

DOCS = Path(__file__).resolve().parents[1] / "docs"
MAX_WORDS = 22_000
MAX_SENTENCE = 45
#: The command reference: its words are counted apart (each command's usage and options, put in
#: from the parser, and its examples are looked up, not read through); its sentences are not.
REFERENCE = frozenset({"commands.md"})
HOOK = DOCS / "hooks" / "cli_reference.py"

_FENCE = re.compile(r"^( *)```.*?^\1```[ \t]*$", re.M | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
#: A code span, which may go on over a line break.
_CODE = re.compile(r"`[^`]+`")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
#: Where a new block starts: a blank line, a heading, a list item, a table row, an admonition.
_BLOCK = re.compile(r"\n\s*\n|\n(?=\s*(?:#{1,6} |[-*] |\d+\. |\||!!! |\?\?\? ))")
#: The end of a sentence: . ! or ? (and closing quotes or brackets) before a space.
_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)[.!?][\"')\]*]*\s+")


@dataclass
class Page:
    name: str
    words: int
    sentences: list[str]


def sentences(text: str) -> list[str]:
    """The sentences of a page's prose."""
    prose = _COMMENT.sub(" ", _FENCE.sub("\n\n", text))
    # a code span is words, never the end of a sentence
    prose = _CODE.sub(lambda m: re.sub(r"[.!?]", "_", m.group(0)), prose)
    prose = _LINK.sub(r"\1", prose)
    found = []
    for block in _BLOCK.split(prose):
        for cell in block.split("|") if block.lstrip().startswith("|") else [block]:
            found += [s.strip() for s in _END.split(" ".join(cell.split())) if s.strip()]
    return found


def load_hook() -> ModuleType:
    """docs/hooks/cli_reference.py, the MkDocs hook that completes the command reference."""
    spec = importlib.util.spec_from_file_location("cli_reference_hook", HOOK)
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    return hook


def as_shown(text: str) -> str:
    """The command reference as the site shows it: the parser's help put in by the docs hook."""
    from plugin_scaffold.cli import build_parser

    return str(load_hook().render(text, build_parser()))


def measure(folder: Path = DOCS) -> list[Page]:
    pages = []
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if path.name in REFERENCE:
            text = as_shown(text)
        pages.append(Page(path.name, len(text.split()), sentences(text)))
    return pages


def report(pages: list[Page]) -> tuple[int, list[tuple[str, str]]]:
    """The words of the measured pages (the reference aside), and each sentence over the limit
    with its page (the reference's too)."""
    measured = [p for p in pages if p.name not in REFERENCE]
    long = [(p.name, s) for p in pages for s in p.sentences if len(s.split()) > MAX_SENTENCE]
    return sum(p.words for p in measured), long


def main() -> int:
    pages = measure()
    words, long = report(pages)
    lengths = sorted(len(s.split()) for p in pages for s in p.sentences)
    for page in pages:
        aside = "  (reference as shown, usage and options included; not counted)"
        print(f"{page.words:6} {page.name}{aside if page.name in REFERENCE else ''}")
    print(f"{words:6} words in docs/ without the reference (at most {MAX_WORDS})")
    print(f"{sum(p.words for p in pages):6} words with it")
    if lengths:
        median = lengths[len(lengths) // 2]
        tenth = lengths[len(lengths) * 9 // 10]
        print(f"sentences: {len(lengths)}, median {median} words, one in ten over {tenth}")
    for name, sentence in long:
        print(f"{name}: a sentence of {len(sentence.split())} words: {sentence[:100]}...")
    failed = words > MAX_WORDS or bool(long)
    if failed:
        print(f"too long: at most {MAX_WORDS} words, and {MAX_SENTENCE} in a sentence")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
