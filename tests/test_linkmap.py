"""Part 3 of the link map reads any edge kind and any node, not only today's.

The goldens (tests/test_cli_build.py) pin the format on real links, one of
them (corpus/tag_ctor_dtor) with a tagged struct; this pins, on a graph
built by hand, that an edge of a kind bpflink has no rule for yet, to or
from a node that is not a function (a tagged type), is listed under the
program whose code reaches it, and that a program reaching nothing lists
nothing.
"""

from __future__ import annotations

from bpflink.graph import DiGraph, FuncId
from bpflink.linkmap import Node, TagEdge, _programs


def _func(g: DiGraph, fid: FuncId, name: str, order: int, entry: bool = False) -> None:
    g.add_node(fid, kind="function", name=name, file=fid.file, section=fid.section,
               offset=fid.offset, entry=entry, order=order)


def test_tag_edges_of_any_kind_to_any_node():
    g = DiGraph(kinds=["call", "func_ref", "uses", "exception_callback", "made_up"])
    prog, helper = FuncId("a.o", "tc", 0), FuncId("a.o", ".text", 0)
    cb, init = FuncId("b.o", ".text", 8), FuncId("b.o", ".text", 0x40)
    lonely = FuncId("a.o", "xdp", 0)
    _func(g, prog, "prog", 0, entry=True)
    _func(g, lonely, "lonely", 1, entry=True)
    _func(g, helper, "helper", 2)
    _func(g, cb, "on_throw", 3)
    _func(g, init, "res_init", 4)
    res = ("type", "struct res")
    g.add_node(res, kind="type", name="struct res", file="b.o", files=["b.o"], entry=False,
               order=(1 << 40, 0))
    g.add_edge(prog, helper, kind="call", kinds=("call",))
    g.add_edge(prog, cb, kind="exception_callback", kinds=("exception_callback",))
    g.add_edge(helper, res, kind="uses", kinds=("uses",))
    g.add_edge(res, init, kind="made_up", kinds=("made_up",))
    programs = _programs(g)
    assert [p.program.name for p in programs] == ["prog", "lonely"]
    first = programs[0]
    assert [n.name for n in first.reaches] == ["helper", "on_throw", "res_init"]
    struct = Node("struct res", "type in b.o")
    assert first.tag_edges == (
        TagEdge("exception_callback", Node("prog", "a.o tc+0x0"),
                Node("on_throw", "b.o .text+0x8")),
        TagEdge("uses", Node("helper", "a.o .text+0x0"), struct),
        TagEdge("made_up", struct, Node("res_init", "b.o .text+0x40")),
    )
    assert programs[1].reaches == () and programs[1].tag_edges == ()
