"""The linked object: what the linker builds and the writer and call graph read.

Input-side names are ``src_``, output-side ``dst_``.  A :class:`Piece` records
where one input section landed, which is how every later phase (relocations,
BTF, BTF.ext, call-graph origins) translates an input offset.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..btf.ext import BtfExt
from ..btf.types import Btf
from ..elf.constants import SHF_EXECINSTR, SHT_NOBITS, SHT_PROGBITS
from ..elf.reader import InputObject, Section


@dataclass(eq=False)
class Piece:
    obj: InputObject
    src: Section
    offset: int                 # offset of the input section inside the output section
    dst: OutputSection


@dataclass(eq=False)
class OutputSection:
    name: str
    type: int
    flags: int
    align: int
    entsize: int
    size: int = 0
    data: bytearray = field(default_factory=bytearray)
    pieces: list[Piece] = field(default_factory=list)
    relocs: list[OutputReloc] = field(default_factory=list)
    index: int = 0              # ELF section index in the output
    sym_index: int = 0          # its STT_SECTION symbol

    @property
    def is_exec(self) -> bool:
        return self.type == SHT_PROGBITS and bool(self.flags & SHF_EXECINSTR)

    @property
    def is_nobits(self) -> bool:
        return self.type == SHT_NOBITS

    def origin(self, offset: int) -> Piece | None:
        """The input piece that holds ``offset`` (pieces are in offset order)."""
        i = bisect.bisect_right(self.pieces, offset, key=lambda p: p.offset) - 1
        if i >= 0:
            p = self.pieces[i]
            if p.offset <= offset < p.offset + p.src.size:
                return p
        return None


@dataclass(eq=False)
class OutputSymbol:
    name: str
    value: int
    size: int
    bind: int
    type: int
    visibility: int
    section: OutputSection | None       # None: undefined or absolute
    shndx: int = 0                      # used when section is None (SHN_UNDEF / SHN_ABS)
    origin: str | None = None           # the input file that defines it
    index: int = 0


@dataclass
class OutputReloc:
    offset: int
    symbol: OutputSymbol
    type: int


@dataclass
class LinkedObject:
    """Everything the output object holds, before encoding."""

    big_endian: bool
    sections: list[OutputSection]
    symbols: list[OutputSymbol]         # [0] is the null symbol; locals first
    btf: Btf
    btf_ext: BtfExt
    inputs: list[InputObject]

    def section(self, name: str) -> OutputSection | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    @property
    def first_global(self) -> int:
        for i, s in enumerate(self.symbols):
            if i and s.bind != 0:
                return i
        return len(self.symbols)
