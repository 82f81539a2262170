"""The call graph of a linked program set, and the checks it makes possible.

Nodes are the functions of the output: every ``STT_FUNC`` symbol in an
executable section.  A node is identified by where it lives, a
:class:`FuncId` ``(file, section, offset in the input section)``: after a
static link two functions may share a name, so a name is only a label.  Node
attributes: ``name``, ``file``, ``section``, ``offset``, ``size`` (in
instructions), ``bind`` (``global``/``weak``/``static``), ``visibility``,
``entry`` (a program: its section is not ``.text``), ``stack`` (an estimate
in bytes) and ``order`` (its output position, the stable sort key).

Edges carry ``kind`` and ``kinds`` (all kinds between the same two
functions, in table order; ``kind`` is the first).  The kinds, all made in
:mod:`bpflink.graph.build`:

* ``call`` — a BPF-to-BPF call, relocated or pc-relative;
* ``func_ref`` — a function's address loaded with ``ld_imm64``: the
  callbacks of ``bpf_loop``, ``bpf_for_each_map_elem``, timers;
* one kind per decl-tag rule (:mod:`bpflink.graph.rules`), today
  ``exception_callback``: from the program the tag sits on to the one
  function its value names.

Roots and reachability (:mod:`bpflink.graph.reach`): the roots are the entry
programs.  Each loads the subprograms it reaches through ``call`` and
``func_ref`` edges, plus the functions its own tags name and what they
reach; a subprogram no program reaches is never loaded (``-v`` lists them).

The checks (:mod:`bpflink.graph.checks`) say what libbpf's loader or the
verifier would refuse, naming files and functions.  A defect of one program
(a tag naming no function or a static one, repeated tags, a callback also
called directly, recursion, chains deeper than 8 frames, stack use) is a
warning naming that program and what loading it will do; a defect of the
link (a name several functions answer to, a misplaced tag) is an error.

The container (:mod:`bpflink.graph.digraph`) is internal: a small
:class:`DiGraph` with the subset of the ``networkx.DiGraph`` API this
package uses (``graph`` dict, ``nodes[n]``, ``edges[u, v]``, ``successors``,
``predecessors``...), plus the two algorithms the checks need (Tarjan's
strongly connected components, breadth-first shortest path).  The link
path therefore never imports networkx.  The public API does:
``LinkResult.callgraph`` is a real ``networkx.DiGraph`` with the same nodes,
attributes, edges and ``graph`` dict, converted (:func:`to_networkx`) on
first access.  Every function here accepts either kind of graph.

API::

    graph = build_callgraph(linked)              # bpflink.graph.DiGraph (internal)
    check_callgraph(graph, linked, diags)        # records errors/warnings
    render(graph, "text" | "dot" | "json" | "mermaid", verbose=False) -> str
    to_networkx(graph)                           # networkx.DiGraph, what the API returns
"""

from __future__ import annotations

from .build import DataId, Dangling, FuncId, TagUse, build_callgraph, functions_named
from .checks import check_callgraph
from .digraph import DiGraph, to_networkx
from .reach import entries, reachable, reachable_sets, unreachable, unused
from .formats import FORMATS, render
from .rules import (CALL, CTOR, DTOR, EXCEPTION_CALLBACK, FUNC_REF, TAG_RULES, USES, TagRule,
                    edge_kinds, parse_tag_rule, project_tag_rules, register_tag_rule,
                    unregister_tag_rule, with_rules)

__all__ = ["CALL", "CTOR", "DTOR", "EXCEPTION_CALLBACK", "FORMATS", "FUNC_REF", "TAG_RULES",
           "USES", "Dangling", "DataId", "DiGraph", "FuncId", "TagRule", "TagUse",
           "build_callgraph", "check_callgraph", "edge_kinds", "entries", "functions_named",
           "parse_tag_rule", "project_tag_rules", "reachable", "reachable_sets",
           "register_tag_rule", "render", "to_networkx", "unreachable", "unregister_tag_rule",
           "unused", "with_rules"]
