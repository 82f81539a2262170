r"""Print the call graph as text, DOT, JSON or mermaid (and SVG, through Graphviz).

Every format lists the programs (the roots) first, then the subprograms,
each in output order (output section, then offset), and a function's edges
by kind (``call``, ``func_ref``, then the tag kinds in table order), then by
target: the same link always gives the same bytes.  A function is shown as
its name and where it lives, ``file section+offset`` (the offset inside its
input section).  Text, DOT and mermaid show what the programs load; with
``verbose`` they add the subprograms no program reaches (and text says why
each loaded function is reachable: ``why f: prog -call-> g -call-> f``).
JSON always has every function, each marked ``reachable``.

Tagged types and variables (nodes of kind ``type`` and ``var``, made by
decl-tag rules that sit on them) come after the functions, labelled
``type foo`` / ``var counter`` and placed in ``.BTF`` of the inputs that
carry the tag; ``uses`` edges lead to them, tag edges from them.  DOT draws
types as hexagons and variables as cylinders (no stack line), ``uses`` edges
dotted with an empty arrowhead, tag edges from them dashed and labelled with
the tag; mermaid uses ``{{...}}`` and ``[(...)]``; JSON lists them
in ``tagged`` (``id`` ``type:foo`` / ``var:counter``, ``kind``, ``name``,
``files``, ``used``), and edges name them by that id.  ``tests/golden/
tag_ctor_dtor.*`` are samples.

The samples below are ``corpus/graph_all_kinds`` (``bpflink graph a.o b.o
-v``); ``tests/test_graph_render.py`` checks them against the goldens.

``text``::

    # bpflink call graph: 2 programs, 5 subprograms, 5 edges
    program kinds_prog [a.o tc+0x0] 20 insns, global, stack 8
        call -> twice [a.o .text+0x20]
        func_ref -> step [b.o .text+0x0]
        exception_callback -> on_throw [a.o .text+0x0]
        loads: on_throw, twice, step
        why on_throw: kinds_prog -exception_callback-> on_throw
        why twice: kinds_prog -call-> twice
        why step: kinds_prog -func_ref-> step
    program plain_prog [a.o tc+0xa0] 3 insns, global, stack 0
        call -> scale [b.o .text+0x30]
        loads: scale, triple
        why scale: plain_prog -call-> scale
        why triple: plain_prog -call-> scale -call-> triple
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
      "edge_kinds": ["call", "func_ref", "uses", "exception_callback", "ctor", "dtor"],
      "functions": [
        {"id": "a.o:tc+0x0", "name": "kinds_prog", "file": "a.o", "section": "tc", "offset": 0, "size": 20, "bind": "global", "visibility": "default", "entry": true, "stack": 8, "reachable": true, "loads": ["a.o:.text+0x0", "a.o:.text+0x20", "b.o:.text+0x0"]},
        ...
      "tagged": [],
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



from .build import Node
from .reach import adjacency, reachable, unreachable, unused
from .rules import CALL, FUNC_REF, USES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

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

def _is_data(graph: GraphLike, n: Node) -> bool:
    """A tagged type or variable (``kind`` ``type``/``var``), not a function."""
    return bool(graph.nodes[n].get("kind", "function") != "function")


def _where(graph: GraphLike, n: Node) -> str:
    d = graph.nodes[n]
    if _is_data(graph, n):
        return f"{','.join(d['files']) or '?'} .BTF"
    return f"{d['file']} {d['section']}+0x{d['offset']:x}"


def _label(graph: GraphLike, n: Node) -> str:
    """A function's name; ``type foo`` / ``var counter`` for the others."""
    d = graph.nodes[n]
    return f"{d['kind']} {d['name']}" if _is_data(graph, n) else str(d["name"])


def _out_edges(graph: GraphLike, n: Node) -> list[tuple[str, Node]]:
    """(kind, target) of every edge from ``n``, by kind (table order), then target order."""
    kinds = graph.graph["kinds"]
    out = [(k, m) for m in graph.successors(n) for k in graph.edges[n, m]["kinds"]]
    return sorted(out, key=lambda e: (kinds.index(e[0]), graph.nodes[e[1]]["order"]))


def display_order(graph: GraphLike, nodes: Iterable[Node]) -> list[Node]:
    """Programs (the roots) first, then subprograms; each in output order."""
    return sorted(nodes, key=lambda n: (not graph.nodes[n]["entry"], graph.nodes[n]["order"]))


def _shown(graph: GraphLike, verbose: bool) -> tuple[list[Node], list[Node]]:
    """(nodes to show in display order, the unreachable or unused ones among them)."""
    dead = unreachable(graph) + unused(graph)
    if verbose:
        return display_order(graph, graph.nodes), dead
    dead_set = set(dead)
    return display_order(graph, (n for n in graph.nodes if n not in dead_set)), []


def _edge_triples(graph: GraphLike, nodes: list[Node]) -> list[tuple[Node, str, Node]]:
    shown = set(nodes)
    return [(n, k, m) for n in nodes for k, m in _out_edges(graph, n) if m in shown]


# -- text ----------------------------------------------------------------------------------

def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _text_line(graph: GraphLike, n: Node) -> str:
    d = graph.nodes[n]
    bind = ("hidden " if d["visibility"] == "hidden" else "") + d["bind"]
    what = "program" if d["entry"] else "subprogram"
    return (f"{what} {d['name']} [{_where(graph, n)}] {d['size']} insns, {bind}, "
            f"stack {d['stack']}")


def _why(graph: GraphLike, prog: Node, target: Node) -> str:
    """``prog -call-> f -uses-> type foo -ctor-> init_foo``: how ``prog`` reaches ``target``."""
    path = adjacency(graph).why(prog)[target]
    via = graph.graph.get("uses_via", {})
    out = _label(graph, path[0][0])
    for (prev, _), (n, kind) in zip(path, path[1:]):
        how = f"{kind} ({via[prev, n]})" if (prev, n) in via else kind
        out += f" -{how}-> {_label(graph, n)}"
    return out


def render_text(graph: GraphLike, verbose: bool = False) -> str:
    nodes, dead = _shown(graph, verbose)
    dead_set = set(dead)
    live = [n for n in nodes if n not in dead_set]
    programs = [n for n in live if graph.nodes[n]["entry"]]
    subprograms = [n for n in live if not graph.nodes[n]["entry"] and not _is_data(graph, n)]
    data = [n for n in live if _is_data(graph, n)]
    head = (f"# bpflink call graph: {_count(len(programs), 'program')}, "
            f"{_count(len(subprograms), 'subprogram')}, ")
    for kind, noun in (("type", "tagged type"), ("var", "tagged variable")):
        count = sum(1 for n in data if graph.nodes[n]["kind"] == kind)
        if count:
            head += f"{_count(count, noun)}, "
    lines = [head + _count(len(_edge_triples(graph, live)), "edge")]

    def node(n: Node) -> None:
        if _is_data(graph, n):
            lines.append(f"{_label(graph, n)} [{_where(graph, n)}]")
        else:
            lines.append(_text_line(graph, n))
        for kind, m in _out_edges(graph, n):
            lines.append(f"    {kind} -> {_label(graph, m)} [{_where(graph, m)}]")

    for n in programs:
        node(n)
        loaded = reachable(graph, n)
        loads = [graph.nodes[m]["name"] for m in loaded]
        lines.append("    loads: " + (", ".join(loads) if loads else "-"))
        if verbose:
            lines.extend(f"    why {graph.nodes[m]['name']}: {_why(graph, n, m)}"
                         for m in loaded)
    for n in subprograms + data:
        node(n)
    if verbose:
        dead_funcs = [n for n in dead if not _is_data(graph, n)]
        lines.append(f"unreachable subprograms (never loaded): {len(dead_funcs)}")
        for n in dead_funcs:
            node(n)
        dead_data = [n for n in dead if _is_data(graph, n)]
        if dead_data:
            lines.append(f"tagged types and variables no program uses: {len(dead_data)}")
            for n in dead_data:
                node(n)
    return "\n".join(lines) + "\n"


# -- dot -----------------------------------------------------------------------------------

def _dot_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# call solid, func_ref dotted (an address taken, not a call), uses dotted with an
# empty arrowhead, decl-tag edges dashed and labelled with the tag itself.
_DOT_EDGE_STYLE = {CALL: "solid", FUNC_REF: "dotted", USES: "dotted, arrowhead=empty"}
_DOT_DATA_SHAPE = {"type": "shape=hexagon", "var": "shape=cylinder"}


def _tag_texts(graph: GraphLike) -> dict[tuple[object, str, Node], str]:
    """(carrier, kind, target) -> the decl tag that made that edge, ``exception_callback:cb``."""
    out: dict[tuple[object, str, Node], str] = {}
    for use in graph.graph.get("tags", ()):
        if len(use.candidates) == 1:
            node = getattr(use, "node", None)
            for src in [*use.sites, *([node] if node is not None else [])]:
                out.setdefault((src, use.rule.kind, use.candidates[0]), use.tag)
    return out


def render_dot(graph: GraphLike, verbose: bool = False) -> str:
    nodes, dead = _shown(graph, verbose)
    dead_set = set(dead)
    tags = _tag_texts(graph)
    lines = ["digraph callgraph {", "  rankdir=LR;", '  node [fontname="monospace"];',
             '  edge [fontname="monospace"];']
    for n in nodes:
        d = graph.nodes[n]
        text = f"{_label(graph, n)}\n{_where(graph, n)}"
        if not _is_data(graph, n):
            text += f"\nstack {d['stack']}"
        label = _dot_str(text).replace("\n", "\\n")
        attrs = [f"label={label}"]
        if _is_data(graph, n):
            attrs.append(_DOT_DATA_SHAPE[d["kind"]])
        else:
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
    import json             # here, not at the top: every link imports this module

    nodes = display_order(graph, graph.nodes)
    dead = unreachable(graph)
    dead_set = set(dead)
    unused_set = set(unused(graph))
    funcs = []
    tagged = []
    for n in nodes:
        d = graph.nodes[n]
        if _is_data(graph, n):
            tagged.append({"id": str(n), "kind": d["kind"], "name": d["name"],
                           "files": d["files"], "used": n not in unused_set})
            continue
        f = {"id": str(n), "name": d["name"], "file": d["file"], "section": d["section"],
             "offset": d["offset"], "size": d["size"], "bind": d["bind"],
             "visibility": d["visibility"], "entry": d["entry"], "stack": d["stack"],
             "reachable": n not in dead_set}
        if d["entry"]:
            f["loads"] = [str(m) for m in reachable(graph, n)]
        funcs.append(f)
    edges = [{"from": str(n), "to": str(m), "kind": k} for n, k, m in _edge_triples(graph, nodes)]

    def block(items: list[Any]) -> str:
        if not items:
            return "[]"
        return "[\n" + ",\n".join("    " + json.dumps(i) for i in items) + "\n  ]"

    return ("{\n"
            '  "format": "bpflink-callgraph",\n'
            '  "version": 1,\n'
            f'  "edge_kinds": {json.dumps(graph.graph["kinds"])},\n'
            f'  "functions": {block(funcs)},\n'
            f'  "tagged": {block(tagged)},\n'
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
        label = _mermaid_str(f"{_label(graph, n)}<br/>{_where(graph, n)}")
        if _is_data(graph, n):
            shape = "{{%s}}" if d["kind"] == "type" else "[(%s)]"
            lines.append(f"  {ids[n]}" + shape % label)
        else:
            lines.append(f"  {ids[n]}[[{label}]]" if d["entry"] else f"  {ids[n]}({label})")
    for n, kind, m in _edge_triples(graph, nodes):
        arrow = "-->" if kind == CALL else "-.->"
        lines.append(f"  {ids[n]} {arrow}|{kind}| {ids[m]}")
    if dead:
        lines.append("  classDef unreachable stroke-dasharray: 4 4,color:gray")
        lines.append("  class " + ",".join(ids[n] for n in dead) + " unreachable")
    return "\n".join(lines) + "\n"
