"""The call graph's own container and algorithms, and what the public API returns.

The link path builds :class:`bpflink.graph.DiGraph` so that ``bpflink a.o
b.o -o out.o`` never imports networkx; ``LinkResult.callgraph`` converts it
to a real ``networkx.DiGraph`` on first access.  Checked here: the container
behaves as the networkx subset it stands in for; Tarjan and the shortest
path agree with networkx on random graphs; the conversion loses nothing;
every graph function gives the same answer on either graph; and no link
(CLI or library) imports networkx.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpflink
from bpflink.errors import Diagnostics
from bpflink.graph import (FORMATS, DiGraph, FuncId, build_callgraph, check_callgraph,
                           functions_named, reachable_sets, render, to_networkx, unreachable)
from bpflink.graph.digraph import NoPath, shortest_path, strongly_connected_components
from tests.graphkit import EXIT, Tiny, call

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def same_graph(ours, theirs) -> None:
    """Equal nodes, edges, attributes and ``graph`` dict, in the same order."""
    assert list(ours.nodes) == list(theirs.nodes)
    assert list(ours.nodes(data=True)) == list(theirs.nodes(data=True))
    assert list(ours.edges(data=True)) == list(theirs.edges(data=True))
    assert dict(ours.graph) == dict(theirs.graph)
    assert (ours.number_of_nodes(), ours.number_of_edges()) == \
        (theirs.number_of_nodes(), theirs.number_of_edges())
    for n in ours.nodes:
        assert list(ours.successors(n)) == list(theirs.successors(n))
        assert list(ours.predecessors(n)) == list(theirs.predecessors(n))


# -- the container, against networkx -------------------------------------------------------

def build_both(ops):
    ours, theirs = DiGraph(kind="x"), nx.DiGraph(kind="x")
    for op in ops:
        for g in (ours, theirs):
            if op[0] == "node":
                g.add_node(op[1], **op[2])
            else:
                g.add_edge(op[1], op[2], **op[3])
    return ours, theirs


def test_container_matches_networkx_on_the_subset_it_implements():
    ours, theirs = build_both([
        ("node", "a", {"order": 1}), ("edge", "a", "b", {"kind": "call"}),
        ("edge", "c", "a", {"kind": "func_ref"}), ("node", "a", {"entry": True}),
        ("edge", "a", "b", {"kinds": ("call",)}),          # an update, not a second edge
        ("edge", "b", "b", {}), ("node", "d", {})])
    same_graph(ours, theirs)
    assert ours.nodes["a"] == {"order": 1, "entry": True}
    assert ours.edges["a", "b"] == {"kind": "call", "kinds": ("call",)}
    assert list(ours.nodes(data="order")) == list(theirs.nodes(data="order"))
    assert list(ours.nodes(data="order", default=0)) == \
        list(theirs.nodes(data="order", default=0))
    assert list(ours.edges(data="kind")) == list(theirs.edges(data="kind"))
    assert list(ours.edges()) == list(theirs.edges()) == list(ours.edges)
    assert len(ours) == len(ours.nodes) == 4 and len(ours.edges) == 3
    assert list(ours) == ["a", "b", "c", "d"] and "d" in ours and "z" not in ours
    assert [] not in ours                       # unhashable: not a node, no TypeError
    assert ours.has_edge("b", "b") and not ours.has_edge("b", "a")
    assert not ours.has_edge("z", "a")
    assert ("c", "a") in ours.edges and ("a", "c") not in ours.edges
    ours.edges["a", "b"]["kind"] = "changed"    # attribute dicts are live, as in networkx
    assert ours.edges["a", "b"]["kind"] == "changed"
    assert ours.nodes() is ours.nodes


def test_subgraph_keeps_the_induced_edges_in_order():
    ours, theirs = build_both([("edge", u, v, {"w": u + v})
                               for u, v in ["ab", "bc", "ca", "cd", "da", "bb"]])
    for keep in (["c", "a", "b"], {"a", "b", "d"}, ["a", "zz"]):
        sub = ours.subgraph(keep)
        assert isinstance(sub, DiGraph)
        same_graph(sub, theirs.subgraph(keep))


def test_the_graph_is_weakly_referenceable():
    import weakref

    g = DiGraph()
    assert weakref.ref(g)() is g                # reach.py caches per graph in a WeakKeyDictionary


# -- the algorithms, against networkx ------------------------------------------------------

@st.composite
def digraphs(draw):
    n = draw(st.integers(0, 14))
    edges = draw(st.lists(st.tuples(st.integers(0, max(n - 1, 0)), st.integers(0, max(n - 1, 0))),
                          max_size=3 * n if n else 0))
    order = draw(st.permutations(range(n)))
    g = DiGraph()
    for v in order:
        g.add_node(v)
    for u, v in edges:
        g.add_edge(u, v)
    return g


@settings(max_examples=400, deadline=None)
@given(digraphs())
def test_tarjan_agrees_with_networkx(g):
    sccs = strongly_connected_components(g)
    theirs = nx.strongly_connected_components(to_networkx(g))
    assert sorted(map(sorted, sccs)) == sorted(map(sorted, theirs))
    assert sorted(n for c in sccs for n in c) == sorted(g)
    # Completion order: a component comes before every other component reaching it.
    where = {n: i for i, c in enumerate(sccs) for n in c}
    for u, v in g.edges:
        assert where[v] <= where[u]
    assert strongly_connected_components(g) == sccs     # deterministic


@settings(max_examples=400, deadline=None)
@given(digraphs(), st.data())
def test_shortest_path_agrees_with_networkx_on_length(g, data):
    if not len(g):
        return
    nodes = list(g)
    s, t = data.draw(st.sampled_from(nodes)), data.draw(st.sampled_from(nodes))
    h = to_networkx(g)
    try:
        expected = nx.shortest_path_length(h, s, t)
    except nx.NetworkXNoPath:
        with pytest.raises(NoPath):
            shortest_path(g, s, t)
        return
    for key in (None, lambda n: -n):
        path = shortest_path(g, s, t, key=key)
        assert path[0] == s and path[-1] == t and len(path) == expected + 1
        assert all(g.has_edge(u, v) for u, v in itertools.pairwise(path))


def test_shortest_path_takes_the_first_by_key_among_equals():
    g = DiGraph()
    for u, v in [("s", "m2"), ("s", "m1"), ("m2", "t"), ("m1", "t")]:
        g.add_edge(u, v)
    assert shortest_path(g, "s", "t") == ["s", "m2", "t"]          # adjacency order
    assert shortest_path(g, "s", "t", key=str) == ["s", "m1", "t"]  # by key
    assert shortest_path(g, "s", "s") == ["s"]
    with pytest.raises(NoPath):
        shortest_path(g, "t", "s")
    with pytest.raises(NoPath):
        shortest_path(g, "s", "nowhere")


def test_algorithms_do_not_recurse():
    n = 5 * sys.getrecursionlimit()
    g = DiGraph()
    for i in range(n):
        g.add_edge(i, (i + 1) % n)
    assert [len(c) for c in strongly_connected_components(g)] == [n]
    assert len(shortest_path(g, 1, 0)) == n


# -- the call graph on either container ----------------------------------------------------

GRAPH_DIRS = ["cross_call", "graph_all_kinds", "exc_cross", "loop_callback", "deep_chain",
              "static_same_name", "exc_ambiguous_3"]


def corpus_graph(name: str) -> DiGraph:
    result = bpflink.link(sorted((CORPUS / name).glob("*.o")), graph_checks=False)
    return result.digraph


@pytest.mark.parametrize("name", GRAPH_DIRS)
def test_every_graph_function_answers_the_same_on_networkx(name):
    ours = corpus_graph(name)
    theirs = to_networkx(ours)
    assert isinstance(ours, DiGraph) and isinstance(theirs, nx.DiGraph)
    same_graph(ours, theirs)
    for fmt in FORMATS:
        for verbose in (False, True):
            assert render(ours, fmt, verbose) == render(theirs, fmt, verbose)
    assert reachable_sets(ours) == reachable_sets(theirs)
    assert unreachable(ours) == unreachable(theirs)
    render_diags = lambda g: [d.render() for d in check_callgraph(g, None, Diagnostics()).items]  # noqa: E731
    assert render_diags(ours) == render_diags(theirs)


def test_link_result_callgraph_is_networkx_equal_to_the_internal_graph():
    result = bpflink.link(sorted((CORPUS / "graph_all_kinds").glob("*.o")))
    internal = result.digraph
    assert isinstance(internal, DiGraph)
    converted = result.callgraph
    assert isinstance(converted, nx.DiGraph)
    assert result.callgraph is converted                    # converted once
    same_graph(internal, converted)
    assert set(converted.graph) == {"kinds", "rules", "tags", "dangling", "uses_via"}
    kinds = {k for _, _, d in converted.edges(data=True) for k in d["kinds"]}
    assert {"call", "func_ref"} <= kinds
    assert all(d["kind"] == d["kinds"][0] for _, _, d in converted.edges(data=True))
    # Both are what build_callgraph makes of the linked object.
    same_graph(build_callgraph(result.linked), converted)
    # Assigning a graph replaces both views.
    result.callgraph = internal
    assert result.digraph is internal and isinstance(result.callgraph, nx.DiGraph)


def test_a_recursion_with_two_equally_short_cycles_is_named_the_same_in_every_order():
    funcs = [("tc", "prog", [call("a"), EXIT]), (".text", "a", [call("x"), EXIT]),
             (".text", "x", [call("m1"), call("m2"), EXIT]),
             (".text", "m1", [call("a"), EXIT]), (".text", "m2", [call("a"), EXIT])]
    seen = set()
    for perm in itertools.permutations(funcs):
        t = Tiny()
        for sec, name, ops in perm:
            t.func("a.o", sec, name, ops)
        graph = build_callgraph(t.linked())
        seen.add(tuple(d.render() for d in check_callgraph(graph, None, Diagnostics()).items))
    [(first, *_)] = seen
    assert "recursion: a -> x -> m1 -> a;" in first


# -- the link path does not import networkx ------------------------------------------------

def imported_modules(*argv: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, set]:
    """Run the CLI with -X importtime; the modules it imported."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "bpflink", *argv],
                          capture_output=True, text=True, cwd=tmp_path)
    mods = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
            if line.startswith("import time:")}
    return proc, mods


@pytest.mark.parametrize("extra", [[], ["--print-callgraph", "-v"]], ids=["link", "print"])
def test_cli_link_does_not_import_networkx(tmp_path, extra):
    out = tmp_path / "out.o"
    proc, mods = imported_modules(*map(str, sorted((CORPUS / "exc_cross").glob("*.o"))),
                                  "-o", str(out), *extra, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:4] == b"\x7fELF"
    assert "bpflink.graph.checks" in mods           # the graph was built and checked
    assert not {m for m in mods if m.split(".")[0] == "networkx"}
    if extra:
        assert "exception_callback ->" in proc.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_graph_does_not_import_networkx(tmp_path, fmt):
    proc, mods = imported_modules("graph", *map(str, sorted((CORPUS / "cross_call").glob("*.o"))),
                                  "--format", fmt, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not {m for m in mods if m.split(".")[0] == "networkx"}
    if fmt == "json":
        assert json.loads(proc.stdout)["format"] == "bpflink-callgraph"


def test_library_link_imports_networkx_only_when_callgraph_is_read(tmp_path):
    code = (
        "import sys, bpflink\n"
        f"r = bpflink.link({[str(p) for p in sorted((CORPUS / 'cross_call').glob('*.o'))]!r})\n"
        "assert not any(m.split('.')[0] == 'networkx' for m in sys.modules), 'early'\n"
        "from bpflink.graph import functions_named, render\n"
        "render(r.digraph, 'json'); functions_named(r.digraph, 'x')\n"
        "assert 'networkx' not in sys.modules, 'render'\n"
        "import networkx\n"
        "assert isinstance(r.callgraph, networkx.DiGraph)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_funcid_nodes_survive_conversion():
    g = corpus_graph("static_same_name")
    h = to_networkx(g)
    [first, *_] = functions_named(h, h.nodes[next(iter(h))]["name"])
    assert isinstance(first, FuncId)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 14).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
    st.sets(st.integers(0, n - 1)))))
def test_check_recursion_finds_every_function_on_a_call_cycle(case):
    """check_recursion() walks only the functions with both a caller and a callee: the
    functions it finds on cycles are networkx's (non-trivial components and self-loops)."""
    from bpflink.graph.checks import check_recursion
    from bpflink.graph.rules import edge_kinds

    n, edges, programs = case
    graph = DiGraph(kinds=edge_kinds([]), rules=[], tags=[], dangling=[], uses_via={})
    ids = [FuncId("a.o", ".text", 8 * i) for i in range(n)]
    for i, fid in enumerate(ids):
        graph.add_node(fid, kind="function", name=f"f{i}", file="a.o", section=".text",
                       offset=8 * i, size=1, bind="global", visibility="default",
                       entry=i in programs, stack=0, order=(0, i))
    for u, v in edges:
        graph.add_edge(ids[u], ids[v], kind="call", kinds=("call",))
    theirs = nx.DiGraph(list({(ids[u], ids[v]) for u, v in edges}))
    want = {m for c in nx.strongly_connected_components(theirs)
            for m in c if len(c) > 1 or theirs.has_edge(m, m)}
    assert check_recursion(graph, Diagnostics()) == want
