"""BTF deduplication (``bpflink.btf.dedup``) on type graphs built by hand.

Each case builds the merged BTF of a few "inputs" directly: every input's
types are numbered from 1 on their own, and :func:`merged` appends them the
way the linker does.  The cases pin libbpf's ``btf__dedup`` semantics
(cycles, FWD resolution, nested anonymous types, same-named but different
structs, enum vs enum64, tags); the properties run on generated multi-input
type graphs: dedup is idempotent, maps every type onto an equal one, keeps
apart what differs, and never leaves more types than libbpf's own
``btf__dedup`` (called through ctypes) on the same bytes.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bpflink.btf.dedup import _compacted, _Dedup, _describe, dedup
from bpflink.btf.types import Btf, BtfType, Kind, MergedBtf, parse
from bpflink.errors import FormatError
from tests import libbpf_btf

K = Kind
SIGNED = 1 << 24


# -- building type graphs ---------------------------------------------------------------
def INT(name="int", size=4, signed=True):
    return BtfType(K.INT, name, size, (SIGNED if signed else 0) | size * 8)


def PTR(to):
    return BtfType(K.PTR, "", to)


def STRUCT(name, size, members, kind=K.STRUCT):
    """``members``: (name, type) pairs, 8 bytes apart; or (name, type, bit offset)."""
    data = [[m[0], m[1], m[2] if len(m) > 2 else 64 * i] for i, m in enumerate(members)]
    return BtfType(kind, name, size, data)


def UNION(name, size, members):
    return BtfType(K.UNION, name, size, [[n, t, 0] for n, t in members])


def FWD(name, union=False):
    return BtfType(K.FWD, name, 0, None, kflag=int(union))


def ENUM(name, values, size=4, kind=K.ENUM):
    return BtfType(kind, name, size, [[n, v] for n, v in values])


def PROTO(ret, params):
    return BtfType(K.FUNC_PROTO, "", ret, [[n, t] for n, t in params])


def FUNC(name, proto, linkage=0):
    return BtfType(K.FUNC, name, proto, None, vlen_info=linkage)


def TYPEDEF(name, to):
    return BtfType(K.TYPEDEF, name, to)


def ARRAY(elem, index, n):
    return BtfType(K.ARRAY, "", 0, [elem, index, n])


def merged(*inputs: list[BtfType]) -> Btf:
    """The merged BTF of ``inputs``, each numbered from 1 on its own."""
    btf = Btf()
    for types in inputs:
        base = len(btf.types) - 1
        for t in types:
            t = t.copy()
            t.remap(lambda i, base=base: i + base if i else 0)
            btf.add(t)
    return btf


def count(btf: Btf, kind: Kind, name: str | None = None) -> int:
    return sum(1 for t in btf.types if t.kind is kind and (name is None or t.name == name))


def check_valid(btf: Btf) -> None:
    for i, t in enumerate(btf.types):
        for ref in t.type_ids():
            assert 0 <= ref < len(btf.types), f"[{i}] {t} refers to a missing type"


def run(btf: Btf) -> tuple[Btf, list[int]]:
    out, id_map = dedup(btf)
    check_valid(out)
    assert len(id_map) == len(btf.types)
    again, id_map2 = dedup(out)
    assert [t.key() for t in again.types] == [t.key() for t in out.types], "not idempotent"
    assert id_map2 == list(range(len(out.types)))
    return out, id_map


# -- primitives -------------------------------------------------------------------------
def test_equal_primitives_collapse_and_order_is_kept():
    btf = merged([INT(), INT("char", 1), BtfType(K.FLOAT, "double", 8)],
                 [BtfType(K.FLOAT, "double", 8), INT(), INT("char", 1, signed=False)])
    out, id_map = run(btf)
    assert [(t.kind, t.name) for t in out.types[1:]] == [
        (K.INT, "int"), (K.INT, "char"), (K.FLOAT, "double"), (K.INT, "char")]
    assert id_map == [0, 1, 2, 3, 3, 1, 4]


def test_already_unique_btf_is_unchanged():
    btf = merged([INT(), PTR(1), STRUCT("s", 8, [("p", 2)]), FWD("t"), PTR(4)])
    out, id_map = run(btf)
    assert [t.key() for t in out.types] == [t.key() for t in btf.types]
    assert id_map == list(range(len(btf.types)))


def test_enum_fwd_resolves_to_full_enum_or_enum64_but_enum_and_enum64_stay_apart():
    values = [("A", 0), ("B", 1)]
    btf = merged(
        [ENUM("e", []), PTR(1)],                              # fwd before the definition
        [ENUM("e", values), PTR(1)],
        [ENUM("e", [], size=4), PTR(1)],                      # fwd after it
        [ENUM("e64", [], size=4), ENUM("e64", values, 8, K.ENUM64), PTR(1)],
        [ENUM("e", values, 8, K.ENUM64)],                     # same values, other kind
    )
    out, id_map = run(btf)
    assert count(out, K.ENUM, "e") == 1 and out[id_map[1]].data      # the full enum
    assert id_map[1] == id_map[3] == id_map[5]
    assert count(out, K.PTR) == 2           # -> e, -> e64
    assert id_map[7] == id_map[8] and out[id_map[7]].kind is K.ENUM64
    assert count(out, K.ENUM64, "e") == 1   # libbpf keeps enum and enum64 apart


def test_enum_fwd_without_definition_stays():
    out, _ = run(merged([ENUM("e", []), PTR(1)], [ENUM("e", []), PTR(1)]))
    assert count(out, K.ENUM) == 1 and count(out, K.PTR) == 1


# -- structs and unions -------------------------------------------------------------------
def list_input():
    # struct node { struct node *next; int v; }
    return [STRUCT("node", 16, [("next", 2), ("v", 3)]), PTR(1), INT()]


def test_self_referential_struct_collapses():
    out, id_map = run(merged(list_input(), list_input()[::1], list_input()))
    assert count(out, K.STRUCT, "node") == 1
    assert count(out, K.PTR) == 1 and count(out, K.INT) == 1
    assert id_map[1] == id_map[4] == id_map[7]


def test_self_referential_struct_in_another_order_collapses():
    # the same graph numbered differently: int, ptr, struct
    other = [INT(), PTR(3), STRUCT("node", 16, [("next", 2), ("v", 1)])]
    out, id_map = run(merged(list_input(), other))
    assert len(out.types) == 4
    assert id_map[1] == id_map[6] and id_map[2] == id_map[5]


def mutual(order):
    # struct a { struct b *b; }; struct b { struct a *a; long x; }
    types = {"a": STRUCT("a", 8, [("b", "pb")]), "b": STRUCT("b", 16, [("a", "pa"), ("x", "l")]),
             "pa": PTR("a"), "pb": PTR("b"), "l": INT("long", 8)}
    ids = {name: i + 1 for i, name in enumerate(order)}
    out = []
    for name in order:
        t = types[name].copy()
        t.remap(lambda r: ids[r])
        out.append(t)
    return out


def test_mutually_recursive_structs_collapse():
    btf = merged(mutual(["a", "b", "pa", "pb", "l"]), mutual(["l", "pb", "b", "pa", "a"]),
                 mutual(["b", "a", "l", "pa", "pb"]))
    out, _ = run(btf)
    assert Counter(t.kind for t in out.types[1:]) == {K.STRUCT: 2, K.PTR: 2, K.INT: 1}


def test_fwd_in_one_input_resolves_to_definition_in_another():
    # input 1: struct outer { struct inner *in; } with inner only declared
    # input 2: the same, with inner defined
    one = [STRUCT("outer", 8, [("in", 2)]), PTR(3), FWD("inner")]
    two = [STRUCT("outer", 8, [("in", 2)]), PTR(3), STRUCT("inner", 4, [("x", 4)]), INT()]
    out, id_map = run(merged(one, two))
    assert count(out, K.FWD) == 0
    assert count(out, K.STRUCT, "outer") == 1 and count(out, K.STRUCT, "inner") == 1
    assert count(out, K.PTR) == 1
    assert id_map[3] == id_map[6]           # the FWD now stands for the struct


def test_lone_fwd_resolves_to_the_only_struct_of_its_name():
    one = [PTR(2), FWD("inner")]
    two = [STRUCT("inner", 4, [("x", 2)]), INT()]
    out, id_map = run(merged(one, two))
    assert count(out, K.FWD) == 0 and count(out, K.PTR) == 1
    assert out[id_map[1]].ref == id_map[3]


def test_fwd_of_other_kind_or_ambiguous_name_stays():
    one = [PTR(2), FWD("u", union=False), PTR(4), FWD("amb")]
    two = [UNION("u", 4, [("x", 3)]), INT(), STRUCT("amb", 4, [("x", 2)])]
    three = [STRUCT("amb", 4, [("y", 2)]), INT()]
    out, _ = run(merged(one, two, three))
    assert count(out, K.FWD, "u") == 1      # a struct fwd never becomes a union
    assert count(out, K.FWD, "amb") == 1    # two different structs 'amb': no pick
    assert count(out, K.STRUCT, "amb") == 2


def test_fwd_resolves_through_the_graph_when_the_name_is_ambiguous():
    # Two different 'inner's exist, but outer's layout says which one it is.
    one = [STRUCT("outer", 8, [("in", 2)]), PTR(3), STRUCT("inner", 4, [("x", 4)]), INT()]
    two = [STRUCT("outer", 8, [("in", 2)]), PTR(3), FWD("inner")]
    three = [STRUCT("inner", 8, [("x", 2)]), INT("long", 8)]
    out, id_map = run(merged(one, two, three))
    assert count(out, K.FWD) == 0 and count(out, K.STRUCT, "outer") == 1
    assert id_map[7] == id_map[3]


def nested_input():
    # struct outer { union { int a; long b; }; struct { int x; } s; struct { int x; } t; }
    return [STRUCT("outer", 16, [("", 2), ("s", 3), ("t", 3)]),
            UNION("", 8, [("a", 4), ("b", 5)]),
            STRUCT("", 4, [("x", 4)]), INT(), INT("long", 8)]


def test_anonymous_structs_and_unions_nested_in_named_ones_collapse():
    out, _ = run(merged(nested_input(), nested_input(), nested_input()))
    assert count(out, K.STRUCT, "outer") == 1
    assert count(out, K.UNION, "") == 1 and count(out, K.STRUCT, "") == 1


def test_same_named_structs_with_different_layouts_stay_apart():
    a = [STRUCT("s", 8, [("v", 2)]), INT("long", 8)]
    b = [STRUCT("s", 8, [("v", 2)]), INT("unsigned long", 8, signed=False)]   # member type
    c = [STRUCT("s", 16, [("v", 2)]), INT("long", 8)]                         # size
    d = [STRUCT("s", 8, [("w", 2)]), INT("long", 8)]                          # member name
    # and what contains them differs too: struct w { struct s *p; }
    wa = [STRUCT("w", 8, [("p", 2)]), PTR(3), *[t.copy() for t in a]]
    wb = [STRUCT("w", 8, [("p", 2)]), PTR(3), *[t.copy() for t in b]]
    for t in wa[2:] + wb[2:]:
        t.remap(lambda i: i + 2)
    out, _ = run(merged(a, b, c, d, wa, wb, [*a]))
    assert count(out, K.STRUCT, "s") == 4
    assert count(out, K.STRUCT, "w") == 2


def test_union_and_struct_of_same_shape_stay_apart():
    out, _ = run(merged([STRUCT("x", 4, [("a", 2, 0)]), INT()], [UNION("x", 4, [("a", 2)]), INT()]))
    assert count(out, K.STRUCT, "x") == 1 and count(out, K.UNION, "x") == 1


def test_compiler_duplicates_within_one_input_do_not_block_dedup():
    # input 1 holds two identical copies of 'inner' (libbpf's identical-types
    # case): outer.a -> inner#1, outer.b -> inner#2; input 2 has one inner.
    one = [STRUCT("outer", 16, [("a", 2), ("b", 3)]), STRUCT("inner", 4, [("x", 4)]),
           STRUCT("inner", 4, [("x", 4)]), INT()]
    two = [STRUCT("outer", 16, [("a", 2), ("b", 2)]), STRUCT("inner", 4, [("x", 3)]), INT()]
    out, _ = run(merged(two, one))
    assert count(out, K.STRUCT, "outer") == 1 and count(out, K.STRUCT, "inner") == 1


def test_fwd_and_its_definition_in_one_input_still_dedup():
    # struct s { struct t a; struct t *p; } where one input points at a FWD of
    # the t it also defines.  One pass of libbpf's algorithm keeps two s
    # (canonical t would stand for both the definition and the FWD); the pass
    # over the output merges them.
    one = [STRUCT("s", 16, [("a", 2), ("p", 3)]), STRUCT("t", 0, []), PTR(2)]
    two = [STRUCT("s", 16, [("a", 2), ("p", 3)]), STRUCT("t", 0, []), PTR(4), FWD("t")]
    out, _ = run(merged(one, two))
    assert count(out, K.STRUCT, "s") == 1 and count(out, K.FWD) == 0
    assert len(out.types) == 4


def test_fwd_of_a_struct_defined_in_the_same_input_matches_that_definition():
    # struct node { struct node *next; } where input two's pointer names a
    # FWD of the node it defines: still one node.
    one = [STRUCT("node", 8, [("next", 2)]), PTR(1)]
    two = [STRUCT("wrap", 8, [("n", 2)]), STRUCT("node", 8, [("next", 4)]), FWD("node"),
           PTR(3)]
    out, _ = run(merged(one, two))
    assert count(out, K.STRUCT, "node") == 1 and count(out, K.FWD) == 0


def test_fwd_met_before_its_definition_does_not_hide_a_difference():
    # struct s { struct t *p; struct t v; }: input two declares t and defines
    # it differently (long, not int); the FWD fits, the definition does not.
    one = [STRUCT("s", 16, [("p", 2), ("v", 3)]), PTR(3), STRUCT("t", 8, [("x", 4)]), INT()]
    two = [STRUCT("s", 16, [("p", 2), ("v", 4)]), PTR(3), FWD("t"),
           STRUCT("t", 8, [("x", 5)]), INT("long", 8)]
    out, id_map = run(merged(one, two))
    assert count(out, K.STRUCT, "s") == 2 and count(out, K.STRUCT, "t") == 2
    describes(merged(one, two), out, id_map)


# -- reference types ----------------------------------------------------------------------
def test_reference_chains_collapse_after_their_targets():
    def inp():
        # const volatile int * const; typedef; array of it; func proto and func
        return [INT(), BtfType(K.VOLATILE, "", 1), BtfType(K.CONST, "", 2), PTR(3),
                BtfType(K.CONST, "", 4), TYPEDEF("cvip", 5), INT("__ARRAY_SIZE_TYPE__", 4, False),
                ARRAY(6, 7, 4), PROTO(1, [("p", 6), ("a", 4)]), FUNC("f", 9, 1),
                BtfType(K.RESTRICT, "", 4)]
    out, id_map = run(merged(inp(), inp()))
    assert len(out.types) == 12
    assert id_map[12:] == id_map[1:12]


def test_static_functions_with_same_name_and_prototype_collapse():
    def inp(pname="x", fname="helper"):
        return [INT(), PROTO(1, [(pname, 1)]), FUNC(fname, 2, 0)]
    out, id_map = run(merged(inp(), inp(), inp(pname="y"), inp(fname="other")))
    assert count(out, K.FUNC, "helper") == 2        # the 'y' prototype differs
    assert id_map[3] == id_map[6] != id_map[9]
    assert count(out, K.FUNC, "other") == 1


def test_decl_tags_and_type_tags():
    def inp(tag="user", decl="kfunc"):
        # int __tag *p; struct s { int __tag *p; } with a decl tag on s and on s.p
        return [INT(), BtfType(K.TYPE_TAG, tag, 1), PTR(2), STRUCT("s", 8, [("p", 3)]),
                BtfType(K.DECL_TAG, decl, 4, -1), BtfType(K.DECL_TAG, decl, 4, 0)]
    out, id_map = run(merged(inp(), inp(), inp(tag="rcu"), inp(decl="other")))
    assert count(out, K.TYPE_TAG, "user") == 1 and count(out, K.TYPE_TAG, "rcu") == 1
    assert count(out, K.STRUCT, "s") == 2           # the 'rcu' pointer makes another s
    assert count(out, K.DECL_TAG, "kfunc") == 4     # on each s, whole and member 0
    assert count(out, K.DECL_TAG, "other") == 2
    assert id_map[5] == id_map[11] and id_map[6] == id_map[12] and id_map[5] != id_map[6]


def test_vars_and_datasecs_collapse_when_equal():
    def inp():
        return [INT(), BtfType(K.VAR, "counter", 1, 0),
                BtfType(K.DATASEC, ".bss", 4, [[2, 0, 4]])]
    out, _ = run(merged(inp(), inp(), [INT(), BtfType(K.VAR, "counter", 1, 1)]))
    assert count(out, K.VAR) == 2 and count(out, K.DATASEC) == 1


def test_loop_of_reference_types_is_a_format_error():
    btf = merged([PTR(2), BtfType(K.CONST, "", 1)])
    with pytest.raises(FormatError, match="itself"):
        dedup(btf)


def test_input_is_left_alone():
    btf = merged(list_input(), list_input())
    before = [t.key() for t in btf.types]
    dedup(btf)
    assert [t.key() for t in btf.types] == before


# -- generated multi-input type graphs --------------------------------------------------------
# A "universe" of named structs, each with one or two layouts (same member names
# and offsets, different member types, so that only a deep comparison tells them
# apart).  Each input picks a layout per struct, some roots, and which structs it
# only forward-declares; it emits its types once each (as a compiler does), in an
# order of its own.

MEMBER_KINDS = ("int", "long", "ptr", "embed", "array", "enum", "enum_ptr", "typedef",
                "const_ptr", "fnptr", "anon_union", "tagged_ptr")
STRUCT_REFS = ("ptr", "const_ptr", "fnptr", "tagged_ptr")


@st.composite
def universes(draw):
    n = draw(st.integers(1, 5))
    structs = []
    for i in range(n):
        width = draw(st.integers(0, 4))
        layouts = []
        for _ in range(draw(st.integers(1, 2))):
            members = []
            for _ in range(width):
                kind = draw(st.sampled_from(MEMBER_KINDS))
                target = draw(st.integers(0, n - 1))
                if kind == "embed" and target >= i:
                    kind = "ptr"               # embedding needs an acyclic order
                members.append((kind, target))
            layouts.append(members)
        structs.append(layouts)
    return structs


@st.composite
def inputs(draw, universe):
    n = len(universe)
    return {
        "layout": [draw(st.integers(0, len(layouts) - 1)) for layouts in universe],
        "fwd": [draw(st.booleans()) for _ in range(n)],
        "enum_fwd": draw(st.booleans()),
        # clang declares a struct only where the unit does not define it; a
        # hand-made BTF may do both (a FWD and the definition it names)
        "clang_fwds": draw(st.booleans()),
        "roots": draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True)),
        "tags": draw(st.booleans()),
        "func": draw(st.booleans()),
        "seed": draw(st.randoms(use_true_random=False)),
    }


class Emitter:
    """Emits one input's types, each once, as a compiler would."""

    def __init__(self, universe, spec):
        self.universe, self.spec = universe, spec
        self.types: list[BtfType] = []
        self.interned: dict[tuple, int] = {}
        self.full: set[int] = set()          # structs this input defines
        self.planned = self.planned_full()

    def add(self, key, make) -> int:
        tid = self.interned.get(key)
        if tid is None:
            self.types.append(make())
            tid = self.interned[key] = len(self.types)
        return tid

    def needs_full(self, j: int) -> bool:
        if self.spec["clang_fwds"]:
            return j in self.planned
        return j in self.spec["roots"] or not self.spec["fwd"][j]

    def planned_full(self) -> set[int]:
        """The structs this input defines: its roots, what they embed, and
        what they point to that it does not choose to forward-declare."""
        full: set[int] = set()
        todo = list(self.spec["roots"])
        while todo:
            j = todo.pop()
            if j not in full:
                full.add(j)
                todo.extend(target for kind, target in self.universe[j][self.spec["layout"][j]]
                            if kind == "embed" or (kind in STRUCT_REFS
                                                   and not self.spec["fwd"][target]))
        return full

    def struct(self, j: int, embedded: bool = False) -> int:
        if not embedded and not self.needs_full(j):
            return self.add(("fwd", j), lambda: FWD(f"s{j}"))
        key = ("struct", j)
        if key in self.interned:
            return self.interned[key]
        layout = self.universe[j][self.spec["layout"][j]]
        t = STRUCT(f"s{j}", 8 * len(layout), [])
        tid = self.add(key, lambda: t)
        self.full.add(j)
        t.data = [[f"m{k}", self.member(kind, target), 64 * k]
                  for k, (kind, target) in enumerate(layout)]
        if self.spec["tags"]:
            self.add(("decl_tag", j), lambda: BtfType(K.DECL_TAG, "tagged", tid, -1))
        return tid

    def member(self, kind: str, target: int) -> int:
        add = self.add
        def i32() -> int:
            return add(("int",), INT)

        if kind == "int":
            return i32()
        if kind == "long":
            return add(("long",), lambda: INT("long", 8))
        if kind == "ptr":
            s = self.struct(target)
            return add(("ptr", s), lambda: PTR(s))
        if kind == "embed":
            return self.struct(target, embedded=True)
        if kind == "array":
            e, ix = i32(), add(("ix",), lambda: INT("__ARRAY_SIZE_TYPE__", 4, False))
            return add(("array", e, ix), lambda: ARRAY(e, ix, 4))
        if kind in ("enum", "enum_ptr"):
            fwd = kind == "enum_ptr" and self.spec["enum_fwd"]
            e = add(("enum", fwd), lambda: ENUM("color", [] if fwd else [("RED", 0), ("BLUE", 1)]))
            return e if kind == "enum" else add(("ptr", e), lambda: PTR(e))
        if kind == "typedef":
            u = add(("uint",), lambda: INT("unsigned int", 4, False))
            return add(("typedef", u), lambda: TYPEDEF("u32", u))
        if kind == "const_ptr":
            s = self.struct(target)
            c = add(("const", s), lambda: BtfType(K.CONST, "", s))
            return add(("ptr", c), lambda: PTR(c))
        if kind == "fnptr":
            s = self.struct(target)
            p = add(("ptr", s), lambda: PTR(s))
            r = i32()
            proto = add(("proto", r, p), lambda: PROTO(r, [("arg", p)]))
            return add(("ptr", proto), lambda: PTR(proto))
        if kind == "anon_union":
            a, b = i32(), add(("long",), lambda: INT("long", 8))
            return add(("union", a, b), lambda: UNION("", 8, [("a", a), ("b", b)]))
        if kind == "tagged_ptr":
            s = self.struct(target)
            tag = add(("type_tag", s), lambda: BtfType(K.TYPE_TAG, "user", s))
            return add(("ptr", tag), lambda: PTR(tag))
        raise AssertionError(kind)

    def emit(self) -> list[BtfType]:
        for r in self.spec["roots"]:
            self.struct(r)
        if self.spec["func"]:
            r = self.spec["roots"][0]
            s = self.struct(r)
            p = self.add(("ptr", s), lambda: PTR(s))
            ret = self.add(("int",), INT)
            proto = self.add(("proto", ret, p), lambda: PROTO(ret, [("arg", p)]))
            self.add(("func",), lambda: FUNC("helper", proto))
        # Shuffle: the compiler's order is not the same in every input.
        order = list(range(len(self.types)))
        self.spec["seed"].shuffle(order)
        new_id = {old + 1: new + 1 for new, old in enumerate(order)}
        out = []
        for old in order:
            t = self.types[old].copy()
            t.remap(lambda i: new_id[i] if i else 0)
            out.append(t)
        return out

    def deep_signature(self, j: int) -> frozenset:
        """The (struct, layout) pairs a definition of struct j depends on."""
        seen: set[int] = set()
        todo = [j]
        while todo:
            s = todo.pop()
            if s in seen or s not in self.full:
                continue
            seen.add(s)
            todo.extend(target for _, target in self.universe[s][self.spec["layout"][s]])
        return frozenset((s, self.spec["layout"][s]) for s in seen)


@st.composite
def programs(draw):
    universe = draw(universes())
    specs = draw(st.lists(inputs(universe), min_size=1, max_size=4))
    emitters = [Emitter(universe, spec) for spec in specs]
    btf = merged(*[e.emit() for e in emitters])
    return btf, emitters


def shallow(t: BtfType) -> tuple:
    t = t.copy()
    t.remap(lambda _: 0)
    return t.key()


def describes(old: Btf, new: Btf, id_map: list[int]) -> None:
    """Every type maps onto one of the same shape whose references describe
    its own, recursively; a FWD (or enum without enumerators) is described
    by any definition of its name and kind.  (So a FWD may stand for one
    definition in one place and another elsewhere, as in libbpf.)"""
    proved: set[tuple[int, int]] = set()
    todo = list(enumerate(id_map))
    while todo:
        i, j = todo.pop()
        if (i, j) in proved:
            continue
        proved.add((i, j))
        t, u = old.types[i], new.types[j]
        if t.kind is K.FWD and u.kind is not K.FWD:
            assert u.kind is (K.UNION if t.kflag else K.STRUCT) and u.name == t.name, (t, u)
        elif t.kind in (K.ENUM, K.ENUM64) and not t.data:
            assert u.kind in (K.ENUM, K.ENUM64) and u.name == t.name, (t, u)
        else:
            assert shallow(t) == shallow(u), f"[{i}] {t} -> [{j}] {u}"
            todo.extend(zip(t.type_ids(), u.type_ids()))


SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(programs())
def test_generated_graphs_dedup_soundly_and_idempotently(program):
    btf, emitters = program
    out, id_map = run(btf)
    describes(btf, out, id_map)
    # No two output types are equal field for field.
    keys = [t.key() for t in out.types]
    assert len(set(keys)) == len(keys)
    # A struct appears at most once per distinct definition (its own layout and
    # the layouts of everything it reaches); once, where every input agrees.
    for j in range(len(emitters[0].universe)):
        sigs = {e.deep_signature(j) for e in emitters if j in e.full}
        assert count(out, K.STRUCT, f"s{j}") <= len(sigs)
        if len(sigs) == 1 and all(not any(e.spec["fwd"]) for e in emitters):
            assert count(out, K.STRUCT, f"s{j}") == 1


@SETTINGS
@given(programs(), st.randoms(use_true_random=False))
def test_spelled_out_keys_agree_with_describe_with_and_without_input_maps(program, rnd):
    """_Dedup numbers shallow keys and lists references with the common kinds
    spelled out and, for a merge's slots, IDs mapped in bulk: held to
    _describe, on the BTF as it is and as slots whose input map is a shuffle."""
    btf, _ = program
    n = len(btf.types)
    shuffle = list(range(1, n))
    rnd.shuffle(shuffle)
    sigma = [0, *shuffle]
    inverse = [0] * n
    for i, s in enumerate(sigma):
        inverse[s] = i
    slots = MergedBtf()
    for t in btf.types[1:]:
        slots.add_remapped(t.remapped(inverse), sigma)      # reads back as t
    plain, mapped = _Dedup(btf), _Dedup(slots)
    keys: dict = {}
    sids, children = [], []
    for t in btf.types:
        key, kids = _describe(t, int(t.kind))
        sids.append(keys.setdefault(key, len(keys)))
        children.append(kids)
    assert plain.sid == mapped.sid == sids
    assert plain.children == mapped.children == children
    assert plain.kinds == mapped.kinds == [int(t.kind) for t in btf.types]


@SETTINGS
@given(programs())
def test_a_settled_pass_leaves_nothing_for_another(program):
    """dedup() skips the pass over the output after a pass that reports itself
    settled: held here to the pass it skips, which must keep every type."""
    btf, _ = program
    first = _Dedup(btf)
    id_map, kept = first.run()
    settled = first.settled
    out = _compacted(btf, id_map, kept)
    _, kept_again = _Dedup(out).run()
    if settled:
        assert kept_again == list(range(len(out.types)))
    SETTLED[settled] += 1


SETTLED: Counter[bool] = Counter()


@SETTINGS
@given(programs())
def test_next_pass_reuses_keys_as_a_fresh_pass_would_build_them(program):
    """dedup() starts a pass over the output from the pass before it (its
    shallow keys, its references through the ID map): held to a pass built
    from scratch on the output, which must see the same kinds, references,
    equal keys and merges (the key numbers may differ)."""
    btf, _ = program
    first = _Dedup(btf)
    id_map, kept = first.run()
    out = _compacted(btf, id_map, kept)
    reused, fresh = first.next_pass(out, id_map, kept), _Dedup(out)
    assert reused.types is out.types and reused.n == fresh.n
    assert reused.kind_bytes == fresh.kind_bytes and reused.kinds == fresh.kinds
    assert reused.children == fresh.children
    pairs = set(zip(reused.sid, fresh.sid))
    assert len(pairs) == len(set(reused.sid)) == len(set(fresh.sid))
    assert reused.run() == fresh.run()
    assert reused.settled == fresh.settled


def test_generated_passes_were_both_settled_and_not():
    """The property above saw both kinds of pass (it runs first, in file order)."""
    if SETTLED:
        assert SETTLED[True] and SETTLED[False], SETTLED


# -- against libbpf's btf__dedup ------------------------------------------------------------
@pytest.fixture(scope="module")
def libbpf():
    ok, reason = libbpf_btf.available()
    if not ok:
        pytest.skip(reason)
    return libbpf_btf.libbpf_dedup


def assert_not_more_than_libbpf(btf: Btf, libbpf_dedup) -> None:
    raw, _ = btf.encode()
    libbpf_count, libbpf_raw = libbpf_dedup(raw)
    out, _ = dedup(btf)
    assert len(out.types) <= libbpf_count, (
        f"bpflink keeps {len(out.types)} types, libbpf {libbpf_count}:\n"
        + "\n".join(map(repr, parse(libbpf_raw)[0].types)))


@pytest.mark.parametrize("build", [
    lambda: merged(list_input(), list_input()),
    lambda: merged(mutual(["a", "b", "pa", "pb", "l"]), mutual(["l", "pb", "b", "pa", "a"])),
    lambda: merged(nested_input(), nested_input()),
    lambda: merged([STRUCT("outer", 8, [("in", 2)]), PTR(3), FWD("inner")],
                   [STRUCT("outer", 8, [("in", 2)]), PTR(3), STRUCT("inner", 4, [("x", 4)]), INT()]),
    lambda: merged([ENUM("e", []), PTR(1)], [ENUM("e", [("A", 1)], 8, K.ENUM64), PTR(1)]),
], ids=["self_ref", "mutual", "nested_anon", "fwd", "enum_fwd"])
def test_crafted_graphs_not_more_than_libbpf(build, libbpf):
    assert_not_more_than_libbpf(build(), libbpf)


def ambiguous_fwd(emitters: list[Emitter]) -> bool:
    """Whether some input declares a struct that inputs define differently.

    Such a FWD fits more than one definition; libbpf takes the first that
    fits in its hash bucket, an order its table's growth reshuffles, and what
    hangs off the pick (a decl tag, a pointer) may or may not exist already.
    Type counts then differ either way, so they are not compared there.
    """
    return any(any(("fwd", j) in e.interned for e in emitters)
               and len({e.deep_signature(j) for e in emitters if j in e.full}) > 1
               for j in range(len(emitters[0].universe)))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.filter_too_much])
@given(programs())
def test_generated_graphs_not_more_than_libbpf(libbpf, program):
    btf, emitters = program
    assume(not ambiguous_fwd(emitters))
    assert_not_more_than_libbpf(btf, libbpf)


# -- copies: remapped, and _compacted over a merge's slots -------------------------------
EVERY_KIND = [
    INT(), PTR(1), ARRAY(1, 1, 4), STRUCT("s", 16, [("a", 1), ("b", 2)]),
    UNION("u", 8, [("a", 1), ("b", 3)]), ENUM("e", [("A", 1), ("B", 2)]),
    FWD("f"), TYPEDEF("t", 4), BtfType(K.VOLATILE, "", 1), BtfType(K.CONST, "", 9),
    BtfType(K.RESTRICT, "", 2), FUNC("fn", 15, 1), PROTO(1, [("x", 1), ("y", 2)]),
    BtfType(K.VAR, "v", 1, 1), BtfType(K.DATASEC, ".data", 8, [[14, 0, 4], [14, 4, 4]]),
    BtfType(K.FLOAT, "float", 8), BtfType(K.DECL_TAG, "tag", 4, -1),
    BtfType(K.TYPE_TAG, "tt", 2), ENUM("e64", [("A", 1 << 40)], 8, K.ENUM64),
]


def test_remapped_is_copy_then_remap_for_every_kind():
    """remapped() makes its copy bare (no __init__) and tests the kinds in an
    order of its own: the same type as copy() then remap(), sharing no list."""
    m = [0, *range(30, 30 + len(EVERY_KIND))]
    assert {t.kind for t in EVERY_KIND} == set(K) - {K.UNKN}
    for t in EVERY_KIND:
        expected = t.copy()
        expected.remap(m.__getitem__)
        got = t.remapped(m)
        assert type(got) is BtfType and got.key() == expected.key()
        if isinstance(t.data, list):
            assert got.data is not t.data
            assert not any(x is y for x, y in zip(got.data, t.data) if isinstance(x, list))


def test_compacted_slots_read_as_the_types_they_stand_for():
    """_compacted keeps the composed map of the type before until the slot's
    input map changes: slots of two inputs interleaved with slots of their own
    must copy as the plain types do."""
    a = [0, 2, 3, 1, 5, 6, 4]   # two inputs' maps, neither the identity
    b = [0, 4, 5, 6, 7, 8, 1]
    plan = [(a, INT()), (a, PTR(1)), (None, PTR(2)), (b, ARRAY(1, 1, 2)), (b, PTR(3)),
            (a, PROTO(1, [("p", 2)])), (None, TYPEDEF("t", 6)), (b, FUNC("f", 5))]
    slots = MergedBtf()
    for m, t in plan:
        if m is None:
            slots.add(t)
        else:
            slots.add_remapped(t, m)
    plain = Btf(slots.types)        # a plain Btf of the types the slots stand for
    id_map = [0, 8, 7, 6, 5, 4, 3, 2, 1]
    for kept in ([0, 1, 2, 3, 4, 5, 6, 7, 8], [0, 2, 5, 8], [0, 1, 3, 6, 7]):
        fresh = MergedBtf()         # slots.types copied its slots: slots again
        for m, t in plan:
            if m is None:
                fresh.add(t)
            else:
                fresh.add_remapped(t, m)
        assert [t.key() for t in _compacted(fresh, id_map, kept).types] == \
            [t.key() for t in _compacted(plain, id_map, kept).types]
