"""Declarations of one global against each other: their BTF shape.

Table-driven over hand-built BTF, one row per rule of libbpf's
``glob_sym_btf_matches`` that bpflink follows.  Map definitions (libbpf's
``map_defs_match``) are compared in tests/test_mapdef.py.
"""

from __future__ import annotations

import pytest

from bpflink.btf.types import FUNC_EXTERN, FUNC_GLOBAL, Btf, BtfType, Kind
from bpflink.linker.compat import btf_mismatch

INT = 0x01000020          # signed, 32 bits


class B:
    """A tiny BTF builder: ``b.add(...)`` returns the new type ID."""

    def __init__(self):
        self.btf = Btf()

    def add(self, kind, name="", ref=0, data=None, kflag=0, vlen_info=0) -> int:
        return self.btf.add(BtfType(kind, name, ref, data, kflag, vlen_info))

    def int(self, name="int", size=4) -> int:
        return self.add(Kind.INT, name, size, INT if size == 4 else 0x01000040)

    def struct(self, name, members, size=8, union=False) -> int:
        return self.add(Kind.UNION if union else Kind.STRUCT, name, size,
                        [[n, t, off] for n, t, off in members])

    def ptr(self, to) -> int:
        return self.add(Kind.PTR, "", to)

    def func(self, name, ret, params, linkage=FUNC_GLOBAL) -> int:
        proto = self.add(Kind.FUNC_PROTO, "", ret, [[n, t] for n, t in params])
        return self.add(Kind.FUNC, name, proto, vlen_info=linkage)


# Each row: (id, build_left(B) -> type id, build_right(B) -> type id, expected fragment or None)
ROWS = [
    ("same-int", lambda b: b.int(), lambda b: b.int(), None),
    ("int-size", lambda b: b.int("long", 8), lambda b: b.int("long", 4), "size 8 vs 4"),
    ("typedef-is-transparent",
     lambda b: b.add(Kind.TYPEDEF, "u32", b.int("unsigned int")),
     lambda b: b.int("unsigned int"), None),
    ("const-is-transparent",
     lambda b: b.add(Kind.CONST, "", b.int()), lambda b: b.int(), None),
    ("struct-same", lambda b: b.struct("s", [("a", b.int(), 0), ("b", b.int(), 32)]),
     lambda b: b.struct("s", [("a", b.int(), 0), ("b", b.int(), 32)]), None),
    ("struct-member-name", lambda b: b.struct("s", [("a", b.int(), 0)]),
     lambda b: b.struct("s", [("x", b.int(), 0)]), "member #0 is 'a' vs 'x'"),
    ("struct-member-offset", lambda b: b.struct("s", [("a", b.int(), 0)]),
     lambda b: b.struct("s", [("a", b.int(), 32)]), "member 'a' offsets differ"),
    ("struct-member-count", lambda b: b.struct("s", [("a", b.int(), 0)]),
     lambda b: b.struct("s", [("a", b.int(), 0), ("b", b.int(), 32)]), "1 vs 2 members"),
    ("struct-name", lambda b: b.struct("s", []), lambda b: b.struct("t", []),
     "names 's' vs 't'"),
    ("struct-vs-union", lambda b: b.struct("s", []), lambda b: b.struct("s", [], union=True),
     "struct 's' vs union 's'"),
    ("pointer-to-fwd-matches-struct",
     lambda b: b.ptr(b.add(Kind.FWD, "s")),
     lambda b: b.ptr(b.struct("s", [("a", b.int(), 0)])), None),
    ("pointer-to-union-fwd-does-not-match-struct",
     lambda b: b.ptr(b.add(Kind.FWD, "s", kflag=1)),
     lambda b: b.ptr(b.struct("s", [])), "does not match its struct"),
    ("pointer-shape-only", lambda b: b.ptr(b.struct("s", [("a", b.int(), 0)])),
     lambda b: b.ptr(b.struct("s", [("z", b.int(), 64)])), None),
    ("array-element", lambda b: b.add(Kind.ARRAY, "", 0, [b.int(), b.int(), 4]),
     lambda b: b.add(Kind.ARRAY, "", 0, [b.int("long", 8), b.int(), 4]), "size 4 vs 8"),
    ("func-param-names-ignored", lambda b: b.func("f", b.int(), [("x", b.int())]),
     lambda b: b.func("f", b.int(), [("", b.int())], FUNC_EXTERN), None),
    ("func-param-count", lambda b: b.func("f", b.int(), [("x", b.int())]),
     lambda b: b.func("f", b.int(), []), "1 vs 0 parameters"),
    ("func-param-type", lambda b: b.func("f", b.int(), [("x", b.int())]),
     lambda b: b.func("f", b.int(), [("x", b.int("long", 8))]), "parameter #1"),
    ("func-return", lambda b: b.func("f", b.int(), []),
     lambda b: b.func("f", b.int("long", 8), []), "return type"),
    ("func-static-vs-global", lambda b: b.func("f", b.int(), [], 0),
     lambda b: b.func("f", b.int(), []), "linkage differs"),
    ("recursive-struct-through-pointer",
     lambda b: _list(b), lambda b: _list(b), None),
]


def _list(b: B) -> int:
    node = b.struct("node", [("next", 0, 0), ("v", b.int(), 64)], size=16)
    b.btf.types[node].data[0][1] = b.ptr(node)
    return node


@pytest.mark.parametrize("left,right,fragment", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_btf_compatibility(left, right, fragment):
    a, b = B(), B()
    ia, ib = left(a), right(b)
    why = btf_mismatch(a.btf, ia, b.btf, ib)
    if fragment is None:
        assert why is None
    else:
        assert why is not None and fragment in why, why
    # the verdict does not depend on which side is first
    assert (btf_mismatch(b.btf, ib, a.btf, ia) is None) == (fragment is None)
