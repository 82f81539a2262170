"""Rewrite every input relocation against the output symbol table and layout.

A relocation against a named symbol only needs its offset shifted and its
symbol index remapped.  A relocation against a *section* symbol carries the
target's offset in the instruction or data itself, so it is adjusted by where
that input section landed (libbpf ``linker_append_elf_relos``):

* in code, ``call`` immediates count instructions (``imm += offset / 8``) and
  ``ld_imm64`` immediates count bytes (``imm += offset``); this is what keeps
  calls to same-named statics from two inputs apart;
* in data, an ``R_BPF_64_ABS64``/``R_BPF_64_ABS32`` pointer (a static
  function's address; a static variable's or a string's, which libbpf's
  loader ignores but the output must still get right) is adjusted in place,
  in the object's byte order, whichever input it comes from.
"""

from __future__ import annotations

import struct

from ..elf.constants import (BPF_JMP_CALL, BPF_PSEUDO_CALL, R_BPF_64_ABS32, R_BPF_64_ABS64,
                             RELOC_NAMES, STT_FUNC, STT_SECTION)
from ..elf.reader import InputObject, is_data_section
from ..errors import Diagnostics
from .layout import Layout
from .model import OutputReloc, OutputSymbol
from .symbols import SymbolTable


def _bad_code_target(code: bytearray, off: int, sym: OutputSymbol, bo: str) -> str | None:
    """What libbpf refuses a call or ld_imm64 to resolve to (after resolution: the
    reader checks each input's own targets, this catches an extern that binds to
    the wrong thing in another input)."""
    sec = sym.section
    assert sec is not None              # the caller passes defined symbols only
    in_text = sec.is_exec and sec.name == ".text"
    what = f"'{sym.name or sec.name}' in section '{sec.name}'"
    if code[off] == BPF_JMP_CALL:
        if not (in_text and sym.type in (STT_FUNC, STT_SECTION)):
            return f"the call resolves to {what}, which is not a function in .text"
        src_reg = code[off + 1] & 0xF if bo == ">" else code[off + 1] >> 4
        if src_reg != BPF_PSEUDO_CALL:
            return f"the call to {what} has src_reg {src_reg}, not {BPF_PSEUDO_CALL}"
    elif sec.is_exec:
        if not in_text:
            return f"the 64-bit load takes the address of {what}, not of a subprogram in .text"
    elif not is_data_section(sec):
        return f"the 64-bit load refers to {what}, which is neither maps nor global data"
    return None


def _overridden_data(symtab: SymbolTable) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """(input, section index) -> byte ranges of weak data definitions that lost.

    A losing weak definition keeps its bytes in the output, but no symbol and
    no BTF entry says they are there, so nothing reads them; the relocations
    that initialise them must go too.  libbpf's loader would otherwise look
    for the map a '.maps' relocation initialises (a map-in-map or prog-array
    slot of the losing definition) and refuse the object: "cannot find map
    'inner' at rel->r_offset".  (In code, it skips relocations of overridden
    weak functions itself.)
    """
    out: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for g in symtab.globals.values():
        for c in g.candidates:
            if c.is_definition and c is not g.definition and c.sym.size and \
                    c.piece is not None and not c.piece.dst.is_exec:
                out.setdefault((id(c.obj), c.sym.shndx), []).append(
                    (c.sym.value, c.sym.value + c.sym.size))
    return out


def relocate(inputs: list[InputObject], layout: Layout, symtab: SymbolTable,
             diags: Diagnostics) -> None:
    overridden = _overridden_data(symtab)
    for obj in inputs:
        imap = symtab.index_map[id(obj)]
        bo = ">" if obj.big_endian else "<"
        imm = struct.Struct(bo + "i")
        u64 = struct.Struct(bo + "Q")
        u32 = struct.Struct(bo + "I")
        symbols = obj.symbols
        # per section: where its piece landed (the delta of a section symbol), once
        # per section rather than per relocation against it
        deltas: dict[int, int] = {}
        for target_index, relocs in obj.relocations.items():
            piece = layout.placement.get((id(obj), target_index))
            if piece is None:
                continue
            dst = piece.dst
            sec_name = piece.src.name
            if dst.is_nobits and relocs:
                diags.error("relocations against a section without contents", file=obj.name,
                            section=sec_name)
                continue
            dead = overridden.get((id(obj), target_index), ())
            code = dst.data if dst.is_exec else None
            # (output symbol, opcode) pairs whose target passed _bad_code_target once:
            # another call or load of it needs only its own src_reg checked
            passed: set[tuple[OutputSymbol, int]] = set()
            base = piece.offset
            emit = dst.relocs.append
            for j, (r_offset, r_sym, r_type) in enumerate(relocs):
                if dead and any(lo <= r_offset < hi for lo, hi in dead):
                    continue            # initialises a losing weak definition
                out_sym = imap[r_sym]
                src_sym = symbols[r_sym]
                off = base + r_offset
                if out_sym is None:
                    diags.error(f"relocation #{j} ({RELOC_NAMES[r_type]}) refers to "
                                f"'{src_sym.name or obj.sections[src_sym.shndx].name}', which "
                                "lives in a section that is not linked",
                                file=obj.name, section=sec_name)
                    continue
                if code is not None and out_sym.section is not None:
                    op = code[off]
                    if (out_sym, op) not in passed or op == BPF_JMP_CALL and (
                            code[off + 1] & 0xF if bo == ">" else code[off + 1] >> 4) \
                            != BPF_PSEUDO_CALL:
                        why = _bad_code_target(code, off, out_sym, bo)
                        if why:
                            diags.error(f"relocation #{j}: {why}", file=obj.name,
                                        section=sec_name)
                            continue
                        passed.add((out_sym, op))
                if src_sym.type == STT_SECTION:
                    delta = deltas.get(src_sym.shndx)
                    if delta is None:
                        target = layout.piece(obj, src_sym.shndx)
                        delta = deltas[src_sym.shndx] = target.offset if target is not None \
                            else 0
                    if code is not None:
                        if delta:
                            pos = off + 4
                            step = delta // 8 if code[off] == BPF_JMP_CALL else delta
                            value = imm.unpack_from(code, pos)[0] + step
                            if not -2**31 <= value < 2**31:
                                diags.error(f"relocation #{j}: immediate overflows after "
                                            "layout", file=obj.name, section=sec_name)
                                continue
                            imm.pack_into(code, pos, value)
                    elif r_type in (R_BPF_64_ABS64, R_BPF_64_ABS32):
                        # A pointer in data to a static function, variable or string,
                        # held in place as its offset in its section.  Whether its
                        # input came first (delta 0) or not must not decide whether
                        # the link succeeds: adjust it, whatever it points into.
                        word = u64 if r_type == R_BPF_64_ABS64 else u32
                        value = word.unpack_from(dst.data, off)[0] + delta
                        if value >= 1 << (8 * word.size):
                            diags.error(f"relocation #{j} ({RELOC_NAMES[r_type]}) overflows "
                                        "after layout", file=obj.name, section=sec_name)
                            continue
                        word.pack_into(dst.data, off, value)
                    else:
                        diags.error(f"relocation #{j} ({RELOC_NAMES[r_type]}) against "
                                    f"section '{obj.sections[src_sym.shndx].name}' in a data "
                                    "section is not supported", file=obj.name,
                                    section=sec_name)
                        continue
                emit(OutputReloc(off, out_sym, r_type))
