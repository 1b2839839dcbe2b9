"""How much the docs ask a reader to read: words per page, and the longest sentences.

``python tests/docwords.py`` prints the figures and exits 1 when the pages in docs/ (the command
reference aside) hold more than :data:`MAX_WORDS` words, or a sentence of their prose is longer
than :data:`MAX_SENTENCE` words. ``nox -s docs`` runs it; tests/test_docs_site.py checks it.

Words are what ``wc -w`` counts, code blocks included: an example is read too. Sentences are
the prose's: code blocks, HTML comments and link targets left out, each heading, list item and
table cell a sentence of its own at least.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
MAX_WORDS = 22_000
MAX_SENTENCE = 45
#: The command reference is measured apart: it is generated from the parser.
REFERENCE = frozenset({"commands.md", "cli.md"})

_FENCE = re.compile(r"^( *)```.*?^\1```[ \t]*$", re.M | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_CODE = re.compile(r"`[^`\n]+`")
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


def measure(folder: Path = DOCS) -> list[Page]:
    pages = []
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        pages.append(Page(path.name, len(text.split()), sentences(text)))
    return pages


def report(pages: list[Page]) -> tuple[int, list[tuple[str, str]]]:
    """The words of the measured pages, and each sentence over the limit with its page."""
    measured = [p for p in pages if p.name not in REFERENCE]
    long = [(p.name, s) for p in measured for s in p.sentences if len(s.split()) > MAX_SENTENCE]
    return sum(p.words for p in measured), long


def main() -> int:
    pages = measure()
    words, long = report(pages)
    lengths = sorted(len(s.split()) for p in pages if p.name not in REFERENCE for s in p.sentences)
    for page in pages:
        aside = "  (reference, not counted)" if page.name in REFERENCE else ""
        print(f"{page.words:6} {page.name}{aside}")
    print(f"{words:6} words in docs/ without the reference (at most {MAX_WORDS})")
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
