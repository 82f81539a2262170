"""Each kind of malformed input gets one clear error naming file and section.

Table-driven: every row takes a valid corpus object, corrupts one field the
way a truncated download, a wrong compiler or a bit flip would, and pins
the message.  The link must exit 1, print exactly one ``bpflink: error:``
line for the file (no traceback) and write nothing.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bpflink.cli import main as cli_main

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SOURCE = CORPUS / "cross_call" / "a.o"        # little-endian, has .reltc, .BTF, .BTF.ext


class Elf:
    """Just enough ELF64-LE parsing to find the fields a test corrupts."""

    def __init__(self, data: bytes):
        self.data = bytearray(data)
        (self.shoff,) = struct.unpack_from("<Q", data, 0x28)
        self.shnum, self.shstrndx = struct.unpack_from("<HH", data, 0x3C)

    def shdr_off(self, index: int) -> int:
        return self.shoff + 64 * index

    def shdr(self, index: int) -> tuple:
        return struct.unpack_from("<IIQQQQIIQQ", self.data, self.shdr_off(index))

    def index(self, name: str) -> int:
        names_off = self.shdr(self.shstrndx)[4]
        for i in range(1, self.shnum):
            start = names_off + self.shdr(i)[0]
            end = self.data.index(0, start)
            if self.data[start:end].decode() == name:
                return i
        raise KeyError(name)

    def body(self, name: str) -> int:
        """File offset of a section's contents."""
        return self.shdr(self.index(name))[4]

    def set_shdr(self, name: str, field: int, value: int) -> None:
        fmt = "<IIQQQQIIQQ"
        fields = list(self.shdr(self.index(name)))
        fields[field] = value
        struct.pack_into(fmt, self.data, self.shdr_off(self.index(name)), *fields)


def corrupt(fn) -> bytes:
    elf = Elf(SOURCE.read_bytes())
    fn(elf)
    return bytes(elf.data)


def _set(fmt: str, where, value):
    def apply(elf: Elf):
        off = where(elf) if callable(where) else where
        struct.pack_into(fmt, elf.data, off, value)
    return apply


# (id, corruption, expected section or None, expected message fragment)
CASES = [
    ("empty", lambda e: e.data.clear(), None, "not an ELF file"),
    ("text", lambda e: e.data.__setitem__(slice(None), b"hello, world\n"), None, "not an ELF file"),
    ("short-header", lambda e: e.data.__delitem__(slice(40, None)), None, "truncated ELF header"),
    ("elf32", _set("<B", 4, 1), None, "not a 64-bit ELF object"),
    ("x86-64", _set("<H", 0x12, 62), None, "not a BPF object"),
    ("executable", _set("<H", 0x10, 2), None, "not a relocatable object"),
    ("cut-in-half", lambda e: e.data.__delitem__(slice(len(e.data) // 2, None)), None,
     "truncated: section header table"),
    ("huge-shnum", _set("<H", 0x3C, 0xFFF0), None, "section headers at offset"),
    ("shstrndx-out-of-range", _set("<H", 0x3E, 0x7FFF), None, "section name table index"),
    ("section-past-eof", lambda e: e.set_shdr(".BTF", 5, 1 << 32), ".BTF", "run past the end"),
    ("odd-section-type", lambda e: e.set_shdr(".llvm_addrsig", 1, 0x12345), ".llvm_addrsig",
     "section type 0x12345 is not supported"),
    ("code-not-8-byte-multiple", lambda e: e.set_shdr("tc", 5, 12), "tc",
     "not a multiple of 8"),
    ("symbol-section-out-of-range",
     _set("<H", lambda e: e.body(".symtab") + 24 * 12 + 6, 0x7000), ".symtab",
     "points to section #28672"),
    ("strtab-without-terminator",
     lambda e: e.data.__setitem__(e.body(".strtab") + e.shdr(e.index(".strtab"))[5] - 1, 0x41),
     ".strtab", "no terminating NUL"),
    ("reloc-symbol-out-of-range", _set("<I", lambda e: e.body(".reltc") + 12, 999), ".reltc",
     "refers to symbol #999"),
    ("reloc-unknown-type", _set("<I", lambda e: e.body(".reltc") + 8, 77), ".reltc",
     "unsupported type 77"),
    ("reloc-odd-offset", _set("<Q", lambda e: e.body(".reltc"), 3), ".reltc",
     "not on an instruction boundary"),
    ("reloc-past-section", _set("<Q", lambda e: e.body(".reltc"), 4096), ".reltc",
     "lies outside"),
    ("btf-bad-magic", _set("<H", lambda e: e.body(".BTF"), 0x1234), ".BTF", "bad BTF magic"),
    ("btf-type-id-out-of-range",
     # [1] is an INT (16-byte record), [2] a FUNC_PROTO: point its return type at 99999
     _set("<I", lambda e: e.body(".BTF") + 24 + 16 + 8, 99999), ".BTF", "references type [99999]"),
    ("btf-string-out-of-range", _set("<I", lambda e: e.body(".BTF") + 24, 1 << 20), ".BTF",
     "outside the string section"),
    ("btf-huge-vlen",
     _set("<I", lambda e: e.body(".BTF") + 24 + 4, (4 << 24) | 0xFFFF), ".BTF", "truncated"),
    ("btf-ext-past-code",
     # first func_info record of the first section: 32-byte header, rec_size, sec hdr
     _set("<I", lambda e: e.body(".BTF.ext") + 32 + 4 + 8, 1 << 16), ".BTF.ext",
     "points past the code"),
    ("btf-ext-misaligned",
     # the same record, inside the code but not on an instruction (checked in C first)
     _set("<I", lambda e: e.body(".BTF.ext") + 32 + 4 + 8, 4), ".BTF.ext",
     "record at instruction offset 4 points past the code"),
]


@pytest.mark.parametrize("mutate,section,fragment", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_malformed_input_is_one_clear_error(mutate, section, fragment, tmp_path, capsys):
    bad = tmp_path / "bad.o"
    bad.write_bytes(corrupt(mutate))
    out = tmp_path / "out.o"
    rc = cli_main([str(bad), str(CORPUS / "cross_call" / "b.o"), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1, err
    lines = [ln for ln in err.splitlines() if ln.startswith("bpflink: error:")]
    assert len(lines) == 1, err
    prefix = f"bpflink: error: {bad}: " + (f"section {section}: " if section else "")
    assert lines[0].startswith(prefix), err
    assert fragment in lines[0], err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.o"]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*/*.o")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_btf_ext_offset_summaries_match_the_records(path):
    """btf.ext.parse sums up each table's insn_offs (largest, all aligned) from the raw
    records, little- or big-endian, so the reader loops over records only for an error."""
    from bpflink.btf import ext as btf_ext
    from bpflink.elf.reader import read_object

    try:
        obj = read_object(path.read_bytes(), path.name)
    except Exception:
        pytest.skip("not a valid input")
    sec = obj.section(".BTF.ext")
    if obj.btf_ext is None or sec is None:
        pytest.skip("no BTF.ext")
    raw = bytearray(sec.data)
    bo = ">" if obj.big_endian else "<"
    hdr_len, fi_off, fi_len = struct.unpack_from(bo + "I", raw, 4)[0], \
        *struct.unpack_from(bo + "II", raw, 8)
    for bump in (0, 4, 1):          # as compiled; then the first func_info record moved
        if bump:
            if not fi_len:
                break
            at = hdr_len + fi_off + 4 + 8
            struct.pack_into(bo + "I", raw, at, struct.unpack_from(bo + "I", raw, at)[0] + bump)
        offsets: dict = {}
        ext = btf_ext.parse(bytes(raw), obj.btf_raw, len(obj.btf), offsets=offsets)
        expected = {}
        for kind, table in (("func_info", ext.func_info), ("line_info", ext.line_info),
                            ("CO-RE relocation", ext.core_relo)):
            for name, recs in table.items():
                if recs:
                    expected[(kind, name)] = (max(r[0] for r in recs),
                                              all(r[0] % 8 == 0 for r in recs))
        assert offsets == expected
        assert all(aligned for _, aligned in offsets.values()) == (bump == 0)


def _widened_ext(raw: bytes, bo: str, extra: int) -> bytes:
    """``raw`` (a .BTF.ext) with ``extra`` more bytes of junk after every record, as a
    newer producer that appends fields would write it."""
    hdr_len = struct.unpack_from(bo + "I", raw, 4)[0]
    blocks = [struct.unpack_from(bo + "II", raw, at) for at in (8, 16, 24)[:(hdr_len - 8) // 8]]
    body, new_blocks = b"", []
    for off, length in blocks:
        blk = raw[hdr_len + off:hdr_len + off + length]
        out, pos = b"", 4
        rec_size = struct.unpack_from(bo + "I", blk)[0] if length else 0
        while pos < length:
            name_off, num = struct.unpack_from(bo + "II", blk, pos)
            pos += 8
            out += struct.pack(bo + "II", name_off, num)
            for _ in range(num):
                out += blk[pos:pos + rec_size] + bytes(range(0xA0, 0xA0 + extra))
                pos += rec_size
        new_blocks.append((len(body), len(out) + 4 if length else 0))
        body += struct.pack(bo + "I", rec_size + extra) + out if length else b""
    hdr = bytearray(raw[:hdr_len])
    for k, (off, length) in enumerate(new_blocks):
        struct.pack_into(bo + "II", hdr, 8 + 8 * k, off, length)
    return bytes(hdr) + body


@pytest.mark.parametrize("path", [SOURCE, CORPUS / "big_endian" / "a.o"],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_btf_ext_wider_records_read_as_the_known_fields(path):
    """Records larger than bpflink knows (a newer producer's appended fields) are read
    by their known fields: the same records, offsets and summaries."""
    from bpflink.btf import ext as btf_ext
    from bpflink.elf.reader import read_object

    obj = read_object(path.read_bytes(), path.name)
    sec = obj.section(".BTF.ext")
    assert obj.btf_ext is not None and sec is not None
    bo = ">" if obj.big_endian else "<"
    summaries: dict = {}
    ext = btf_ext.parse(bytes(sec.data), obj.btf_raw, len(obj.btf), offsets=summaries)
    assert ext.func_info and ext.line_info
    wide_summaries: dict = {}
    wide = btf_ext.parse(_widened_ext(bytes(sec.data), bo, 8), obj.btf_raw, len(obj.btf),
                         offsets=wide_summaries)
    assert wide == ext and wide_summaries == summaries


def test_btf_ext_strings_leave_out_only_repeats():
    """BtfExt.strings() skips a string that is the same object as the one before it in
    its field; deduplicated, the list is the one every record's strings make, in order,
    so the string table (and the output) is the same."""
    from bpflink.btf.ext import BtfExt

    a, b = "file.c", "".join(["fi", "le.c"])        # equal, not the same object
    lines = [[0, a, "x = 1;", 0], [8, a, "x = 1;", 5], [16, b, "y = 2;", 0],
             [24, a, "".join(["y = ", "2;"]), 0], [32, "other.c", "x = 1;", 0]]
    ext = BtfExt(func_info={".text": [[0, 1]], "tc": [[0, 2]]},
                 line_info={"tc": lines[:2], ".text": lines[2:]},
                 core_relo={".text": [[0, 1, "0:1", 0], [8, 1, "0:1", 0]], "xdp": [[0, 2, "0", 0]]})
    every = [*ext.func_info]
    for sec, recs in ext.line_info.items():
        every += [sec, *[s for r in recs for s in (r[1], r[2])]]
    for sec, recs in ext.core_relo.items():
        every += [sec, *[r[2] for r in recs]]
    assert list(dict.fromkeys(ext.strings())) == list(dict.fromkeys(every))
    assert len(ext.strings()) < len(every)


@pytest.mark.parametrize("blob", [b"\0.text\0.rel.text\0license\0", b"\0a\0bc\0unterminated",
                                  "\0caf\u00e9\0x\0".encode(), b"\0ok\0\xff\xfe\0z\0",
                                  b"\0" * 500])
def test_string_table_decoded_whole_reads_as_one_by_one(blob):
    """_Names decodes a table of about as many strings as names at once; every
    offset must read (or fail) exactly as the one-by-one decoding does."""
    from bpflink.elf.reader import _Names
    from bpflink.errors import FormatError

    def read(names, off):
        try:
            return names.get(off, "x")
        except FormatError as e:
            return e.message

    whole, lazy = _Names(blob, "t", count=8), _Names(blob, "t")
    assert [read(whole, o) for o in range(len(blob) + 2)] == \
        [read(lazy, o) for o in range(len(blob) + 2)]
    if blob.count(b"\0") <= 80 and blob.isascii():
        assert whole.cache                      # it did decode the table whole
