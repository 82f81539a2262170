"""Roots and reachability: which functions the loader appends to each program.

The roots are the entry programs.  libbpf loads each one with every
subprogram it reaches through ``call`` and ``func_ref`` edges (calls and
callback addresses) plus, from the program itself, the functions its decl
tags name (its exception callback) and what those reach in turn.  Tag edges
are followed only from the program carrying the tag: a tag belongs to the
program it sits on, not to programs that happen to reach it.

A subprogram that no program reaches is never loaded; ``-v`` lists them.

Walks run over :class:`Adjacency`, plain sorted successor lists built once
per graph (networkx's filtered views, used here once, recounted the graph on
every ``len()``, which made per-program walks quadratic on large links).
Every function takes the internal :class:`~bpflink.graph.digraph.DiGraph`
or a ``networkx.DiGraph``.
"""

from __future__ import annotations

import weakref
from collections.abc import Container, Iterable
from typing import TYPE_CHECKING

from .build import FuncId
from .rules import CALL, FUNC_REF

if TYPE_CHECKING:
    from .digraph import GraphLike

CODE_KINDS = (CALL, FUNC_REF)


class Adjacency:
    """Successor lists by edge class, each in output order."""

    def __init__(self, graph: GraphLike):
        order = {n: d["order"] for n, d in graph.nodes(data=True)}
        self.order = order
        self.entries = sorted((n for n, d in graph.nodes(data=True) if d["entry"]),
                              key=order.__getitem__)
        code: dict[FuncId, list[FuncId]] = {n: [] for n in graph}
        calls: dict[FuncId, list[FuncId]] = {n: [] for n in graph}
        tags: dict[FuncId, list[FuncId]] = {n: [] for n in graph}
        for u, v, kinds in graph.edges(data="kinds"):
            if any(k in CODE_KINDS for k in kinds):
                code[u].append(v)
            if CALL in kinds:
                calls[u].append(v)
            if any(k not in CODE_KINDS for k in kinds):
                tags[u].append(v)
        for table in (code, calls, tags):
            for succ in table.values():
                succ.sort(key=order.__getitem__)
        self.code, self.calls, self.tags = code, calls, tags
        self._reach: dict[FuncId, list[FuncId]] = {}

    def walk(self, starts: list[FuncId]) -> set[FuncId]:
        """Every function reachable from ``starts`` through code edges (starts included)."""
        seen = set(starts)
        stack = list(starts)
        code = self.code
        while stack:
            for m in code[stack.pop()]:
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        return seen

    def reachable(self, entry: FuncId) -> list[FuncId]:
        found = self._reach.get(entry)
        if found is None:
            seen = self.walk([entry, *self.tags[entry]])
            seen.discard(entry)
            found = sorted(seen, key=self.order.__getitem__)
            self._reach[entry] = found
        return found


_CACHE: weakref.WeakKeyDictionary[GraphLike, tuple[tuple[int, int], Adjacency]] = \
    weakref.WeakKeyDictionary()


def adjacency(graph: GraphLike) -> Adjacency:
    """The graph's :class:`Adjacency`, rebuilt only if the graph changed size."""
    shape = (graph.number_of_nodes(), graph.number_of_edges())
    hit = _CACHE.get(graph)
    if hit is None or hit[0] != shape:
        hit = (shape, Adjacency(graph))
        _CACHE[graph] = hit
    return hit[1]


def ordered(graph: GraphLike, nodes: Iterable[FuncId]) -> list[FuncId]:
    """``nodes`` in output order (section order, then offset): the stable order."""
    return sorted(nodes, key=lambda n: graph.nodes[n]["order"])


def entries(graph: GraphLike) -> list[FuncId]:
    return list(adjacency(graph).entries)


def successors(graph: GraphLike, node: FuncId,
               kinds: Container[str] = CODE_KINDS) -> list[FuncId]:
    """Callees of ``node`` through edges having any of ``kinds``."""
    return ordered(graph, (m for m in graph.successors(node)
                           if any(k in kinds for k in graph.edges[node, m]["kinds"])))


def reachable(graph: GraphLike, entry: FuncId) -> list[FuncId]:
    """The functions the loader appends to ``entry`` (not ``entry`` itself), in order."""
    return list(adjacency(graph).reachable(entry))


def reachable_sets(graph: GraphLike) -> dict[FuncId, list[FuncId]]:
    adj = adjacency(graph)
    return {e: list(adj.reachable(e)) for e in adj.entries}


def reached_by(graph: GraphLike) -> dict[FuncId, FuncId]:
    """Every function some program loads -> the first such program (output order)."""
    adj = adjacency(graph)
    out: dict[FuncId, FuncId] = {}
    for e in adj.entries:
        out.setdefault(e, e)
        for n in adj.reachable(e):
            out.setdefault(n, e)
    return out


def unreachable(graph: GraphLike) -> list[FuncId]:
    """Subprograms no entry program reaches: the loader never loads them."""
    seen = reached_by(graph)
    return ordered(graph, (n for n in graph.nodes if n not in seen))
