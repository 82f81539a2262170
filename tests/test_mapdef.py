"""Map definitions: bpflink's one parser (``bpflink.btf.mapdef``) against libbpf's.

Four layers:

* a table over hand-built BTF, one row per form or refusal of libbpf's
  ``parse_btf_map_def`` (``__uint``, ``__ulong`` as ENUM and ENUM64,
  ``__type``, ``__array`` of inner maps and of programs, ``pinning``...);
* the comparison of two definitions of one map (``compat.map_mismatch``);
* differential: small C sources compiled with the corpus compiler, opened by
  libbpf 1.6 and parsed by bpflink: the same attributes where libbpf opens
  them, a refusal naming file, section ``.maps`` and map where it does not;
  and every map of every corpus input libbpf opens;
* the corpus scenarios ``arena_extern`` and ``bloom_extern`` end to end:
  libbpf's open of the link equals the defining input's maps in every order,
  the bloom filter's ``map_extra`` reaches the kernel, the arena is loaded
  where the kernel creates arenas, and bpftool (libbpf 1.1, which predates
  ``__ulong``) really refuses both.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import subprocess
from pathlib import Path

import pytest

import bpflink
from bpflink.btf.mapdef import MapDef, MapDefError, parse_map_def
from bpflink.btf.types import Btf, BtfType, Kind
from bpflink.linker.compat import map_mismatch
from corpus.build import compile_command
from tests.conftest import REQUIRE_KERNEL_ENV, skip_or_fail
from tests.kernel import LoadError, find_libbpf_path
from tests.scenarios import CORPUS_DIR, bpftool_link, check_loaded, load_scenario, load_scenarios

INT = 0x01000020          # signed, 32 bits


class B:
    """A tiny BTF builder for map definitions; each method returns a type ID."""

    def __init__(self):
        self.btf = Btf()
        self.i32 = self.add(Kind.INT, "int", 4, INT)

    def add(self, kind, name="", ref=0, data=None, kflag=0) -> int:
        return self.btf.add(BtfType(kind, name, ref, data, kflag))

    def ptr(self, to: int) -> int:
        return self.add(Kind.PTR, "", to)

    def uint(self, n: int) -> int:
        """__uint(name, n): int (*name)[n]"""
        return self.ptr(self.add(Kind.ARRAY, "", 0, [self.i32, self.i32, n]))

    def ulong(self, *values: int, kind=Kind.ENUM, signed=False) -> int:
        """__ulong(name, v): enum { ___u = v } name (values stored as BTF stores them)"""
        size = 8 if kind is Kind.ENUM64 else 4
        return self.add(kind, "", size, [[f"___u{i}", v] for i, v in enumerate(values)],
                        kflag=int(signed))

    def values(self, elem: int, n: int = 0) -> int:
        """__array(values, T): T *values[] (zero-sized)"""
        return self.add(Kind.ARRAY, "", 0, [self.ptr(elem), self.i32, n])

    def proto(self) -> int:
        return self.add(Kind.FUNC_PROTO, "", self.i32, [])

    def struct(self, members, name="") -> int:
        return self.add(Kind.STRUCT, name, 8 * len(members),
                        [[n, t, 64 * i] for i, (n, t) in enumerate(members)])

    def map(self, members, name="m") -> int:
        """A .maps variable whose type is a struct of ``members``."""
        return self.add(Kind.VAR, name, self.struct(members), 1)


def _hash(b: B, *extra):
    return [("type", b.uint(1)), ("max_entries", b.uint(8)), *extra]


def _inner(b: B, *members):
    return b.struct(list(members) or [("type", b.uint(2)), ("max_entries", b.uint(1))])


# (id, members(b), expected MapDef attributes or an error fragment)
PARSE_ROWS = [
    ("uint-fields",
     lambda b: [("type", b.uint(2)), ("max_entries", b.uint(16)), ("map_flags", b.uint(1024)),
                ("numa_node", b.uint(3)), ("key_size", b.uint(4)), ("value_size", b.uint(8)),
                ("pinning", b.uint(1)), ("map_extra", b.uint(7))],
     dict(type=2, max_entries=16, map_flags=1024, numa_node=3, key_size=4, value_size=8,
          pinning=1, map_extra=7)),
    ("uint-pointer-behind-typedef-and-const",
     lambda b: [("type", b.add(Kind.TYPEDEF, "t", b.add(Kind.CONST, "", b.uint(2)))),
                ("max_entries", b.uint(1))], dict(type=2)),
    ("uint-array-behind-typedef-refused",
     lambda b: [("type", b.ptr(b.add(Kind.TYPEDEF, "arr",
                                     b.add(Kind.ARRAY, "", 0, [b.i32, b.i32, 2]))))],
     "field 'type' points to TYPEDEF, not an array"),
    ("uint-field-of-int-refused", lambda b: [("type", b.uint(1)), ("max_entries", b.i32)],
     "field 'max_entries' is INT, not a pointer to an array (__uint(max_entries, N))"),
    ("ulong-enum", lambda b: _hash(b, ("map_extra", b.ulong(5))), dict(map_extra=5)),
    ("ulong-enum64", lambda b: _hash(b, ("map_extra", b.ulong(1 << 44, kind=Kind.ENUM64))),
     dict(map_extra=1 << 44)),
    # libbpf reads struct btf_enum's __s32 val into a __u64: 32-bit values widen signed,
    # whatever the enum's own signedness (clang emits 0x80000000 as an unsigned ENUM)
    ("ulong-enum-unsigned-high-bit-widens-signed",
     lambda b: _hash(b, ("map_extra", b.ulong(0x80000000))),
     dict(map_extra=0xFFFFFFFF80000000)),
    ("ulong-enum-signed-minus-one",
     lambda b: _hash(b, ("map_extra", b.ulong(0xFFFFFFFF, signed=True))),
     dict(map_extra=0xFFFFFFFFFFFFFFFF)),
    ("ulong-enum64-negative-is-its-64-bits",
     lambda b: _hash(b, ("map_extra", b.ulong((-(1 << 40)) & (2**64 - 1), kind=Kind.ENUM64,
                                              signed=True))),
     dict(map_extra=0xFFFFFF0000000000)),
    ("ulong-behind-const", lambda b: _hash(b, ("map_extra", b.add(Kind.CONST, "", b.ulong(9)))),
     dict(map_extra=9)),
    ("ulong-two-enumerators-refused", lambda b: _hash(b, ("map_extra", b.ulong(1, 2))),
     "field 'map_extra' is an enum of 2 enumerators"),
    ("ulong-no-enumerator-refused", lambda b: _hash(b, ("map_extra", b.ulong())),
     "field 'map_extra' is an enum of 0 enumerators"),
    ("ulong-enum64-two-enumerators-refused",
     lambda b: _hash(b, ("map_extra", b.ulong(1, 1 << 40, kind=Kind.ENUM64))),
     "enum of 2 enumerators"),
    # only map_extra is 64-bit in libbpf; every other field is __uint only
    ("ulong-on-max-entries-refused",
     lambda b: [("type", b.uint(1)), ("max_entries", b.ulong(8))],
     "field 'max_entries' is ENUM, not a pointer to an array"),
    ("ulong-on-type-refused", lambda b: [("type", b.ulong(1))], "field 'type' is ENUM"),
    ("map-extra-of-int-refused", lambda b: _hash(b, ("map_extra", b.i32)),
     "field 'map_extra' is INT, neither a pointer to an array (__uint) nor an enum (__ulong)"),
    ("key-value-types",
     lambda b: _hash(b, ("key", b.ptr(b.i32)),
                     ("value", b.ptr(b.add(Kind.ARRAY, "", 0, [b.i32, b.i32, 6])))),
     dict(key_size=4, value_size=24, key_type=1)),
    ("key-size-agrees-with-key", lambda b: _hash(b, ("key_size", b.uint(4)),
                                                 ("key", b.ptr(b.i32))), dict(key_size=4)),
    ("key-size-conflicts-with-key", lambda b: _hash(b, ("key", b.ptr(b.i32)),
                                                    ("key_size", b.uint(8))),
     "key_size 4 conflicts with 8"),
    ("value-size-conflicts-with-value", lambda b: _hash(b, ("value_size", b.uint(2)),
                                                        ("value", b.ptr(b.i32))),
     "value_size 2 conflicts with 4"),
    # libbpf takes __type's member type as it is: a typedef of a pointer is no pointer
    ("key-pointer-behind-typedef-refused",
     lambda b: _hash(b, ("key", b.add(Kind.TYPEDEF, "kp", b.ptr(b.i32)))),
     "field 'key' is TYPEDEF, not a pointer"),
    ("key-of-void-refused", lambda b: _hash(b, ("key", b.ptr(0))), "the key type [0] has no size"),
    ("map-in-map",
     lambda b: [("type", b.uint(12)), ("max_entries", b.uint(4)), ("key_size", b.uint(4)),
                ("values", b.values(_inner(b)))],
     dict(type=12, value_size=4, values_offset=24, slots="map",
          inner=MapDef(type=2, max_entries=1))),
    ("hash-of-maps", lambda b: [("type", b.uint(13)), ("values", b.values(_inner(b)))],
     dict(type=13, slots="map")),
    ("prog-array", lambda b: [("type", b.uint(3)), ("max_entries", b.uint(4)),
                              ("values", b.values(b.proto()))],
     dict(type=3, value_size=4, values_offset=16, slots="prog", inner=None)),
    ("values-not-last-refused",
     lambda b: [("type", b.uint(12)), ("values", b.values(_inner(b))),
                ("max_entries", b.uint(1))], "'values' must be the last field"),
    ("values-on-a-hash-refused", lambda b: _hash(b, ("values", b.values(_inner(b)))),
     "'values' needs a map-in-map or prog-array type before it, not type 1"),
    ("values-before-type-refused",
     lambda b: [("max_entries", b.uint(1)), ("values", b.values(_inner(b)))],
     "not type 0"),
    ("values-with-value-size-8-refused",
     lambda b: [("type", b.uint(12)), ("value_size", b.uint(8)),
                ("values", b.values(_inner(b)))], "value_size 8 conflicts with 4"),
    ("values-sized-refused", lambda b: [("type", b.uint(12)), ("values", b.values(_inner(b), 2))],
     "'values' is not a zero-sized array (__array)"),
    ("values-of-ints-refused",
     lambda b: [("type", b.uint(12)), ("values", b.add(Kind.ARRAY, "", 0, [b.i32, b.i32, 0]))],
     "'values' holds INT, not pointers"),
    ("map-in-map-of-protos-refused", lambda b: [("type", b.uint(12)),
                                                ("values", b.values(b.proto()))],
     "map-in-map inner map is FUNC_PROTO, not a struct"),
    ("prog-array-of-structs-refused", lambda b: [("type", b.uint(3)),
                                                 ("values", b.values(_inner(b)))],
     "prog-array value is STRUCT, not a function prototype"),
    ("inner-map-with-values-refused",
     lambda b: [("type", b.uint(12)),
                ("values", b.values(_inner(b, ("type", b.uint(12)),
                                          ("values", b.values(_inner(b))))))],
     "inner map: 'values' in an inner map: multi-level inner maps are not supported"),
    ("inner-map-pinned-refused",
     lambda b: [("type", b.uint(12)),
                ("values", b.values(_inner(b, ("type", b.uint(2)), ("pinning", b.uint(1)))))],
     "inner map: an inner map cannot be pinned"),
    ("inner-map-without-type-refused",
     lambda b: [("type", b.uint(12)),
                ("values", b.values(_inner(b, ("max_entries", b.uint(1)))))],
     "inner map: no map type"),
    ("inner-map-bad-field-refused",
     lambda b: [("type", b.uint(12)),
                ("values", b.values(_inner(b, ("type", b.uint(2)), ("map_extra", b.i32))))],
     "inner map: field 'map_extra' is INT"),
    ("pinning-2-refused", lambda b: _hash(b, ("pinning", b.uint(2))),
     "pinning 2 is neither 0 (none) nor 1 (by name)"),
    ("unknown-field-refused", lambda b: _hash(b, ("flags", b.uint(1))), "unknown field 'flags'"),
    ("unnamed-field-refused", lambda b: _hash(b, ("", b.uint(1))), "field #2 has no name"),
    ("no-type-refused", lambda b: [("max_entries", b.uint(1))], "no map type"),
    ("type-0-refused", lambda b: [("type", b.uint(0))], "no map type"),
    ("empty-struct-refused", lambda b: [], "no map type"),
]


@pytest.mark.parametrize("members,expected", [r[1:] for r in PARSE_ROWS],
                         ids=[r[0] for r in PARSE_ROWS])
def test_parse(members, expected):
    b = B()
    var = b.map(members(b), name="mymap")
    if isinstance(expected, str):
        with pytest.raises(MapDefError) as info:
            parse_map_def(b.btf, var, "mymap")
        assert expected in info.value.message, info.value.message
        assert (info.value.section, info.value.symbol) == (".maps", "mymap")
        return
    got = parse_map_def(b.btf, var, "mymap")
    for field, want in expected.items():
        assert getattr(got, field) == want, (field, got)
    # a definition reached through its struct (or a typedef of it) reads the same
    st = b.btf[var].ref
    assert parse_map_def(b.btf, b.add(Kind.TYPEDEF, "def_t", st), "mymap") == got


def test_definition_must_be_a_struct():
    b = B()
    union = b.add(Kind.UNION, "", 8, [["type", b.uint(1), 0]])
    with pytest.raises(MapDefError, match="its definition is UNION, not a struct"):
        parse_map_def(b.btf, b.add(Kind.VAR, "u", union, 1), "u")


def test_values_offset_of_a_bitfield_struct():
    """With kflag set a member's offset carries a bitfield size in its top byte."""
    b = B()
    st = b.add(Kind.STRUCT, "", 16, [["type", b.uint(12), 0],
                                     ["values", b.values(_inner(b)), (3 << 24) | 64]], kflag=1)
    assert parse_map_def(b.btf, st, "m").values_offset == 8


# -- the comparison of two definitions ------------------------------------------------------

def _ulong_hash(extra):
    return lambda b: _hash(b, ("map_extra", b.ulong(extra, kind=Kind.ENUM64)))


# (id, left members, right members, expected fragment or None)
MATCH_ROWS = [
    ("same", lambda b: _hash(b), lambda b: _hash(b), None),
    ("type", lambda b: [("type", b.uint(1))], lambda b: [("type", b.uint(2))], "type 1 vs 2"),
    ("max_entries", lambda b: _hash(b), lambda b: [("type", b.uint(1)), ("max_entries", b.uint(9))],
     "max_entries 8 vs 9"),
    ("key-size", lambda b: _hash(b, ("key", b.ptr(b.i32))),
     lambda b: _hash(b, ("key", b.ptr(b.add(Kind.INT, "long", 8, 0x01000040)))),
     "key_size 4 vs 8"),
    ("key-type-given-once", lambda b: _hash(b, ("key", b.ptr(b.i32))),
     lambda b: _hash(b, ("key_size", b.uint(4))), "key type given in one definition only"),
    ("value-type", lambda b: _hash(b, ("value", b.ptr(b.struct([("a", b.i32)], "v")))),
     lambda b: _hash(b, ("value", b.ptr(b.struct([("b", b.i32)], "v")))), "value type"),
    ("value-given-once", lambda b: _hash(b, ("value", b.ptr(b.i32))), lambda b: _hash(b),
     "value_size 4 vs 0"),
    ("flags", lambda b: _hash(b, ("map_flags", b.uint(1))), lambda b: _hash(b),
     "map_flags 1 vs 0"),
    ("numa", lambda b: _hash(b, ("numa_node", b.uint(1))), lambda b: _hash(b),
     "numa_node 1 vs 0"),
    ("pinning", lambda b: _hash(b, ("pinning", b.uint(1))), lambda b: _hash(b),
     "pinning 1 vs 0"),
    # __uint and __ulong spell one value: the definitions match
    ("map-extra-uint-vs-ulong", lambda b: _hash(b, ("map_extra", b.uint(5))),
     lambda b: _hash(b, ("map_extra", b.ulong(5))), None),
    ("map-extra-enum-vs-enum64", lambda b: _hash(b, ("map_extra", b.ulong(5))),
     lambda b: _hash(b, ("map_extra", b.ulong(5, kind=Kind.ENUM64))), None),
    ("map-extra", _ulong_hash(1 << 44), _ulong_hash(2 << 44),
     "map_extra 0x100000000000 vs 0x200000000000"),
    ("inner-map-given-once",
     lambda b: [("type", b.uint(12)), ("values", b.values(_inner(b)))],
     lambda b: [("type", b.uint(12)), ("value_size", b.uint(4))],
     "inner map given in one definition only"),
    ("inner-map-differs",
     lambda b: [("type", b.uint(12)), ("values", b.values(_inner(b)))],
     lambda b: [("type", b.uint(12)), ("values", b.values(_inner(b, ("type", b.uint(1)))))],
     "inner map: type 2 vs 1"),
    # a prog array's 'values' point to function prototypes: slots, no inner map
    ("prog-array-slots", lambda b: [("type", b.uint(3)), ("values", b.values(b.proto()))],
     lambda b: [("type", b.uint(3)), ("values", b.values(b.proto()))], None),
]


@pytest.mark.parametrize("left,right,fragment", [r[1:] for r in MATCH_ROWS],
                         ids=[r[0] for r in MATCH_ROWS])
def test_map_definitions_match(left, right, fragment):
    a, b = B(), B()
    da = parse_map_def(a.btf, a.map(left(a)), "m")
    db = parse_map_def(b.btf, b.map(right(b)), "m")
    why = map_mismatch(a.btf, da, b.btf, db)
    if fragment is None:
        assert why is None
    else:
        assert why is not None and fragment in why, why
    # the verdict does not depend on which side is first
    assert (map_mismatch(b.btf, db, a.btf, da) is None) == (fragment is None)


# -- differential: libbpf 1.6's open against bpflink's parser --------------------------------

@functools.cache
def _libbpf() -> ctypes.CDLL | None:
    path = find_libbpf_path()
    if path is None:
        return None
    lib = ctypes.CDLL(path)
    vp, u32 = ctypes.c_void_p, ctypes.c_uint32
    for name, res, args in (("bpf_object__open_file", vp, [ctypes.c_char_p, vp]),
                            ("libbpf_get_error", ctypes.c_long, [vp]),
                            ("bpf_object__close", None, [vp]),
                            ("bpf_object__next_map", vp, [vp, vp]),
                            ("bpf_map__name", ctypes.c_char_p, [vp]),
                            ("bpf_map__is_internal", ctypes.c_bool, [vp]),
                            ("bpf_map__type", ctypes.c_int, [vp]),
                            ("bpf_map__key_size", u32, [vp]),
                            ("bpf_map__value_size", u32, [vp]),
                            ("bpf_map__max_entries", u32, [vp]),
                            ("bpf_map__map_flags", u32, [vp]),
                            ("bpf_map__numa_node", u32, [vp]),
                            ("bpf_map__map_extra", ctypes.c_uint64, [vp]),
                            ("bpf_map__fd", ctypes.c_int, [vp]),
                            ("bpf_object__find_map_by_name", vp, [vp, ctypes.c_char_p]),
                            ("bpf_map_get_info_by_fd", ctypes.c_int,
                             [ctypes.c_int, vp, ctypes.POINTER(u32)])):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


def libbpf_maps(path: Path) -> dict[str, tuple] | None:
    """The BTF-defined maps libbpf's open (no load) makes of ``path``, or None if it
    refuses: name -> (type, key_size, value_size, max_entries, map_flags, numa_node,
    map_extra)."""
    lib = _libbpf()
    if lib is None:
        skip_or_fail("libbpf unavailable (the pylibbpf wheel carries it)", REQUIRE_KERNEL_ENV)
    obj = lib.bpf_object__open_file(str(path).encode(), None)
    if not obj or lib.libbpf_get_error(obj):
        return None
    try:
        maps, m = {}, lib.bpf_object__next_map(obj, None)
        while m:
            if not lib.bpf_map__is_internal(m):
                maps[lib.bpf_map__name(m).decode()] = (
                    lib.bpf_map__type(m), lib.bpf_map__key_size(m), lib.bpf_map__value_size(m),
                    lib.bpf_map__max_entries(m), lib.bpf_map__map_flags(m),
                    lib.bpf_map__numa_node(m), lib.bpf_map__map_extra(m))
            m = lib.bpf_object__next_map(obj, m)
        return maps
    finally:
        lib.bpf_object__close(obj)


def bpflink_maps(path: Path) -> dict[str, tuple]:
    """The same attributes as :func:`libbpf_maps`, from bpflink's parser."""
    from bpflink.elf.reader import read_object

    obj = read_object(path.read_bytes(), path.name)
    out = {}
    for t in obj.btf.types:
        if t.kind is Kind.DATASEC and t.name == ".maps":
            for vtid, _off, _size in t.data:
                name = obj.btf[vtid].name
                d = parse_map_def(obj.btf, vtid, name)
                out[name] = (d.type, d.key_size, d.value_size, d.max_entries, d.map_flags,
                             d.numa_node, d.map_extra)
    return out


HEADER = """\
#include "{include}"
#define ___ulong_paste(a, b) a##b
#define ___ulong_name(n) ___ulong_paste(__unique_value, n)
#define __ulong(name, val) enum {{ ___ulong_name(__COUNTER__) = val }} name
char LICENSE[] SEC("license") = "GPL";
SEC("tc") int prog(struct __sk_buff *skb) {{ return 0; }}
"""

# Each source defines maps; libbpf either opens it or refuses it.
FORMS = """
struct { __uint(type, 33); __uint(map_flags, 1024); __uint(max_entries, 1 << 16);
         __ulong(map_extra, 1ull << 44); } arena SEC(".maps");
struct { __uint(type, 30); __uint(max_entries, 64); __type(value, __u32);
         __ulong(map_extra, 5); } bloom SEC(".maps");
struct { __uint(type, 30); __uint(max_entries, 64); __uint(value_size, 8);
         __uint(map_extra, 3); } bloom_uint SEC(".maps");
struct { __uint(type, 1); __uint(max_entries, 8); __type(key, int); __type(value, __u64);
         __ulong(map_extra, 0x80000000); } high_bit SEC(".maps");
struct { __uint(type, 1); __uint(max_entries, 8); __type(key, int); __type(value, int);
         __ulong(map_extra, -1); } minus_one SEC(".maps");
struct { __uint(type, 1); __uint(max_entries, 8); __uint(key_size, 4); __type(key, int);
         __ulong(map_extra, -(1ll << 40)); } minus_2_40 SEC(".maps");
struct { __uint(type, 1); __uint(max_entries, 8); __type(key, int); __type(value, int);
         __uint(numa_node, 0); __uint(pinning, 0); } plain SEC(".maps");
struct inner { __uint(type, 2); __uint(max_entries, 1); __type(key, int); __type(value, int); };
struct { __uint(type, 12); __uint(max_entries, 2); __type(key, int);
         __array(values, struct inner); } outer SEC(".maps");
struct { __uint(type, 3); __uint(max_entries, 2); __type(key, int);
         __array(values, int (struct __sk_buff *)); } jumps SEC(".maps");
"""

REFUSED = {
    "two-enumerators": ("struct { __uint(type, 1); __uint(max_entries, 8); "
                        "enum { X1 = 1, X2 = 2 } map_extra; } m SEC(\".maps\");",
                        "field 'map_extra' is an enum of 2 enumerators"),
    "ulong-max-entries": ("struct { __uint(type, 1); __ulong(max_entries, 8); } m SEC(\".maps\");",
                          "field 'max_entries' is ENUM, not a pointer to an array"),
    "ulong-type": ("struct { __ulong(type, 1); __uint(max_entries, 8); } m SEC(\".maps\");",
                   "field 'type' is ENUM"),
    "key-typedef-pointer": ("typedef int *intp; struct { __uint(type, 1); "
                            "__uint(max_entries, 8); intp key; } m SEC(\".maps\");",
                            "field 'key' is TYPEDEF, not a pointer"),
    "unknown-field": ("struct { __uint(type, 1); __uint(max_entries, 8); __uint(flags, 1); } "
                      "m SEC(\".maps\");", "unknown field 'flags'"),
    "no-type": ("struct { __uint(max_entries, 8); } m SEC(\".maps\");", "no map type"),
    "pinning-2": ("struct { __uint(type, 1); __uint(max_entries, 8); __uint(pinning, 2); } "
                  "m SEC(\".maps\");", "pinning 2 is neither"),
    "values-on-hash": ("struct inner { __uint(type, 2); __uint(max_entries, 1); }; "
                       "struct { __uint(type, 1); __array(values, struct inner); } "
                       "m SEC(\".maps\");", "needs a map-in-map or prog-array type"),
    "inner-pinned": ("struct inner { __uint(type, 2); __uint(max_entries, 1); "
                     "__uint(pinning, 1); }; struct { __uint(type, 12); __uint(max_entries, 1); "
                     "__array(values, struct inner); } m SEC(\".maps\");",
                     "inner map: an inner map cannot be pinned"),
}


def _compile(tmp_path: Path, name: str, body: str) -> Path:
    src = tmp_path / f"{name}.c"
    src.write_text(HEADER.format(include=CORPUS_DIR / "include" / "bpf_defs.h") + body)
    proc = subprocess.run(compile_command(src, f"{name}.o"), cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / f"{name}.o"


def test_every_form_reads_as_libbpf_reads_it(tmp_path):
    obj = _compile(tmp_path, "forms", FORMS)
    theirs = libbpf_maps(obj)
    assert theirs is not None, "libbpf 1.6 refused the forms"
    ours = bpflink_maps(obj)
    assert ours == theirs
    # the edge cases really are what the source says they are
    assert ours["arena"][6] == 1 << 44 and ours["bloom"][6] == 5
    assert ours["high_bit"][6] == 0xFFFFFFFF80000000      # libbpf widens the __s32
    assert ours["minus_one"][6] == 2**64 - 1
    assert ours["minus_2_40"][6] == 2**64 - (1 << 40)
    # clang spells small values as 32-bit ENUM and 1 << 44 as ENUM64: both kinds are here
    from bpflink.elf.reader import read_object
    kinds = {t.kind for t in read_object(obj.read_bytes(), "forms.o").btf.types}
    assert {Kind.ENUM, Kind.ENUM64} <= kinds
    # and the object links alone, its maps unchanged
    out = tmp_path / "out.o"
    bpflink.link([obj], out)
    assert libbpf_maps(out) == theirs


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_libbpf_refuses_is_refused(name, tmp_path, capsys):
    body, fragment = REFUSED[name]
    obj = _compile(tmp_path, name, body)
    assert libbpf_maps(obj) is None, "libbpf 1.6 opens it"
    from bpflink.cli import main
    rc = main([str(obj), "-o", str(tmp_path / "out.o")])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    assert err.startswith(f"bpflink: error: {obj}: section .maps: m: "), err
    assert fragment in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out.o").exists()


def _corpus_inputs() -> list[Path]:
    seen: dict[Path, None] = {}
    for sc in load_scenarios():
        if not sc.big_endian:
            for p in sc.inputs:
                seen.setdefault(p, None)
    return list(seen)


def test_every_corpus_input_reads_as_libbpf_reads_it():
    """Every map of every corpus object libbpf opens: same attributes from bpflink."""
    opened = 0
    for path in _corpus_inputs():
        theirs = libbpf_maps(path)
        if theirs is None:
            continue            # extern maps, unresolved calls, deliberate defects
        opened += 1
        try:
            ours = bpflink_maps(path)
        except bpflink.LinkError:
            continue            # refused for another reason: the corpus's error scenarios
        assert ours == theirs, path
    assert opened >= 40


# -- the corpus scenarios ------------------------------------------------------------------

SCENARIOS = [load_scenario(CORPUS_DIR / n) for n in ("arena_extern", "bloom_extern")]


def _orders():
    for sc in SCENARIOS:
        for order in sc.all_orders:
            yield pytest.param(sc, order, id=f"{sc.name}[{'-'.join(p.stem for p in order)}]")


@pytest.mark.parametrize("sc,order", list(_orders()))
def test_link_opens_with_the_definitions_maps(sc, order, tmp_path):
    """libbpf opens the link; each map equals the one of the input that defines it
    (the extern's input does not open alone: libbpf has no extern maps)."""
    out = tmp_path / "out.o"
    bpflink.link(list(order), out)
    linked = libbpf_maps(out)
    assert linked is not None
    defining = [libbpf_maps(p) for p in sc.inputs]
    assert defining[1] is None, "b.o declares the map extern; libbpf cannot open it alone"
    assert defining[0] and linked == defining[0]
    # staged: each input linked alone first (the extern stays one), then together
    partials = []
    for i, p in enumerate(order):
        partials.append(tmp_path / f"partial{i}.o")
        bpflink.link([p], partials[-1], graph_checks=False)
    bpflink.link(partials, tmp_path / "staged.o")
    assert libbpf_maps(tmp_path / "staged.o") == linked


BPF_MAP_TYPE_ARENA, BPF_MAP_TYPE_BLOOM_FILTER = 33, 30


def test_arena_link_loads_where_the_kernel_creates_arenas(tmp_path, kernel):
    """Where the kernel creates arenas the link loads and runs; where it refuses
    (EPERM on this machine) the refusal is the arena's creation, nothing else."""
    sc = SCENARIOS[0]
    assert sc.may_refuse_map == "arena" and not sc.loadable
    for i, order in enumerate(sc.all_orders):
        out = tmp_path / f"out{i}.o"
        bpflink.link(list(order), out)
        assert libbpf_maps(out)["arena"] == (BPF_MAP_TYPE_ARENA, 0, 0, 1 << 16, 1 << 10, 0, 1 << 44)
        try:
            obj = kernel.load(out)
        except LoadError as e:
            refused = [f"map 'arena': failed to create: -{errno.errorcode[n]}"
                       for n in (errno.EPERM, errno.EINVAL, errno.EOPNOTSUPP)]
            assert any(r in e.log for r in refused), e.log
            assert "BPF program load failed" not in e.log, e.log
            continue
        assert check_loaded(obj, sc) == []


class _MapInfo(ctypes.Structure):
    """struct bpf_map_info (UAPI) up to map_extra."""

    _fields_ = [("type", ctypes.c_uint32), ("id", ctypes.c_uint32),
                ("key_size", ctypes.c_uint32), ("value_size", ctypes.c_uint32),
                ("max_entries", ctypes.c_uint32), ("map_flags", ctypes.c_uint32),
                ("name", ctypes.c_char * 16), ("ifindex", ctypes.c_uint32),
                ("btf_vmlinux_value_type_id", ctypes.c_uint32), ("netns_dev", ctypes.c_uint64),
                ("netns_ino", ctypes.c_uint64), ("btf_id", ctypes.c_uint32),
                ("btf_key_type_id", ctypes.c_uint32), ("btf_value_type_id", ctypes.c_uint32),
                ("btf_vmlinux_id", ctypes.c_uint32), ("map_extra", ctypes.c_uint64)]


def test_bloom_map_extra_reaches_the_kernel(tmp_path, kernel):
    """The kernel's own record of the linked bloom filter: 5 hash functions."""
    sc = SCENARIOS[1]
    lib = _libbpf()
    for i, order in enumerate(sc.all_orders):
        out = tmp_path / f"out{i}.o"
        bpflink.link(list(order), out)
        obj = kernel.load(out)
        assert check_loaded(obj, sc) == []
        fd = lib.bpf_map__fd(lib.bpf_object__find_map_by_name(obj._handle(), b"seen"))
        info, size = _MapInfo(), ctypes.c_uint32(ctypes.sizeof(_MapInfo))
        assert lib.bpf_map_get_info_by_fd(fd, ctypes.byref(info), ctypes.byref(size)) == 0
        assert (info.type, info.value_size, info.max_entries, info.map_extra) == \
            (BPF_MAP_TYPE_BLOOM_FILTER, 4, 64, 5)


@pytest.mark.parametrize("sc", SCENARIOS, ids=str)
def test_bpftool_predates_ulong(sc, tmp_path, bpftool):
    """libbpf 1.1 (Debian's bpftool) reads map_extra only as __uint: it refuses
    the extern's definition, which is why the scenarios skip it as a reference."""
    proc = bpftool_link(bpftool, sc.inputs, tmp_path / "out.o")
    assert proc.returncode != 0
    assert "attr 'map_extra': expected PTR, got enum" in proc.stderr, proc.stderr


def test_extern_with_another_map_extra_is_refused(tmp_path, capsys):
    """The arena's extern names another address: both files named, map_extra shown."""
    src = (CORPUS_DIR / "arena_extern" / "b.c").read_text()
    src = src.replace('"../include/bpf_defs.h"', f'"{CORPUS_DIR / "include" / "bpf_defs.h"}"')
    assert "__ulong(map_extra, 1ull << 44)" in src
    (tmp_path / "b.c").write_text(src.replace("__ulong(map_extra, 1ull << 44)",
                                              "__ulong(map_extra, 2ull << 44)"))
    proc = subprocess.run(compile_command(tmp_path / "b.c", "b.o"), cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    from bpflink.cli import main
    a = CORPUS_DIR / "arena_extern" / "a.o"
    for order in ([a, tmp_path / "b.o"], [tmp_path / "b.o", a]):
        rc = main([*map(str, order), "-o", str(tmp_path / "out.o")])
        err = capsys.readouterr().err
        assert rc == 1 and "Traceback" not in err
        assert "arena: map definition does not match" in err, err
        assert "map_extra 0x" in err and "0x100000000000" in err and "0x200000000000" in err
        assert str(a) in err and str(tmp_path / "b.o") in err, err
        assert not (tmp_path / "out.o").exists()
