"""Read a relocatable BPF ELF object into an :class:`InputObject`.

The ELF header, the section header table, symbols and relocations are
unpacked with ``struct`` (one call per table; pyelftools only names the
machine or type of a header that is refused), which is what makes large
links fast.  Every offset, size and index is checked against the file
before it is used, so a corrupt or hostile file gives one :class:`~bpflink.errors.InputError` naming the file
and section, never an exception from deep inside, and never an allocation
larger than the file itself.

Beyond the format, each input is held to the rules libbpf applies when it
opens an object -- what a relocation in code may patch and target, BTF
DATASECs agreeing with the symbol table, map definitions, kconfig extern
types -- so a bad input is refused here, naming it, instead of producing an
output libbpf refuses (docs/guarantees.md).
"""

from __future__ import annotations

import bisect
import struct
from itertools import accumulate

from ..btf import ext as btf_ext_mod
from ..btf import types as btf_mod
from ..btf.ext import BtfExt
from ..btf.mapdef import MapDef, parse_map_def
from ..btf.types import Btf
from ..errors import FormatError, InputError, error
from .constants import *  # noqa: F403 - the ELF vocabulary

TYPE_CHECKING = False
if TYPE_CHECKING:
    from mmap import mmap       # a large input file is mapped (fileio.read_whole)
    from typing import Any, Protocol


# Plain classes, not dataclasses: ``import dataclasses`` and generating the
# methods cost every bpflink process milliseconds at start-up.  The records
# compare by value, as the dataclasses did (and so are not hashable).

class Section:
    __slots__ = ("index", "name", "type", "flags", "offset", "size", "link", "info",
                 "addralign", "entsize", "data")

    def __init__(self, index: int, name: str, type: int, flags: int, offset: int, size: int,
                 link: int, info: int, addralign: int, entsize: int,
                 data: bytes | memoryview = b""):
        self.index = index
        self.name = name
        self.type = type
        self.flags = flags
        self.offset = offset
        self.size = size
        self.link = link
        self.info = info
        self.addralign = addralign
        self.entsize = entsize
        # empty for SHT_NOBITS (``size`` is the real size); a read-only view of the
        # input for data sections (PROGBITS, not code, not BTF) and for the sections
        # libbpf skips (libbpf_skips: DWARF and its relocations), bytes otherwise
        self.data = data

    @property
    def is_exec(self) -> bool:
        return self.type == SHT_PROGBITS and bool(self.flags & SHF_EXECINSTR)

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Section)
        return self._key() == other._key()

    __hash__ = None     # type: ignore[assignment]

    def __repr__(self) -> str:
        return _repr(self)


class Symbol:
    __slots__ = ("index", "name", "value", "size", "bind", "type", "visibility", "other",
                 "shndx")

    def __init__(self, index: int, name: str, value: int, size: int, bind: int, type: int,
                 visibility: int, other: int, shndx: int):
        self.index = index
        self.name = name
        self.value = value
        self.size = size
        self.bind = bind
        self.type = type
        self.visibility = visibility
        self.other = other
        self.shndx = shndx

    @property
    def is_undef(self) -> bool:
        return self.shndx == SHN_UNDEF

    @property
    def is_local(self) -> bool:
        return self.bind == STB_LOCAL

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Symbol)
        return self._key() == other._key()

    __hash__ = None     # type: ignore[assignment]

    def __repr__(self) -> str:
        return _repr(self)


# (r_offset, symbol index, type): a tuple, not an object each, since a large link
# reads tens of thousands and only relocate.py looks at them again
Relocation = tuple[int, int, int]


class InputObject:
    """One input object, validated; the linker never looks at raw bytes again."""

    def __init__(self, name: str, big_endian: bool, sections: list[Section],
                 symbols: list[Symbol], relocations: dict[int, list[Relocation]], btf: Btf,
                 btf_ext: BtfExt | None, btf_raw: bytes = b"",
                 sections_by_name: dict[str, Section] | None = None):
        self.name = name
        self.big_endian = big_endian
        self.sections = sections
        self.symbols = symbols
        self.relocations = relocations      # target section index -> relocations
        self.btf = btf
        self.btf_ext = btf_ext
        self.btf_raw = btf_raw
        self.sections_by_name: dict[str, Section] = \
            {} if sections_by_name is None else sections_by_name

    def section(self, name: str) -> Section | None:
        return self.sections_by_name.get(name)

    def __repr__(self) -> str:
        return f"InputObject({self.name!r}, sections={len(self.sections)})"


def _repr(obj: Section | Symbol) -> str:
    """``Name(field=value, ...)``, as a dataclass shows itself."""
    fields = ", ".join(f"{f}={getattr(obj, f)!r}" for f in obj.__slots__)
    return f"{type(obj).__name__}({fields})"


KNOWN_SECTION_TYPES = {SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS, SHT_REL,
                       SHT_LLVM_ADDRSIG}


def read_object(data: bytes | mmap, name: str) -> InputObject:
    """Parse ``data`` (the bytes of file ``name``); raise InputError on any defect."""
    reader = _Reader(data, name)
    try:
        return reader.read()
    except FormatError as e:
        raise InputError([error(e.message, file=name, section=e.section, symbol=e.symbol,
                                rule=e.rule or reader.rule)]) from None


def libbpf_skips(name: str) -> bool:
    """Sections libbpf's linker skips unchecked (``is_ignored_sec``) and bpflink drops.

    DWARF and the relocations of DWARF, .BTF and .BTF.ext: nothing in them reaches
    the output or the kernel (.BTF and .BTF.ext are parsed on their own), so their
    flags, alignment, sizes and the symbols in them are not checked.
    """
    if name.startswith(".rel"):
        name = name[4:]
        return name.startswith(".debug") or name in (".BTF", ".BTF.ext")
    return name.startswith(".debug")


def libbpf_skips_type(sh_type: int) -> bool:
    """Section types libbpf's open and linker skip whatever the section's name
    (``ignore_elf_section``, ``is_ignored_sec``): a 'license' retyped as a string
    table is no license to libbpf, and the symbols and DATASEC in it are dropped."""
    return sh_type in (SHT_STRTAB, SHT_LLVM_ADDRSIG)


def ignores_symbols_in(name: str) -> bool:
    """Symbols in these sections are ignored, as libbpf's linker ignores them."""
    return libbpf_skips(name) or name in (".BTF", ".BTF.ext")


class _Names:
    """The names of one ELF string table: bounds-checked, each offset decoded once.

    Without the cache every symbol naming one long string would decode its own
    copy (memory of symbols x length from a small file); the budget bounds
    offsets that point inside other strings the same way (btf.types._Strings).
    """

    def __init__(self, blob: bytes, section: str, count: int = 0):
        self.blob = blob
        self.section = section
        self.cache: dict[int, str] = {}
        self.budget = 4 * len(blob) + 4096
        # A table of about ``count`` names (the symbols or sections naming it) is
        # decoded whole, in C, and split at its NULs: the name at every string
        # start is then a dict hit.  Not a table of far more strings than names
        # (a dict entry per NUL would be memory out of proportion to the file),
        # nor one that is not all ASCII (offsets count bytes); those, and names
        # at other offsets, are decoded one by one as asked for.
        if count and blob.count(b"\0") <= 2 * count + 64:
            try:
                text = blob.decode()
            except UnicodeDecodeError:
                return
            if text.isascii():
                strs = text.split("\0")[:-1]      # the last is not NUL-terminated
                self.cache = dict(zip(accumulate([len(x) + 1 for x in strs], initial=0),
                                      strs))

    def get(self, off: int, what: str) -> str:
        s = self.cache.get(off)
        if s is not None:
            return s
        blob, section = self.blob, self.section
        if off >= len(blob):
            raise FormatError(f"{what}: name offset {off} is outside the string table "
                              f"({len(blob)} bytes)", section=section)
        end = blob.find(b"\0", off)
        if end < 0:
            raise FormatError(f"{what}: name at offset {off} has no terminating NUL "
                              f"(string table is not terminated)", section=section)
        self.budget -= end - off
        if self.budget < 0:
            raise FormatError(f"{what}: name offsets point inside other names so often that "
                              f"reading them would take over 4x the {len(blob)}-byte string "
                              "table", section=section)
        try:
            s = self.cache[off] = blob[off:end].decode()
        except UnicodeDecodeError:
            raise FormatError(f"{what}: name at offset {off} is not valid UTF-8",
                              section=section, rule="elf-name") from None
        return s


class _Reader:
    def __init__(self, data: bytes | mmap, name: str):
        self.data = data
        self.name = name
        self.rule = "elf"           # the errors.RULES entry of what is being checked

    def read(self) -> InputObject:
        bo = self._header()
        sections = self._section_headers(bo)
        by_name: dict[str, Section] = {}
        for s in sections[1:]:
            by_name.setdefault(s.name, s)
            if s.name in (".BTF", ".BTF.ext"):
                by_name[s.name] = s     # of two, libbpf's open and linker read the last
        symtab = self._find_symtab(sections)
        # per section: are symbols in it ignored (ignores_symbols_in), asked per symbol
        ignored = [ignores_symbols_in(sec.name) for sec in sections]
        symbols = self._symbols(bo, sections, symtab, ignored)
        relocations = self._relocations(bo, sections, symtab, symbols, ignored)
        self.rule = "btf"
        btf_sec = by_name.get(".BTF")
        if btf_sec is None:
            raise FormatError("no .BTF section: bpflink needs BTF to link; compile with -g")
        if btf_sec.type != SHT_PROGBITS:    # libbpf's open and linker do not read it then
            raise FormatError(f"'.BTF' is not SHT_PROGBITS (type {btf_sec.type}), so libbpf "
                              "does not read it either; bpflink needs BTF to link",
                              section=".BTF")
        btf_raw = bytes(btf_sec.data)       # .BTF is bytes already: no copy
        try:
            btf, btf_be = btf_mod.parse(btf_raw, ".BTF")
        except FormatError as e:
            raise FormatError(f"broken BTF: {e.message}", section=".BTF") from None
        if btf_be != (bo == ">"):
            raise FormatError("BTF byte order differs from the ELF byte order", section=".BTF")
        ext = None
        self.rule = "btf-ext"
        ext_sec = by_name.get(".BTF.ext")
        if ext_sec is not None and ext_sec.type == SHT_PROGBITS:   # else libbpf ignores it
            offsets: dict[tuple[str, str], tuple[int, bool]] = {}
            try:
                ext = btf_ext_mod.parse(bytes(ext_sec.data), btf_raw, len(btf),
                                        strings=btf.raw_strings, offsets=offsets)
            except FormatError as e:
                raise FormatError(f"broken BTF.ext: {e.message}", section=".BTF.ext") from None
            self._check_ext(ext, by_name, offsets)
        self.rule = "load"
        self._check_datasecs(btf, symbols, by_name)
        self._check_maps(btf, sections, symbols, relocations, by_name)
        return InputObject(self.name, bo == ">", sections, symbols, relocations, btf, ext,
                           btf_raw, by_name)

    # -- ELF header ------------------------------------------------------------------
    def _header(self) -> str:
        data = self.data
        if len(data) < 4 or data[:4] != b"\x7fELF":
            raise FormatError("not an ELF file")
        if len(data) < EHDR_SIZE:
            raise FormatError(f"truncated ELF header ({len(data)} bytes)")
        if data[4] != ELFCLASS64:
            raise FormatError("not a 64-bit ELF object (BPF objects are ELF64)")
        if data[5] not in (ELFDATA2LSB, ELFDATA2MSB):
            raise FormatError(f"unknown ELF byte order {data[5]}")
        self.ehdr = _parse_ehdr(data)
        if self.ehdr["e_machine"] != EM_BPF:
            machine = _enum_name("ENUM_E_MACHINE", self.ehdr["e_machine"])
            raise FormatError(f"not a BPF object (machine {machine}, "
                              "expected EM_BPF)")
        if self.ehdr["e_type"] != ET_REL:
            raise FormatError(f"not a relocatable object "
                              f"({_enum_name('ENUM_E_TYPE', self.ehdr['e_type'])}); "
                              "bpflink links the .o files that clang -c writes")
        return ">" if data[5] == ELFDATA2MSB else "<"

    # -- sections ----------------------------------------------------------------------
    def _section_headers(self, bo: str) -> list[Section]:
        data, hdr = self.data, self.ehdr
        shoff, shnum, shstrndx = hdr["e_shoff"], hdr["e_shnum"], hdr["e_shstrndx"]
        if shoff == 0:
            raise FormatError("no section header table")
        # e_shentsize is not checked: libelf (so libbpf's open and linker) reads
        # ELF64 section headers of 64 bytes whatever it says, and so does bpflink.
        if shoff + SHDR_SIZE > len(data):
            raise FormatError(f"truncated: section header table at offset {shoff} is past "
                              f"the end of the file ({len(data)} bytes)")
        shdr = struct.Struct(bo + "IIQQQQIIQQ")
        if shnum == 0:      # extended numbering: count in section 0's sh_size
            shnum = shdr.unpack_from(data, shoff)[5]
        if shstrndx == SHN_XINDEX:
            shstrndx = shdr.unpack_from(data, shoff)[6]
        if shoff + shnum * SHDR_SIZE > len(data):
            raise FormatError(f"truncated: {shnum} section headers at offset {shoff} run past "
                              f"the end of the file ({len(data)} bytes)")
        raw = list(shdr.iter_unpack(data[shoff:shoff + shnum * SHDR_SIZE]))
        if not 0 < shstrndx < shnum:
            raise FormatError(f"section name table index {shstrndx} is out of range "
                              f"({shnum} sections)")
        names_hdr = raw[shstrndx]
        if names_hdr[1] != SHT_STRTAB:
            raise FormatError(f"section name table (section {shstrndx}) is not a string table")
        names = _Names(self._slice(names_hdr[4], names_hdr[5], f"section #{shstrndx}"),
                       ".shstrtab", shnum)
        sections: list[Section] = []
        view: memoryview | None = None      # of the whole file, for data sections
        for i, (sh_name, sh_type, flags, _addr, off, size, link, info, align, entsize) in \
                enumerate(raw):
            if i == 0:
                sections.append(Section(0, "", 0, 0, 0, 0, 0, 0, 0, 0))
                continue
            sname = names.cache.get(sh_name) or names.get(sh_name, f"section #{i}")
            if not sname:
                raise FormatError(f"section #{i} has an empty name")
            if sh_type not in KNOWN_SECTION_TYPES:
                raise FormatError(f"section type 0x{sh_type:x} is not supported in BPF objects",
                                  section=sname)
            skipped = libbpf_skips(sname)
            # flags and alignment matter only in sections copied to the output as they are
            copied = sh_type in (SHT_PROGBITS, SHT_NOBITS) and not skipped and \
                sname not in (".BTF", ".BTF.ext")
            if align and align & (align - 1) and not sname.startswith(".debug"):
                raise FormatError(f"alignment {align} is not a power of two", section=sname)
            if align > 4096 and copied:
                raise FormatError(f"alignment {align} is implausibly large", section=sname,
                                  rule="elf-kept-section")
            if flags & ~SHF_KNOWN and copied:
                raise FormatError(f"section flags 0x{flags:x} have unknown bits "
                                  f"0x{flags & ~SHF_KNOWN:x}", section=sname,
                                  rule="elf-kept-section")
            if flags & SHF_COMPRESSED and copied:
                raise FormatError("section is compressed (SHF_COMPRESSED); only debug "
                                  "sections may be, since code and data are linked as is",
                                  section=sname)
            # a 'license' of a type libbpf skips is none to libbpf: dropped, not checked
            if sname in ("license", "version") and not libbpf_skips_type(sh_type):
                if sh_type != SHT_PROGBITS:
                    raise FormatError(f"'{sname}' must hold its contents (SHT_PROGBITS); "
                                      "libbpf reads them", section=sname)
                if sname == "version" and size != 4:
                    raise FormatError(f"'version' is {size} bytes; it holds one 32-bit "
                                      "kernel version", section=sname)
            body: bytes | memoryview
            if sh_type in (SHT_NOBITS, SHT_NULL):
                body = b""
            else:
                if size and off + size > len(data):     # _span's check, inline
                    self._span(off, size, sname)
                if skipped or sh_type == SHT_PROGBITS and not flags & SHF_EXECINSTR and \
                        sname not in (".BTF", ".BTF.ext"):
                    # data the link only moves (megabytes, for an arena), or DWARF that
                    # nothing reads (most of a -g object's bytes): a view, not a copy
                    if view is None:
                        view = memoryview(data).toreadonly()
                    body = view[off:off + size]
                else:
                    body = data[off:off + size]
            if size > MAX_SECTION_SIZE and not skipped:     # only NOBITS: the others fit the file
                raise FormatError(f"section size {size} is larger than {MAX_SECTION_SIZE}, "
                                  "the largest map value the kernel accepts", section=sname,
                                  rule="elf-kept-section")
            if sh_type == SHT_PROGBITS and flags & SHF_EXECINSTR and size % BPF_INSN_SIZE:
                raise FormatError(f"code size {size} is not a multiple of {BPF_INSN_SIZE}",
                                  section=sname)
            sections.append(Section(i, sname, sh_type, flags, off, size, link, info, align,
                                    entsize, body))
        return sections

    def _span(self, off: int, size: int, what: str) -> None:
        if size == 0:
            return          # libelf does not look where an empty section claims to start
        if off + size > len(self.data):
            raise FormatError(f"truncated: {size} bytes at offset {off} run past the end of "
                              f"the file ({len(self.data)} bytes)", section=what)

    def _slice(self, off: int, size: int, what: str) -> bytes:
        self._span(off, size, what)
        return self.data[off:off + size]

    def _find_symtab(self, sections: list[Section]) -> Section:
        tabs = [s for s in sections if s.type == SHT_SYMTAB]
        if not tabs:
            raise FormatError("no symbol table (.symtab)")
        if len(tabs) > 1:
            raise FormatError("more than one symbol table")
        return tabs[0]

    # -- symbols -----------------------------------------------------------------------
    def _symbols(self, bo: str, sections: list[Section], symtab: Section,
                 ignored: list[bool]) -> list[Symbol]:
        sname = symtab.name
        if symtab.entsize != SYM_SIZE or symtab.size % SYM_SIZE:
            raise FormatError(f"symbol table entry size {symtab.entsize} / size {symtab.size} "
                              f"is not a whole number of {SYM_SIZE}-byte symbols", section=sname)
        if not 0 < symtab.link < len(sections) or sections[symtab.link].type != SHT_STRTAB:
            raise FormatError(f"symbol table's string table (section #{symtab.link}) is missing "
                              "or not a string table", section=sname)
        strtab = _Names(bytes(sections[symtab.link].data), sections[symtab.link].name,
                        symtab.size // SYM_SIZE)
        names, name_of = strtab.cache, strtab.get
        nsec = len(sections)
        execs = [sec.is_exec for sec in sections]      # asked per function symbol
        symbols: list[Symbol] = []
        seen: dict[str, int] = {}       # global name -> its first symbol

        def what(name: str, i: int) -> str:     # formatted only for an error
            return f"symbol '{name}'" if name else f"symbol #{i}"

        for i, (st_name, info, other, shndx, value, size) in enumerate(
                struct.iter_unpack(bo + "IBBHQQ", symtab.data)):
            if i == 0:
                if st_name or info or other or shndx or value or size:
                    raise FormatError("symbol #0 is not the null symbol", section=sname)
                symbols.append(Symbol(0, "", 0, 0, 0, 0, 0, 0, 0))
                continue
            name = names.get(st_name)
            if name is None:
                name = name_of(st_name, f"symbol #{i}")
            bind, stype, vis = info >> 4, info & 0xF, other & 0x3
            if bind not in (STB_LOCAL, STB_GLOBAL, STB_WEAK):
                raise FormatError(f"{what(name, i)} has unsupported binding {bind}",
                                  section=sname)
            if vis not in (STV_DEFAULT, STV_HIDDEN):
                raise FormatError(f"{what(name, i)} has unsupported visibility {vis}",
                                  section=sname)
            if shndx == SHN_COMMON:
                raise FormatError(f"{what(name, i)} is a COMMON symbol; BPF globals must be "
                                  "defined or extern (compile with -fno-common)",
                                  section=sname, rule="elf-symbol")
            if shndx == SHN_UNDEF:
                if bind == STB_LOCAL or value or size or stype != STT_NOTYPE:
                    raise FormatError(f"{what(name, i)} is an invalid extern (undefined symbols "
                                      "must be global or weak, untyped, with zero value and "
                                      "size)", section=sname)
            elif shndx < SHN_LORESERVE:
                if shndx >= nsec:
                    raise FormatError(f"{what(name, i)} points to section #{shndx}, but there "
                                      f"are only {nsec} sections", section=sname)
                target = sections[shndx]
                if stype == STT_SECTION and value:
                    raise FormatError(f"{what(name, i)} is a section symbol with non-zero value",
                                      section=sname)
                if ignored[shndx]:
                    pass        # libbpf's linker ignores symbols there; so does the layout
                elif target.type in (SHT_PROGBITS, SHT_NOBITS) and value + size > target.size:
                    raise FormatError(f"{what(name, i)} (offset {value}, size {size}) lies "
                                      f"outside its section {target.name} ({target.size} "
                                      "bytes)", section=sname, rule="elf-symbol")
                elif stype == STT_FUNC and execs[shndx]:
                    if value % BPF_INSN_SIZE or size % BPF_INSN_SIZE or not size:
                        raise FormatError(f"{what(name, i)} (offset {value}, size {size}) does "
                                          f"not cover whole {BPF_INSN_SIZE}-byte instructions",
                                          section=sname)
                    if bind == STB_LOCAL and target.name != ".text":
                        raise FormatError(f"{what(name, i)} is a static function in program "
                                          f"section '{target.name}'; static functions must "
                                          "live in .text (libbpf refuses static programs)",
                                          section=sname)
            elif shndx != SHN_ABS:
                raise FormatError(f"{what(name, i)} has unsupported section index 0x{shndx:x}",
                                  section=sname, rule="elf-symbol")
            if bind != STB_LOCAL and name:
                first = seen.setdefault(name, i)
                if first != i:      # libbpf's open would take them for two globals
                    raise FormatError(f"{what(name, i)} is in the symbol table twice "
                                      f"(#{first} and #{i})", section=sname, rule="elf-symbol")
            symbols.append(Symbol(i, name, value, size, bind, stype, vis, other, shndx))
        return symbols

    # -- relocations -------------------------------------------------------------------
    def _relocations(self, bo: str, sections: list[Section], symtab: Section,
                     symbols: list[Symbol], ignored: list[bool]) -> dict[int, list[Relocation]]:
        out: dict[int, list[Relocation]] = {}
        nsym = len(symbols)
        nsec = len(sections)
        for rel in sections:
            if rel.type != SHT_REL:
                continue
            if rel.entsize != REL_SIZE or rel.size % REL_SIZE:
                raise FormatError(f"relocation entry size {rel.entsize} / size {rel.size} is not "
                                  f"a whole number of {REL_SIZE}-byte entries", section=rel.name)
            if rel.link != symtab.index:
                raise FormatError(f"relocations refer to section #{rel.link}, which is not the "
                                  "symbol table", section=rel.name)
            if not 0 < rel.info < len(sections):
                raise FormatError(f"relocations apply to section #{rel.info}, which does not "
                                  "exist", section=rel.name)
            target = sections[rel.info]
            if rel.name != ".rel" + target.name:
                raise FormatError(f"relocation section name does not match its target "
                                  f"section '{target.name}'", section=rel.name)
            if ignored[target.index] or libbpf_skips_type(target.type):
                continue        # dropped with their target, as libbpf's linker drops them
            if target.type not in (SHT_PROGBITS, SHT_NOBITS):
                raise FormatError(f"relocations apply to '{target.name}', which holds neither "
                                  "code nor data", section=rel.name)
            relocs = out.setdefault(target.index, [])
            in_code = target.is_exec
            tsize = target.size
            code = target.data
            # (symbol, opcode) pairs whose target checks passed once: the same call
            # or load of the same symbol needs only its own site checked again
            passed: set[tuple[int, int]] = set()
            for j, (r_offset, r_info) in enumerate(struct.iter_unpack(bo + "QQ", rel.data)):
                sym, rtype = r_info >> 32, r_info & 0xFFFFFFFF
                if rtype not in RELOC_NAMES:
                    raise FormatError(f"relocation #{j} has unsupported type {rtype}",
                                      section=rel.name)
                if not 0 < sym < nsym:
                    raise FormatError(f"relocation #{j} refers to symbol #{sym}, but there are "
                                      f"only {nsym} symbols", section=rel.name)
                if in_code:
                    if r_offset % BPF_INSN_SIZE:
                        raise FormatError(f"relocation #{j} at offset {r_offset} is not on an "
                                          "instruction boundary", section=rel.name)
                    width = 16 if rtype == R_BPF_64_64 else 8
                else:
                    # In data only R_BPF_64_ABS32 patches 4 bytes.  R_BPF_64_64 and
                    # R_BPF_64_32 are instruction relocations: libbpf's linker copies
                    # them in data unchecked, and its open reads a data relocation only
                    # in .maps, as a 64-bit slot whatever its type.
                    width = 4 if rtype == R_BPF_64_ABS32 else 8
                if r_offset + width > tsize:
                    raise FormatError(f"relocation #{j} at offset {r_offset} lies outside "
                                      f"'{target.name}' ({tsize} bytes)", section=rel.name)
                s = symbols[sym]
                if s.type == STT_SECTION and not (0 < s.shndx < nsec):
                    raise FormatError(f"relocation #{j} is against a section symbol of no "
                                      "section", section=rel.name)
                if in_code:
                    op = code[r_offset]
                    # the site's own checks (_check_code_reloc's, which gives the error)
                    if (sym, op) in passed and (
                            (op == BPF_JMP_CALL and (code[r_offset + 1] >> 4 if bo == "<"
                                                     else code[r_offset + 1] & 0xF)
                             == BPF_PSEUDO_CALL) or
                            (op == BPF_LD_IMM64 and r_offset + 2 * BPF_INSN_SIZE <= tsize)):
                        pass
                    else:
                        try:
                            self._check_code_reloc(bo, j, r_offset, s, target, sections,
                                                   rel.name)
                        except FormatError as e:
                            e.rule = e.rule or "load"
                            raise
                        passed.add((sym, op))
                elif 0 < s.shndx < nsec and ignored[s.shndx]:
                    raise FormatError(f"relocation #{j} refers to '{sections[s.shndx].name}', "
                                      "which is not linked (DWARF or BTF)", section=rel.name)
                elif s.type == STT_SECTION and rtype not in (R_BPF_64_ABS64, R_BPF_64_ABS32):
                    # A section symbol's target is held in the data itself, which only a
                    # pointer (ABS64/ABS32) has; libbpf's linker refuses every relocation
                    # against a section symbol in data ("not supported").
                    raise FormatError(f"relocation #{j} ({RELOC_NAMES[rtype]}) against section "
                                      f"'{sections[s.shndx].name}' in a data section; only "
                                      "pointers (R_BPF_64_ABS64, R_BPF_64_ABS32) may be",
                                      section=rel.name)
                relocs.append((r_offset, sym, rtype))
        return out

    def _check_code_reloc(self, bo: str, j: int, off: int, sym: Symbol, target: Section,
                          sections: list[Section], rel_name: str) -> None:
        """A relocation in code patches a call or an ld_imm64, against code or data.

        These are the rules libbpf applies when it opens an object
        (``bpf_program__record_reloc``); checked here, a bad input gets an
        error naming it instead of an output libbpf refuses.
        """
        code = target.data[off]
        sym_name = sym.name or (sections[sym.shndx].name if 0 < sym.shndx < len(sections)
                                else f"#{sym.index}")

        def what() -> str:          # formatted only for an error: this runs per relocation
            return f"relocation #{j} (against '{sym_name}')"

        if code not in (BPF_JMP_CALL, BPF_LD_IMM64):
            raise FormatError(f"{what()} at offset {off} applies to instruction 0x{code:02x}, "
                              "which is neither a call nor a 64-bit load (ld_imm64)",
                              section=rel_name)
        if code == BPF_LD_IMM64 and off + 2 * BPF_INSN_SIZE > target.size:
            raise FormatError(f"{what()}: the 64-bit load at offset {off} is cut off by the end "
                              f"of '{target.name}'", section=rel_name)
        if sym.shndx >= SHN_LORESERVE or sym.type == STT_FILE:
            raise FormatError(f"{what()} refers to an absolute or file symbol, not to code or "
                              "data", section=rel_name)
        if sym.shndx == SHN_UNDEF:
            return          # an extern: bound by the link, or by libbpf at load
        dst = sections[sym.shndx]
        if code == BPF_JMP_CALL:
            regs = target.data[off + 1]
            src_reg = regs & 0xF if bo == ">" else regs >> 4
            if not (dst.is_exec and dst.name == ".text" and sym.type in (STT_FUNC, STT_SECTION)):
                raise FormatError(f"{what()}: the call at offset {off} targets '{sym_name}' in "
                                  f"section '{dst.name}', which is not a function in .text "
                                  "(BPF subprograms live in .text)", section=rel_name)
            if src_reg != BPF_PSEUDO_CALL:
                raise FormatError(f"{what()}: the call at offset {off} has src_reg {src_reg}, "
                                  f"not {BPF_PSEUDO_CALL} (a BPF-to-BPF call)",
                                  section=rel_name)
        elif dst.is_exec:
            if not (dst.name == ".text" and (sym.type == STT_SECTION or (
                    sym.type == STT_FUNC and sym.bind in (STB_GLOBAL, STB_WEAK)))):
                raise FormatError(f"{what()}: the 64-bit load at offset {off} takes the address "
                                  f"of code in '{dst.name}' that is not a subprogram in .text",
                                  section=rel_name)
        elif not is_data_section(dst):
            raise FormatError(f"{what()}: the 64-bit load at offset {off} refers to section "
                              f"'{dst.name}', which is neither maps (.maps) nor global data "
                              "(.data*, .rodata*, .bss*)", section=rel_name)

    def _check_datasecs(self, btf: Btf, symbols: list[Symbol],
                        by_name: dict[str, Section]) -> None:
        """BTF's DATASECs agree with the symbol table and the sections.

        libbpf matches every global VAR to a global object symbol of its name
        and every extern to an undefined symbol when it opens an object; the
        linker places variables by these entries.  A disagreement means the
        BTF or the symbol table is corrupt.
        """
        externs = {s.name for s in symbols if s.shndx == SHN_UNDEF and s.name}
        objects: dict[str, set[int]] = {}
        for s in symbols:
            if s.bind in (STB_GLOBAL, STB_WEAK) and s.type == STT_OBJECT and \
                    0 < s.shndx < SHN_LORESERVE:
                objects.setdefault(s.name, set()).add(s.shndx)
        for t in btf.types:
            if t.kind is not btf_mod.DATASEC:
                continue
            sec = by_name.get(t.name)
            if sec is not None and libbpf_skips_type(sec.type):
                continue        # libbpf's linker drops it with its section
            if not t.data and t.name not in (".ksyms", ".kconfig") and (
                    sec is None or sec.type not in (SHT_PROGBITS, SHT_NOBITS)):
                raise FormatError(f"BTF DATASEC '{t.name}' names no data section of this "
                                  "object", section=".BTF")
            for vtid, off, size in t.data:
                v = btf[vtid]
                is_var = v.kind is btf_mod.VAR
                linkage = v.data if is_var else v.vlen_info
                what = f"BTF {'variable' if is_var else 'function'} '{v.name}' [{vtid}] of " \
                       f"DATASEC '{t.name}'"
                if linkage == btf_mod.VAR_GLOBAL_EXTERN:        # == FUNC_EXTERN
                    if v.name not in externs:
                        raise FormatError(f"{what} is extern, but the symbol table has no "
                                          f"undefined symbol '{v.name}'", section=".BTF")
                    if t.name == ".kconfig" and not (is_var and _kconfig_type_ok(btf, v.ref)):
                        raise FormatError(f"{what} has a type libbpf cannot fill from the "
                                          "kernel config (bool, char, 1/2/4/8-byte integers, "
                                          "enum libbpf_tristate, char arrays)", section=".BTF")
                    continue
                if t.name in (".ksyms", ".kconfig"):
                    raise FormatError(f"{what} is not extern, but {t.name} holds only "
                                      "externs", section=".BTF")
                if t.name == ".maps" and linkage == btf_mod.VAR_STATIC:
                    raise FormatError(f"{what} is a static map; libbpf supports only global "
                                      "maps ('unsupported map linkage static')", section=".BTF")
                if sec is None or sec.type not in (SHT_PROGBITS, SHT_NOBITS):
                    raise FormatError(f"{what}: this object has no data section "
                                      f"'{t.name}'", section=".BTF")
                if off + size > sec.size:
                    raise FormatError(f"{what} (offset {off}, size {size}) lies outside "
                                      f"'{t.name}' ({sec.size} bytes)", section=".BTF")
                if is_var and btf.type_size(v.ref) > size:
                    raise FormatError(f"{what} is {btf.type_size(v.ref)} bytes, but its DATASEC "
                                      f"entry holds {size}", section=".BTF")
                if is_var and linkage == btf_mod.VAR_GLOBAL_ALLOCATED and \
                        sec.index not in objects.get(v.name, ()):
                    raise FormatError(f"{what} is global, but the symbol table has no global "
                                      f"object '{v.name}' in that section", section=".BTF")

    def _check_maps(self, btf: Btf, sections: list[Section], symbols: list[Symbol],
                    relocations: dict[int, list[Relocation]],
                    by_name: dict[str, Section]) -> None:
        """BTF map definitions, and .maps relocations (map-in-map / prog-array slots).

        Definitions follow libbpf's ``parse_btf_map_def`` (``btf.mapdef``, the
        one decoder the linker's comparison uses too), relocations
        ``bpf_object__collect_map_relos``: the linker compares and moves these,
        and libbpf refuses an object that breaks them.
        """
        Kind = btf_mod.Kind
        defs: dict[str, MapDef] = {}
        for t in btf.types:
            if t.kind is Kind.DATASEC and t.name == ".maps":
                for vtid, _off, _size in t.data:
                    defs[btf[vtid].name] = parse_map_def(btf, vtid, btf[vtid].name)
        for s in symbols:
            if s.name in defs and s.visibility == STV_HIDDEN and s.bind != STB_LOCAL:
                raise FormatError(f"map '{s.name}' is hidden; libbpf makes hidden globals "
                                  "static and supports only global maps", section=".BTF")
        maps = by_name.get(".maps")
        if maps is None:
            return
        holders = sorted((s for s in symbols if s.shndx == maps.index and s.type == STT_OBJECT),
                         key=lambda s: s.value)
        for h in holders:           # libbpf creates maps from the DATASEC's variables only
            if h.name not in defs:
                raise FormatError(f"map '{h.name}' in .maps has no BTF variable in DATASEC "
                                  "'.maps'", section=".BTF")
        starts = [h.value for h in holders]
        for j, (r_offset, r_sym, _) in enumerate(relocations.get(maps.index, ())):
            where = f"relocation #{j} at offset {r_offset} of .maps"
            k = bisect.bisect_right(starts, r_offset) - 1       # the map starting last before
            holder = holders[k] if k >= 0 and r_offset < holders[k].value + holders[k].size \
                else None
            d = defs.get(holder.name) if holder is not None else None
            if holder is None or d is None:
                raise FormatError(f"{where} lies in no map defined in BTF",
                                  section=".rel.maps")
            slot = r_offset - holder.value - (d.values_offset or 0)
            # The type is not checked: libbpf's open reads every .maps relocation as
            # a 64-bit slot (bpf_object__collect_map_relos) and its linker copies it.
            if d.values_offset is None or slot < 0 or slot % 8:
                raise FormatError(f"{where} is not a 64-bit initialiser of a 'values' slot of "
                                  f"map '{holder.name}'", section=".rel.maps")
            target = symbols[r_sym]
            if target.shndx == SHN_UNDEF:
                continue            # an extern map or program, bound by the link
            if d.slots == "map":
                ok = target.shndx == maps.index and target.name in defs
            else:
                sec = by_name.get(".text")
                ok = target.type == STT_FUNC and target.shndx < len(sections) and \
                    sections[target.shndx].is_exec and \
                    (sec is None or target.shndx != sec.index)
            if not ok:
                raise FormatError(f"{where} puts '{target.name}' in a slot of map "
                                  f"'{holder.name}', which holds "
                                  f"{'maps' if d.slots == 'map' else 'programs'}",
                                  section=".rel.maps")

    def _check_ext(self, ext: BtfExt, by_name: dict[str, Section],
                   offsets: dict[tuple[str, str], tuple[int, bool]]) -> None:
        """Every record points at an instruction of a code section of this object.

        ``offsets`` (from btf.ext.parse): per kind and section, the largest
        offset and whether all are aligned; records are looked at one by one
        only to name the first bad one.
        """
        for kind, table in (("func_info", ext.func_info), ("line_info", ext.line_info),
                            ("CO-RE relocation", ext.core_relo)):
            for sec_name, recs in table.items():
                sec = by_name.get(sec_name)
                if sec is None or not sec.is_exec:
                    raise FormatError(f"{kind} records refer to section '{sec_name}', which is "
                                      "not a code section of this object", section=".BTF.ext")
                hi, aligned = offsets.get((kind, sec_name), (0, True))
                if aligned and hi < sec.size:
                    continue
                for r in recs:
                    if r[0] % BPF_INSN_SIZE or r[0] >= sec.size:
                        raise FormatError(f"{kind} record at instruction offset {r[0]} points "
                                          f"past the code of '{sec_name}' ({sec.size} bytes)",
                                          section=".BTF.ext")


def _kconfig_type_ok(btf: Btf, tid: int, elem: bool = False) -> bool:
    """libbpf's ``find_kcfg_type``: the types a .kconfig extern may have."""
    Kind = btf_mod.Kind
    _, t = btf.resolve(tid)
    if t.kind is Kind.INT:
        if (t.data >> 24) & 0x4:                        # BTF_INT_BOOL
            return t.ref == 1 and not elem
        return t.ref == 1 or (not elem and t.ref in (2, 4, 8))
    if elem:                                            # arrays are of char only
        return False
    if t.kind in (Kind.ENUM, Kind.ENUM64):
        return t.name == "libbpf_tristate" and (t.kind is Kind.ENUM64 or t.ref == 4)
    if t.kind is Kind.ARRAY:
        return t.data[2] > 0 and _kconfig_type_ok(btf, t.data[0], elem=True)
    return False


if TYPE_CHECKING:
    class _SectionKind(Protocol):
        """What is_data_section reads: an input Section or a linker OutputSection."""

        @property
        def name(self) -> str: ...
        @property
        def type(self) -> int: ...


def is_data_section(sec: _SectionKind) -> bool:
    """Sections libbpf turns into maps: .maps, .data*, .rodata*, .bss*, the arena."""
    name = sec.name
    if name in (".maps", ".addr_space.1"):
        return True
    if sec.type == SHT_NOBITS:
        return name == ".bss" or name.startswith(".bss.")
    return name in (".data", ".rodata") or name.startswith((".data.", ".rodata."))


_EHDR = {"<": struct.Struct("<HHIQQQIHHHHHH"), ">": struct.Struct(">HHIQQQIHHHHHH")}
_EHDR_FIELDS = ("e_type", "e_machine", "e_version", "e_entry", "e_phoff", "e_shoff", "e_flags",
                "e_ehsize", "e_phentsize", "e_phnum", "e_shentsize", "e_shnum", "e_shstrndx")


def _parse_ehdr(data: bytes | mmap) -> dict[str, Any]:
    """Decode the ELF header (after e_ident) with one ``struct`` call.

    e_type and e_machine are numbers here; only a header that is refused
    needs their names (:func:`_enum_name`), so pyelftools stays off the path
    of every successful link (importing it costs more than linking a small
    object).
    """
    bo = ">" if data[5] == ELFDATA2MSB else "<"
    return dict(zip(_EHDR_FIELDS, _EHDR[bo].unpack_from(data, 16)))


def _enum_name(enum: str, value: int) -> str:
    """pyelftools' name for an ELF header value (``EM_X86_64``), as it decodes it."""
    from elftools.elf import enums

    for name, v in getattr(enums, enum).items():
        if v == value and name != "_default_":
            return str(name)
    return str(value)
