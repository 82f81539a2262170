"""Checks on the call graph: what libbpf or the verifier would refuse, said at link time.

Errors:

* a decl tag whose value does not name exactly one function (none: *not
  found*; several: *ambiguous*, in every input order);
* a tag that does not sit on an entry program, or with an empty value;
* more tags of one rule on a program than the rule allows (*multiple*);
* a named function that is not what its rule requires: an entry program,
  static or hidden, or also called directly;
* a call cycle (*recursion*) reachable from a program;
* a call chain longer than the verifier's 8 frames (*too deep*).

Warnings:

* a call chain whose stack, estimated from r10-relative accesses, exceeds
  the verifier's 512 bytes;
* a call or function reference to an offset where no function starts.

Messages never depend on input order: candidates are listed, and cycles
and chains chosen, by name and file rather than by position.

Kernel reference (``kernel/bpf/verifier.c``): ``check_max_stack_depth_subprog``
counts the program's own frame as frame 0 and fails when a call makes it
frame 8 (``MAX_CALL_FRAMES``), so at most 8 functions may be on the stack; it
adds each frame's stack rounded up by ``round_up_stack_depth`` (to 16 bytes
when the program is JITed, to 32 with a minimum of 32 for the interpreter)
and fails above ``MAX_BPF_STACK`` (512).  Programs and exception callbacks
(and async callbacks) are checked as separate roots.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Set
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostics
from .build import FuncId, TagUse
from .digraph import DiGraph, shortest_path, strongly_connected_components
from .reach import Adjacency, adjacency, ordered, reached_by
from .rules import CALL

if TYPE_CHECKING:
    from ..linker.model import LinkedObject
    from .digraph import GraphLike

MAX_CALL_FRAMES = 8     # include/linux/bpf_verifier.h
MAX_BPF_STACK = 512     # include/linux/filter.h
STACK_FRAME_ROUND = 16  # round_up_stack_depth() for JITed programs


# -- naming things in messages -------------------------------------------------------------

def name_key(graph: GraphLike, n: FuncId) -> tuple[Any, ...]:
    """A sort key independent of input order: name, then where it lives."""
    d = graph.nodes[n]
    return (d["name"], d["file"], d["section"], d["offset"])


def binding(graph: GraphLike, n: FuncId) -> str:
    d = graph.nodes[n]
    return ("hidden " if d["visibility"] == "hidden" else "") + str(d["bind"])


def describe(graph: GraphLike, n: FuncId) -> str:
    """``global cb in g1.o (section .text)``: one ``>>>`` line per candidate."""
    d = graph.nodes[n]
    return f"{binding(graph, n)} {d['name']} in {d['file']} (section {d['section']})"


def _at(graph: GraphLike, n: FuncId) -> dict[str, Any]:
    """Diagnostic location of a function: its file, section and name."""
    d = graph.nodes[n]
    return {"file": d["file"], "section": d["section"], "symbol": d["name"]}


def _btf_at(use: TagUse) -> dict[str, Any]:
    """Where a tag that sits on no function is reported: its (first) input's BTF."""
    return {"file": use.files[0] if use.files else None, "section": ".BTF",
            "symbol": use.on_name or None,
            "notes": [f"also in {f}" for f in use.files[1:]]}


SHOWN_FRAMES = 12      # a chain longer than this is cut in messages: the cause shows early


def _chain(graph: GraphLike, path: Iterable[FuncId]) -> str:
    path = list(path)
    names = [graph.nodes[n]["name"] for n in path[:SHOWN_FRAMES]]
    if len(path) > SHOWN_FRAMES:
        names.append(f"... ({len(path) - SHOWN_FRAMES} more)")
    return " -> ".join(names)


def _chain_notes(graph: GraphLike, path: list[FuncId]) -> list[str]:
    notes = [describe(graph, n) for n in path[:SHOWN_FRAMES]]
    if len(path) > SHOWN_FRAMES:
        notes.append(f"... and {len(path) - SHOWN_FRAMES} more frames")
    return notes


# -- the checks ----------------------------------------------------------------------------

def check_callgraph(graph: GraphLike, linked: LinkedObject | None = None,
                    diags: Diagnostics | None = None) -> Diagnostics:
    """Record every problem of the graph in ``diags`` (a new collector if None)."""
    diags = diags if diags is not None else Diagnostics()
    check_tags(graph, diags)
    check_dangling(graph, diags)
    cyclic = check_recursion(graph, diags)
    check_depth_and_stack(graph, diags, skip=cyclic)
    return diags


def check_tags(graph: GraphLike, diags: Diagnostics) -> None:
    uses: list[TagUse] = graph.graph["tags"]
    per_site: dict[tuple[str, FuncId], list[TagUse]] = {}
    for use in uses:
        if not _check_site(graph, use, diags):
            continue
        for site in use.sites:
            per_site.setdefault((use.rule.prefix, site), []).append(use)
        for site in use.sites:
            _check_target(graph, use, site, diags)
    for (_prefix, site), group in per_site.items():
        rule = group[0].rule
        tags = sorted({u.tag for u in group})
        if rule.at_most_one and len(tags) > 1:
            diags.error(f"multiple {rule.kind} tags on one program; a program has at most one "
                        f"{rule.what}", notes=tags, **_at(graph, site),
                        hint=f"keep one {rule.kind} tag on {graph.nodes[site]['name']}")


def _check_site(graph: GraphLike, use: TagUse, diags: Diagnostics) -> bool:
    """The tag sits on an entry program's FUNC; report it if not."""
    rule = use.rule
    where = "the BTF FUNC of an entry program (a function in a SEC(\"...\") section)"
    if use.on_kind != "FUNC" or use.component != -1:
        on = (f"{use.on_kind} {use.on_name}" if use.component == -1
              else f"component {use.component} of {use.on_kind} {use.on_name}")
        diags.error(f"{use.tag} sits on {on}; {rule.kind} tags belong on {where}",
                    **_btf_at(use))
        return False
    if not use.sites:
        diags.error(f"{use.tag} sits on {use.on_name}, which is not a function of the output; "
                    f"{rule.kind} tags belong on {where}", **_btf_at(use))
        return False
    bad = [s for s in use.sites if not graph.nodes[s]["entry"]]
    for s in bad:
        diags.error(f"{use.tag} sits on a subprogram, not an entry program; {rule.kind} tags "
                    f"belong on {where}", **_at(graph, s),
                    hint="move the tag to the program that should use it")
    if bad:
        return False
    if not use.value:
        for s in use.sites:
            diags.error(f"{use.tag} has an empty value; it must name a {rule.names}",
                        **_at(graph, s))
        return False
    return True


def _check_target(graph: GraphLike, use: TagUse, site: FuncId, diags: Diagnostics) -> None:
    """The tag's value names exactly one function, and that function is what the rule needs."""
    rule, value, at = use.rule, use.value, _at(graph, site)
    cands = sorted(use.candidates, key=lambda n: name_key(graph, n))
    if not cands:
        diags.error(f"{use.tag}: function '{value}' not found in any input", **at,
                    hint=f"define a global function '{value}' in one of the inputs, or fix "
                    "the name in the tag")
        return
    if len(cands) > 1:
        diags.error(f"{use.tag} is ambiguous: {len(cands)} functions are named '{value}'",
                    notes=[describe(graph, c) for c in cands], **at,
                    hint=f"{rule.why} and take the first match, so the input order would "
                    f"decide which one is used; give the {rule.what} a name no other function "
                    f"has, or rename the others (a static function's name is free to change)")
        return
    target = cands[0]
    t = graph.nodes[target]
    if rule.subprogram_target and t["entry"]:
        diags.error(f"{use.tag} names an entry program (section {t['section']}); the {rule.what} "
                    f"must be a subprogram in .text", notes=[describe(graph, target)], **at,
                    hint=f"{rule.why} among subprograms only: define {value} without SEC(...)")
    if rule.global_target and (t["bind"] == "static" or t["visibility"] == "hidden"):
        what = "static" if t["bind"] == "static" else "hidden"
        fix = (f"remove 'static' from {value}" if what == "static" else
               f"remove __hidden (visibility(\"hidden\")) from {value}; libbpf turns hidden "
               "functions static for the kernel")
        diags.error(f"{use.tag} names a {what} function; the {rule.what} must be a global, "
                    "non-hidden function", notes=[describe(graph, target)], **at,
                    hint=f"{rule.why} and accept only a global function: {fix}")
    if rule.exclusive_target:
        callers = [u for u in graph.predecessors(target)
                   if CALL in graph.edges[u, target]["kinds"]]
        if callers:
            callers.sort(key=lambda n: name_key(graph, n))
            diags.error(f"{use.tag} names {value}, which is also called directly; the verifier "
                        f"refuses direct calls to an {rule.what}",
                        notes=[f"called by {describe(graph, c)}" for c in callers], **at,
                        hint=f"move the shared code into a function that {value} and its "
                        "callers both call")


def check_dangling(graph: GraphLike, diags: Diagnostics) -> None:
    for d in graph.graph["dangling"]:
        what = "call" if d.kind == CALL else "function address"
        diags.warning(f"{what} at {d.section}+0x{d.insn_offset:x} points to "
                      f"{d.section}+0x{d.target_offset:x} of the output, where no function "
                      "starts; libbpf will not find a subprogram there", **_at(graph, d.source))


# -- recursion, depth and stack ------------------------------------------------------------

def check_recursion(graph: GraphLike, diags: Diagnostics) -> set[FuncId]:
    """Report each call cycle a program reaches; return every function on one."""
    adj = adjacency(graph)
    calls = DiGraph()
    for n in graph.nodes:
        calls.add_node(n)
    for u, succ in adj.calls.items():
        for v in succ:
            calls.add_edge(u, v)
    reached = reached_by(graph)
    cyclic: set[FuncId] = set()
    sccs = [c for c in strongly_connected_components(calls)
            if len(c) > 1 or calls.has_edge(c[0], c[0])]
    for scc in sorted(sccs, key=lambda c: min(name_key(graph, n) for n in c)):
        cyclic.update(scc)
        if not any(n in reached for n in scc):
            continue                    # never loaded, so never verified
        cycle = _canonical_cycle(graph, calls.subgraph(scc))
        start = cycle[0]
        prog = reached.get(start) or next(reached[n] for n in cycle if n in reached)
        diags.error(f"recursion: {_chain(graph, cycle)}; the verifier rejects recursive calls",
                    notes=[describe(graph, n) for n in cycle[:-1]], **_at(graph, start),
                    hint=f"reached from program {graph.nodes[prog]['name']}; turn the recursion "
                    "into a loop (a bounded loop or bpf_loop)")
    return cyclic


def _canonical_cycle(graph: GraphLike, scc: DiGraph) -> list[FuncId]:
    """The shortest cycle through the SCC's first function by name: the same in any order.

    Of equally short cycles, the first by name at each step: the search visits
    callees by name, never in the order the inputs happened to define them.
    """
    key = lambda n: name_key(graph, n)  # noqa: E731
    start = min(scc.nodes, key=key)
    if scc.has_edge(start, start):
        return [start, start]
    best: list[FuncId] | None = None
    for succ in sorted(scc.successors(start), key=key):
        path = [start, *shortest_path(scc, succ, start, key=key)]
        if best is None or len(path) < len(best):
            best = path
    assert best is not None
    return best


def frame_size(stack: int) -> int:
    """A frame's share of the combined stack, as the verifier rounds it (JIT)."""
    return -(-stack // STACK_FRAME_ROUND) * STACK_FRAME_ROUND


def _roots(graph: GraphLike, adj: Adjacency) -> list[FuncId]:
    """Where the verifier starts counting frames: programs, and functions reached other
    than by a call (exception callbacks, callbacks), each a chain of its own."""
    roots = set(adj.entries)
    for _u, v, kinds in graph.edges(data="kinds"):
        if any(k != CALL for k in kinds):
            roots.add(v)
    reached = reached_by(graph)
    return ordered(graph, (r for r in roots if r in reached))


class _Chains:
    """Heaviest call chain from each function, memoized over the whole call DAG.

    The best chain from a function does not depend on which root reached it,
    so one pass serves every root: linear in the graph, not per root.  Ties
    go to the callee first by name, so the chain named never depends on
    input order.  Functions on a cycle (already an error) are never entered.
    """

    def __init__(self, graph: GraphLike, adj: Adjacency, weight: Callable[[FuncId], int],
                 cyclic: set[FuncId]):
        self.graph, self.weight, self.cyclic = graph, weight, cyclic
        self.succ = {n: sorted(v, key=lambda x: name_key(graph, x))
                     for n, v in adj.calls.items()}
        self.best: dict[FuncId, tuple[int, list[FuncId]]] = {}
        self.touches_cycle: dict[FuncId, bool] = {}

    def _visit(self, root: FuncId) -> None:
        stack = [(root, False)]
        while stack:
            n, done = stack.pop()
            if n in self.best:
                continue
            if not done:
                stack.append((n, True))
                stack.extend((m, False) for m in self.succ[n]
                             if m not in self.best and m not in self.cyclic)
                continue
            tail: tuple[int, list[FuncId]] = (0, [])
            bad = n in self.cyclic
            for m in self.succ[n]:
                if m in self.cyclic:
                    bad = True
                    continue
                bad = bad or self.touches_cycle[m]
                if self.best[m][0] > tail[0]:
                    tail = self.best[m]
            self.best[n] = (self.weight(n) + tail[0], [n, *tail[1]])
            self.touches_cycle[n] = bad

    def longest(self, root: FuncId) -> tuple[int, list[FuncId]] | None:
        """The heaviest chain from ``root``, or None if it runs into a cycle."""
        if root in self.cyclic:
            return None
        self._visit(root)
        return None if self.touches_cycle[root] else self.best[root]


def check_depth_and_stack(graph: GraphLike, diags: Diagnostics,
                          skip: Set[FuncId] = frozenset()) -> None:
    adj = adjacency(graph)
    frames_of = _Chains(graph, adj, lambda n: 1, set(skip))
    stack_of = _Chains(graph, adj, lambda n: frame_size(graph.nodes[n]["stack"]), set(skip))
    for root in _roots(graph, adj):
        deepest = frames_of.longest(root)
        if deepest is None:
            continue                    # recursion is already an error
        frames, chain = deepest
        if frames > MAX_CALL_FRAMES:
            diags.error(f"call chain too deep: {frames} frames, the verifier allows "
                        f"{MAX_CALL_FRAMES}: {_chain(graph, chain)}",
                        notes=_chain_notes(graph, chain), **_at(graph, root),
                        hint="mark some of these functions __always_inline, or merge them")
        stack = stack_of.longest(root)
        assert stack is not None        # same graph and roots as frames_of: no cycle
        total, chain = stack
        if total > MAX_BPF_STACK:
            sizes = " -> ".join(f"{graph.nodes[n]['name']} ({frame_size(graph.nodes[n]['stack'])})"
                                for n in chain[:SHOWN_FRAMES])
            if len(chain) > SHOWN_FRAMES:
                sizes += f" -> ... ({len(chain) - SHOWN_FRAMES} more)"
            diags.warning(f"call chain may need {total} bytes of stack, more than the "
                          f"verifier's {MAX_BPF_STACK} (an estimate): {sizes}", **_at(graph, root),
                          hint="the figure is estimated from each function's r10-relative "
                          f"accesses, frames rounded up to {STACK_FRAME_ROUND} bytes as the "
                          "kernel does for JITed programs; the verifier's own count decides")


__all__ = [
    "MAX_BPF_STACK",
    "MAX_CALL_FRAMES",
    "check_callgraph",
    "check_dangling",
    "check_depth_and_stack",
    "check_recursion",
    "check_tags",
    "describe",
    "frame_size",
]
