"""Part 3 of the link map reads any edge kind and any node, not only today's.

The goldens (tests/test_cli_build.py) pin the format on real links; this
pins that a decl-tag edge of a kind bpflink does not know yet, to a node
that is not a function (a tagged type, say), is listed under the program
that reaches it, and that code edges are not.
"""

from __future__ import annotations

from bpflink.graph import DiGraph, FuncId
from bpflink.linkmap import Node, TagEdge, _programs


def _func(g: DiGraph, fid: FuncId, name: str, order: int, entry: bool = False) -> None:
    g.add_node(fid, name=name, file=fid.file, section=fid.section, offset=fid.offset,
               entry=entry, order=order)


def test_tag_edges_of_any_kind_to_any_node():
    g = DiGraph(kinds=["call", "func_ref", "exception_callback", "ctor"])
    prog, helper, cb = FuncId("a.o", "tc", 0), FuncId("a.o", ".text", 0), FuncId("b.o", ".text", 8)
    lonely = FuncId("a.o", "xdp", 0)
    _func(g, prog, "prog", 0, entry=True)
    _func(g, lonely, "lonely", 1, entry=True)
    _func(g, helper, "helper", 2)
    _func(g, cb, "on_throw", 3)
    g.add_node(("type", "struct res"), name="struct res", entry=False, order=4)
    g.add_edge(prog, helper, kind="call", kinds=("call",))
    g.add_edge(prog, cb, kind="exception_callback", kinds=("exception_callback",))
    g.add_edge(helper, ("type", "struct res"), kind="ctor", kinds=("ctor", "uses_later"))
    programs = _programs(g)
    assert [p.program.name for p in programs] == ["prog", "lonely"]
    first = programs[0]
    assert [n.name for n in first.reaches] == ["helper", "on_throw"]
    res = Node("struct res", "('type', 'struct res')")
    assert first.tag_edges == (
        TagEdge("exception_callback", Node("prog", "a.o tc+0x0"), Node("on_throw", "b.o .text+0x8")),
        TagEdge("ctor", Node("helper", "a.o .text+0x0"), res),
        TagEdge("uses_later", Node("helper", "a.o .text+0x0"), res),
    )
    assert programs[1].reaches == () and programs[1].tag_edges == ()
