"""Encode a :class:`~bpflink.linker.model.LinkedObject` as an ELF relocatable object.

Layout: ELF header, section contents in section order (each at its
alignment), then the section header table.  Sections: the linked code and
data sections in layout order, one ``.rel<name>`` per section that has
relocations, ``.BTF``, ``.BTF.ext``, ``.symtab`` (locals first, ``sh_info``
the first global) and one ``.strtab`` shared by symbol and section names.
Nothing depends on time, paths or hash order: the same linked object always
encodes to the same bytes.
"""

from __future__ import annotations

import struct

from ..btf.ext import BtfExt
from ..btf.types import Btf, StringTable
from ..errors import FormatError
from .constants import (ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, EHDR_SIZE, EM_BPF, ET_REL,
                        EV_CURRENT, MAX_SECTION_SIZE, REL_SIZE, SHDR_SIZE, SHN_LORESERVE, SHT_NOBITS,
                        SHT_PROGBITS, SHT_REL, SHT_STRTAB, SHT_SYMTAB, STB_LOCAL, SYM_SIZE)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Protocol

    class LinkedImage(Protocol):
        """What the writer reads of the linker's ``LinkedObject``: spelled out here because
        elf/ sits below linker/ and imports nothing from it (tests/test_structure.py)."""

        @property
        def big_endian(self) -> bool: ...
        @property
        def sections(self) -> Sequence[Any]: ...     # linker.model.OutputSection
        @property
        def symbols(self) -> Sequence[Any]: ...      # linker.model.OutputSymbol
        @property
        def btf(self) -> Btf: ...
        @property
        def btf_ext(self) -> BtfExt: ...


SHF_INFO_LINK = 0x40
Buffer = bytes | bytearray | memoryview      # what the output is joined (or written) from


class _Out:
    """One output section header plus its bytes (a list of buffers, copied once at the end)."""

    __slots__ = ("name", "type", "flags", "align", "entsize", "link", "info", "parts", "size",
                 "name_off", "offset")

    def __init__(self, name: str, type_: int, flags: int, align: int, data: bytes = b"",
                 size: int | None = None, entsize: int = 0, link: int = 0, info: int = 0,
                 parts: list[Buffer] | None = None):
        self.name, self.type, self.flags, self.align = name, type_, flags, max(align, 1)
        self.entsize, self.link, self.info = entsize, link, info
        self.parts = [data] if parts is None else parts
        self.size = sum(map(len, self.parts)) if size is None else size
        self.name_off = self.offset = 0


def write_elf(linked: LinkedImage) -> bytes:
    """The output object's bytes."""
    return b"".join(elf_chunks(linked))


def elf_chunks(linked: LinkedImage) -> list[Buffer]:
    """The output object as a list of buffers, in file order: joined, they are its bytes.

    Data sections are still views of the inputs here, so a caller that only
    writes the object to a file (the CLI) never holds a second full-size
    copy of it in memory.
    """
    bo = ">" if linked.big_endian else "<"
    for sec in linked.sections:     # inputs are each in bounds, their sum may not be
        if sec.size > MAX_SECTION_SIZE:
            raise FormatError(f"output section '{sec.name}' would be {sec.size} bytes, more "
                              f"than {MAX_SECTION_SIZE}, the largest map value the kernel "
                              "accepts")
    strtab = StringTable()
    outs: list[_Out] = []
    for sec in linked.sections:
        sec.index = len(outs) + 1
        parts = [] if sec.type == SHT_NOBITS else sec.chunks()
        outs.append(_Out(sec.name, sec.type, sec.flags, sec.align, size=sec.size,
                         entsize=sec.entsize, parts=parts))
    rel = struct.Struct(bo + "QQ")
    rel_outs = []
    for sec in linked.sections:
        if not sec.relocs:
            continue
        rel_body = b"".join([rel.pack(r.offset, (r.symbol.index << 32) | r.type)
                            for r in sec.relocs])
        o = _Out(".rel" + sec.name, SHT_REL, SHF_INFO_LINK, 8, rel_body, entsize=REL_SIZE,
                 info=sec.index)
        outs.append(o)
        rel_outs.append(o)
    btf_raw, btf_strings = linked.btf.encode(linked.big_endian, linked.btf_ext.strings())
    outs.append(_Out(".BTF", SHT_PROGBITS, 0, 4, btf_raw))
    if not linked.btf_ext.is_empty():
        ext_raw = linked.btf_ext.encode(btf_strings, linked.big_endian,
                                        [s.name for s in linked.sections])
        outs.append(_Out(".BTF.ext", SHT_PROGBITS, 0, 4, ext_raw))
    symtab_index = len(outs) + 1
    strtab_index = symtab_index + 1
    if strtab_index >= SHN_LORESERVE:
        raise FormatError(f"the output would have {strtab_index + 1} sections; more than ELF "
                          "section indices can address without extended numbering")
    for o in rel_outs:
        o.link = symtab_index
    sym = struct.Struct(bo + "IBBHQQ")
    symbols = linked.symbols
    first_global = next((i for i, s in enumerate(symbols) if i and s.bind != STB_LOCAL),
                        len(symbols))
    # the names in symbol order, each once, in one step: what strtab.add per symbol did
    known = strtab._offsets
    strtab.add_new([n for n in dict.fromkeys([s.name for s in symbols]) if n not in known])
    syms = b"".join([sym.pack(known[s.name], (s.bind << 4) | s.type, s.visibility,
                              s.section.index if s.section is not None else s.shndx,
                              s.value, s.size) for s in symbols])
    outs.append(_Out(".symtab", SHT_SYMTAB, 0, 8, syms, entsize=SYM_SIZE,
                     link=strtab_index, info=first_global))
    for o in outs:
        o.name_off = strtab.add(o.name)
    strtab_name_off = strtab.add(".strtab")
    strtab_out = _Out(".strtab", SHT_STRTAB, 0, 1, strtab.data())
    strtab_out.name_off = strtab_name_off
    outs.append(strtab_out)

    # Place everything first, then copy each buffer once into the result:
    # growing one bytearray and converting it to bytes would copy every
    # section's bytes two or three times more (megabytes, in large links).
    chunks: list[Buffer] = [b""]    # [0]: the ELF header, made once shoff is known
    pos = EHDR_SIZE
    for o in outs:
        if o.type == SHT_NOBITS:
            o.offset = -(-pos // o.align) * o.align
            continue
        pad = -pos % o.align
        if pad:
            chunks.append(bytes(pad))
        o.offset = pos = pos + pad
        chunks.extend(o.parts)
        pos += sum(map(len, o.parts))
    pad = -pos % 8
    chunks.append(bytes(pad + SHDR_SIZE))
    shoff = pos + pad
    shdr = struct.Struct(bo + "IIQQQQIIQQ")
    for o in outs:
        chunks.append(shdr.pack(o.name_off, o.type, o.flags, 0, o.offset, o.size, o.link,
                                o.info, o.align, o.entsize))
    ident = b"\x7fELF" + bytes([ELFCLASS64, ELFDATA2MSB if linked.big_endian else ELFDATA2LSB,
                                 EV_CURRENT]) + bytes(9)
    chunks[0] = ident + struct.pack(bo + "HHIQQQIHHHHHH", ET_REL, EM_BPF, EV_CURRENT,
                                    0, 0, shoff, 0, EHDR_SIZE, 0, 0, SHDR_SIZE,
                                    len(outs) + 1, strtab_index)
    return chunks
