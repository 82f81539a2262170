"""Call graph (placeholder until the call-graph work lands)."""

from __future__ import annotations

import networkx as nx


def build_callgraph(linked) -> nx.DiGraph:
    return nx.DiGraph()


def check_callgraph(graph, linked, diags) -> None:
    return None
