"""Checks on the call graph: what libbpf or the verifier would refuse, said at link time.

Two scopes, two severities (docs/callgraph.md, "Program-level and link-level"):

*Program-level* defects can only stop the program that carries or loads them
from loading; every other program of the object loads.  The kernel's
selftests keep such programs on purpose, so these are **warnings** in every
section, naming the program, its input and what the verifier or libbpf's
loader will do when it is loaded:

* a tag of a program-scoped rule whose value names no function, a static or
  hidden function, or an entry program; an empty value;
* more tags of one rule on a program than the rule allows (*multiple*);
* a tagged callback that is also called directly;
* a call cycle (*recursion*) a program loads;
* a call chain longer than the verifier's 8 frames (*too deep*);
* a call chain whose stack, estimated from r10-relative accesses, exceeds
  the verifier's 512 bytes;
* a call or function reference to an offset where no function starts.

*Link-level* defects are **errors**: a name that resolves to several
functions (*ambiguous*), whose meaning the input order would decide, and a
tag placed where the loader refuses the whole object (on a variable, a
parameter, a subprogram).  Resolution errors (duplicate strong definitions,
type conflicts...) are raised earlier, by the linker itself.

``Linker(fatal_warnings=True)`` (``--fatal-warnings``) turns every warning
into an error (:mod:`bpflink.pipeline`).

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


from ..errors import Diagnostics
from .build import Node, TagUse, is_function
from .digraph import DiGraph, components_of, shortest_path
from .reach import Adjacency, adjacency, loaded_by, ordered, reached_by
from .rules import CALL, ON_FUNCTION, ON_PROGRAM, ON_TYPE, ON_VAR, TagRule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence, Set
    from typing import Any

    from ..linker.model import LinkedObject
    from .digraph import GraphLike

MAX_CALL_FRAMES = 8     # include/linux/bpf_verifier.h
# What the verifier says for a chain over 8 frames, and for recursion too
# (it follows the cycle until the stack is full); checked on 6.18.
REFUSED_TOO_DEEP = "the verifier refuses it: \"the call stack of 8 frames is too deep !\""
MAX_BPF_STACK = 512     # include/linux/filter.h
STACK_FRAME_ROUND = 16  # round_up_stack_depth() for JITed programs


# -- naming things in messages -------------------------------------------------------------

def name_key(graph: GraphLike, n: Node) -> tuple[Any, ...]:
    """A sort key independent of input order: name, then where it lives."""
    d = graph.nodes[n]
    return (d["name"], d["file"], d["section"], d["offset"])


def binding(graph: GraphLike, n: Node) -> str:
    d = graph.nodes[n]
    return ("hidden " if d["visibility"] == "hidden" else "") + str(d["bind"])


def describe(graph: GraphLike, n: Node) -> str:
    """``global cb in g1.o (section .text)``: one ``>>>`` line per candidate."""
    d = graph.nodes[n]
    return f"{binding(graph, n)} {d['name']} in {d['file']} (section {d['section']})"


def _at(graph: GraphLike, n: Node) -> dict[str, Any]:
    """Diagnostic location of a function: its file, section and name."""
    d = graph.nodes[n]
    return {"file": d["file"], "section": d["section"], "symbol": d["name"]}


def _btf_at(use: TagUse) -> dict[str, Any]:
    """Where a tag that sits on no function is reported: its (first) input's BTF."""
    return {"file": use.files[0] if use.files else None, "section": ".BTF",
            "symbol": use.on_name or None,
            "notes": [f"also in {f}" for f in use.files[1:]]}


SHOWN_FRAMES = 12      # a chain longer than this is cut in messages: the cause shows early


def _chain(graph: GraphLike, path: Iterable[Node]) -> str:
    path = list(path)
    names = [graph.nodes[n]["name"] for n in path[:SHOWN_FRAMES]]
    if len(path) > SHOWN_FRAMES:
        names.append(f"... ({len(path) - SHOWN_FRAMES} more)")
    return " -> ".join(names)


def _chain_notes(graph: GraphLike, path: list[Node]) -> list[str]:
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


def _when_loaded(graph: GraphLike, prog: Node, consequence: str) -> str:
    """The tail of a program-level warning: what loading ``prog`` will do."""
    return f"; when {graph.nodes[prog]['name']} is loaded, {consequence}"


def _report(diags: Diagnostics, rule: TagRule, link_level: bool, message: str,
            **kw: Any) -> None:
    """Record a tag defect with the severity its rule row gives it.

    Warnings-only rows (``warn``) only warn.  On a ``program`` row a defect
    that stops one program is a warning and a link-level one an error; on
    the other rows (declared by a project) every defect is an error.
    """
    error = not rule.warn and (link_level or rule.sits_on != ON_PROGRAM)
    (diags.error if error else diags.warning)(message, **kw)


def _carrier_at(graph: GraphLike, use: TagUse) -> dict[str, Any]:
    """Where a tag on a type or variable is reported: its (first) input's BTF."""
    node = use.node
    what = {"STRUCT": "struct", "UNION": "union", "VAR": "variable"}.get(use.on_kind,
                                                                       use.on_kind.lower())
    files = graph.nodes[node]["files"] if node is not None and node in graph else use.files
    return {"file": files[0] if files else None, "section": ".BTF",
            "symbol": f"{what} {node.name}" if node is not None else use.on_name or None}


def _carrier_name(graph: GraphLike, carrier: Node) -> str:
    d = graph.nodes[carrier]
    if d.get("kind", "function") == "function":
        return str(d["name"])
    return f"{d['kind']} {d['name']}"


def check_tags(graph: GraphLike, diags: Diagnostics) -> None:
    uses: list[TagUse] = graph.graph["tags"]
    per_carrier: dict[tuple[str, Node], list[TagUse]] = {}
    for use in uses:
        carriers = _check_site(graph, use, diags)
        for c in carriers:
            per_carrier.setdefault((use.rule.prefix, c), []).append(use)
        for c in carriers:
            _check_target(graph, use, c, diags)
    for (_prefix, carrier), group in per_carrier.items():
        rule = group[0].rule
        tags = sorted({u.tag for u in group})
        if not rule.at_most_one or len(tags) < 2:
            continue
        if rule.sits_on == ON_PROGRAM:
            _report(diags, rule, False, f"multiple {rule.kind} tags on one program; a program "
                    f"has at most one {rule.what}"
                    + _when_loaded(graph, carrier, rule.refusal("multiple")),
                    notes=tags, **_at(graph, carrier),
                    hint=f"keep one {rule.kind} tag on {graph.nodes[carrier]['name']}")
        else:
            at = (_at(graph, carrier) if carrier in graph and is_function(graph, carrier)
                  else _carrier_at(graph, group[0]))
            _report(diags, rule, False, f"multiple {rule.kind} tags on "
                    f"{_carrier_name(graph, carrier)}; a {rule.carrier} has at most one "
                    f"{rule.what}", notes=tags, **at,
                    hint=f"keep one {rule.kind} tag on {_carrier_name(graph, carrier)}")


_ON_WHERE = {
    ON_PROGRAM: "the BTF FUNC of an entry program (a function in a SEC(\"...\") section)",
    ON_FUNCTION: "the BTF FUNC of a function",
    ON_TYPE: "a struct or union",
    ON_VAR: "a variable",
}


def _check_site(graph: GraphLike, use: TagUse, diags: Diagnostics) -> list[Node]:
    """The carriers the tag sits on, if it sits where its rule says; report it if not.

    A misplaced tag is link-level: for ``exception_callback`` libbpf refuses
    every program of an object whose tag sits on anything but a global FUNC
    ("decl tag not applied to the main program"), or ignores a tag on a
    global subprogram, which is never what its author meant.  An empty
    value stops only its program.
    """
    rule = use.rule
    where = _ON_WHERE[rule.sits_on]
    if use.on_kind == "FUNC" and use.component == -1 and rule.sits_on in (ON_PROGRAM,
                                                                          ON_FUNCTION):
        if not use.sites:
            _report(diags, rule, True, f"{use.tag} sits on {use.on_name}, which is not a "
                    f"function of the output; {rule.kind} tags belong on {where}",
                    **_btf_at(use))
            return []
        bad = [s for s in use.sites if not graph.nodes[s]["entry"]] \
            if rule.sits_on == ON_PROGRAM else []
        for s in bad:
            _report(diags, rule, True, f"{use.tag} sits on a subprogram, not an entry program; "
                    f"{rule.kind} tags belong on {where}", **_at(graph, s),
                    hint="move the tag to the program that should use it")
        if bad:
            return []
        carriers: list[Node] = list(use.sites)
    elif use.node is not None and use.node.kind == rule.sits_on:
        carriers = [use.node]
    else:
        on = (f"{use.on_kind} {use.on_name}" if use.component == -1
              else f"component {use.component} of {use.on_kind} {use.on_name}")
        _report(diags, rule, True, f"{use.tag} sits on {on}; {rule.kind} tags belong on {where}",
                **_btf_at(use))
        return []
    if not use.value:
        for c in carriers:
            if rule.sits_on == ON_PROGRAM:
                _report(diags, rule, False, f"{use.tag} has an empty value; it must name a "
                        f"{rule.names}" + _when_loaded(graph, c, rule.refusal("empty")),
                        **_at(graph, c))
            else:
                _report(diags, rule, False, f"{use.tag} has an empty value; it must name a "
                        f"{rule.names}", **_where_is(graph, use, c))
        return []
    return carriers


def _where_is(graph: GraphLike, use: TagUse, carrier: Node) -> dict[str, Any]:
    return _at(graph, carrier) if is_function(graph, carrier) else _carrier_at(graph, use)


def _check_target(graph: GraphLike, use: TagUse, site: Node, diags: Diagnostics) -> None:
    """The tag's value names exactly one function, and that function is what the rule needs.

    Several candidates is a link-level error: which one the loader takes
    depends on the input order.  Everything else stops only the program the
    tag sits on (on a ``program`` row).
    """
    rule, value, at = use.rule, use.value, _where_is(graph, use, site)
    program_row = rule.sits_on == ON_PROGRAM

    def refused(check: str) -> str:
        if not program_row:
            return ""
        return _when_loaded(graph, site, rule.refusal(check).format(value=value))

    cands = sorted(use.candidates, key=lambda n: name_key(graph, n))
    if not cands:
        _report(diags, rule, False, f"{use.tag}: function '{value}' not found in any input"
                + refused("missing"), **at, hint=f"define a global function '{value}' in one "
                "of the inputs, or fix the name in the tag")
        return
    if len(cands) > 1:
        _report(diags, rule, True, f"{use.tag} is ambiguous: {len(cands)} functions are named "
                f"'{value}'", notes=[describe(graph, c) for c in cands], **at,
                hint=f"{rule.why} and take the first match, so the input order would decide "
                f"which one is used; give the {rule.what} a name no other function has, or "
                "rename the others (a static function's name is free to change)")
        return
    target = cands[0]
    t = graph.nodes[target]
    if rule.subprogram_target and t["entry"]:
        _report(diags, rule, False, f"{use.tag} names an entry program (section "
                f"{t['section']}); the {rule.what} must be a subprogram in .text"
                + refused("entry"), notes=[describe(graph, target)], **at,
                hint=f"{rule.why} among subprograms only: define {value} without SEC(...)")
    if rule.global_target and (t["bind"] == "static" or t["visibility"] == "hidden"):
        what = "static" if t["bind"] == "static" else "hidden"
        fix = (f"remove 'static' from {value}" if what == "static" else
               f"remove __hidden (visibility(\"hidden\")) from {value}; libbpf turns hidden "
               "functions static for the kernel")
        _report(diags, rule, False, f"{use.tag} names a {what} function; the {rule.what} must "
                "be a global, non-hidden function" + refused(what),
                notes=[describe(graph, target)], **at,
                hint=f"{rule.why} and accept only a global function: {fix}")
    if rule.exclusive_target:
        callers = [u for u in graph.predecessors(target)
                   if CALL in graph.edges[u, target]["kinds"]]
        if callers:
            callers.sort(key=lambda n: name_key(graph, n))
            refuses = (f"the verifier refuses direct calls to an {rule.what}" if program_row
                       else f"the {rule.prefix} rule is exclusive: its {rule.what} is never "
                       "called directly")
            _report(diags, rule, False, f"{use.tag} names {value}, which is also called "
                    f"directly; {refuses}" + refused("called"),
                    notes=[f"called by {describe(graph, c)}" for c in callers], **at,
                    hint=f"move the shared code into a function that {value} and its callers "
                    "both call")


def check_dangling(graph: GraphLike, diags: Diagnostics) -> None:
    for d in graph.graph["dangling"]:
        what = "call" if d.kind == CALL else "function address"
        diags.warning(f"{what} at {d.section}+0x{d.insn_offset:x} points to "
                      f"{d.section}+0x{d.target_offset:x} of the output, where no function "
                      "starts; libbpf will not find a subprogram there", **_at(graph, d.source))


# -- recursion, depth and stack ------------------------------------------------------------

def check_recursion(graph: GraphLike, diags: Diagnostics) -> set[Node]:
    """Warn, once per program, about each call cycle it loads; return every function on one."""
    adj = adjacency(graph)
    succ = adj.calls
    loaders = loaded_by(graph)
    cyclic: set[Node] = set()
    # Only a function with both a caller and a callee can be on a cycle, and a cycle
    # only runs through such functions: Tarjan's walk needs them alone (most functions
    # are leaves or programs).  The components with a cycle are the same sets; their
    # order does not matter (sorted below by a key unique per function).
    callees = {w for vs in succ.values() for w in vs}
    inner = {n for n, vs in succ.items() if vs and n in callees}
    sccs = [c for c in components_of({n: [w for w in vs if w in inner]
                                      for n, vs in succ.items() if n in inner})
            if len(c) > 1 or c[0] in succ[c[0]]]
    calls = DiGraph()
    if sccs:                            # the call graph, for the cycles' shortest paths
        for n in graph.nodes:
            calls.add_node(n)
        for u, vs in succ.items():
            for v in vs:
                calls.add_edge(u, v)
    for scc in sorted(sccs, key=lambda c: min(name_key(graph, n) for n in c)):
        cyclic.update(scc)
        progs = {p for n in scc for p in loaders.get(n, ())}
        if not progs:
            continue                    # never loaded, so never verified
        cycle = _canonical_cycle(graph, calls.subgraph(scc))
        for prog in sorted(progs, key=lambda n: name_key(graph, n)):
            diags.warning(f"recursion: {_chain(graph, cycle)}; the verifier rejects recursive "
                          "calls" + _when_loaded(graph, prog, REFUSED_TOO_DEEP),
                          notes=[describe(graph, n) for n in cycle[:-1]], **_at(graph, prog),
                          hint="turn the recursion into a loop (a bounded loop or bpf_loop)")
    return cyclic


def _canonical_cycle(graph: GraphLike, scc: DiGraph) -> list[Node]:
    """The shortest cycle through the SCC's first function by name: the same in any order.

    Of equally short cycles, the first by name at each step: the search visits
    callees by name, never in the order the inputs happened to define them.
    """
    key = lambda n: name_key(graph, n)  # noqa: E731
    start = min(scc.nodes, key=key)
    if scc.has_edge(start, start):
        return [start, start]
    best: list[Node] | None = None
    for succ in sorted(scc.successors(start), key=key):
        path = [start, *shortest_path(scc, succ, start, key=key)]
        if best is None or len(path) < len(best):
            best = path
    assert best is not None
    return best


def frame_size(stack: int) -> int:
    """A frame's share of the combined stack, as the verifier rounds it (JIT)."""
    return -(-stack // STACK_FRAME_ROUND) * STACK_FRAME_ROUND


def _roots(graph: GraphLike, adj: Adjacency) -> list[Node]:
    """Where the verifier starts counting frames: programs, and functions reached other
    than by a call (exception callbacks, callbacks), each a chain of its own."""
    roots = set(adj.entries).union(adj.not_only_called)
    reached = reached_by(graph)
    return ordered(graph, (r for r in roots if r in reached))


def _callees_by_name(graph: GraphLike, adj: Adjacency) -> dict[Node, Sequence[Node]]:
    """Each function's callees sorted by name (lists of one shared with ``adj``, unchanged)."""
    key = lambda n: name_key(graph, n)  # noqa: E731
    out = dict(adj.calls)
    for n in adj.several:               # only a node with several out-edges has 2+ callees
        if len(out[n]) > 1:
            out[n] = sorted(out[n], key=key)
    return out


class _Chains:
    """Deepest and heaviest call chain from each function, memoized over the whole call DAG.

    The best chains from a function do not depend on which root reached it,
    so one pass serves every root: linear in the graph, not per root.  Both
    measures (frames, and stack by ``weight``) come from the same walk, each
    with its own choice of callee.  Ties go to the callee first by name, so
    the chain named never depends on input order.  Functions on a cycle
    (already an error) are never entered.

    Each function keeps only its total and the next function on its chain
    (not the chain itself, which would copy every tail): a chain is spelled
    out only for the roots :meth:`longest` is asked about.
    """

    def __init__(self, succ: dict[Node, Sequence[Node]], weight: Callable[[Node], int],
                 cyclic: set[Node]):
        self.weight, self.cyclic = weight, cyclic
        self.succ = succ                # callees by name (:func:`_callees_by_name`)
        # function -> (total, next function on the chain or None), per measure
        self.frames: dict[Node, tuple[int, Node | None]] = {}
        self.stack: dict[Node, tuple[int, Node | None]] = {}
        self.touches_cycle: dict[Node, bool] = {}

    def _visit(self, root: Node) -> None:
        succ, cyclic, frames, stack = self.succ, self.cyclic, self.frames, self.stack
        touches_cycle = self.touches_cycle
        todo = [(root, False)]
        while todo:
            n, done = todo.pop()
            if n in frames:
                continue
            if not done:
                todo.append((n, True))
                todo.extend((m, False) for m in succ[n] if m not in frames and m not in cyclic)
                continue
            f_total, f_next, s_total, s_next = 0, None, 0, None
            bad = n in cyclic
            for m in succ[n]:
                if m in cyclic:
                    bad = True
                    continue
                bad = bad or touches_cycle[m]
                if frames[m][0] > f_total:
                    f_total, f_next = frames[m][0], m
                if stack[m][0] > s_total:
                    s_total, s_next = stack[m][0], m
            frames[n] = (1 + f_total, f_next)
            stack[n] = (self.weight(n) + s_total, s_next)
            touches_cycle[n] = bad

    @staticmethod
    def _spell(best: dict[Node, tuple[int, Node | None]], root: Node
               ) -> tuple[int, list[Node]]:
        chain = [root]
        nxt = best[root][1]
        while nxt is not None:
            chain.append(nxt)
            nxt = best[nxt][1]
        return best[root][0], chain

    def longest(self, root: Node
                ) -> tuple[tuple[int, list[Node]], tuple[int, list[Node]]] | None:
        """The deepest chain from ``root`` (in frames) and the heaviest (in stack), or
        None if it runs into a cycle."""
        if root in self.cyclic:
            return None
        self._visit(root)
        if self.touches_cycle[root]:
            return None
        return self._spell(self.frames, root), self._spell(self.stack, root)


def check_depth_and_stack(graph: GraphLike, diags: Diagnostics,
                          skip: Set[Node] = frozenset()) -> None:
    """Warn about each too deep or too heavy chain, once per program that loads its root."""
    adj = adjacency(graph)
    callees = _callees_by_name(graph, adj)
    chains = _Chains(callees, lambda n: frame_size(graph.nodes[n]["stack"]), set(skip))
    loaders = loaded_by(graph)
    for root in _roots(graph, adj):
        progs = sorted(loaders.get(root, ()), key=lambda n: name_key(graph, n))
        longest = chains.longest(root)
        if longest is None:
            continue                    # recursion is already reported
        (frames, deepest), (total, heaviest) = longest
        if frames > MAX_CALL_FRAMES:
            for prog in progs:
                diags.warning(f"call chain too deep: {frames} frames, the verifier allows "
                              f"{MAX_CALL_FRAMES}: {_chain(graph, deepest)}"
                              + _when_loaded(graph, prog, REFUSED_TOO_DEEP),
                              notes=_chain_notes(graph, deepest), **_at(graph, prog),
                              hint="mark some of these functions __always_inline, or merge them")
        if total > MAX_BPF_STACK:
            sizes = " -> ".join(f"{graph.nodes[n]['name']} ({frame_size(graph.nodes[n]['stack'])})"
                                for n in heaviest[:SHOWN_FRAMES])
            if len(heaviest) > SHOWN_FRAMES:
                sizes += f" -> ... ({len(heaviest) - SHOWN_FRAMES} more)"
            for prog in progs:
                diags.warning(f"call chain may need {total} bytes of stack, more than the "
                              f"verifier's {MAX_BPF_STACK} (an estimate): {sizes}"
                              + _when_loaded(graph, prog, "the verifier may refuse it: "
                                             f"\"combined stack size of {len(heaviest)} calls is "
                                             f"{total}. Too large\""), **_at(graph, prog),
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
