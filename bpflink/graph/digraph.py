"""A small directed graph: the part of ``networkx.DiGraph`` the call graph uses.

Every link builds and checks a call graph, and ``import networkx`` alone
costs more than the rest of a small link, so the graph package keeps its own
container and the two algorithms it needs.  :class:`DiGraph` has the same
shape as networkx's (``graph`` dict, node and edge attribute dicts,
insertion-ordered adjacency) and exposes only this subset of its API::

    g.graph                     g.add_node(n, **attr)       g.add_edge(u, v, **attr)
    g.add_nodes_from([(n, attr), ...])                      g.add_edges_from([(u, v, attr), ...])
    g.nodes  g.nodes[n]         g.nodes(data=True|"key")    n in g, iter(g), len(g)
    g.edges  g.edges[u, v]      g.edges(data=True|"key")    g.has_edge(u, v)
    g.successors(n)             g.predecessors(n)           g.subgraph(nodes)
    g.number_of_nodes()         g.number_of_edges()

so code written against it runs unchanged on a real ``networkx.DiGraph``:
everything in :mod:`bpflink.graph` accepts either.  Nodes and edges iterate
in insertion order, as in networkx.

:func:`strongly_connected_components` (Tarjan) and :func:`shortest_path`
(breadth-first) are iterative, so deep call chains do not hit Python's
recursion limit, and take any graph with ``__iter__`` and ``successors``.
:func:`to_networkx` is the only place networkx is imported; the public API
(``LinkResult.callgraph``) converts with it on first access.
"""

from __future__ import annotations


TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from typing import Any, TypeAlias

    import networkx

    GraphLike: TypeAlias = "DiGraph | networkx.DiGraph[Any]"

    # A node: any hashable value.  Typed Any, not Hashable, so that a graph of FuncIds
    # hands FuncIds to its callers without a cast, as networkx's stubs do.
    Node: TypeAlias = Any

_NO_DATA = object()


class NodeView:
    """``g.nodes``: iterate, ``len``, ``in``; ``g.nodes[n]`` is n's attribute dict."""

    __slots__ = ("_node",)

    def __init__(self, node: dict[Node, dict[str, Any]]):
        self._node = node

    def __getitem__(self, n: Node) -> dict[str, Any]:
        return self._node[n]

    def __iter__(self) -> Iterator[Node]:
        return iter(self._node)

    def __len__(self) -> int:
        return len(self._node)

    def __contains__(self, n: object) -> bool:
        return n in self._node

    def __call__(self, data: bool | str = False, default: Any = None) -> Any:
        """``nodes()``: this view; ``nodes(data=True)``: (n, attrs) pairs;
        ``nodes(data="key")``: (n, attrs.get("key", default)) pairs."""
        if data is False:
            return self
        if data is True:
            return list(self._node.items())
        return [(n, d.get(data, default)) for n, d in self._node.items()]

    def __repr__(self) -> str:
        return f"NodeView({tuple(self._node)!r})"


class EdgeView:
    """``g.edges``: iterate ``(u, v)``, ``len``, ``in``; ``g.edges[u, v]`` is the edge's
    attribute dict."""

    __slots__ = ("_graph",)

    def __init__(self, graph: DiGraph):
        self._graph = graph

    def __getitem__(self, e: tuple[Node, Node]) -> dict[str, Any]:
        u, v = e
        return self._graph._succ[u][v]

    def __iter__(self) -> Iterator[tuple[Node, Node]]:
        return ((u, v) for u, nbrs in self._graph._succ.items() for v in nbrs)

    def __len__(self) -> int:
        return self._graph._edge_count

    def __contains__(self, e: object) -> bool:
        u: Node
        v: Node
        try:
            u, v = e            # type: ignore[misc]
        except (TypeError, ValueError):
            return False
        return self._graph.has_edge(u, v)

    def __call__(self, data: bool | str = False, default: Any = None) -> Any:
        """``edges()``: (u, v) pairs; ``edges(data=True)``: (u, v, attrs);
        ``edges(data="key")``: (u, v, attrs.get("key", default))."""
        succ = self._graph._succ
        if data is False:
            return [(u, v) for u, nbrs in succ.items() for v in nbrs]
        if data is True:
            return [(u, v, d) for u, nbrs in succ.items() for v, d in nbrs.items()]
        return [(u, v, d.get(data, default)) for u, nbrs in succ.items() for v, d in nbrs.items()]

    def __repr__(self) -> str:
        return f"EdgeView({list(self)!r})"


class DiGraph:
    """A directed graph with attribute dicts, shaped like ``networkx.DiGraph``.

    Parallel edges are not kept: adding an edge twice updates its attributes.
    """

    __slots__ = ("graph", "_node", "_succ", "_pred", "_edge_count", "nodes", "edges",
                 "__weakref__")

    def __init__(self, **attr: Any):
        self.graph: dict[str, Any] = dict(attr)
        self._node: dict[Node, dict[str, Any]] = {}
        self._succ: dict[Node, dict[Node, dict[str, Any]]] = {}
        self._pred: dict[Node, dict[Node, dict[str, Any]]] = {}
        self._edge_count = 0
        self.nodes = NodeView(self._node)
        self.edges = EdgeView(self)

    # -- building ------------------------------------------------------------------------

    def add_node(self, n: Node, **attr: Any) -> None:
        d = self._node.get(n)
        if d is None:
            self._node[n] = attr            # a new dict made by the call: no copy needed
            self._succ[n] = {}
            self._pred[n] = {}
        else:
            d.update(attr)

    def add_nodes_from(self, nodes: Iterable[tuple[Node, dict[str, Any]]]) -> None:
        """``add_node(n, **attr)`` for each ``(n, attr)``, without a call each; a new node's
        attribute dict is ``attr`` itself (networkx would copy it)."""
        node, succ, pred = self._node, self._succ, self._pred
        for n, attr in nodes:
            d = node.get(n)
            if d is None:
                node[n] = attr
                succ[n] = {}
                pred[n] = {}
            else:
                d.update(attr)

    def add_edges_from(self, edges: Iterable[tuple[Node, Node, dict[str, Any]]]) -> None:
        """``add_edge(u, v, **attr)`` for each ``(u, v, attr)``, without a call each; a new
        edge's attribute dict is ``attr`` itself (networkx would copy it)."""
        node, succ, pred = self._node, self._succ, self._pred
        for u, v, attr in edges:
            for n in (u, v):
                if n not in node:
                    self.add_node(n)
            d = succ[u].get(v)
            if d is None:
                succ[u][v] = attr
                pred[v][u] = attr
                self._edge_count += 1
            else:
                d.update(attr)

    def add_edge(self, u: Node, v: Node, **attr: Any) -> None:
        """Add u -> v (and either node if new); on an existing edge, update its attributes."""
        for n in (u, v):
            if n not in self._node:
                self.add_node(n)
        d = self._succ[u].get(v)
        if d is None:
            d = {}
            self._succ[u][v] = d
            self._pred[v][u] = d
            self._edge_count += 1
        d.update(attr)

    # -- queries -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Node]:
        return iter(self._node)

    def __contains__(self, n: object) -> bool:
        try:
            return n in self._node
        except TypeError:
            return False

    def __len__(self) -> int:
        return len(self._node)

    def has_edge(self, u: Node, v: Node) -> bool:
        nbrs = self._succ.get(u)
        return nbrs is not None and v in nbrs

    @property
    def succ(self) -> dict[Node, dict[Node, dict[str, Any]]]:
        """``g.succ[u][v]`` is the attribute dict of u -> v, as in networkx (read only)."""
        return self._succ

    def successors(self, n: Node) -> Iterator[Node]:
        return iter(self._succ[n])

    def predecessors(self, n: Node) -> Iterator[Node]:
        return iter(self._pred[n])

    def number_of_nodes(self) -> int:
        return len(self._node)

    def number_of_edges(self) -> int:
        return self._edge_count

    def subgraph(self, nodes: Iterable[Node]) -> DiGraph:
        """The graph induced by ``nodes``: a new graph sharing this one's ``graph`` dict and
        attribute dicts (a copy of the structure, not a live view as in networkx)."""
        wanted = nodes if isinstance(nodes, (set, frozenset)) else set(nodes)
        keep = [n for n in self._node if n in wanted]
        keep_set = set(keep)
        sub = DiGraph()
        sub.graph = self.graph
        for n in keep:
            sub._node[n] = self._node[n]
            sub._succ[n] = {}
            sub._pred[n] = {}
        for u in keep:
            for v, d in self._succ[u].items():
                if v in keep_set:
                    sub._succ[u][v] = d
                    sub._pred[v][u] = d
                    sub._edge_count += 1
        return sub

    def __repr__(self) -> str:
        return (f"<bpflink DiGraph with {self.number_of_nodes()} nodes and "
                f"{self.number_of_edges()} edges>")


# -- algorithms ------------------------------------------------------------------------------

def strongly_connected_components(graph: GraphLike) -> list[list[Node]]:
    """The strongly connected components, by Tarjan's algorithm without recursion.

    Deterministic: roots are taken in the graph's node order and successors in
    its adjacency order; components come out in the order Tarjan completes
    them (a component before any that reaches it), each listing its nodes in
    the order they were first visited.
    """
    return components_of({n: list(graph.successors(n)) for n in graph})


def components_of(succ: Mapping[Node, Sequence[Node]]) -> list[list[Node]]:
    """:func:`strongly_connected_components` of the graph ``{node: successors}`` (keys in node
    order): for callers that already hold successor lists."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    on_stack: set[Node] = set()
    stack: list[Node] = []
    out: list[list[Node]] = []
    for root in succ:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        if not succ[root]:
            out.append([root])          # a leaf is a component as soon as it is reached
            continue
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(succ[root]))]
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = len(index)
                    if not succ[w]:
                        out.append([w])
                        continue
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(succ[w])))
                    break
                if w in on_stack and index[w] < low[v]:
                    low[v] = index[w]
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    if low[v] < low[u]:
                        low[u] = low[v]
                if low[v] == index[v]:
                    i = len(stack) - 1
                    while stack[i] != v:
                        i -= 1
                    comp = stack[i:]
                    del stack[i:]
                    on_stack.difference_update(comp)
                    out.append(comp)
    return out


class NoPath(LookupError):
    """:func:`shortest_path` found no path."""


def shortest_path(graph: GraphLike, source: Node, target: Node,
                  key: Callable[[Node], Any] | None = None) -> list[Node]:
    """A shortest path ``[source, ..., target]``, by breadth-first search.

    Of several shortest paths, the first in search order: successors are
    visited in the graph's adjacency order, or sorted by ``key`` if given,
    so the choice can be made independent of insertion order.  Raises
    :class:`NoPath` (a ``LookupError``) if ``target`` is unreachable.
    """
    if source not in graph or target not in graph:
        raise NoPath(f"{source!r} or {target!r} is not in the graph")
    if source == target:
        return [source]
    parent: dict[Node, Node] = {source: source}
    frontier = [source]
    while frontier:
        nxt: list[Node] = []
        for u in frontier:
            succ = graph.successors(u)
            for v in (sorted(succ, key=key) if key is not None else succ):
                if v in parent:
                    continue
                parent[v] = u
                if v == target:
                    path = [v]
                    while v != source:
                        v = parent[v]
                        path.append(v)
                    path.reverse()
                    return path
                nxt.append(v)
        frontier = nxt
    raise NoPath(f"no path from {source!r} to {target!r}")


def to_networkx(graph: GraphLike) -> networkx.DiGraph[Any]:
    """A ``networkx.DiGraph`` with the same ``graph`` dict entries, nodes, edges and
    attributes, in the same order.  Attribute dicts are copied (their values are
    shared, as networkx's own ``copy()`` does)."""
    import networkx

    out: networkx.DiGraph[Any] = networkx.DiGraph()
    out.graph.update(graph.graph)
    out.add_nodes_from((n, dict(d)) for n, d in graph.nodes(data=True))
    out.add_edges_from((u, v, dict(d)) for u, v, d in graph.edges(data=True))
    return out


__all__ = ["DiGraph", "EdgeView", "NoPath", "NodeView", "components_of", "shortest_path",
           "strongly_connected_components", "to_networkx"]
