"""Roots and reachability: which functions the loader appends to each program.

The roots are the entry programs.  libbpf loads each one with every
subprogram it reaches through ``call`` and ``func_ref`` edges (calls and
callback addresses) plus, from the program itself, the functions its decl
tags name (its exception callback) and what those reach in turn.  Tags of a
``program`` row are followed only from the program carrying the tag: a tag
belongs to the program it sits on, not to programs that happen to reach it.

Tags of the other rows are followed wherever their carrier is reached: the
function a ``function`` row's tag names is reachable from every program
that loads the tagged function, and the one a tag on a type or variable
names from every program that *uses* the type or variable (``uses`` edges,
:func:`bpflink.graph.build._add_uses_edges`).  Reachable sets hold
functions only; :meth:`Adjacency.why` gives the path that made each one
reachable (``bpflink graph -v``).

A subprogram that no program reaches is never loaded; ``-v`` lists them.

Walks run over :class:`Adjacency`, plain sorted successor lists built once
per graph (networkx's filtered views, used here once, recounted the graph on
every ``len()``, which made per-program walks quadratic on large links).
Every function takes the internal :class:`~bpflink.graph.digraph.DiGraph`
or a ``networkx.DiGraph``.
"""

from __future__ import annotations

from _weakref import ref    # weakref's reference type: the weakref module costs every link

from .build import DataId, Node
from .rules import CALL, FUNC_REF, ON_PROGRAM

# How a walk reached a node: ``[(node, kind of the edge it was reached by), ...]``,
# from the start (reached by None).
Path = list[tuple[Node, str | None]]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Container, Iterable, Sequence
    from typing import TypeVar

    from .digraph import GraphLike

    N = TypeVar("N", Node, DataId, Node)

CODE_KINDS = (CALL, FUNC_REF)


class Adjacency:
    """Successor lists by edge class, each in output order."""

    def __init__(self, graph: GraphLike):
        order: dict[Node, tuple[int, int]] = {}
        functions: set[Node] = set()
        entries: list[Node] = []
        for n, d in graph.nodes(data=True):         # one pass: node order is output order
            order[n] = d["order"]
            if d.get("kind", "function") == "function":
                functions.add(n)
            if d["entry"]:
                entries.append(n)
        self.order = order
        self.functions = functions
        self.entries = sorted(entries, key=order.__getitem__)
        program_kinds = {r.kind for r in graph.graph.get("rules", ()) if r.sits_on == ON_PROGRAM}
        not_followed = program_kinds.union(CODE_KINDS)
        # Successor lists by table; a node without out-edges (most: leaves and data) gets
        # one shared empty tuple in every table instead of four lists of its own.
        code: dict[Node, Sequence[Node]] = {}
        calls: dict[Node, Sequence[Node]] = {}
        tags: dict[Node, Sequence[Node]] = {}       # program rows
        follow: dict[Node, Sequence[Node]] = {}     # everything else
        kind_of: dict[tuple[Node, Node], str] = {}     # (u, v) -> the kind a walk followed
        several: set[Node] = set()          # nodes with more than one out-edge
        # nodes an edge of another kind than ``call`` reaches (callbacks, tag targets)
        not_only_called: set[Node] = set()
        # Which tables an edge goes to depends on its ``kinds`` alone, and a graph has
        # few distinct ones: classify each once, not per edge (table numbers as below).
        classes: dict[tuple[str, ...], tuple[tuple[int, ...], bool]] = {}
        key = order.__getitem__
        for u, nbrs in graph.succ.items():          # node order, as the tables' keys
            if not nbrs:
                code[u] = calls[u] = tags[u] = follow[u] = ()
                continue
            lists: tuple[list[Node], ...] = ([], [], [], [])   # code, calls, tags, follow
            for v, d in nbrs.items():
                kinds = d["kinds"]
                cls = classes.get(kinds)
                if cls is None:
                    into: tuple[int, ...] = (0, 1) if CALL in kinds else (0,) if FUNC_REF in kinds else ()
                    if not program_kinds.isdisjoint(kinds):
                        into += (2,)
                    if not not_followed.issuperset(kinds):
                        into += (3,)
                    cls = classes[kinds] = (into, kinds.count(CALL) != len(kinds))
                for i in cls[0]:
                    lists[i].append(v)
                if cls[1]:
                    not_only_called.add(v)
                kind_of[u, v] = kinds[0]
            if len(nbrs) > 1:
                several.add(u)
                for succ in lists:
                    if len(succ) > 1:
                        succ.sort(key=key)
            code[u], calls[u], tags[u], follow[u] = lists
        self.kind_of = kind_of
        self.not_only_called = not_only_called
        self.several = several
        self.code, self.calls, self.tags, self.follow = code, calls, tags, follow
        self._reach: dict[Node, list[Node]] = {}
        self._why: dict[Node, dict[Node, Path]] = {}
        self._loaded_by: dict[Node, list[Node]] | None = None

    def walk(self, starts: list[Node]) -> set[Node]:
        """Every node reachable from ``starts`` through code edges and the tags of
        non-program rows (starts included)."""
        seen = set(starts)
        stack = list(starts)
        code, follow = self.code, self.follow
        while stack:
            n = stack.pop()
            for m in code[n]:
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
            for m in follow[n]:
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        return seen

    def _parents(self, starts: list[Node]) -> dict[Node, Node | None]:
        """Breadth-first walk: each node reached -> the node it was first reached from."""
        parent: dict[Node, Node | None] = {s: None for s in starts}
        queue = list(starts)
        code, follow = self.code, self.follow
        i = 0
        while i < len(queue):
            n = queue[i]
            i += 1
            for m in [*code[n], *follow[n]] if follow[n] else code[n]:
                if m not in parent:
                    parent[m] = n
                    queue.append(m)
        return parent

    def reachable(self, entry: Node) -> list[Node]:
        found = self._reach.get(entry)
        if found is None:
            seen = self.walk([entry, *self.tags[entry]])
            seen.discard(entry)
            found = sorted((n for n in seen if n in self.functions), key=self.order.__getitem__)
            self._reach[entry] = found
        return found

    def used(self, entry: Node) -> list[Node]:
        """The tagged types and variables ``entry`` uses (directly or through what it loads)."""
        seen = self.walk([entry, *self.tags[entry]])
        return sorted((n for n in seen if n not in self.functions), key=self.order.__getitem__)

    def why(self, entry: Node) -> dict[Node, Path]:
        """Every node ``entry`` reaches -> the path from ``entry`` to it, as
        ``[(node, kind it was reached by), ...]`` starting with ``(entry, None)``."""
        found = self._why.get(entry)
        if found is None:
            parent = self._parents([entry])
            for t in self.tags[entry]:
                if t not in parent:
                    sub = self._parents([t])
                    parent.update({k: (entry if k == t else v) for k, v in sub.items()
                                   if k not in parent})
            found = {}
            for n in parent:
                path: Path = []
                m: Node | None = n
                while m is not None:
                    p = parent[m]
                    path.append((m, None if p is None else self.kind_of[p, m]))
                    m = p
                found[n] = path[::-1]
            self._why[entry] = found
        return found


# Each graph's Adjacency and the shape it was built for, by id(graph), with
# a weak reference whose callback drops the entry when the graph goes, as a
# WeakKeyDictionary would (networkx graphs are cached too).
_CACHE: dict[int, tuple[ref[GraphLike], tuple[int, int], Adjacency]] = {}


def _forget(key: int) -> Callable[[ref[GraphLike]], None]:
    def forget(r: ref[GraphLike]) -> None:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is r:
            del _CACHE[key]
    return forget


def adjacency(graph: GraphLike) -> Adjacency:
    """The graph's :class:`Adjacency`, rebuilt only if the graph changed size."""
    shape = (graph.number_of_nodes(), graph.number_of_edges())
    key = id(graph)
    hit = _CACHE.get(key)
    if hit is None or hit[0]() is not graph or hit[1] != shape:
        hit = (ref(graph, _forget(key)), shape, Adjacency(graph))
        _CACHE[key] = hit
    return hit[2]


def ordered(graph: GraphLike, nodes: Iterable[N]) -> list[N]:
    """``nodes`` in output order (section order, then offset): the stable order."""
    return sorted(nodes, key=lambda n: graph.nodes[n]["order"])


def entries(graph: GraphLike) -> list[Node]:
    return list(adjacency(graph).entries)


def successors(graph: GraphLike, node: Node,
               kinds: Container[str] = CODE_KINDS) -> list[Node]:
    """Callees of ``node`` through edges having any of ``kinds``."""
    return ordered(graph, (m for m in graph.successors(node)
                           if any(k in kinds for k in graph.edges[node, m]["kinds"])))


def reachable(graph: GraphLike, entry: Node) -> list[Node]:
    """The functions the loader appends to ``entry`` (not ``entry`` itself), in order."""
    return list(adjacency(graph).reachable(entry))


def reachable_sets(graph: GraphLike) -> dict[Node, list[Node]]:
    adj = adjacency(graph)
    return {e: list(adj.reachable(e)) for e in adj.entries}


def reached_by(graph: GraphLike) -> dict[Node, Node]:
    """Every function some program loads -> the first such program (output order)."""
    adj = adjacency(graph)
    out: dict[Node, Node] = {}
    for e in adj.entries:
        out.setdefault(e, e)
        for n in adj.reachable(e):
            out.setdefault(n, e)
    return out


def loaded_by(graph: GraphLike) -> dict[Node, list[Node]]:
    """Every function some program loads -> all such programs, in output order.

    A defect in a function stops each of these programs from loading, and
    only these: the checks warn once per program.
    """
    adj = adjacency(graph)
    if adj._loaded_by is None:
        out: dict[Node, list[Node]] = {}
        for e in adj.entries:
            out.setdefault(e, []).append(e)
            for n in adj.reachable(e):
                out.setdefault(n, []).append(e)
        adj._loaded_by = out
    return adj._loaded_by


def unreachable(graph: GraphLike) -> list[Node]:
    """Subprograms no entry program reaches: the loader never loads them."""
    seen = reached_by(graph)
    functions = adjacency(graph).functions
    return ordered(graph, (n for n in graph.nodes if n not in seen and n in functions))


def unused(graph: GraphLike) -> list[Node]:
    """Tagged types and variables no program uses."""
    adj = adjacency(graph)
    used = {n for e in adj.entries for n in adj.used(e)}
    return ordered(graph, (n for n in graph.nodes if n not in adj.functions and n not in used))
