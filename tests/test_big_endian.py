"""A big-endian link means the same as the little-endian link of the same sources.

``corpus/big_endian`` is ``corpus/cross_call`` compiled for ``bpfeb``, and
``corpus/big_endian_statics`` is ``corpus/static_same_name`` (whose
section-relative calls and loads the linker must adjust in place).  The
kernel here cannot run big-endian programs, so the check is structural and
independent of bpflink's writer: both outputs are decoded (instructions in
their own byte order, symbols, relocations, BTF, BTF.ext) and must agree
field by field.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import bpflink
from bpflink.elf.constants import SHT_PROGBITS
from bpflink.elf.reader import read_object

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def decode_insns(code: bytes, big_endian: bool) -> list[tuple[int, int, int, int, int]]:
    """(opcode, dst, src, off, imm) per instruction; BPF puts dst in the low nibble on LE."""
    out = []
    for i in range(0, len(code), 8):
        op, regs = code[i], code[i + 1]
        if big_endian:
            dst, src = regs >> 4, regs & 0xF
            off, imm = struct.unpack_from(">hi", code, i + 2)
        else:
            dst, src = regs & 0xF, regs >> 4
            off, imm = struct.unpack_from("<hi", code, i + 2)
        out.append((op, dst, src, off, imm))
    return out


def describe(data: bytes) -> dict:
    obj = read_object(data, "out.o")
    sections = {}
    for s in obj.sections[1:]:
        if s.type != SHT_PROGBITS or s.name in (".BTF", ".BTF.ext"):
            continue
        # data keeps the object's byte order and its layout is the program's business:
        # compare sizes only
        sections[s.name] = decode_insns(s.data, obj.big_endian) if s.is_exec else len(s.data)
    symbols = [(s.name, s.value, s.size, s.bind, s.type, obj.sections[s.shndx].name
                if 0 < s.shndx < len(obj.sections) else s.shndx) for s in obj.symbols]
    relocs = {obj.sections[t].name: [(off, obj.symbols[sym].name, rtype) for off, sym, rtype in rs]
              for t, rs in obj.relocations.items()}
    ext = obj.btf_ext
    return {
        "big_endian": obj.big_endian,
        "sections": sections,
        "symbols": symbols,
        "relocs": relocs,
        "btf": [t.key() for t in obj.btf.types],
        "func_info": ext.func_info,
        "core_relo": ext.core_relo,
        "line_info": {k: [(r[0], r[2].strip(), r[3]) for r in v] for k, v in ext.line_info.items()},
    }


@pytest.mark.parametrize("be_dir,le_dir", [("big_endian", "cross_call"),
                                           ("big_endian_statics", "static_same_name")])
@pytest.mark.parametrize("order", [("a.o", "b.o"), ("b.o", "a.o")])
def test_big_endian_link_matches_little_endian_link(be_dir, le_dir, order):
    be = describe(bpflink.link([CORPUS / be_dir / n for n in order]).data)
    le = describe(bpflink.link([CORPUS / le_dir / n for n in order]).data)
    assert be.pop("big_endian") is True and le.pop("big_endian") is False
    for key in le:
        assert be[key] == le[key], key
    assert le["relocs"], "the scenario must exercise relocations"
