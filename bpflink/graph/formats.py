r"""Print the call graph as text, DOT, JSON or mermaid (and SVG, through Graphviz).

Every format lists the programs (the roots) first, then the subprograms,
each in output order (output section, then offset), and a function's edges
by kind (``call``, ``func_ref``, then the tag kinds in table order), then by
target: the same link always gives the same bytes.  A function is shown as
its name and where it lives, ``file section+offset`` (the offset inside its
input section).  Text, DOT and mermaid show what the programs load; with
``verbose`` they add the subprograms no program reaches.  JSON always has
every function, each marked ``reachable``.

The samples below are ``corpus/graph_all_kinds`` (``bpflink graph a.o b.o
-v``); ``tests/test_graph_render.py`` checks them against the goldens.

``text``::

    # bpflink call graph: 2 programs, 5 subprograms, 5 edges
    program kinds_prog [a.o tc+0x0] 20 insns, global, stack 8
        call -> twice [a.o .text+0x20]
        func_ref -> step [b.o .text+0x0]
        exception_callback -> on_throw [a.o .text+0x0]
        loads: on_throw, twice, step
    program plain_prog [a.o tc+0xa0] 3 insns, global, stack 0
        call -> scale [b.o .text+0x30]
        loads: scale, triple
    subprogram on_throw [a.o .text+0x0] 4 insns, global, stack 0
    subprogram twice [a.o .text+0x20] 3 insns, static, stack 0
    subprogram step [b.o .text+0x0] 6 insns, hidden global, stack 0
    subprogram scale [b.o .text+0x30] 2 insns, global, stack 0
        call -> triple [b.o .text+0x40]
    subprogram triple [b.o .text+0x40] 3 insns, static, stack 0
    unreachable subprograms (never loaded): 1
    subprogram unused_fn [b.o .text+0x58] 3 insns, global, stack 0

``dot``::

    digraph callgraph {
      rankdir=LR;
      node [fontname="monospace"];
      edge [fontname="monospace"];
      "a.o:tc+0x0" [label="kinds_prog\na.o tc+0x0\nstack 8", shape=box, style=bold];
      "a.o:tc+0xa0" [label="plain_prog\na.o tc+0xa0\nstack 0", shape=box, style=bold];
      "a.o:.text+0x0" [label="on_throw\na.o .text+0x0\nstack 0", shape=ellipse];
      "a.o:.text+0x20" [label="twice\na.o .text+0x20\nstack 0", shape=ellipse];
      "b.o:.text+0x0" [label="step\nb.o .text+0x0\nstack 0", shape=ellipse];
      "b.o:.text+0x30" [label="scale\nb.o .text+0x30\nstack 0", shape=ellipse];
      "b.o:.text+0x40" [label="triple\nb.o .text+0x40\nstack 0", shape=ellipse];
      "b.o:.text+0x58" [label="unused_fn\nb.o .text+0x58\nstack 0", shape=ellipse, color=gray, fontcolor=gray];
      "a.o:tc+0x0" -> "a.o:.text+0x20" [label="call", style=solid];
      "a.o:tc+0x0" -> "b.o:.text+0x0" [label="func_ref", style=dotted];
      "a.o:tc+0x0" -> "a.o:.text+0x0" [label="exception_callback:on_throw", style=dashed];
      "a.o:tc+0xa0" -> "b.o:.text+0x30" [label="call", style=solid];
      "b.o:.text+0x30" -> "b.o:.text+0x40" [label="call", style=solid];
    }

Programs are bold boxes, subprograms ellipses, each with its stack estimate
(bytes); ``call`` edges solid, ``func_ref`` dotted (an address taken), tag
edges dashed and labelled with the tag; unreachable subprograms gray.
``--format svg`` is this text laid out by Graphviz (:mod:`bpflink.graph.svg`).

``json``::

    {
      "format": "bpflink-callgraph",
      "version": 1,
      "edge_kinds": ["call", "func_ref", "exception_callback"],
      "functions": [
        {"id": "a.o:tc+0x0", "name": "kinds_prog", "file": "a.o", "section": "tc", "offset": 0, "size": 20, "bind": "global", "visibility": "default", "entry": true, "stack": 8, "reachable": true, "loads": ["a.o:.text+0x0", "a.o:.text+0x20", "b.o:.text+0x0"]},
        ...
      "edges": [
        {"from": "a.o:tc+0x0", "to": "a.o:.text+0x20", "kind": "call"},
        ...
      ],
      "unreachable": ["b.o:.text+0x58"]
    }

One function or edge per line; ``id`` is ``file:section+offset``; ``loads``
(programs only) lists what the loader appends to the program.

``mermaid``::

    flowchart LR
      f0[["kinds_prog<br/>a.o tc+0x0"]]
      f1[["plain_prog<br/>a.o tc+0xa0"]]
      f2("on_throw<br/>a.o .text+0x0")
      f3("twice<br/>a.o .text+0x20")
      f4("step<br/>b.o .text+0x0")
      f5("scale<br/>b.o .text+0x30")
      f6("triple<br/>b.o .text+0x40")
      f7("unused_fn<br/>b.o .text+0x58")
      f0 -->|call| f3
      f0 -.->|func_ref| f4
      f0 -.->|exception_callback| f2
      f1 -->|call| f5
      f5 -->|call| f6
      classDef unreachable stroke-dasharray: 4 4,color:gray
      class f7 unreachable

Programs are subroutine boxes; ``call`` edges ``-->``, the others ``-.->``,
each labelled with its kind; unreachable subprograms get class
``unreachable``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import json

from .build import FuncId
from .reach import reachable, unreachable
from .rules import CALL, FUNC_REF

if TYPE_CHECKING:
    from .digraph import GraphLike

FORMATS = ("text", "dot", "json", "mermaid", "svg")


def render(graph: GraphLike, fmt: str = "text", verbose: bool = False) -> str:
    """``fmt`` ``svg`` runs Graphviz (:mod:`bpflink.graph.svg`; raises ``RenderError``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown call-graph format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fmt == "svg":
        from .svg import render_svg

        return render_svg(graph, verbose)
    return {"text": render_text, "dot": render_dot, "json": render_json,
            "mermaid": render_mermaid}[fmt](graph, verbose)


# -- shared --------------------------------------------------------------------------------

def _where(graph: GraphLike, n: FuncId) -> str:
    d = graph.nodes[n]
    return f"{d['file']} {d['section']}+0x{d['offset']:x}"


def _out_edges(graph: GraphLike, n: FuncId) -> list[tuple[str, FuncId]]:
    """(kind, target) of every edge from ``n``, by kind (table order), then target order."""
    kinds = graph.graph["kinds"]
    out = [(k, m) for m in graph.successors(n) for k in graph.edges[n, m]["kinds"]]
    return sorted(out, key=lambda e: (kinds.index(e[0]), graph.nodes[e[1]]["order"]))


def display_order(graph: GraphLike, nodes) -> list[FuncId]:
    """Programs (the roots) first, then subprograms; each in output order."""
    return sorted(nodes, key=lambda n: (not graph.nodes[n]["entry"], graph.nodes[n]["order"]))


def _shown(graph: GraphLike, verbose: bool) -> tuple[list[FuncId], list[FuncId]]:
    """(functions to show in display order, the unreachable ones among them)."""
    dead = unreachable(graph)
    if verbose:
        return display_order(graph, graph.nodes), dead
    dead_set = set(dead)
    return display_order(graph, (n for n in graph.nodes if n not in dead_set)), []


def _edge_triples(graph: GraphLike, nodes: list[FuncId]) -> list[tuple[FuncId, str, FuncId]]:
    shown = set(nodes)
    return [(n, k, m) for n in nodes for k, m in _out_edges(graph, n) if m in shown]


# -- text ----------------------------------------------------------------------------------

def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _text_line(graph: GraphLike, n: FuncId) -> str:
    d = graph.nodes[n]
    bind = ("hidden " if d["visibility"] == "hidden" else "") + d["bind"]
    what = "program" if d["entry"] else "subprogram"
    return (f"{what} {d['name']} [{_where(graph, n)}] {d['size']} insns, {bind}, "
            f"stack {d['stack']}")


def render_text(graph: GraphLike, verbose: bool = False) -> str:
    nodes, dead = _shown(graph, verbose)
    dead_set = set(dead)
    live = [n for n in nodes if n not in dead_set]
    programs = [n for n in live if graph.nodes[n]["entry"]]
    subprograms = [n for n in live if not graph.nodes[n]["entry"]]
    lines = [f"# bpflink call graph: {_count(len(programs), 'program')}, "
             f"{_count(len(subprograms), 'subprogram')}, "
             f"{_count(len(_edge_triples(graph, live)), 'edge')}"]

    def function(n: FuncId) -> None:
        lines.append(_text_line(graph, n))
        for kind, m in _out_edges(graph, n):
            lines.append(f"    {kind} -> {graph.nodes[m]['name']} [{_where(graph, m)}]")

    for n in programs:
        function(n)
        loads = [graph.nodes[m]["name"] for m in reachable(graph, n)]
        lines.append("    loads: " + (", ".join(loads) if loads else "-"))
    for n in subprograms:
        function(n)
    if verbose:
        lines.append(f"unreachable subprograms (never loaded): {len(dead)}")
        for n in dead:
            function(n)
    return "\n".join(lines) + "\n"


# -- dot -----------------------------------------------------------------------------------

def _dot_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# call solid, func_ref dotted (an address taken, not a call), decl-tag edges dashed
# and labelled with the tag itself; see the module docstring.
_DOT_EDGE_STYLE = {CALL: "solid", FUNC_REF: "dotted"}


def _tag_texts(graph: GraphLike) -> dict[tuple[FuncId, str, FuncId], str]:
    """(site, kind, target) -> the decl tag that made that edge, ``exception_callback:cb``."""
    out: dict[tuple[FuncId, str, FuncId], str] = {}
    for use in graph.graph.get("tags", ()):
        if len(use.candidates) == 1:
            for site in use.sites:
                out.setdefault((site, use.rule.kind, use.candidates[0]), use.tag)
    return out


def render_dot(graph: GraphLike, verbose: bool = False) -> str:
    nodes, dead = _shown(graph, verbose)
    dead_set = set(dead)
    tags = _tag_texts(graph)
    lines = ["digraph callgraph {", "  rankdir=LR;", '  node [fontname="monospace"];',
             '  edge [fontname="monospace"];']
    for n in nodes:
        d = graph.nodes[n]
        label = _dot_str(f"{d['name']}\n{_where(graph, n)}\nstack {d['stack']}"
                         ).replace("\n", "\\n")
        attrs = [f"label={label}"]
        attrs.append("shape=box, style=bold" if d["entry"] else "shape=ellipse")
        if n in dead_set:
            attrs.append("color=gray, fontcolor=gray")
        lines.append(f"  {_dot_str(str(n))} [{', '.join(attrs)}];")
    for n, kind, m in _edge_triples(graph, nodes):
        style = _DOT_EDGE_STYLE.get(kind, "dashed")
        label = kind if kind in _DOT_EDGE_STYLE else tags.get((n, kind, m), kind)
        lines.append(f"  {_dot_str(str(n))} -> {_dot_str(str(m))} "
                     f"[label={_dot_str(label)}, style={style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- json ----------------------------------------------------------------------------------

def render_json(graph: GraphLike, verbose: bool = False) -> str:
    """JSON with one function or edge per line, so diffs stay readable."""
    nodes = display_order(graph, graph.nodes)
    dead = unreachable(graph)
    dead_set = set(dead)
    funcs = []
    for n in nodes:
        d = graph.nodes[n]
        f = {"id": str(n), "name": d["name"], "file": d["file"], "section": d["section"],
             "offset": d["offset"], "size": d["size"], "bind": d["bind"],
             "visibility": d["visibility"], "entry": d["entry"], "stack": d["stack"],
             "reachable": n not in dead_set}
        if d["entry"]:
            f["loads"] = [str(m) for m in reachable(graph, n)]
        funcs.append(f)
    edges = [{"from": str(n), "to": str(m), "kind": k} for n, k, m in _edge_triples(graph, nodes)]

    def block(items: list) -> str:
        if not items:
            return "[]"
        return "[\n" + ",\n".join("    " + json.dumps(i) for i in items) + "\n  ]"

    return ("{\n"
            '  "format": "bpflink-callgraph",\n'
            '  "version": 1,\n'
            f'  "edge_kinds": {json.dumps(graph.graph["kinds"])},\n'
            f'  "functions": {block(funcs)},\n'
            f'  "edges": {block(edges)},\n'
            f'  "unreachable": {json.dumps([str(n) for n in dead])}\n'
            "}\n")


# -- mermaid -------------------------------------------------------------------------------

def _mermaid_str(s: str) -> str:
    return '"' + s.replace('"', "#quot;") + '"'


def render_mermaid(graph: GraphLike, verbose: bool = False) -> str:
    nodes, dead = _shown(graph, verbose)
    ids = {n: f"f{i}" for i, n in enumerate(nodes)}
    lines = ["flowchart LR"]
    for n in nodes:
        d = graph.nodes[n]
        label = _mermaid_str(f"{d['name']}<br/>{_where(graph, n)}")
        lines.append(f"  {ids[n]}[[{label}]]" if d["entry"] else f"  {ids[n]}({label})")
    for n, kind, m in _edge_triples(graph, nodes):
        arrow = "-->" if kind == CALL else "-.->"
        lines.append(f"  {ids[n]} {arrow}|{kind}| {ids[m]}")
    if dead:
        lines.append("  classDef unreachable stroke-dasharray: 4 4,color:gray")
        lines.append("  class " + ",".join(ids[n] for n in dead) + " unreachable")
    return "\n".join(lines) + "\n"
