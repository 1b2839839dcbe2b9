"""A picture of the revision graph: host and plugin branches as Mermaid or Graphviz dot text."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MigrationError, UsageError
from ..files import check_output_file
from .revisions import Graph, _downs, _names

if TYPE_CHECKING:
    from alembic.script import Script

FORMATS = ("mermaid", "dot", "svg")
HOST = "host"


@dataclass(frozen=True)
class _Node:
    id: str
    owner: str  # "host" or the plugin's name
    message: str
    labels: tuple[str, ...]  # the branch labels this revision declares
    head: bool
    merge: bool


@dataclass(frozen=True)
class _Edge:
    parent: str
    child: str
    depends: bool
    label: str  # the label a depends_on names, when it names one


def _short(text: str | None, width: int = 40) -> str:
    line = (text or "").strip().splitlines()[0].strip() if (text or "").strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def _collect(graph: Graph) -> tuple[list[_Node], list[_Edge]]:
    script = graph.script
    heads = set(script.get_heads())
    nodes: list[_Node] = []
    edges: list[_Edge] = []
    for revision in graph.revisions:
        downs = _downs(revision)
        inherited: set[str] = set()
        for down in downs:
            parent: Script | None = script.get_revision(down)
            if parent is not None:
                inherited |= set(parent.branch_labels or ())
        nodes.append(
            _Node(
                id=revision.revision,
                owner=graph.owner(revision) or HOST,
                message=_short(revision.doc),
                labels=tuple(sorted(set(revision.branch_labels or ()) - inherited)),
                head=revision.revision in heads,
                merge=len(downs) > 1,
            )
        )
        edges.extend(_Edge(down, revision.revision, False, "") for down in downs)
        for name in _names(revision.dependencies):
            target = script.get_revision(name)
            if target is None:
                continue
            label = name if name != target.revision else ""
            edges.append(_Edge(target.revision, revision.revision, True, label))
    nodes.sort(key=lambda n: (n.owner != HOST, n.owner, n.id))
    edges.sort(key=lambda e: (e.child, e.parent, e.depends))
    return nodes, edges


def _groups(nodes: list[_Node]) -> list[tuple[str, list[_Node]]]:
    groups: dict[str, list[_Node]] = {}
    for node in nodes:
        groups.setdefault(node.owner, []).append(node)
    return list(groups.items())


def _title(owner: str) -> str:
    return HOST if owner == HOST else f"plugin {owner}"


def _lines(node: _Node) -> list[str]:
    first = node.id
    if node.labels:
        first += f" ({', '.join(node.labels)})"
    marks = [m for m, on in (("merge point", node.merge), ("head", node.head)) if on]
    if marks:
        first += f" [{', '.join(marks)}]"
    return [first, node.message] if node.message else [first]


def _ident(text: str, prefix: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", text)


def mermaid(graph: Graph) -> str:
    """The graph as a Mermaid flowchart, oldest revisions at the top."""
    nodes, edges = _collect(graph)

    def quoted(text: str) -> str:
        return text.replace('"', "#quot;")

    out = ["flowchart TB"]
    for owner, members in _groups(nodes):
        group = "g_host" if owner == HOST else _ident(owner, "g_plugin_")
        out.append(f'    subgraph {group}["{quoted(_title(owner))}"]')
        for node in members:
            text = "<br/>".join(quoted(line) for line in _lines(node))
            style = ":::merge" if node.merge else ""
            out.append(f'        {_ident(node.id, "r_")}["{text}"]{style}')
        out.append("    end")
    for edge in edges:
        parent, child = _ident(edge.parent, "r_"), _ident(edge.child, "r_")
        if edge.depends:
            label = quoted(f"depends_on {edge.label}" if edge.label else "depends_on")
            out.append(f'    {parent} -.->|"{label}"| {child}')
        else:
            out.append(f"    {parent} --> {child}")
    if any(n.merge for n in nodes):
        out.append("    classDef merge stroke-width:3px")
    return "\n".join(out) + "\n"


def dot(graph: Graph) -> str:
    """The graph as Graphviz dot, one cluster per owner, oldest revisions at the top."""
    nodes, edges = _collect(graph)

    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    out = [
        "digraph revisions {",
        "    rankdir=TB;",
        '    node [shape=box, style=rounded, fontname="monospace"];',
    ]
    for owner, members in _groups(nodes):
        out.append(f"    subgraph {quoted('cluster_' + owner)} {{")
        out.append(f"        label={quoted(_title(owner))};")
        for node in members:
            text = "\\n".join(
                line.replace("\\", "\\\\").replace('"', '\\"') for line in _lines(node)
            )
            extra = ", peripheries=2" if node.merge else ""
            out.append(f'        {quoted(node.id)} [label="{text}"{extra}];')
        out.append("    }")
    for edge in edges:
        attrs = ""
        if edge.depends:
            label = f"depends_on {edge.label}" if edge.label else "depends_on"
            attrs = f" [style=dashed, label={quoted(label)}]"
        out.append(f"    {quoted(edge.parent)} -> {quoted(edge.child)}{attrs};")
    out.append("}")
    return "\n".join(out) + "\n"


def render_check_dot(output: Path) -> str:
    """Graphviz's ``dot`` program, or a one-line error naming what was not written."""
    program = shutil.which("dot")
    if program is None:
        raise UsageError(
            f"Graphviz's dot is not installed: install Graphviz to write {output}, "
            "or use --graph dot and render it elsewhere"
        )
    return program


def render(graph: Graph, fmt: str, output: Path | None) -> str | None:
    """``fmt``'s text (None when it went to ``output``); svg runs Graphviz's dot into ``output``."""
    if fmt not in FORMATS:
        raise UsageError(f"--graph takes {', '.join(FORMATS)}, not {fmt!r}")
    if output is not None:
        check_output_file(output)
    if fmt == "svg":
        if output is None:
            raise UsageError("--graph svg needs -o FILE")
        program = render_check_dot(output)
        text = dot(graph)
        done = subprocess.run(
            [program, "-Tsvg", "-o", str(output)],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            why = done.stderr.strip().splitlines()[0] if done.stderr.strip() else "no message"
            raise MigrationError(f"Graphviz's dot failed ({done.returncode}) on {output}: {why}")
        return None
    text = mermaid(graph) if fmt == "mermaid" else dot(graph)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        return None
    return text
