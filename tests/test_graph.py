"""Call graph rules on tiny hand-built inputs: nodes, edge kinds, tags, checks, rules table.

Each table row is one behaviour.  Inputs are :class:`tests.graphkit.Tiny`
objects (symbolic instructions laid out into a LinkedObject), so every
encoding the builder must understand is covered in both byte orders,
including ones clang does not emit.  One test compiles C to prove a new
decl-tag rule is a one-row change end to end.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import networkx as nx
import pytest

import bpflink
from bpflink.errors import Diagnostics, Severity
from bpflink.graph import (
    TAG_RULES,
    FuncId,
    TagRule,
    build_callgraph,
    check_callgraph,
    edge_kinds,
    functions_named,
    reachable,
    register_tag_rule,
    render,
    unreachable,
    unregister_tag_rule,
)
from bpflink.btf import types as btf_types
from bpflink.graph.insn import CodeScanner, decode, scan, stack_estimate
from tests.graphkit import (
    EXIT,
    Tiny,
    call,
    call_pc,
    call_section,
    call_to,
    helper,
    kfunc,
    ld_func,
    ld_map,
    ld_pseudo_func,
    raw,
    stx_fp,
)
from tests.conftest import skip_or_fail


@pytest.fixture(params=["python", "compiled"])
def twin(request, monkeypatch):
    """The instruction scan's two twins: CodeScanner's Python loop, and
    ``scan_code`` of the compiled module (bpflink/_accel.c), which each
    test below holds to the same reference definition."""
    if request.param == "python":
        monkeypatch.setattr(btf_types, "_accel", None)
    elif btf_types._accel is None:
        skip_or_fail("the compiled module is not built (or BPFLINK_NO_ACCEL is set)",
                     "BPFLINK_REQUIRE_ACCEL")
    return request.param

ROOT = Path(__file__).resolve().parent.parent


def label(graph: nx.DiGraph, n: FuncId) -> str:
    d = graph.nodes[n]
    same = [m for m in graph.nodes if graph.nodes[m]["name"] == d["name"]]
    return d["name"] if len(same) == 1 else f"{d['file']}:{d['name']}"


def edges(graph: nx.DiGraph) -> set[tuple[str, str, str]]:
    return {(label(graph, u), label(graph, v), k)
            for u, v, d in graph.edges(data=True) for k in d["kinds"]}


def diagnostics(t: Tiny) -> list[str]:
    graph = build_callgraph(t.linked())
    return [d.render() for d in check_callgraph(graph, None, Diagnostics()).items]


def warnings(t: Tiny) -> list[str]:
    graph = build_callgraph(t.linked())
    return [d.render() for d in check_callgraph(graph, None, Diagnostics()).items
            if d.severity is Severity.WARNING]


def errors(t: Tiny) -> list[str]:
    graph = build_callgraph(t.linked())
    return [d.render() for d in check_callgraph(graph, None, Diagnostics()).items
            if d.severity is Severity.ERROR]


# -- edges, one row per encoding --------------------------------------------------------------

EDGE_CASES = [
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [call("f"), EXIT])
                   .func("b.o", ".text", "f", [EXIT]),
        {("prog", "f", "call")}, id="relocated-call-to-global-in-other-input"),
    pytest.param(
        lambda t: t.func("a.o", ".text", "helper", [EXIT], bind="static")
                   .func("b.o", ".text", "helper", [raw(0xB7), EXIT], bind="static")
                   .func("b.o", "tc", "prog", [call_section("b.o:helper"), EXIT]),
        {("prog", "b.o:helper", "call")}, id="section-symbol-call-picks-its-own-static"),
    pytest.param(
        lambda t: t.func("a.o", ".text", "f", [call_pc("g"), EXIT])
                   .func("a.o", ".text", "g", [EXIT], bind="static")
                   .func("a.o", "tc", "prog", [call("f"), EXIT]),
        {("prog", "f", "call"), ("f", "g", "call")}, id="pc-relative-call-without-relocation"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [helper(181), kfunc(), EXIT]),
        set(), id="helper-and-kfunc-calls-are-not-edges"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [ld_func("cb"), helper(181), EXIT])
                   .func("b.o", ".text", "cb", [EXIT], hidden=True),
        {("prog", "cb", "func_ref")}, id="relocated-ld_imm64-of-a-function"),
    pytest.param(
        lambda t: t.func("a.o", ".text", "f", [ld_pseudo_func("cb"), helper(181), EXIT])
                   .func("a.o", ".text", "cb", [EXIT], bind="static")
                   .func("a.o", "tc", "prog", [call("f"), EXIT]),
        {("prog", "f", "call"), ("f", "cb", "func_ref")}, id="ld_imm64-marked-pseudo-func"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [ld_map("the_map"), EXIT]),
        set(), id="ld_imm64-of-a-map-is-not-an-edge"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [call("cb"), ld_func("cb"), EXIT])
                   .func("a.o", ".text", "cb", [EXIT]),
        {("prog", "cb", "call"), ("prog", "cb", "func_ref")}, id="call-and-func_ref-one-edge"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [EXIT])
                   .func("b.o", ".text", "cb", [EXIT])
                   .tag("prog", "exception_callback:cb"),
        {("prog", "cb", "exception_callback")}, id="exception-callback-tag"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [EXIT]).func("a.o", ".text", "cb", [EXIT])
                   .tag("prog", "not_a_rule:cb"),
        set(), id="unknown-tags-are-not-edges"),
]


@pytest.mark.parametrize("big_endian", [False, True], ids=["el", "eb"])
@pytest.mark.parametrize("build,expected", EDGE_CASES)
def test_edges(build, expected, big_endian):
    graph = build_callgraph(build(Tiny(big_endian)).linked())
    assert edges(graph) == expected


def test_call_and_func_ref_share_one_edge_whose_kind_is_the_first():
    t = Tiny().func("a.o", "tc", "prog", [ld_func("cb"), call("cb"), EXIT])
    t.func("a.o", ".text", "cb", [EXIT])
    graph = build_callgraph(t.linked())
    ((_, _, data),) = graph.edges(data=True)
    assert data["kinds"] == ("call", "func_ref") and data["kind"] == "call"


# -- nodes ------------------------------------------------------------------------------------

def test_nodes_are_identified_by_input_section_and_offset():
    t = Tiny()
    t.func("a.o", ".text", "cb", [EXIT], bind="static")
    t.func("b.o", ".text", "cb", [raw(0xB7), EXIT], bind="static")
    t.func("b.o", ".text", "g", [EXIT], hidden=True)
    t.func("b.o", "xdp", "prog", [stx_fp(-12), call_section("b.o:cb"), EXIT])
    graph = build_callgraph(t.linked())
    assert sorted(graph.nodes) == [FuncId("a.o", ".text", 0), FuncId("b.o", ".text", 0),
                                   FuncId("b.o", ".text", 16), FuncId("b.o", "xdp", 0)]
    assert functions_named(graph, "cb") == [FuncId("a.o", ".text", 0), FuncId("b.o", ".text", 0)]
    attrs = {k: v for k, v in graph.nodes[FuncId("b.o", ".text", 16)].items() if k != "order"}
    assert attrs == {"kind": "function", "name": "g", "file": "b.o", "section": ".text", "offset": 16, "size": 1,
                     "bind": "global", "visibility": "hidden", "entry": False, "stack": 0}
    prog = graph.nodes[FuncId("b.o", "xdp", 0)]
    assert (prog["entry"], prog["size"], prog["stack"], prog["bind"]) == (True, 3, 16, "global")
    assert graph.nodes[FuncId("a.o", ".text", 0)]["bind"] == "static"


def test_two_inputs_with_one_name_get_distinct_ids():
    t = Tiny().func("a.o", ".text", "f", [EXIT], bind="static")
    t.func("other.o", ".text", "f", [EXIT], bind="static")
    linked = t.linked()
    linked.inputs[1].name = "a.o"           # e.g. the same path given twice
    assert sorted(build_callgraph(linked).nodes) == [FuncId("a.o", ".text", 0),
                                                     FuncId("a.o#2", ".text", 0)]


@pytest.mark.parametrize("ops,stack", [
    ([EXIT], 0),
    ([stx_fp(-8), EXIT], 8),
    ([stx_fp(-12), EXIT], 16),                          # rounded up to 8
    ([raw(0x61, dst=1, src=10, off=-20), EXIT], 24),    # ldx
    ([raw(0x62, dst=10, off=-4, imm=1), EXIT], 8),      # st
    ([raw(0xBF, dst=3, src=10), raw(0x07, dst=3, imm=-40), EXIT], 40),  # r3 = r10 - 40
    ([raw(0xBF, dst=3, src=10), raw(0x07, dst=3, imm=-8), raw(0x7B, dst=3, src=1, off=-16),
      EXIT], 24),                                       # store through r3
    ([raw(0xBF, dst=3, src=10), raw(0xB7, dst=3), raw(0x7B, dst=3, src=1, off=-16), EXIT], 0),
    ([raw(0xDB, dst=10, src=1, off=-32, imm=0), EXIT], 32),     # atomic add
    ([raw(0x7B, dst=1, src=10, off=-64), EXIT], 0),     # stores r10 *into* memory: no stack
    # a call clobbers r0-r5 (r5 no longer points into the stack) and keeps r6-r9
    ([raw(0xBF, dst=5, src=10), raw(0x07, dst=5, imm=-8), helper(1),
      raw(0x7B, dst=5, src=1, off=-64), EXIT], 8),
    ([raw(0xBF, dst=6, src=10), raw(0x07, dst=6, imm=-8), helper(1),
      raw(0x7B, dst=6, src=1, off=-64), EXIT], 72),
])
@pytest.mark.parametrize("big_endian", [False, True], ids=["el", "eb"])
def test_stack_estimate(ops, stack, big_endian, twin):
    t = Tiny(big_endian).func("a.o", "tc", "prog", ops)
    sec = t.linked().sections[0]
    assert stack_estimate(list(decode(sec.data, 0, len(sec.data), big_endian))) == stack
    assert scan(sec.data, 0, len(sec.data), big_endian)[0] == stack


def _scan_reference(data: bytes, big_endian: bool, relocated: frozenset[int] = frozenset()
                    ) -> tuple[int, list[tuple[int, ...]]]:
    """What scan() must return: stack_estimate() of decode(), and of decode()'s calls and
    ld_imm64s those that may make an edge: pc-relative calls (src_reg 1), ld_imm64s marked
    as a function's address (src_reg 4), and any at a relocated offset."""
    insns = list(decode(data, 0, len(data), big_endian))
    return stack_estimate(insns), [
        i for i in insns if (i[1], i[3]) in ((0x85, 1), (0x18, 4))
        or (i[1] in (0x85, 0x18) and i[0] in relocated)]


@pytest.mark.parametrize("big_endian", [False, True], ids=["el", "eb"])
def test_scan_matches_decode_and_stack_estimate(big_endian, twin):
    """The call graph's one pass over the code equals the two-step reference, on
    every code section of the corpus and on random instructions biased towards
    what it tracks (r10, copies and sums of it, calls, atomics, ld_imm64)."""
    import glob
    import random

    from bpflink.elf.reader import read_object

    cases = []
    if not big_endian:
        for path in sorted(glob.glob(str(Path(__file__).parent.parent / "corpus" / "*" / "*.o"))):
            try:
                obj = read_object(Path(path).read_bytes(), path)
            except bpflink.InputError:
                continue                    # the corpus's deliberately broken inputs
            cases += [bytes(s.data) for s in obj.sections if s.is_exec]
    rng = random.Random(10)
    codes = [0x85, 0x18, 0xBF, 0x07, 0x61, 0x79, 0x62, 0x7A, 0x63, 0x7B, 0xC3, 0xDB, 0xD3,
             0xB7, 0x04, 0x95, 0x00, 0x81, 0xC4, 0xCC, 0x87]
    def insn(code, dst, src, off, imm):
        regs = (dst << 4 | src) if big_endian else (src << 4 | dst)
        return struct.pack(">BBhi" if big_endian else "<BBhi", code, regs, off, imm)

    for n in range(3000):
        out = bytearray()
        for _ in range(rng.randrange(1, 40)):
            if n % 3 == 0 and rng.random() < 0.15:      # rX = r10, often then rX += K
                x = rng.choice([1, 2, 3, 6, 10]) if rng.random() < 0.9 else rng.randrange(16)
                out += insn(0xBF, x, 10, 0, 0)
                if rng.random() < 0.8:
                    out += insn(rng.choice([0x07, 0x07, 0x07, 0x04, 0x0F]),
                                x if rng.random() < 0.8 else rng.randrange(16), 0, 0,
                                rng.choice([-40, -8, 0, 8, -600]))
                continue
            code = rng.choice(codes) if rng.random() < 0.9 else rng.randrange(256)
            dst = rng.choice([10, 10, 1, 2, 3, 0]) if rng.random() < 0.7 else rng.randrange(16)
            src = rng.choice([10, 10, 1, 2, 3, 0, 4]) if rng.random() < 0.7 else rng.randrange(16)
            out += insn(code, dst, src, rng.randrange(-64, 8), rng.choice([-40, -8, 0, 1, 3, 8]))
        cases.append(bytes(out))
    assert len(cases) > 3000 or big_endian          # the corpus was found
    for n, data in enumerate(cases):
        assert scan(data, 0, len(data), big_endian) == _scan_reference(data, big_endian)
        # relocations (that may point into code) anywhere: on instructions, on
        # second halves, between instructions, past the end
        relocated = sorted({rng.randrange(len(data) + 16) // (1 + n % 2 * 7) * (1 + n % 2 * 7)
                            for _ in range(rng.randrange(6))})
        assert scan(data, 0, len(data), big_endian, relocated) == \
            _scan_reference(data, big_endian, frozenset(relocated))
    # One CodeScanner serves every function of a section from columns made
    # once per byte phase: the same results on functions cut anywhere, at any
    # alignment (a piece placed at an odd offset), in any order.
    for n, data in enumerate(cases[-3000:]):
        pad = bytes(rng.randrange(256) for _ in range(n % 8 + (n % 3) * 8))
        tail = -(len(pad) + len(data)) % 8 + n % 2 * 8  # code never ends in a part-insn
        section = pad + data + bytes(rng.randrange(256) for _ in range(tail))
        relocated = sorted({rng.randrange(len(section)) for _ in range(n % 4)}
                           | {len(pad) + 8 * rng.randrange(len(data) // 8 + 1)
                              for _ in range(n % 3)})
        scanner = CodeScanner(section, big_endian, relocated)
        cuts = sorted({0, len(data) // 8, *(rng.randrange(len(data) // 8 + 1) for _ in range(3))})
        ranges = list(zip(cuts, cuts[1:]))
        rng.shuffle(ranges)
        for a, b in ranges:
            part = data[a * 8:b * 8]
            got = scanner.scan(len(pad) + a * 8, len(pad) + b * 8)
            want = _scan_reference(part, big_endian,
                                   frozenset(r - len(pad) - a * 8 for r in relocated))
            assert got == (want[0], [(t[0] + len(pad) + a * 8, *t[1:]) for t in want[1]])


def test_byte_tables_match_their_definitions():
    """insn's translate tables, made from the few bytes they mark, equal a test per byte."""
    import itertools

    import bpflink.graph.insn as m

    every = range(256)
    assert m._ATOMIC_LIKE == bytes(c & 0xE0 == 0xC0 for c in every)
    assert m._IS_CALL == bytes(c == 0x85 for c in every)
    assert m._IS_LD_IMM64 == bytes(c == 0x18 for c in every)
    assert m._IS_MOV64_X == bytes(c == 0xBF for c in every)
    assert m._CODE_BITS == bytes(sum(bit << b for b, bit in enumerate(column)) for column in zip(
        m._ATOMIC_LIKE, m._IS_MOV64_X, m._IS_CALL, m._IS_STORE, m._IS_LOAD, m._IS_LD_IMM64,
        m._NONZERO))
    assert m._NONZERO == bytes(c != 0 for c in every)
    assert m._STORES == frozenset(c for c in every if c & 7 in (2, 3) and c & 0xE0 == 0x60)
    assert m._LOADS == frozenset(c for c in every if c & 7 == 1 and c & 0xE0 in (0x60, 0x80))
    assert m._IS_STORE == bytes(c in m._STORES for c in every)
    assert m._IS_LOAD == bytes(c in m._LOADS for c in every)
    assert m._LOW == bytes(b & 0xF for b in every) and m._HIGH == bytes(b >> 4 for b in every)
    for be in (False, True):
        dst, src = m._DST[be], m._SRC[be]
        assert m._DST_FP[be] == bytes(d == 10 for d in dst)
        assert m._SRC_FP[be] == bytes(s == 10 for s in src)
        assert m._COPIES_FP[be] == bytes(s == 10 != d for d, s in zip(dst, src))
        assert m._SRC_PSEUDO_CALL[be] == bytes(s == 1 for s in src)
        assert m._SRC_PSEUDO_FUNC[be] == bytes(s == 4 for s in src)
        assert m._REG_BITS[be] == bytes(
            sum(bit << b for b, bit in enumerate(column)) for column in zip(
                m._DST_FP[be], m._SRC_FP[be], m._COPIES_FP[be], m._SRC_PSEUDO_CALL[be],
                m._SRC_PSEUDO_FUNC[be]))
        for k in range(4):
            for regs in map(frozenset, itertools.combinations(range(11), k)):
                assert m._naming(regs, be) == bytes(d in regs or s in regs
                                                    for d, s in zip(dst, src))


def test_scan_takes_the_short_way_on_compiled_code(monkeypatch):
    """scan() leaves the reference definition to malformed code: every corpus
    function goes the short way (and so do the random streams that could).
    Of the Python twin: the compiled one has no other way."""
    import bpflink.graph.insn as insn_mod

    monkeypatch.setattr(btf_types, "_accel", None)

    calls = []
    reference = insn_mod._reference
    monkeypatch.setattr(insn_mod, "_reference", lambda *a: calls.append(a) or reference(*a))
    from bpflink.elf.reader import read_object

    sections = 0
    for path in sorted((Path(__file__).parent.parent / "corpus").glob("*/*.o")):
        try:
            obj = read_object(path.read_bytes(), str(path))
        except bpflink.InputError:
            continue                        # the corpus's deliberately broken inputs
        for sec in obj.sections:
            if sec.is_exec:
                scanner = CodeScanner(sec.data, obj.big_endian)
                starts = sorted({s.value for s in obj.symbols
                                 if s.shndx == sec.index and s.type == 2} | {0, len(sec.data)})
                for a, b in zip(starts, starts[1:]):
                    scanner.scan(a, b)
                sections += 1
    assert sections > 100 and calls == []
    # r10 written, or a stack access hiding in an ld_imm64's second half: the long way
    for ops in ([raw(0xBF, dst=3, src=10), raw(0x07, dst=3, imm=-8), raw(0xBF, dst=10, src=3),
                 stx_fp(-8), EXIT],
                [raw(0x18, dst=1), raw(0x7B, dst=10, src=1, off=-64), EXIT]):
        data = Tiny(False).func("a.o", "tc", "prog", ops).linked().sections[0].data
        assert scan(data, 0, len(data), False) == _scan_reference(bytes(data), False)
    assert len(calls) == 2


# -- reachability -----------------------------------------------------------------------------

def reach_fixture() -> nx.DiGraph:
    t = Tiny()
    t.func("a.o", "tc", "prog_a", [call("shared"), ld_func("loop_cb"), EXIT])
    t.func("a.o", "tc", "prog_b", [call("shared"), EXIT])
    t.func("a.o", ".text", "shared", [EXIT])
    t.func("a.o", ".text", "loop_cb", [call("deep"), EXIT], bind="static")
    t.func("a.o", ".text", "deep", [EXIT])
    t.func("b.o", ".text", "on_throw", [call("cleanup"), EXIT])
    t.func("b.o", ".text", "cleanup", [EXIT])
    t.func("b.o", ".text", "unused", [call("also_unused"), EXIT])
    t.func("b.o", ".text", "also_unused", [EXIT])
    t.tag("prog_a", "exception_callback:on_throw")
    return build_callgraph(t.linked())


def names(graph, nodes) -> list[str]:
    return [graph.nodes[n]["name"] for n in nodes]


def test_reachable_follows_calls_func_refs_and_the_programs_own_tags():
    graph = reach_fixture()
    [a] = functions_named(graph, "prog_a")
    [b] = functions_named(graph, "prog_b")
    assert names(graph, reachable(graph, a)) == ["shared", "loop_cb", "deep", "on_throw",
                                                 "cleanup"]
    assert names(graph, reachable(graph, b)) == ["shared"]


def test_unreachable_lists_subprograms_no_program_loads():
    graph = reach_fixture()
    assert names(graph, unreachable(graph)) == ["unused", "also_unused"]
    assert "unreachable subprograms (never loaded): 2" in render(graph, "text", verbose=True)
    assert "unused" not in render(graph, "text")


# -- checks: one row per diagnostic -----------------------------------------------------------

def two_cbs(t: Tiny, first: str = "g1.o") -> Tiny:
    """g1.o: prog tagged with cb and a global cb; g2.o: a static cb of its own, called."""
    def g1():
        t.func("g1.o", ".text", "cb", [EXIT])
        t.func("g1.o", "tc", "g1_prog", [EXIT])

    def g2():
        t.func("g2.o", ".text", "cb", [raw(0xB7), EXIT], bind="static")
        t.func("g2.o", "tc", "g2_prog", [call_section("g2.o:cb"), EXIT])

    (g1(), g2()) if first == "g1.o" else (g2(), g1())
    return t.tag("g1_prog", "exception_callback:cb")


CHECK_CASES = [
    pytest.param(lambda t: two_cbs(t, "g1.o"), [
        "bpflink: error: g1.o: section tc: g1_prog: exception_callback:cb is ambiguous: 2 "
        "functions are named 'cb'\n"
        ">>> global cb in g1.o (section .text)\n"
        ">>> static cb in g2.o (section .text)\n"
        "bpflink: note: libbpf and the kernel look the callback up by name and take the first "
        "match, so the input order would decide which one is used; give the exception "
        "callback a name no other function has, or rename the others (a static function's "
        "name is free to change)"], id="ambiguous"),
    pytest.param(lambda t: two_cbs(t, "g2.o"), [
        "bpflink: error: g1.o: section tc: g1_prog: exception_callback:cb is ambiguous: 2 "
        "functions are named 'cb'\n"
        ">>> global cb in g1.o (section .text)\n"
        ">>> static cb in g2.o (section .text)\n"
        "bpflink: note: libbpf and the kernel look the callback up by name and take the first "
        "match, so the input order would decide which one is used; give the exception "
        "callback a name no other function has, or rename the others (a static function's "
        "name is free to change)"], id="ambiguous-other-order-same-message"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [EXIT]).tag("prog", "exception_callback:nope"), [
            "bpflink: warning: a.o: section tc: prog: exception_callback:nope: function 'nope' "
            "not found in any input; when prog is loaded, libbpf refuses to load it: \"cannot "
            "find exception callback 'nope'\"\n"
            "bpflink: note: define a global function 'nope' in one of the inputs, or fix the "
            "name in the tag"], id="not-found"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [EXIT])
                   .func("a.o", ".text", "cb", [EXIT], bind="static")
                   .tag("prog", "exception_callback:cb"), [
            "bpflink: warning: a.o: section tc: prog: exception_callback:cb names a static "
            "function; the exception callback must be a global, non-hidden function; when prog "
            "is loaded, libbpf refuses to load it: \"exception callback cb must be a global "
            "non-hidden function\"\n"
            ">>> static cb in a.o (section .text)\n"
            "bpflink: note: libbpf and the kernel look the callback up by name and accept only "
            "a global function: remove 'static' from cb"], id="static-target"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [EXIT])
                   .func("b.o", ".text", "cb", [EXIT], hidden=True)
                   .tag("prog", "exception_callback:cb"), [
            "bpflink: warning: a.o: section tc: prog: exception_callback:cb names a hidden "
            "function; the exception callback must be a global, non-hidden function; when prog "
            "is loaded, libbpf refuses to load it: \"exception callback cb must be a global "
            "non-hidden function\"\n"
            ">>> hidden global cb in b.o (section .text)\n"
            "bpflink: note: libbpf and the kernel look the callback up by name and accept only "
            "a global function: remove __hidden (visibility(\"hidden\")) from cb; libbpf turns "
            "hidden functions static for the kernel"], id="hidden-target"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [EXIT]).func("a.o", "xdp", "other", [EXIT])
                   .tag("prog", "exception_callback:other"), [
            "bpflink: warning: a.o: section tc: prog: exception_callback:other names an entry "
            "program (section xdp); the exception callback must be a subprogram in .text; when "
            "prog is loaded, libbpf refuses to load it: \"cannot find exception callback "
            "'other'\" (it searches subprograms only)\n"
            ">>> global other in a.o (section xdp)\n"
            "bpflink: note: libbpf and the kernel look the callback up by name among "
            "subprograms only: define other without SEC(...)"], id="program-target"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [call("work"), EXIT])
                   .func("b.o", ".text", "work", [call("cb"), EXIT])
                   .func("a.o", ".text", "cb", [EXIT])
                   .tag("prog", "exception_callback:cb"), [
            "bpflink: warning: a.o: section tc: prog: exception_callback:cb names cb, which is "
            "also called directly; the verifier refuses direct calls to an exception callback; "
            "when prog is loaded, the verifier refuses it: \"cannot call exception cb "
            "directly\"\n"
            ">>> called by global work in b.o (section .text)\n"
            "bpflink: note: move the shared code into a function that cb and its callers both "
            "call"], id="called-directly"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [ld_func("cb"), EXIT])
                   .func("a.o", ".text", "cb", [EXIT])
                   .tag("prog", "exception_callback:cb"),
        [], id="address-taken-is-not-a-direct-call"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [EXIT])
                   .func("a.o", ".text", "one", [EXIT]).func("a.o", ".text", "two", [EXIT])
                   .tag("prog", "exception_callback:two").tag("prog", "exception_callback:one"), [
            "bpflink: warning: a.o: section tc: prog: multiple exception_callback tags on one "
            "program; a program has at most one exception callback; when prog is loaded, the "
            "verifier refuses it: \"multiple exception callback tags for main subprog\"\n"
            ">>> exception_callback:one\n"
            ">>> exception_callback:two\n"
            "bpflink: note: keep one exception_callback tag on prog"], id="two-tags"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [EXIT]).func("a.o", ".text", "cb", [EXIT])
                   .tag("prog", "exception_callback:cb").tag("prog", "exception_callback:cb"),
        [], id="the-same-tag-twice-counts-once"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [call("sub"), EXIT])
                   .func("a.o", ".text", "sub", [EXIT]).func("a.o", ".text", "cb", [EXIT])
                   .tag("sub", "exception_callback:cb"), [
            "bpflink: error: a.o: section .text: sub: exception_callback:cb sits on a "
            "subprogram, not an entry program; exception_callback tags belong on the BTF "
            "FUNC of an entry program (a function in a SEC(\"...\") section)\n"
            "bpflink: note: move the tag to the program that should use it"],
        id="tag-on-a-subprogram"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [EXIT]).func("a.o", ".text", "cb", [EXIT])
                   .tag("prog", "exception_callback:cb", component=0), [
            "bpflink: error: section .BTF: prog: exception_callback:cb sits on component 0 of "
            "FUNC prog; exception_callback tags belong on the BTF FUNC of an entry program "
            "(a function in a SEC(\"...\") section)"], id="tag-on-a-parameter"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [EXIT]).func("a.o", ".text", "cb", [EXIT])
                   .tag_var("counter", "exception_callback:cb"), [
            "bpflink: error: section .BTF: counter: exception_callback:cb sits on VAR counter; "
            "exception_callback tags belong on the BTF FUNC of an entry program (a function "
            "in a SEC(\"...\") section)"], id="tag-on-a-variable"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [EXIT]).tag("prog", "exception_callback:"), [
            "bpflink: warning: a.o: section tc: prog: exception_callback: has an empty value; it "
            "must name a function; when prog is loaded, libbpf refuses to load it: "
            "\"exception_callback:<value> decl tag contains empty value\""], id="empty-value"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [call("fact"), EXIT])
                   .func("a.o", ".text", "fact", [call_pc("fact"), EXIT]), [
            "bpflink: warning: a.o: section tc: prog: recursion: fact -> fact; the verifier "
            "rejects recursive calls; when prog is loaded, the verifier refuses it: \"the call "
            "stack of 8 frames is too deep !\"\n"
            ">>> global fact in a.o (section .text)\n"
            "bpflink: note: turn the recursion into a loop (a bounded loop or bpf_loop)"],
        id="self-recursion"),
    pytest.param(
        lambda t: t.func("b.o", ".text", "pong", [call("ping"), EXIT])
                   .func("a.o", ".text", "ping", [call("pong"), EXIT])
                   .func("a.o", "tc", "prog", [call("pong"), EXIT]), [
            "bpflink: warning: a.o: section tc: prog: recursion: ping -> pong -> ping; the "
            "verifier rejects recursive calls; when prog is loaded, the verifier refuses it: "
            "\"the call stack of 8 frames is too deep !\"\n"
            ">>> global ping in a.o (section .text)\n"
            ">>> global pong in b.o (section .text)\n"
            "bpflink: note: turn the recursion into a loop (a bounded loop or bpf_loop)"],
        id="mutual-recursion-named-from-first-by-name"),
    pytest.param(
        lambda t: t.func("a.o", ".text", "ping", [call("ping"), EXIT])
                   .func("b.o", "tc", "p2", [call("ping"), EXIT])
                   .func("a.o", "tc", "p1", [call("ping"), EXIT]), [
            "bpflink: warning: a.o: section tc: p1: recursion: ping -> ping; the verifier "
            "rejects recursive calls; when p1 is loaded, the verifier refuses it: \"the call "
            "stack of 8 frames is too deep !\"\n"
            ">>> global ping in a.o (section .text)\n"
            "bpflink: note: turn the recursion into a loop (a bounded loop or bpf_loop)",
            "bpflink: warning: b.o: section tc: p2: recursion: ping -> ping; the verifier "
            "rejects recursive calls; when p2 is loaded, the verifier refuses it: \"the call "
            "stack of 8 frames is too deep !\"\n"
            ">>> global ping in a.o (section .text)\n"
            "bpflink: note: turn the recursion into a loop (a bounded loop or bpf_loop)"],
        id="one-warning-per-program-that-loads-the-cycle"),
    pytest.param(
        lambda t: t.func("a.o", ".text", "lonely", [call_pc("lonely"), EXIT])
                   .func("a.o", "tc", "prog", [EXIT]),
        [], id="recursion-no-program-reaches-is-never-loaded"),
    pytest.param(
        lambda t: t.func("a.o", ".text", "timer_cb", [ld_func("timer_cb"), helper(170), EXIT])
                   .func("a.o", "tc", "prog", [ld_func("timer_cb"), helper(170), EXIT]),
        [], id="a-callback-taking-its-own-address-is-not-recursion"),
    pytest.param(
        lambda t: t.func("a.o", "tc", "prog", [call_to(0x1000), EXIT]), [
            "bpflink: warning: a.o: section tc: prog: call at tc+0x0 points to tc+0x1000 of "
            "the output, where no function starts; libbpf will not find a subprogram there"],
        id="dangling-call"),
]


@pytest.mark.parametrize("build,expected", CHECK_CASES)
def test_checks(build, expected):
    assert diagnostics(build(Tiny())) == expected


def chain(t: Tiny, frames: int, root: str = "prog") -> Tiny:
    """``root`` -> f1 -> ... -> f{frames-1}: ``frames`` functions on the stack."""
    t.func("a.o", "tc", root, [call("f1") if frames > 1 else raw(0xB7), EXIT])
    for i in range(1, frames):
        t.func("a.o", ".text", f"f{i}", [call(f"f{i + 1}") if i + 1 < frames else raw(0xB7),
                                          EXIT])
    return t


def test_eight_frames_is_the_limit():
    assert diagnostics(chain(Tiny(), 8)) == []
    [err] = diagnostics(chain(Tiny(), 9))
    assert err.splitlines()[0] == ("bpflink: warning: a.o: section tc: prog: call chain too deep: "
                                   "9 frames, the verifier allows 8: prog -> f1 -> f2 -> f3 -> "
                                   "f4 -> f5 -> f6 -> f7 -> f8; when prog is loaded, the "
                                   "verifier refuses it: \"the call stack of 8 frames is too "
                                   "deep !\"")
    assert err.splitlines()[1:] == [
        ">>> global prog in a.o (section tc)",
        *[f">>> global f{i} in a.o (section .text)" for i in range(1, 9)],
        "bpflink: note: mark some of these functions __always_inline, or merge them"]


def test_exception_callback_and_callbacks_count_frames_from_themselves():
    # prog -> f1..f4 and its exception callback -> g1..g7: 5 and 8 frames, both fine
    t = chain(Tiny(), 5)
    t.func("b.o", ".text", "cb", [call("g1"), EXIT])
    for i in range(1, 8):
        t.func("b.o", ".text", f"g{i}", [call(f"g{i + 1}") if i < 7 else raw(0xB7), EXIT])
    t.tag("prog", "exception_callback:cb")
    assert diagnostics(t) == []
    # one more link under the callback: its own chain is 9 frames, and the
    # program whose callback it is will not load
    t.funcs[-1].ops[0] = call("g8")
    t.func("b.o", ".text", "g8", [EXIT])
    [err] = diagnostics(t)
    assert err.startswith("bpflink: warning: a.o: section tc: prog: call chain too deep: 9 "
                          "frames, the verifier allows 8: cb -> g1 -> ")


def stack_chain(t: Tiny, sizes: list[int]) -> Tiny:
    names_ = ["prog"] + [f"s{i}" for i in range(1, len(sizes))]
    for i, (name, size) in enumerate(zip(names_, sizes)):
        ops = [stx_fp(-size)] if size else []
        if i + 1 < len(sizes):
            ops.append(call(names_[i + 1]))
        t.func("a.o", "tc" if i == 0 else ".text", name, ops + [EXIT])
    return t


@pytest.mark.parametrize("sizes,warn", [
    ([264, 240], None),             # 272 + 240 = 512: loads (checked on a 6.18 kernel)
    ([200, 296], None),             # 208 + 304 = 512: loads
    ([264, 256], "call chain may need 528 bytes of stack, more than the verifier's 512 (an "
                 "estimate): prog (272) -> s1 (256)"),
    ([128, 128, 128, 136], "call chain may need 528 bytes of stack, more than the verifier's "
                           "512 (an estimate): prog (128) -> s1 (128) -> s2 (128) -> s3 (144)"),
])
def test_stack_warning(sizes, warn):
    diags = diagnostics(stack_chain(Tiny(), sizes))
    if warn is None:
        assert diags == []
    else:
        [d] = diags
        assert d.splitlines()[0] == (f"bpflink: warning: a.o: section tc: prog: {warn}; when "
                                     "prog is loaded, the verifier may refuse it: \"combined "
                                     f"stack size of {len(sizes)} calls is 528. Too large\"")
        assert "estimate" in d.splitlines()[1]


def test_stack_warning_takes_the_heaviest_branch():
    t = Tiny()
    t.func("a.o", "tc", "prog", [stx_fp(-256), call("light"), call("heavy"), EXIT])
    t.func("a.o", ".text", "light", [stx_fp(-8), EXIT])
    t.func("a.o", ".text", "heavy", [stx_fp(-264), EXIT])
    [d] = diagnostics(t)
    assert "prog (256) -> heavy (272)" in d


# -- tag sites when names collide and BTF was deduplicated ------------------------------------

def same_named_programs(t: Tiny) -> Tiny:
    # two entry programs named "prog" (possible with weak/static programs in other
    # loaders); only a.o's carries the tag
    t.func("a.o", "tc", "prog", [EXIT], bind="weak")
    t.func("b.o", "tc", "prog", [raw(0xB7), EXIT], bind="weak")
    t.func("a.o", ".text", "cb", [EXIT])
    return t.tag("a.o:prog", "exception_callback:cb")


def test_tag_site_is_located_by_func_info_when_program_names_collide():
    graph = build_callgraph(same_named_programs(Tiny()).linked())
    assert edges(graph) == {("a.o:prog", "cb", "exception_callback")}


def test_tag_on_a_deduplicated_func_sits_on_every_program_it_describes():
    t = same_named_programs(Tiny())
    t.merge_funcs = {"prog"}        # dedup merged the two FUNCs: the kernel sees the tag on both
    graph = build_callgraph(t.linked())
    assert edges(graph) == {("a.o:prog", "cb", "exception_callback"),
                            ("b.o:prog", "cb", "exception_callback")}


# -- the rules table --------------------------------------------------------------------------

def test_the_built_in_rows():
    from bpflink.graph.rules import BUILTIN_RULES

    assert TAG_RULES == list(BUILTIN_RULES)
    assert [(r.prefix, r.kind, r.sits_on, r.warn, r.defined_by != "") for r in TAG_RULES] == [
        ("exception_callback:", "exception_callback", "program", False, True),
        ("ctor:", "ctor", "type", True, False),
        ("dtor:", "dtor", "type", True, False)]
    assert edge_kinds() == ["call", "func_ref", "uses", "exception_callback", "ctor", "dtor"]


@pytest.mark.parametrize("bad", ["ctor", ":", ""])
def test_rule_prefix_must_end_with_a_colon(bad):
    with pytest.raises(ValueError):
        TagRule(bad)


def test_call_and_func_ref_are_reserved_kinds():
    with pytest.raises(ValueError):
        register_tag_rule(TagRule("call:"))


CTOR = TagRule("ctor:", what="constructor",
               why="the loader looks the constructor up by name")


@pytest.fixture
def ctor_rule():
    before = list(TAG_RULES)
    register_tag_rule(CTOR)
    try:
        yield CTOR
    finally:
        TAG_RULES[:] = before


def test_a_registered_rule_adds_its_edge_kind(ctor_rule):
    t = Tiny().func("a.o", "tc", "prog", [EXIT]).func("b.o", ".text", "init", [EXIT])
    t.tag("prog", "ctor:init")
    graph = build_callgraph(t.linked())
    assert edges(graph) == {("prog", "init", "ctor")}
    assert "ctor -> init [b.o .text+0x0]" in render(graph, "text")
    assert names(graph, reachable(graph, functions_named(graph, "prog")[0])) == ["init"]


def test_a_registered_rule_gets_the_same_checks(ctor_rule):
    t = Tiny().func("a.o", "tc", "prog", [EXIT]).func("a.o", ".text", "init", [EXIT])
    t.func("b.o", ".text", "init", [EXIT], bind="static")
    t.tag("prog", "ctor:init").tag("prog", "ctor:missing")
    assert [d.splitlines()[0] for d in diagnostics(t)] == [
        "bpflink: error: a.o: section tc: prog: ctor:init is ambiguous: 2 functions are named "
        "'init'",
        "bpflink: warning: a.o: section tc: prog: ctor:missing: function 'missing' not found in "
        "any input; when prog is loaded, the loader that reads ctor: tags would not find the "
        "constructor it needs",
        "bpflink: warning: a.o: section tc: prog: multiple ctor tags on one program; a program "
        "has at most one constructor; when prog is loaded, the loader that reads ctor: tags "
        "would not find the constructor it needs"]


def test_rule_fields_drive_the_checks():
    lax = TagRule("dtor:", global_target=False, at_most_one=False, exclusive_target=False)
    t = Tiny().func("a.o", "tc", "prog", [call("fini"), EXIT])
    t.func("a.o", ".text", "fini", [EXIT], bind="static").func("a.o", ".text", "fini2", [EXIT])
    t.tag("prog", "dtor:fini").tag("prog", "dtor:fini2")
    graph = build_callgraph(t.linked(), rules=[lax])
    assert edges(graph) == {("prog", "fini", "call"), ("prog", "fini", "dtor"),
                            ("prog", "fini2", "dtor")}
    assert check_callgraph(graph, None, Diagnostics()).items == []


CTOR_SOURCE = """\
// bpflink-cflags: -I{include}
#include "bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

__noinline int init_fn(__u64 x)
{{
	return x + 1;
}}

__attribute__((btf_decl_tag("ctor:init_fn")))
SEC("tc")
int with_ctor(struct __sk_buff *skb)
{{
	return 0;
}}
"""


def test_a_new_rule_is_one_row_end_to_end(ctor_rule, tmp_path):
    """Compile a real ``ctor:`` tag; registering the row is all it takes to see the edge."""
    pytest.importorskip("ziglang")
    sys.path.insert(0, str(ROOT / "corpus"))
    try:
        import build as corpus_build
    finally:
        sys.path.pop(0)
    import subprocess

    src = tmp_path / "ctor.c"
    src.write_text(CTOR_SOURCE.format(include=ROOT / "corpus" / "include"))
    subprocess.run(corpus_build.compile_command(src, "ctor.o"), cwd=tmp_path, check=True)
    graph = bpflink.link([tmp_path / "ctor.o"]).callgraph
    [prog] = functions_named(graph, "with_ctor")
    [init] = functions_named(graph, "init_fn")
    assert graph.edges[prog, init]["kinds"] == ("ctor",)
    unregister_tag_rule("ctor:")
    graph = bpflink.link([tmp_path / "ctor.o"]).callgraph
    assert not graph.has_edge(prog, init)
    register_tag_rule(CTOR)


def test_graph_checks_can_be_turned_off():
    with pytest.raises(bpflink.LinkError):
        bpflink.link(sorted((ROOT / "corpus" / "exc_ambiguous_2").glob("*.o")))
    result = bpflink.link(sorted((ROOT / "corpus" / "exc_ambiguous_2").glob("*.o")),
                          graph_checks=False)
    assert isinstance(result.callgraph, nx.DiGraph) and result.warnings == []
    inputs = sorted((ROOT / "corpus" / "recursion").glob("*.o"))
    assert len(bpflink.link(inputs).warnings) == 1
    assert bpflink.link(inputs, graph_checks=False).warnings == []


def test_fatal_warnings_fail_the_library_link_and_write_nothing(tmp_path):
    inputs = sorted((ROOT / "corpus" / "recursion").glob("*.o"))
    out = tmp_path / "out.o"
    with pytest.raises(bpflink.LinkError) as e:
        bpflink.link(inputs, out, fatal_warnings=True)
    [err] = e.value.errors
    assert err.message.startswith("recursion: rec_a -> rec_b -> rec_a") and err.symbol == "rec_prog"
    assert not out.exists() and list(tmp_path.iterdir()) == []
    linker = bpflink.Linker(fatal_warnings=True)
    linker.add_file(ROOT / "corpus" / "cross_call" / "a.o")
    linker.add_file(ROOT / "corpus" / "cross_call" / "b.o")
    assert linker.link(out).warnings == [] and out.exists()     # nothing to promote


def test_adjacency_cache_follows_each_graph_and_its_lifetime():
    # reach caches one Adjacency per graph (ours or networkx's) until the graph
    # changes shape, and forgets it when the graph is collected
    import gc

    from bpflink.graph import reach

    res = bpflink.link([str(ROOT / "corpus" / "cross_call" / n) for n in ("a.o", "b.o")])
    ours, theirs = res.digraph, res.callgraph
    first = reach.adjacency(ours)
    assert reach.adjacency(ours) is first
    other = reach.adjacency(theirs)
    assert other is not first and reach.adjacency(theirs) is other
    assert sorted(map(str, other.entries)) == sorted(map(str, first.entries))
    theirs.add_node("extra", order=10**9, entry=False)
    assert reach.adjacency(theirs) is not other          # changed shape: rebuilt
    keys = {id(ours), id(theirs)}
    assert keys <= reach._CACHE.keys()
    del res, ours, theirs, first, other
    gc.collect()
    assert not keys & reach._CACHE.keys()


def _reference_tables(graph):
    # Adjacency's four successor tables the plain way: a list per node, filled edge by
    # edge, then sorted in output order (what the per-source build must equal)
    from bpflink.graph.reach import CODE_KINDS
    from bpflink.graph.rules import CALL, FUNC_REF, ON_PROGRAM

    program_kinds = {r.kind for r in graph.graph.get("rules", ()) if r.sits_on == ON_PROGRAM}
    tables = {name: {n: [] for n in graph} for name in ("code", "calls", "tags", "follow")}
    for u, v, kinds in graph.edges(data="kinds"):
        if CALL in kinds:
            tables["code"][u].append(v)
            tables["calls"][u].append(v)
        elif FUNC_REF in kinds:
            tables["code"][u].append(v)
        if not program_kinds.isdisjoint(kinds):
            tables["tags"][u].append(v)
        if not program_kinds.union(CODE_KINDS).issuperset(kinds):
            tables["follow"][u].append(v)
    for table in tables.values():
        for succ in table.values():
            succ.sort(key=lambda n: graph.nodes[n]["order"])
    return tables


@pytest.mark.parametrize("corpus", ["graph_all_kinds", "loop_callback", "recursion",
                                    "exc_cross", "deep_chain", "tag_on_var"])
def test_adjacency_tables_match_the_plain_build(corpus):
    from bpflink.graph.reach import Adjacency

    # tag_on_var with a rule on variables: its tag edge and uses edges fill ``follow``
    rules = [bpflink.TagRule("reset:", sits_on="var", kind="reset", exclusive_target=False)]
    res = bpflink.link(sorted(str(p) for p in (ROOT / "corpus" / corpus).glob("*.o")),
                       tag_rules=rules if corpus == "tag_on_var" else ())
    for graph in (res.digraph, res.callgraph):
        adj = Adjacency(graph)
        for name, table in _reference_tables(graph).items():
            got = getattr(adj, name)
            assert list(got) == list(table), name             # every node, in node order
            assert {n: list(s) for n, s in got.items()} == table, name
        assert adj.several == {u for u in graph if len(list(graph.successors(u))) > 1}
