"""Hand-built linked objects for call-graph unit tests.

A :class:`Tiny` lays out functions written as symbolic instructions into
output sections, one piece per (input, section), and produces the
:class:`~bpflink.linker.model.LinkedObject` the graph builder reads: code in
either byte order, function and section symbols, relocations, a BTF FUNC and
a func_info record per function, and decl tags.  It covers what clang never
emits too (``ld_imm64`` already marked ``BPF_PSEUDO_FUNC``, dangling calls).

    t = Tiny()
    t.func("a.o", "tc", "prog", [call("cb"), EXIT])
    t.func("a.o", ".text", "cb", [EXIT])
    t.tag("prog", "exception_callback:cb")
    graph = build_callgraph(t.linked())

Targets are written ``"name"`` or ``"file:name"`` when the name is not unique.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from bpflink.btf.ext import BtfExt
from bpflink.btf.types import FUNC_GLOBAL, FUNC_STATIC, Btf, BtfType, Kind
from bpflink.elf.constants import (
    R_BPF_64_32,
    R_BPF_64_64,
    SHF_ALLOC,
    SHF_EXECINSTR,
    SHF_WRITE,
    SHT_PROGBITS,
    STB_GLOBAL,
    STB_LOCAL,
    STB_WEAK,
    STT_FUNC,
    STT_OBJECT,
    STT_SECTION,
    STV_DEFAULT,
    STV_HIDDEN,
)
from bpflink.elf.reader import InputObject, Section
from bpflink.linker.model import (
    LinkedObject,
    OutputReloc,
    OutputSection,
    OutputSymbol,
    Piece,
)


@dataclass(frozen=True)
class Op:
    """A symbolic instruction: ``kind`` says how it is encoded, ``arg`` what it refers to."""

    kind: str
    arg: object = None
    dst: int = 0
    src: int = 0
    off: int = 0
    imm: int = 0

    @property
    def size(self) -> int:
        return 16 if self.kind.startswith("ld") else 8


def raw(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> Op:
    return Op("raw", code, dst, src, off, imm)


EXIT = raw(0x95)


def call(target: str) -> Op:
    """``call`` relocated (R_BPF_64_32) against the target's function symbol."""
    return Op("call_sym", target)


def call_section(target: str) -> Op:
    """``call`` relocated against the target's section symbol (clang's static calls)."""
    return Op("call_sec", target)


def call_pc(target: str) -> Op:
    """``call`` with src_reg = BPF_PSEUDO_CALL and no relocation (same section)."""
    return Op("call_pc", target)


def call_to(offset: int) -> Op:
    """A pc-relative call to a raw byte offset of the section (may point nowhere)."""
    return Op("call_off", offset)


def helper(func_id: int) -> Op:
    return raw(0x85, imm=func_id)


def kfunc(imm: int = -1) -> Op:
    return raw(0x85, src=2, imm=imm)


def ld_func(target: str, dst: int = 2) -> Op:
    """``ld_imm64`` relocated (R_BPF_64_64) against a function symbol."""
    return Op("ld_sym", target, dst=dst)


def ld_pseudo_func(target: str, dst: int = 2) -> Op:
    """``ld_imm64`` with src_reg = BPF_PSEUDO_FUNC and no relocation (pc-relative)."""
    return Op("ld_pc", target, dst=dst)


def ld_map(name: str, dst: int = 1) -> Op:
    """``ld_imm64`` relocated against a data symbol (a map)."""
    return Op("ld_data", name, dst=dst)


def stx_fp(off: int) -> Op:
    """``*(u64 *)(r10 + off) = r1``."""
    return raw(0x7B, dst=10, src=1, off=off)


@dataclass
class _Func:
    file: str
    section: str
    name: str
    ops: list[Op]
    bind: int
    visibility: int
    offset: int = 0             # in the output section
    sym: OutputSymbol | None = None
    btf_id: int = 0


class Tiny:
    def __init__(self, big_endian: bool = False):
        self.big_endian = big_endian
        self.funcs: list[_Func] = []
        self.tags: list[tuple[str, str, int]] = []      # (func key, tag, component)
        self.var_tags: list[tuple[str, str]] = []       # (var name, tag)
        self.merge_funcs: set[str] = set()              # names whose FUNCs share one type

    def func(self, file: str, section: str, name: str, ops: list[Op], *, bind: str = "global",
             hidden: bool = False) -> Tiny:
        b = {"global": STB_GLOBAL, "static": STB_LOCAL, "weak": STB_WEAK}[bind]
        self.funcs.append(_Func(file, section, name, list(ops), b,
                                STV_HIDDEN if hidden else STV_DEFAULT))
        return self

    def tag(self, func: str, tag: str, component: int = -1) -> Tiny:
        self.tags.append((func, tag, component))
        return self

    def tag_var(self, var: str, tag: str) -> Tiny:
        self.var_tags.append((var, tag))
        return self

    # -- lookup ------------------------------------------------------------------------------
    def _find(self, key: str) -> _Func:
        file, _, name = key.rpartition(":")
        found = [f for f in self.funcs if f.name == name and (not file or f.file == file)]
        assert len(found) == 1, f"{key!r} names {len(found)} functions"
        return found[0]

    # -- building ----------------------------------------------------------------------------
    def linked(self) -> LinkedObject:
        bo = ">" if self.big_endian else "<"
        inputs: dict[str, InputObject] = {}
        sections: dict[str, OutputSection] = {}
        symbols: list[OutputSymbol] = [OutputSymbol("", 0, 0, 0, 0, 0, None)]
        sec_syms: dict[str, OutputSymbol] = {}
        # lay out: each function appended to its section, one piece per run of one input
        for f in self.funcs:
            obj = inputs.setdefault(f.file, InputObject(f.file, self.big_endian, [], [], {},
                                                        Btf(), None))
            sec = sections.get(f.section)
            if sec is None:
                sec = OutputSection(f.section, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 8, 0)
                sections[f.section] = sec
                sec_syms[f.section] = OutputSymbol("", 0, 0, STB_LOCAL, STT_SECTION,
                                                   STV_DEFAULT, sec)
            if not sec.pieces or sec.pieces[-1].obj is not obj:
                src = Section(len(obj.sections) + 1, f.section, SHT_PROGBITS,
                              SHF_ALLOC | SHF_EXECINSTR, 0, 0, 0, 0, 8, 0)
                obj.sections.append(src)
                sec.pieces.append(Piece(obj, src, sec.size, sec))
            f.offset = sec.size
            size = sum(op.size for op in f.ops)
            sec.size += size
            sec.pieces[-1].src.size += size
        data_sec = OutputSection(".maps", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 8, 0, size=32,
                                 data=bytearray(32))
        map_sym = OutputSymbol("the_map", 0, 32, STB_GLOBAL, STT_OBJECT, STV_DEFAULT, data_sec)
        for f in self.funcs:
            f.sym = OutputSymbol(f.name, f.offset, sum(op.size for op in f.ops), f.bind,
                                 STT_FUNC, f.visibility, sections[f.section], origin=f.file)
        symbols += list(sec_syms.values())
        symbols += [f.sym for f in self.funcs if f.bind == STB_LOCAL]
        symbols += [f.sym for f in self.funcs if f.bind != STB_LOCAL] + [map_sym]
        # encode
        for f in self.funcs:
            sec = sections[f.section]
            pc = f.offset
            for op in f.ops:
                sec.data += self._encode(op, pc, sec, sec_syms, map_sym, bo)
                pc += op.size
        # BTF: one FUNC per function (or per name, for merged names), func_info, tags
        btf, ext = Btf(), BtfExt()
        proto = btf.add(BtfType(Kind.FUNC_PROTO, "", 0, []))
        merged: dict[str, int] = {}
        for f in self.funcs:
            if f.name in self.merge_funcs and f.name in merged:
                f.btf_id = merged[f.name]
            else:
                f.btf_id = btf.add(BtfType(Kind.FUNC, f.name, proto, None, vlen_info=(
                    FUNC_STATIC if f.bind == STB_LOCAL else FUNC_GLOBAL)))
                merged[f.name] = f.btf_id
            ext.func_info.setdefault(f.section, []).append([f.offset, f.btf_id])
        for key, tag, comp in self.tags:
            btf.add(BtfType(Kind.DECL_TAG, tag, self._find(key).btf_id, comp))
        for var, tag in self.var_tags:
            vid = btf.add(BtfType(Kind.VAR, var, proto, 1))
            btf.add(BtfType(Kind.DECL_TAG, tag, vid, -1))
        out_sections = list(sections.values()) + [data_sec]
        return LinkedObject(self.big_endian, out_sections, symbols, btf, ext,
                            list(inputs.values()))

    def _encode(self, op: Op, pc: int, sec: OutputSection, sec_syms, map_sym, bo: str) -> bytes:
        def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
            regs = (dst << 4 | src) if self.big_endian else (src << 4 | dst)
            return struct.pack(bo + "BBhi", code, regs, off, imm)

        def reloc(sym: OutputSymbol, rtype: int) -> None:
            sec.relocs.append(OutputReloc(pc, sym, rtype))

        k = op.kind
        if k == "raw":
            return insn(op.arg, op.dst, op.src, op.off, op.imm)
        if k == "call_off":
            return insn(0x85, src=1, imm=(op.arg - pc) // 8 - 1)
        if k == "ld_data":
            reloc(map_sym, R_BPF_64_64)
            return insn(0x18, dst=op.dst) + insn(0)
        target = self._find(op.arg)
        if k == "call_sym":
            reloc(target.sym, R_BPF_64_32)
            return insn(0x85, src=1, imm=-1)
        if k == "call_sec":
            reloc(sec_syms[target.section], R_BPF_64_32)
            return insn(0x85, src=1, imm=target.offset // 8 - 1)
        if k == "call_pc":
            assert target.section == sec.name
            return insn(0x85, src=1, imm=(target.offset - pc) // 8 - 1)
        if k == "ld_sym":
            reloc(target.sym, R_BPF_64_64)
            return insn(0x18, dst=op.dst) + insn(0)
        if k == "ld_pc":
            assert target.section == sec.name
            return insn(0x18, dst=op.dst, src=4, imm=(target.offset - pc) // 8 - 1) + insn(0)
        raise ValueError(k)
