"""Roots and reachability: which functions the loader appends to each program.

The roots are the entry programs.  libbpf loads each one with every
subprogram it reaches through ``call`` and ``func_ref`` edges (calls and
callback addresses) plus, from the program itself, the functions its decl
tags name (its exception callback) and what those reach in turn.  Tag edges
are followed only from the program carrying the tag: a tag belongs to the
program it sits on, not to programs that happen to reach it.

A subprogram that no program reaches is never loaded; ``-v`` lists them.
"""

from __future__ import annotations

import networkx as nx

from .build import FuncId
from .rules import CALL, FUNC_REF

CODE_KINDS = (CALL, FUNC_REF)


def ordered(graph: nx.DiGraph, nodes) -> list[FuncId]:
    """``nodes`` in output order (section order, then offset): the stable order."""
    return sorted(nodes, key=lambda n: graph.nodes[n]["order"])


def entries(graph: nx.DiGraph) -> list[FuncId]:
    return ordered(graph, (n for n, d in graph.nodes(data=True) if d["entry"]))


def successors(graph: nx.DiGraph, node: FuncId, kinds=CODE_KINDS) -> list[FuncId]:
    """Callees of ``node`` through edges having any of ``kinds``."""
    return ordered(graph, (m for m in graph.successors(node)
                           if any(k in kinds for k in graph.edges[node, m]["kinds"])))


def code_view(graph: nx.DiGraph, kinds=CODE_KINDS) -> nx.DiGraph:
    """The subgraph of edges having any of ``kinds`` (a view, not a copy)."""
    return nx.subgraph_view(
        graph, filter_edge=lambda u, v: any(k in kinds for k in graph.edges[u, v]["kinds"]))


def reachable(graph: nx.DiGraph, entry: FuncId) -> list[FuncId]:
    """The functions the loader appends to ``entry`` (not ``entry`` itself), in order."""
    view = code_view(graph)
    tag_kinds = [k for k in graph.graph["kinds"] if k not in CODE_KINDS]
    starts = [entry] + successors(graph, entry, tag_kinds)
    found: set[FuncId] = set()
    for s in starts:
        found.add(s)
        found |= nx.descendants(view, s)
    found.discard(entry)
    return ordered(graph, found)


def reachable_sets(graph: nx.DiGraph) -> dict[FuncId, list[FuncId]]:
    return {e: reachable(graph, e) for e in entries(graph)}


def unreachable(graph: nx.DiGraph) -> list[FuncId]:
    """Subprograms no entry program reaches: the loader never loads them."""
    seen: set[FuncId] = set()
    for e in entries(graph):
        seen.add(e)
        seen.update(reachable(graph, e))
    return ordered(graph, (n for n in graph.nodes if n not in seen))
