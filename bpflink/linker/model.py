"""The linked object: what the linker builds and the writer and call graph read.

Input-side names are ``src_``, output-side ``dst_``.  A :class:`Piece` records
where one input section landed, which is how every later phase (relocations,
BTF, BTF.ext, call-graph origins) translates an input offset.
"""

from __future__ import annotations

import bisect

from ..btf.ext import BtfExt
from ..btf.types import Btf
from ..elf.constants import SHF_EXECINSTR, SHT_NOBITS, SHT_PROGBITS
from ..elf.reader import InputObject, Section


# Plain classes, not dataclasses: ``import dataclasses`` and generating the
# methods cost every bpflink process milliseconds at start-up.  Pieces and
# output symbols compare by identity (they were ``eq=False`` dataclasses).

class Piece:
    __slots__ = ("obj", "src", "offset", "dst")

    def __init__(self, obj: InputObject, src: Section, offset: int, dst: OutputSection):
        self.obj = obj
        self.src = src
        self.offset = offset    # offset of the input section inside the output section
        self.dst = dst

    def __repr__(self) -> str:
        return (f"Piece(obj={self.obj!r}, src={self.src!r}, offset={self.offset!r}, "
                f"dst={self.dst!r})")


class OutputSection:
    """One output section: its header fields, contents, pieces and relocations.

    The contents of a data section are often megabytes (a 1 MiB arena per
    input) that the link only moves.  Layout hands them over as views of the
    input buffers (:meth:`append_view`); ``data``, the one mutable buffer,
    is only made when something reads or patches the bytes (relocation, the
    call graph, a license compared), and the writer copies untouched views
    straight into the output, so such bytes are copied once per link.
    """

    __slots__ = ("name", "type", "flags", "align", "entsize", "size", "_data", "_views",
                 "pieces", "relocs", "index", "sym_index")

    def __init__(self, name: str, type: int, flags: int, align: int, entsize: int,
                 size: int = 0, data: bytearray | None = None,
                 pieces: list[Piece] | None = None, relocs: list[OutputReloc] | None = None,
                 index: int = 0, sym_index: int = 0):
        self.name, self.type, self.flags, self.align, self.entsize = \
            name, type, flags, align, entsize
        self.size = size
        self._data = bytearray() if data is None else data
        self._views: list[tuple[int, memoryview | bytes]] = []   # (offset, bytes) not in _data
        self.pieces: list[Piece] = [] if pieces is None else pieces
        self.relocs: list[OutputReloc] = [] if relocs is None else relocs
        self.index = index              # ELF section index in the output
        self.sym_index = sym_index      # its STT_SECTION symbol

    def __repr__(self) -> str:
        return f"OutputSection({self.name!r}, size={self.size}, pieces={len(self.pieces)})"

    @property
    def data(self) -> bytearray:
        """The contents as one bytearray (made from the pending views on first use)."""
        if self._views:
            views, self._views = self._views, []
            end = max(off + len(v) for off, v in views)
            if len(self._data) < end:
                self._data += bytes(end - len(self._data))
            for off, v in views:
                self._data[off:off + len(v)] = v
        return self._data

    @data.setter
    def data(self, value: bytearray) -> None:
        self._views = []
        self._data = value

    def append_view(self, offset: int, view: memoryview | bytes) -> None:
        """Place ``view`` at ``offset`` (past everything placed so far), without copying it."""
        self._views.append((offset, view))

    def chunks(self) -> list[bytes | bytearray | memoryview]:
        """The contents as a list of buffers, in order, for the writer to copy once."""
        if not self._views:
            return [self._data]
        out: list[bytes | bytearray | memoryview] = [self._data] if self._data else []
        pos = len(self._data)
        for off, v in self._views:
            if off > pos:
                out.append(bytes(off - pos))
            out.append(v)
            pos = off + len(v)
        return out

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


class OutputSymbol:
    __slots__ = ("name", "value", "size", "bind", "type", "visibility", "section", "shndx",
                 "origin", "index")

    def __init__(self, name: str, value: int, size: int, bind: int, type: int, visibility: int,
                 section: OutputSection | None, shndx: int = 0, origin: str | None = None,
                 index: int = 0):
        self.name = name
        self.value = value
        self.size = size
        self.bind = bind
        self.type = type
        self.visibility = visibility
        self.section = section          # None: undefined or absolute
        self.shndx = shndx              # used when section is None (SHN_UNDEF / SHN_ABS)
        self.origin = origin            # the input file that defines it
        self.index = index

    def __repr__(self) -> str:
        return "OutputSymbol(" + ", ".join(f"{f}={getattr(self, f)!r}"
                                           for f in self.__slots__) + ")"


class OutputReloc:
    __slots__ = ("offset", "symbol", "type")

    def __init__(self, offset: int, symbol: OutputSymbol, type: int):
        self.offset = offset
        self.symbol = symbol
        self.type = type

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, OutputReloc)
        return (self.offset, self.symbol, self.type) == (other.offset, other.symbol, other.type)

    __hash__ = None     # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"OutputReloc(offset={self.offset!r}, symbol={self.symbol!r}, type={self.type!r})"


class LinkedObject:
    """Everything the output object holds, before encoding."""

    def __init__(self, big_endian: bool, sections: list[OutputSection],
                 symbols: list[OutputSymbol], btf: Btf, btf_ext: BtfExt,
                 inputs: list[InputObject]):
        self.big_endian = big_endian
        self.sections = sections
        self.symbols = symbols          # [0] is the null symbol; locals first
        self.btf = btf
        self.btf_ext = btf_ext
        self.inputs = inputs

    def __repr__(self) -> str:
        return (f"LinkedObject(sections={len(self.sections)}, symbols={len(self.symbols)}, "
                f"inputs={[obj.name for obj in self.inputs]!r})")

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
