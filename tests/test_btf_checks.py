"""The BTF parser's ID and cycle checks, against a plain statement of them.

``btf.types.parse`` runs ``validate_ids`` and ``check_cycles`` on the
reference lists and per-kind ID lists it builds while reading, and the
checks visit only the kinds they are about (the largest reference is found
in C first).  The error an input gets must still be the one a plain pass
over every type in ID order meets first: this holds them to that on random
type graphs, encoded and parsed back.
"""

from __future__ import annotations

import random
import sys

import pytest

from bpflink.btf.types import (ARRAY, CONST, DATASEC, DECL_TAG, ENUM, FUNC, FUNC_PROTO, FWD, INT,
                               MAX_RESOLVE_DEPTH, PTR, STRUCT, TYPEDEF, UNION, UNKN, VAR, VOLATILE,
                               Btf, BtfType, check_cycles, parse, validate_ids)
from bpflink.errors import FormatError

CHAIN = (TYPEDEF, CONST, VOLATILE, VAR)


def refs_of(t: BtfType) -> list[int]:
    k = t.kind
    if k in (PTR, TYPEDEF, CONST, VOLATILE, FUNC, VAR, DECL_TAG):
        return [t.ref] if t.ref else []
    if k is FUNC_PROTO:
        return [t.ref] + [p[1] for p in t.data]
    if k is STRUCT or k is UNION:
        return [m[1] for m in t.data]
    if k is ARRAY:
        return list(t.data[:2])
    if k is DATASEC:
        return [v[0] for v in t.data]
    return []


def first_cycle(refs: list[list[int]]) -> int | None:
    state = [0] * len(refs)

    def visit(tid: int) -> int | None:
        state[tid] = 1
        for nxt in refs[tid]:
            if not nxt:
                continue
            if state[nxt] == 1:
                return nxt
            if state[nxt] == 0:
                found = visit(nxt)
                if found is not None:
                    return found
        state[tid] = 2
        return None

    for root in range(1, len(refs)):
        if not state[root]:
            found = visit(root)
            if found is not None:
                return found
    return None


def expected(types: list[BtfType]) -> tuple[str, str] | None:
    """(the type the error names, a phrase of it), every check a plain pass in ID order."""
    n = len(types)
    refs = [refs_of(t) for t in types]
    for tid, r in enumerate(refs):
        if r and max(r) >= n:
            return f"type [{tid}]", f"references type [{max(r)}], but there are only"
    for tid, t in enumerate(types):
        k = t.kind
        if k in (FUNC, VAR, DECL_TAG) and t.ref == 0:
            return f"type [{tid}]", "references void"
        if k is FUNC and types[t.ref].kind is not FUNC_PROTO:
            return f"type [{tid}]", "does not point to a FUNC_PROTO"
        if k is VAR and t.data > 2:
            return f"type [{tid}]", "unknown linkage"
        if k is DATASEC:
            for vt, _o, _s in t.data:
                if types[vt].kind is not VAR and not (types[vt].kind is FUNC
                                                      and t.name == ".ksyms"):
                    return f"type [{tid}]", "which is not a variable"
        if k is DECL_TAG and t.data < -1:
            return f"type [{tid}]", "bad component index"
    found = first_cycle([[] if t.kind is PTR else r for t, r in zip(types, refs)])
    if found is not None:
        return f"type [{found}]", "no pointer breaks"
    found = first_cycle([[] if t.kind in (STRUCT, UNION) else r for t, r in zip(types, refs)])
    if found is not None:
        return f"type [{found}]", "without passing through a struct or union"
    for start in range(1, n):
        d, tid = 0, start
        while tid and (types[tid].kind in CHAIN or types[tid].kind is ARRAY):
            d += 1
            tid = types[tid].data[0] if types[tid].kind is ARRAY else types[tid].ref
        if d > MAX_RESOLVE_DEPTH:
            return f"type [{start}]", f"is behind {d} typedefs"
    return None


def random_types(rng: random.Random) -> list[BtfType]:
    n = rng.randrange(2, 30)
    long_chain = rng.random() < 0.1
    if long_chain:
        n += 40

    def ref() -> int:
        return rng.randrange(0, n + 1) if rng.random() < 0.03 else rng.randrange(0, n)

    types = [BtfType(UNKN)]
    kinds = [INT, PTR, TYPEDEF, CONST, VOLATILE, ARRAY, STRUCT, UNION, FUNC_PROTO, FUNC, VAR,
             DECL_TAG, DATASEC, FWD, ENUM]
    for tid in range(1, n):
        k = rng.choice(kinds)
        if long_chain and tid < 41:
            k = TYPEDEF
        if k is INT:
            t = BtfType(INT, "int", 4, 32)
        elif k is ARRAY:
            t = BtfType(ARRAY, "", 0, [ref(), ref(), rng.randrange(4)])
        elif k is STRUCT or k is UNION:
            t = BtfType(k, "s", 8, [[f"m{i}", ref(), 0] for i in range(rng.randrange(3))])
        elif k is FUNC_PROTO:
            t = BtfType(FUNC_PROTO, "", ref(), [["p", ref()] for _ in range(rng.randrange(3))])
        elif k is FUNC:
            t = BtfType(FUNC, "f", ref(), vlen_info=rng.randrange(3))
        elif k is VAR:
            t = BtfType(VAR, "v", ref(), rng.choice([0, 1, 1, 2, 3]))
        elif k is DECL_TAG:
            t = BtfType(DECL_TAG, "tag", ref(), rng.choice([-1, -1, 0, -2]))
        elif k is DATASEC:
            t = BtfType(DATASEC, rng.choice([".data", ".ksyms"]), 8,
                        [[ref(), 0, 4] for _ in range(rng.randrange(3))])
        elif k is FWD:
            t = BtfType(FWD, "fw")
        elif k is ENUM:
            t = BtfType(ENUM, "e", 4, [["A", 1]])
        else:
            t = BtfType(k, "", ref())
        if long_chain and tid < 41:
            t.ref = tid + 1 if tid < 40 else 0      # one chain of 40 typedefs
        types.append(t)
    if long_chain:          # shuffle the IDs so that the chain's head is not first
        perm = list(range(1, n))
        rng.shuffle(perm)
        new_id = [0] + perm
        shuffled = [BtfType(UNKN)] + [BtfType(UNKN)] * (n - 1)
        for old, t in enumerate(types[1:], 1):
            c = t.copy()
            c.remap(lambda i: new_id[i] if i < n else i)
            shuffled[new_id[old]] = c
        types = shuffled
    return types


def test_parse_reports_the_error_a_plain_pass_in_id_order_meets_first():
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    rng = random.Random(11)
    outcomes: dict[str, int] = {}
    for _ in range(4000):
        types = random_types(rng)
        raw, _ = Btf(types).encode()
        want = expected(types)
        if want is None:
            btf, _be = parse(raw)
            assert [t.key() for t in btf.types] == [t.key() for t in types]
            outcomes["ok"] = outcomes.get("ok", 0) + 1
            continue
        with pytest.raises(FormatError) as e:
            parse(raw)
        assert want[0] in e.value.message and want[1] in e.value.message, (want, e.value)
        what = "depth" if "is behind" in want[1] else "range" if "only" in want[1] else want[1]
        outcomes[what] = outcomes.get(what, 0) + 1
        # The checks called alone (reference and kind lists computed) agree.
        with pytest.raises(FormatError) as alone:
            btf = Btf(types)
            validate_ids(btf)
            check_cycles(btf)
        assert alone.value.message == e.value.message
    # every check was exercised, and valid inputs too
    assert len(outcomes) == 10 and min(outcomes.values()) >= 5, outcomes


def test_parse_reads_both_byte_orders_alike():
    """Big-endian BTF (types, the references the checks walk, and so the
    errors) reads as the little-endian encoding of the same types does."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    rng = random.Random(5)
    for _ in range(500):
        types = random_types(rng)
        outcomes = []
        for big_endian in (False, True):
            raw, _ = Btf(types).encode(big_endian=big_endian)
            try:
                btf, be = parse(raw)
            except FormatError as e:
                outcomes.append(e.message)
            else:
                assert be == big_endian
                outcomes.append([t.key() for t in btf.types])
        assert outcomes[0] == outcomes[1]


def raw_btf(type_words: list[int], strings: bytes = b"\0") -> bytes:
    """A little-endian .BTF section of the given type-section words."""
    import struct
    tdata = struct.pack(f"<{len(type_words)}I", *type_words)
    return struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(tdata), len(tdata),
                       len(strings)) + tdata + strings


@pytest.mark.parametrize("words, message", [
    ([0, 2 << 24], "type [1] is truncated (needs 12 bytes at offset 0)"),
    ([0, 1 << 24, 4], "type [1] is truncated (needs 4 bytes at offset 12)"),
    ([0, 1 << 24, 4, 32, 0, 2 << 24], "type [2] is truncated (needs 12 bytes at offset 16)"),
    ([0, 4 << 24 | 2, 8, 0, 1, 0], "type [1] is truncated (needs 24 bytes at offset 12)"),
    ([0, 0, 0], "type [1] has unknown kind 0"),
    ([0, 2 << 24, 0, 0, 25 << 24, 0], "type [2] has unknown kind 25"),
    ([0, 2 << 24 | 1, 0], "type [1] (PTR) has vlen 1, expected 0"),
    ([0, 1 << 24 | 1, 4, 32], "type [1] (INT) has vlen 1, expected 0"),
    ([7, 2 << 24, 0], "type [1] name: string offset 7 is outside the string section (1 bytes)"),
])
def test_parse_names_the_bad_record(words: list[int], message: str):
    with pytest.raises(FormatError) as e:
        parse(raw_btf(words))
    assert e.value.message == message


def test_parse_reads_names_that_start_inside_another_string():
    """Offsets into the middle of a string (suffix sharing) miss the pre-split
    cache and are read on their own, for type, member and parameter names."""
    strings = b"\0int\0xnext\0yarg\0"       # int @1, xnext @5, yarg @11
    words = [2, 1 << 24, 4, 32,                             # [1] INT 'nt'
             0, 4 << 24 | 1, 8, 6, 1, 0,                    # [2] STRUCT, member 'next'
             0, 4 << 24 | 1, 8, 5, 1, 0,                    # [3] STRUCT, member 'xnext'
             0, 13 << 24 | 1, 1, 12, 1,                     # [4] FUNC_PROTO, param 'arg'
             0, 13 << 24 | 1, 1, 11, 1]                     # [5] FUNC_PROTO, param 'yarg'
    btf, _ = parse(raw_btf(words, strings))
    assert btf.types[1].name == "nt"
    assert [m[0] for m in btf.types[2].data] == ["next"]
    assert [m[0] for m in btf.types[3].data] == ["xnext"]
    assert [p[0] for p in btf.types[4].data] == ["arg"]
    assert [p[0] for p in btf.types[5].data] == ["yarg"]


def test_string_section_split_gives_each_string_at_its_offset():
    """The pre-split of the string section (one decode when it is ASCII) against
    a decode of each NUL-terminated string at its byte offset."""
    from bpflink.btf.types import _Strings

    def reference(blob: bytes) -> dict[int, str]:
        cache: dict[int, str] = {}
        off = 0
        try:
            for part in blob.split(b"\0")[:-1]:
                cache[off] = part.decode()
                off += len(part) + 1
        except UnicodeDecodeError:
            pass            # strings from the first bad one on are decoded on use
        cache[0] = ""
        return cache

    rng = random.Random(3)
    ascii_blobs = 0
    for _ in range(3000):
        parts = [bytes(rng.choice(b"ab_\x00\xc3\xa9\xff") for _ in range(rng.randrange(5)))
                 for _ in range(rng.randrange(6))]
        blob = b"\0" + b"\0".join(parts) + b"\0"
        ascii_blobs += blob.isascii()
        assert _Strings(blob, ".BTF").cache == reference(blob), blob
    assert 300 < ascii_blobs < 2700
