"""The merged BTF.ext keeps line_info as runs of input records, shifted when
encoded (MergedBtfExt): it must read, list strings and encode exactly as the
table of shifted records it stands for."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import bpflink
from bpflink.btf.ext import BtfExt, MergedBtfExt
from bpflink.btf.types import StringTable

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _eager(ext: BtfExt) -> BtfExt:
    """A plain BtfExt of ``ext``'s records (line_info shifted, as the merge made it)."""
    return BtfExt({k: list(v) for k, v in ext.func_info.items()},
                  {k: list(v) for k, v in ext.line_info.items()},
                  {k: list(v) for k, v in ext.core_relo.items()})


def _encoded(ext: BtfExt, order: list[str] | None = None) -> bytes:
    strings = StringTable()
    strings.add_new(list(dict.fromkeys(ext.strings())))
    return ext.encode(strings, order=order)


def _merged() -> MergedBtfExt:
    a, b = "file.c", "".join(["fi", "le.c"])
    ext = MergedBtfExt()
    ext.func_info[".text"] = [[0, 1], [64, 2]]
    ext.core_relo["tc"] = [[8, 1, "0:1", 0]]
    assert ext.line_runs is not None
    ext.line_runs[".text"] = [(0, [(0, a, "x = 1;", 5), (8, a, "x = 1;", 7), (16, b, "y;", 0)]),
                              (64, [(0, b, "z;", 3)])]
    ext.line_runs["tc"] = [(128, [(0, "t.c", "t;", 1), (16, "t.c", "u;", 2)])]
    ext.line_runs["xdp"] = []           # a section none of whose inputs has records
    return ext


def test_merged_line_info_reads_as_the_shifted_records():
    ext = _merged()
    assert not ext.is_empty() and ext.sections() == [".text", "tc", "xdp"]
    strings, encoded = ext.strings(), _encoded(ext, ["tc", "xdp", ".text"])
    assert ext.line_runs is not None        # none of that made the records
    assert ext.line_info == {
        ".text": [(0, "file.c", "x = 1;", 5), (8, "file.c", "x = 1;", 7),
                  (16, "file.c", "y;", 0), (64, "file.c", "z;", 3)],
        "tc": [(128, "t.c", "t;", 1), (144, "t.c", "u;", 2)], "xdp": []}
    assert ext.line_runs is None
    eager = _eager(ext)
    assert ext == eager and ext.strings() == eager.strings() == strings
    assert _encoded(eager, ["tc", "xdp", ".text"]) == encoded


def test_merged_line_info_assigned_replaces_the_runs():
    ext = _merged()
    ext.line_info = {"tc": [(0, "t.c", "t;", 1)]}
    assert ext.line_runs is None and ext.line_info == {"tc": [(0, "t.c", "t;", 1)]}
    assert _encoded(ext) == _encoded(_eager(ext))
    empty = MergedBtfExt()
    assert empty.is_empty() and empty == BtfExt()


@pytest.mark.parametrize("case", ["cross_call", "big_endian", "data_sections"])
def test_linked_ext_encodes_as_its_shifted_records(case):
    objs = sorted((CORPUS / case).glob("*.o"))
    linked = bpflink.link(objs).linked
    ext = linked.btf_ext
    assert isinstance(ext, MergedBtfExt) and ext.line_runs
    order = [s.name for s in linked.sections]
    strings, encoded = ext.strings(), _encoded(ext, order)
    eager = _eager(ext)     # reading line_info made the records
    assert ext.line_runs is None and eager.line_info
    assert list(dict.fromkeys(strings)) == list(dict.fromkeys(eager.strings()))
    assert _encoded(eager, order) == encoded


@pytest.mark.parametrize("big_endian", [False, True])
def test_line_records_pack_as_one_by_one(big_endian):
    """encode packs line_info four records at a time, the rest one by one:
    held to a pack per record, for every remainder and both byte orders."""
    bo = ">" if big_endian else "<"
    for n in range(10):
        recs = [(8 * i, f"f{i % 3}.c", f"line {i}", i << 10 | i) for i in range(n)]
        ext = MergedBtfExt()
        assert ext.line_runs is not None
        ext.line_runs["s"] = [(64, recs[:n // 2]), (4096, recs[n // 2:])] if n else []
        strings = StringTable()
        strings.add_new(list(dict.fromkeys(ext.strings())))
        raw = ext.encode(strings, big_endian)
        if not n:
            assert raw[32:] == b""
            continue
        off = strings.offset
        shifted = [(o + (64 if i < n // 2 else 4096), f, ln, c) for i, (o, f, ln, c) in enumerate(recs)]
        expected = struct.pack(bo + "III", 16, off("s"), n) + b"".join(
            struct.pack(bo + "IIII", o, off(f), off(ln), c) for o, f, ln, c in shifted)
        assert raw[32:] == expected
