"""Structure-aware mutators for BPF ELF objects (test and soak support).

The mutators parse the object themselves with ``struct`` -- deliberately not
with bpflink's reader, so a reader bug cannot hide the field it mishandles --
and corrupt one field or region at a time: ELF header fields, section header
fields, symbol and relocation entries, string tables, BTF header and type
records, BTF.ext headers and records.  Generic byte flips and truncations
around every section boundary complete the set.

Public API::

    ElfView(data)                      # header, sections, symtab, rels, BTF, BTF.ext
    MUTATORS: dict[str, Mutator]       # name -> fn(rng, view) -> (detail, bytes) | None
    mutate(data, rng, rounds=1, only=None) -> (description, bytes)
    Seed / load_seeds(corpus_dir)      # link-able input sets of the corpus
    make_case(seeds, index, master_seed) -> Case    # deterministic per index
    tiny_object(bss_size=8) -> bytes   # a ~600-byte valid object to make claims in

Every mutator is a pure function of (rng state, input bytes): the same seed
and index always produce the same case, so any finding can be replayed
(``scripts/soak.py --replay N``).
"""

from __future__ import annotations

import random
import struct
import tomllib
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"

EHDR_SIZE, SHDR_SIZE, SYM_SIZE, REL_SIZE = 64, 64, 24, 16
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS, SHT_REL = 1, 2, 3, 8, 9
SHF_EXECINSTR = 0x4

# ELF header fields: name -> (offset, struct code)
EHDR_FIELDS = {
    "e_type": (16, "H"), "e_machine": (18, "H"), "e_version": (20, "I"),
    "e_entry": (24, "Q"), "e_phoff": (32, "Q"), "e_shoff": (40, "Q"), "e_flags": (48, "I"),
    "e_ehsize": (52, "H"), "e_phentsize": (54, "H"), "e_phnum": (56, "H"),
    "e_shentsize": (58, "H"), "e_shnum": (60, "H"), "e_shstrndx": (62, "H"),
}
SHDR_FIELDS = {
    "sh_name": (0, "I"), "sh_type": (4, "I"), "sh_flags": (8, "Q"), "sh_addr": (16, "Q"),
    "sh_offset": (24, "Q"), "sh_size": (32, "Q"), "sh_link": (40, "I"), "sh_info": (44, "I"),
    "sh_addralign": (48, "Q"), "sh_entsize": (56, "Q"),
}
SYM_FIELDS = {
    "st_name": (0, "I"), "st_info": (4, "B"), "st_other": (5, "B"), "st_shndx": (6, "H"),
    "st_value": (8, "Q"), "st_size": (16, "Q"),
}
WIDTH = {"B": 8, "H": 16, "I": 32, "Q": 64}


@dataclass
class Shdr:
    index: int
    hdr_off: int            # where this header sits in the file
    name: str
    type: int
    flags: int
    offset: int
    size: int
    link: int
    info: int
    align: int
    entsize: int

    @property
    def end(self) -> int:
        return self.offset + (0 if self.type == SHT_NOBITS else self.size)


class ElfView:
    """A tolerant, struct-based view of an object (what exists, and where)."""

    def __init__(self, data: bytes):
        self.data = bytes(data)
        self.ok = False
        self.bo = "<"
        self.sections: list[Shdr] = []
        self.shoff = self.shnum = self.shstrndx = 0
        try:
            self.ok = self._parse()
        except (struct.error, IndexError, ValueError, OverflowError, UnicodeDecodeError):
            self.sections = []

    def _parse(self) -> bool:
        d = self.data
        if d[:4] != b"\x7fELF" or len(d) < EHDR_SIZE:
            return False
        self.bo = ">" if d[5] == 2 else "<"
        bo = self.bo
        self.shoff = struct.unpack_from(bo + "Q", d, 40)[0]
        self.shnum = struct.unpack_from(bo + "H", d, 60)[0]
        self.shstrndx = struct.unpack_from(bo + "H", d, 62)[0]
        raw = []
        for i in range(self.shnum):
            off = self.shoff + i * SHDR_SIZE
            raw.append((off,) + struct.unpack_from(bo + "IIQQQQIIQQ", d, off))
        names = raw[self.shstrndx]
        nstart, nsize = names[5], names[6]
        shstr = d[nstart:nstart + nsize]
        for i, (off, n, t, fl, _a, o, s, lk, inf, al, es) in enumerate(raw):
            end = shstr.find(b"\0", n)
            name = shstr[n:end].decode("utf-8", "replace") if end >= 0 else ""
            self.sections.append(Shdr(i, off, name, t, fl, o, s, lk, inf, al, es))
        return True

    # -- lookups --------------------------------------------------------------------
    def by_name(self, name: str) -> Shdr | None:
        return next((s for s in self.sections if s.name == name), None)

    def of_type(self, t: int) -> list[Shdr]:
        return [s for s in self.sections if s.type == t]

    @property
    def symtab(self) -> Shdr | None:
        tabs = self.of_type(SHT_SYMTAB)
        return tabs[0] if tabs else None

    def nsyms(self) -> int:
        st = self.symtab
        return st.size // SYM_SIZE if st else 0

    def sym(self, i: int) -> tuple:
        st = self.symtab
        return struct.unpack_from(self.bo + "IBBHQQ", self.data, st.offset + i * SYM_SIZE)

    def symbols(self) -> list[dict]:
        """Every symbol: index, name, bind, type, shndx, value, size, file offset."""
        st = self.symtab
        if st is None or st.link >= len(self.sections):
            return []
        strtab = self.sections[st.link]
        names = self.data[strtab.offset:strtab.offset + strtab.size]
        out = []
        for i in range(self.nsyms()):
            name_off, info, other, shndx, value, size = self.sym(i)
            end = names.find(b"\0", name_off)
            out.append({"index": i, "name": names[name_off:end].decode("utf-8", "replace"),
                        "bind": info >> 4, "type": info & 0xF, "other": other,
                        "shndx": shndx, "value": value, "size": size,
                        "off": st.offset + i * SYM_SIZE})
        return out

    def symbol(self, name: str) -> dict:
        return next(s for s in self.symbols() if s["name"] == name)

    def btf_string(self, off: int) -> str:
        h = self.btf_header()
        base, hdr_len, _to, _tl, str_off, str_len = h
        start = base + hdr_len + str_off
        blob = self.data[start:start + str_len]
        return blob[off:blob.find(b"\0", off)].decode("utf-8", "replace")

    def btf_named(self) -> list[dict]:
        """btf_records() with each record's name and third word (size or type)."""
        out = []
        for r in self.btf_records():
            name_off, _info, ref = struct.unpack_from(self.bo + "III", self.data, r["off"])
            out.append(dict(r, name=self.btf_string(name_off), ref=ref))
        return out

    def relocs(self, rel_name: str) -> list[dict]:
        s = self.by_name(rel_name)
        out = []
        for j in range(s.size // REL_SIZE):
            at = s.offset + j * REL_SIZE
            r_offset, r_info = struct.unpack_from(self.bo + "QQ", self.data, at)
            out.append({"index": j, "offset": r_offset, "sym": r_info >> 32,
                        "type": r_info & 0xFFFFFFFF, "off": at})
        return out

    def code_sections(self) -> list[Shdr]:
        return [s for s in self.sections
                if s.type == SHT_PROGBITS and s.flags & SHF_EXECINSTR and s.size]

    # -- BTF --------------------------------------------------------------------------
    def btf_records(self) -> list[dict]:
        """Every BTF type record: id, kind, vlen, file offsets of its fields."""
        sec = self.by_name(".BTF")
        if sec is None:
            return []
        d, bo, base = self.data, self.bo, sec.offset
        try:
            hdr_len, type_off, type_len = struct.unpack_from(bo + "III", d, base + 4)
        except struct.error:
            return []
        start = base + hdr_len + type_off
        end = min(start + type_len, base + sec.size, len(d))
        pos, tid, out = start, 1, []
        extra = {1: 4, 3: 12, 14: 4, 17: 4}          # INT, ARRAY, VAR, DECL_TAG
        per = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
        while pos + 12 <= end and tid < 100000:
            _name, info, _ref = struct.unpack_from(bo + "III", d, pos)
            kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
            size = 12 + extra.get(kind, 0) + per.get(kind, 0) * vlen
            out.append({"id": tid, "kind": kind, "vlen": vlen, "off": pos, "size": size,
                        "member": per.get(kind, 0)})
            pos += size
            tid += 1
        return out

    def btf_header(self) -> tuple[int, int, int, int, int] | None:
        """(section offset, hdr_len, type_off, type_len, str_off, str_len)."""
        sec = self.by_name(".BTF")
        if sec is None or sec.size < 24:
            return None
        return (sec.offset,) + struct.unpack_from(self.bo + "IIIII", self.data, sec.offset + 4)

    def ext_layout(self) -> dict | None:
        """BTF.ext: header field offsets, and (field offsets of) each record."""
        sec = self.by_name(".BTF.ext")
        if sec is None or sec.size < 32:
            return None
        d, bo, base = self.data, self.bo, sec.offset
        hdr_len = struct.unpack_from(bo + "I", d, base + 4)[0]
        blocks = struct.unpack_from(bo + "IIIIII", d, base + 8)
        body = base + hdr_len
        recs, sec_hdrs = [], []
        for b, what in enumerate(("func", "line", "core")):
            off, length = blocks[2 * b], blocks[2 * b + 1]
            if not length:
                continue
            p, stop = body + off, body + off + length
            if stop > base + sec.size:
                continue
            rec_size = struct.unpack_from(bo + "I", d, p)[0]
            if rec_size < 8 or rec_size > 64:
                continue
            sec_hdrs.append(("rec_size", what, p))
            p += 4
            while p + 8 <= stop:
                _name, num = struct.unpack_from(bo + "II", d, p)
                sec_hdrs.append(("sec", what, p))
                p += 8
                for _ in range(num):
                    if p + rec_size > stop:
                        break
                    recs.append((what, p, rec_size))
                    p += rec_size
        return {"base": base, "hdr_len": hdr_len, "sec_hdrs": sec_hdrs, "recs": recs}


# -- value choice ------------------------------------------------------------------------

def interesting(rng: random.Random, code: str, orig: int, file_len: int) -> int:
    """A boundary value for a field of struct code ``code`` (the fuzzing classics)."""
    bits = WIDTH[code]
    mask = (1 << bits) - 1
    pool = [0, 1, 2, 3, 4, 7, 8, 16, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF,
            0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 32, (1 << 32) + 8, 1 << 40, 1 << 63,
            (1 << 64) - 1, (1 << 64) - 8, file_len, file_len - 1, file_len + 1,
            orig + 1, orig - 1, orig + 8, orig - 8, orig * 2, orig ^ (1 << rng.randrange(bits)),
            rng.getrandbits(bits), rng.randrange(0, max(file_len, 1) * 2)]
    return rng.choice(pool) & mask


def put(data: bytearray, off: int, code: str, value: int, bo: str) -> bool:
    if off < 0 or off + struct.calcsize(code) > len(data):
        return False
    struct.pack_into(bo + code, data, off, value & ((1 << WIDTH[code]) - 1))
    return True


def get(data: bytes, off: int, code: str, bo: str) -> int:
    return struct.unpack_from(bo + code, data, off)[0]


Result = tuple[str, bytes] | None
Mutator = Callable[[random.Random, ElfView], Result]
MUTATORS: dict[str, Mutator] = {}


def mutator(fn: Mutator) -> Mutator:
    MUTATORS[fn.__name__] = fn
    return fn


def _set_field(rng, v: ElfView, off: int, code: str, label: str, value: int | None = None) -> Result:
    d = bytearray(v.data)
    if off + struct.calcsize(code) > len(d):
        return None
    orig = get(d, off, code, v.bo)
    if value is None:
        value = interesting(rng, code, orig, len(d))
    value &= (1 << WIDTH[code]) - 1
    if value == orig:
        value = (orig + 1) & ((1 << WIDTH[code]) - 1)
    put(d, off, code, value, v.bo)
    return f"{label} {orig:#x}->{value:#x}", bytes(d)


# -- generic -------------------------------------------------------------------------------

@mutator
def byte_flips(rng, v):
    d = bytearray(v.data)
    if not d:
        return None
    n = rng.choice([1, 1, 2, 3, 8, 32])
    spots = []
    for _ in range(n):
        i = rng.randrange(len(d))
        if rng.random() < 0.5:
            d[i] ^= 1 << rng.randrange(8)
        else:
            d[i] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        spots.append(i)
    return f"{n} byte(s) at {sorted(spots)[:4]}", bytes(d)


@mutator
def section_byte_flips(rng, v):
    secs = [s for s in v.sections[1:] if s.type != SHT_NOBITS and s.size]
    if not secs:
        return None
    s = rng.choice(secs)
    d = bytearray(v.data)
    n = rng.choice([1, 2, 4, 16])
    for _ in range(n):
        i = s.offset + rng.randrange(s.size)
        if i < len(d):
            d[i] ^= 1 << rng.randrange(8)
    return f"{n} bit flip(s) in {s.name}", bytes(d)


@mutator
def truncate_boundary(rng, v):
    """Truncate at, or a few bytes around, a section or table boundary."""
    if len(v.data) < 2:
        return None
    cuts = {0, 1, 4, 16, EHDR_SIZE, len(v.data) - 1}
    for s in v.sections[1:]:
        cuts.update((s.offset, s.end, s.hdr_off, s.hdr_off + SHDR_SIZE))
    if v.ok:
        cuts.add(v.shoff)
    cut = rng.choice(sorted(c for c in cuts if 0 <= c < len(v.data)))
    cut = max(0, min(len(v.data) - 1, cut + rng.choice([0, 0, -1, 1, -2, 2, -4, 4, -8, 8])))
    return f"truncate at {cut} of {len(v.data)}", v.data[:cut]


@mutator
def splice_duplicate(rng, v):
    """Copy one region over another (self-splicing keeps plausible structure)."""
    n = len(v.data)
    if n < 32:
        return None
    ln = rng.choice([4, 8, 16, 24, 64, 256])
    a, b = rng.randrange(n - 1), rng.randrange(n - 1)
    d = bytearray(v.data)
    chunk = d[a:a + ln]
    d[b:b + len(chunk)] = chunk
    return f"copy {len(chunk)} bytes {a}->{b}", bytes(d[:n])


# -- ELF header / section headers -----------------------------------------------------

@mutator
def ehdr_field(rng, v):
    name = rng.choice(["e_shoff", "e_shnum", "e_shstrndx", "e_shentsize", "e_type",
                       "e_machine", "e_shoff", "e_shnum", "e_ehsize", "e_phnum"])
    off, code = EHDR_FIELDS[name]
    if rng.random() < 0.1:
        d = bytearray(v.data)
        i = rng.randrange(4, 16)
        d[i] = rng.randrange(256)
        return f"e_ident[{i}]={d[i]}", bytes(d)
    return _set_field(rng, v, off, code, name)


@mutator
def shdr_field(rng, v):
    if len(v.sections) < 2:
        return None
    s = rng.choice(v.sections[1:])
    name = rng.choice(["sh_offset", "sh_size", "sh_size", "sh_offset", "sh_link", "sh_info",
                       "sh_name", "sh_type", "sh_flags", "sh_addralign", "sh_entsize"])
    off, code = SHDR_FIELDS[name]
    value = None
    if name == "sh_type" and rng.random() < 0.7:
        value = rng.choice([0, 1, 2, 3, 8, 9, 4, 11, 0x6FFF4C03])
    elif name == "sh_link" or name == "sh_info":
        if rng.random() < 0.6:
            value = rng.choice([0, 1, len(v.sections) - 1, len(v.sections),
                                len(v.sections) + 1, rng.randrange(len(v.sections)),
                                0xFFFF, 0xFFFFFFFF])
    return _set_field(rng, v, s.hdr_off + off, code, f"{s.name}.{name}", value)


@mutator
def huge_size(rng, v):
    """A section that claims gigabytes (the 1 KB file with a 4 GB section)."""
    secs = v.sections[1:]
    if not secs:
        return None
    s = rng.choice(secs)
    value = rng.choice([1 << 32, (1 << 32) - 1, 1 << 31, 0x7FFFFFFFFFFFFFFF, (1 << 64) - 1,
                        1 << 40, 3 << 30])
    d = bytearray(v.data)
    put(d, s.hdr_off + 32, "Q", value, v.bo)
    if rng.random() < 0.3:
        put(d, s.hdr_off + 4, "I", SHT_NOBITS, v.bo)     # gigabytes of .bss
        return f"{s.name} NOBITS of {value:#x}", bytes(d)
    return f"{s.name}.sh_size={value:#x}", bytes(d)


@mutator
def overlap_sections(rng, v):
    secs = [s for s in v.sections[1:] if s.type != SHT_NOBITS]
    if len(secs) < 2:
        return None
    a, b = rng.sample(secs, 2)
    d = bytearray(v.data)
    how = rng.choice(["same offset", "grow into next", "onto header table", "onto ehdr"])
    if how == "same offset":
        put(d, a.hdr_off + 24, "Q", b.offset, v.bo)
    elif how == "grow into next":
        put(d, a.hdr_off + 32, "Q", max(a.size, b.end - a.offset), v.bo)
    elif how == "onto header table":
        put(d, a.hdr_off + 24, "Q", v.shoff, v.bo)
    else:
        put(d, a.hdr_off + 24, "Q", 0, v.bo)
    return f"{a.name} {how} ({b.name})", bytes(d)


@mutator
def shnum_extended(rng, v):
    """Extended numbering: e_shnum=0 / e_shstrndx=SHN_XINDEX with section 0 carrying counts."""
    d = bytearray(v.data)
    if not v.ok or not v.sections:
        return None
    s0 = v.sections[0].hdr_off
    which = rng.choice(["shnum", "shstrndx", "both"])
    value = rng.choice([0, 1, v.shnum, v.shnum + 1, 0xFFFFFFFF, 1 << 40, (1 << 64) - 1])
    if which in ("shnum", "both"):
        put(d, 60, "H", 0, v.bo)
        put(d, s0 + 32, "Q", value, v.bo)
    if which in ("shstrndx", "both"):
        put(d, 62, "H", 0xFFFF, v.bo)
        put(d, s0 + 40, "I", rng.choice([0, v.shstrndx, v.shnum, 0xFFFFFFFF]), v.bo)
    return f"extended numbering ({which}, {value:#x})", bytes(d)


# -- string tables -------------------------------------------------------------------------

@mutator
def unterminated_strtab(rng, v):
    tabs = [s for s in v.of_type(SHT_STRTAB) if s.size]
    if not tabs:
        return None
    s = rng.choice(tabs)
    d = bytearray(v.data)
    how = rng.choice(["last byte", "all NULs", "shrink by one"])
    if how == "last byte":
        if s.end - 1 >= len(d):
            return None
        d[s.end - 1] = ord("A")
    elif how == "all NULs":
        for i in range(s.offset, min(s.end, len(d))):
            if d[i] == 0:
                d[i] = ord("x")
    else:
        put(d, s.hdr_off + 32, "Q", s.size - 1, v.bo)
    return f"{s.name} without terminator ({how})", bytes(d)


# -- symbols -------------------------------------------------------------------------------

@mutator
def symbol_field(rng, v):
    n = v.nsyms()
    if n < 2:
        return None
    i = rng.randrange(1, n)
    name = rng.choice(["st_name", "st_info", "st_other", "st_shndx", "st_shndx", "st_value",
                       "st_size"])
    off, code = SYM_FIELDS[name]
    value = None
    if name == "st_shndx" and rng.random() < 0.7:
        value = rng.choice([0, len(v.sections), len(v.sections) + 1, 0xFF00, 0xFFF1, 0xFFF2,
                            0xFFFF, rng.randrange(len(v.sections))])
    elif name == "st_info" and rng.random() < 0.7:
        value = (rng.choice([0, 1, 2, 3, 10]) << 4) | rng.choice([0, 1, 2, 3, 4, 5, 6, 10])
    elif name == "st_name" and rng.random() < 0.5:
        strtab = v.sections[v.symtab.link] if v.symtab.link < len(v.sections) else None
        size = strtab.size if strtab else 0
        value = rng.choice([size, size - 1, size + 1, 0xFFFFFFFF])
    return _set_field(rng, v, v.symtab.offset + i * SYM_SIZE + off, code,
                      f"symbol #{i} {name}", value)


@mutator
def symbol_kind_swap(rng, v):
    """Copy one symbol entry over another (wrong kinds in the right places)."""
    n = v.nsyms()
    if n < 3:
        return None
    a, b = rng.sample(range(1, n), 2)
    d = bytearray(v.data)
    base = v.symtab.offset
    d[base + b * SYM_SIZE: base + (b + 1) * SYM_SIZE] = d[base + a * SYM_SIZE: base + (a + 1) * SYM_SIZE]
    return f"symbol #{a} copied over #{b}", bytes(d)


# -- relocations ---------------------------------------------------------------------------

@mutator
def reloc_field(rng, v):
    rels = [s for s in v.of_type(SHT_REL) if s.size >= REL_SIZE]
    if not rels:
        return None
    s = rng.choice(rels)
    j = rng.randrange(s.size // REL_SIZE)
    at = s.offset + j * REL_SIZE
    if at + REL_SIZE > len(v.data):
        return None
    r_offset, r_info = struct.unpack_from(v.bo + "QQ", v.data, at)
    sym, rtype = r_info >> 32, r_info & 0xFFFFFFFF
    how = rng.choice(["odd offset", "offset", "symbol", "wrong kind", "type", "type"])
    nsym = v.nsyms()
    if how == "odd offset":
        r_offset += rng.choice([1, 2, 3, 4, 5, 6, 7, -1, -4])
    elif how == "offset":
        r_offset = interesting(rng, "Q", r_offset, len(v.data))
    elif how == "symbol":
        sym = rng.choice([0, nsym - 1, nsym, nsym + 1, 0xFFFFFFFF, rng.randrange(max(nsym, 1))])
    elif how == "wrong kind":
        sym = rng.randrange(1, max(nsym, 2))           # any symbol: file, section, object, func
    else:
        rtype = rng.choice([0, 1, 2, 3, 4, 8, 10, 11, 0xFF, 0xFFFFFFFF])
    d = bytearray(v.data)
    put(d, at, "Q", r_offset % (1 << 64), v.bo)
    put(d, at + 8, "Q", ((sym & 0xFFFFFFFF) << 32) | (rtype & 0xFFFFFFFF), v.bo)
    return (f"{s.name} #{j} {how}: off={r_offset % (1 << 64):#x} sym={sym & 0xFFFFFFFF} "
            f"type={rtype & 0xFFFFFFFF}", bytes(d))


@mutator
def reloc_section_header(rng, v):
    """Point a .rel section at the wrong symtab or target, or give it a bad entsize."""
    rels = v.of_type(SHT_REL)
    if not rels:
        return None
    s = rng.choice(rels)
    name = rng.choice(["sh_link", "sh_info", "sh_entsize", "sh_size"])
    off, code = SHDR_FIELDS[name]
    value = rng.choice([0, 1, 8, 24, len(v.sections) - 1, len(v.sections), s.size + REL_SIZE,
                        s.size - 1, rng.randrange(len(v.sections)), 0xFFFFFFFF])
    return _set_field(rng, v, s.hdr_off + off, code, f"{s.name}.{name}", value)


# -- BTF ---------------------------------------------------------------------------------

@mutator
def btf_header(rng, v):
    h = v.btf_header()
    if h is None:
        return None
    base = h[0]
    name, off, code = rng.choice([("magic", 0, "H"), ("version", 2, "B"), ("flags", 3, "B"),
                                  ("hdr_len", 4, "I"), ("type_off", 8, "I"),
                                  ("type_len", 12, "I"), ("str_off", 16, "I"),
                                  ("str_len", 20, "I"), ("type_len", 12, "I"),
                                  ("str_len", 20, "I")])
    return _set_field(rng, v, base + off, code, f"BTF {name}")


@mutator
def btf_type_record(rng, v):
    recs = v.btf_records()
    if not recs:
        return None
    r = rng.choice(recs)
    n = len(recs)
    bo = v.bo
    d = bytearray(v.data)
    how = rng.choice(["ref out of range", "ref self", "cycle", "huge vlen", "kind", "name_off",
                      "member type", "array nelems", "size", "kflag", "extra word"])
    at = r["off"]
    if how == "ref out of range":
        put(d, at + 8, "I", rng.choice([n + 1, n + 2, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]), bo)
    elif how == "ref self":
        put(d, at + 8, "I", r["id"], bo)
    elif how == "cycle":
        # make two reference-kind types point at each other (PTR/TYPEDEF/CONST/...)
        refk = [x for x in recs if x["kind"] in (2, 8, 9, 10, 11, 18)]
        if len(refk) < 2:
            return None
        a, b = rng.sample(refk, 2)
        put(d, a["off"] + 8, "I", b["id"], bo)
        put(d, b["off"] + 8, "I", a["id"], bo)
        if rng.random() < 0.5:      # make both modifiers: a pure modifier cycle
            for x in (a, b):
                info = get(d, x["off"] + 4, "I", bo)
                put(d, x["off"] + 4, "I", (info & 0x80FFFFFF) | (rng.choice([8, 10, 9]) << 24), bo)
        return f"BTF cycle [{a['id']}] <-> [{b['id']}]", bytes(d)
    elif how == "huge vlen":
        info = get(d, at + 4, "I", bo)
        put(d, at + 4, "I", (info & 0xFFFF0000) | rng.choice([0xFFFF, 0x8000, r["vlen"] + 1]), bo)
    elif how == "kind":
        info = get(d, at + 4, "I", bo)
        put(d, at + 4, "I", (info & 0xE0FFFFFF) | (rng.randrange(32) << 24), bo)
    elif how == "name_off":
        h = v.btf_header()
        put(d, at, "I", rng.choice([h[5], h[5] - 1, h[5] + 1, 0xFFFFFFFF, 1 << 24]), bo)
    elif how == "member type":
        if not r["member"] or not r["vlen"]:
            return None
        m = rng.randrange(r["vlen"])
        moff = at + 12 + m * r["member"]
        # STRUCT/UNION/DATASEC: type word second/first; FUNC_PROTO: second
        word = {4: 4, 5: 4, 13: 4, 15: 0}.get(r["kind"])
        if word is None:
            return None
        put(d, moff + word, "I", rng.choice([n, n + 1, 0xFFFFFFFF, r["id"], 0]), bo)
        if r["kind"] == 15 and rng.random() < 0.5:      # DATASEC offset/size past the section
            put(d, moff + 4, "I", rng.choice([0xFFFFFFF0, 1 << 20]), bo)
            put(d, moff + 8, "I", rng.choice([0xFFFFFFFF, 1 << 20]), bo)
    elif how == "array nelems":
        arr = [x for x in recs if x["kind"] == 3]
        if not arr:
            return None
        a = rng.choice(arr)
        put(d, a["off"] + 12 + rng.choice([0, 4, 8]), "I",
            rng.choice([0xFFFFFFFF, 0x80000000, n, n + 1, a["id"]]), bo)
        return f"BTF ARRAY [{a['id']}] field", bytes(d)
    elif how == "size":
        put(d, at + 8, "I", rng.choice([0, 0xFFFFFFFF, 0x80000000, 3, 1 << 20]), bo)
    elif how == "kflag":
        info = get(d, at + 4, "I", bo)
        put(d, at + 4, "I", info ^ 0x80000000, bo)
    else:
        if r["size"] <= 12:
            return None
        w = at + 12 + 4 * rng.randrange((r["size"] - 12) // 4)
        put(d, w, "I", interesting(rng, "I", get(d, w, "I", bo), len(d)), bo)
    return f"BTF [{r['id']}] kind {r['kind']}: {how}", bytes(d)


@mutator
def btf_strings(rng, v):
    h = v.btf_header()
    if h is None:
        return None
    base, hdr_len, _to, _tl, str_off, str_len = h
    start = base + hdr_len + str_off
    if str_len < 2 or start + str_len > len(v.data):
        return None
    d = bytearray(v.data)
    how = rng.choice(["unterminated", "non-utf8", "first not NUL"])
    if how == "unterminated":
        d[start + str_len - 1] = ord("Z")
    elif how == "non-utf8":
        d[start + rng.randrange(1, str_len - 1)] = 0xFF
    else:
        d[start] = ord("A")
    return f"BTF strings {how}", bytes(d)


# -- BTF.ext ---------------------------------------------------------------------------------

@mutator
def btf_ext_header(rng, v):
    lay = v.ext_layout()
    if lay is None:
        return None
    name, off, code = rng.choice([("magic", 0, "H"), ("version", 2, "B"), ("hdr_len", 4, "I"),
                                  ("func_info_off", 8, "I"), ("func_info_len", 12, "I"),
                                  ("line_info_off", 16, "I"), ("line_info_len", 20, "I"),
                                  ("core_relo_off", 24, "I"), ("core_relo_len", 28, "I")])
    return _set_field(rng, v, lay["base"] + off, code, f"BTF.ext {name}")


@mutator
def btf_ext_record(rng, v):
    lay = v.ext_layout()
    if lay is None:
        return None
    d = bytearray(v.data)
    bo = v.bo
    code_size = max((s.size for s in v.code_sections()), default=0)
    ntypes = len(v.btf_records()) + 1
    if lay["sec_hdrs"] and rng.random() < 0.35:
        kind, what, at = rng.choice(lay["sec_hdrs"])
        if kind == "rec_size":
            value = rng.choice([0, 4, 7, 12, 24, 1 << 20, 0xFFFFFFFF])
            put(d, at, "I", value, bo)
            return f"BTF.ext {what} rec_size={value:#x}", bytes(d)
        field = rng.choice(["name", "num"])
        value = rng.choice([0xFFFFFFFF, 0x10000000, 0x7FFFFFFF, 1, 1000, 0])
        put(d, at + (0 if field == "name" else 4), "I", value, bo)
        return f"BTF.ext {what} section header {field}={value:#x}", bytes(d)
    if not lay["recs"]:
        return None
    what, at, _size = rng.choice(lay["recs"])
    how = rng.choice(["past the code", "odd insn_off", "type id", "strings", "core kind"])
    if how == "past the code":
        put(d, at, "I", rng.choice([code_size, code_size + 8, 0xFFFFFFF8, 1 << 20]), bo)
    elif how == "odd insn_off":
        put(d, at, "I", get(d, at, "I", bo) + rng.choice([1, 2, 4, 7]), bo)
    elif how == "type id":
        if what == "line":
            return None
        put(d, at + 4, "I", rng.choice([ntypes, ntypes + 1, 0xFFFFFFFF, 0]), bo)
    elif how == "strings":
        word = {"line": rng.choice([4, 8]), "core": 8}.get(what)
        if word is None:
            return None
        put(d, at + word, "I", rng.choice([0xFFFFFFFF, 1 << 20, 1]), bo)
    else:
        if what != "core":
            return None
        put(d, at + 12, "I", rng.choice([0xFFFFFFFF, 14, 100]), bo)
    return f"BTF.ext {what} record: {how}", bytes(d)


# -- driving -------------------------------------------------------------------------------

# Relative frequency: structure-aware mutators dominate, generic ones keep some noise.
WEIGHTS = {
    "byte_flips": 6, "section_byte_flips": 6, "truncate_boundary": 6, "splice_duplicate": 2,
    "ehdr_field": 4, "shdr_field": 10, "huge_size": 4, "overlap_sections": 4,
    "shnum_extended": 2, "unterminated_strtab": 3, "symbol_field": 10, "symbol_kind_swap": 4,
    "reloc_field": 8, "reloc_section_header": 3, "btf_header": 5, "btf_type_record": 12,
    "btf_strings": 3, "btf_ext_header": 4, "btf_ext_record": 8,
}
assert set(WEIGHTS) == set(MUTATORS)


def mutate(data: bytes, rng: random.Random, rounds: int = 1,
           only: list[str] | None = None) -> tuple[str, bytes]:
    """Apply ``rounds`` applicable mutations; return (description, bytes)."""
    names = only or list(WEIGHTS)
    weights = [WEIGHTS[n] for n in names]
    done: list[str] = []
    for _ in range(rounds):
        for _attempt in range(20):
            name = rng.choices(names, weights)[0]
            try:
                res = MUTATORS[name](rng, ElfView(data))
            except (struct.error, IndexError, ValueError, KeyError, TypeError, OverflowError):
                res = None      # the field is not where a well-formed object has it
            if res is not None and res[1] != data:
                detail, data = res
                done.append(f"{name}({detail})")
                break
    return " + ".join(done) or "unchanged", data


def apply(data: bytes, rng: random.Random, names: list[str]) -> tuple[str, bytes]:
    """Apply the named mutators in order (skipping any that do not apply)."""
    done: list[str] = []
    for name in names:
        try:
            res = MUTATORS[name](rng, ElfView(data))
        except (struct.error, IndexError, ValueError, KeyError, TypeError, OverflowError):
            res = None
        if res is not None:
            detail, data = res
            done.append(f"{name}({detail})")
    return " + ".join(done) or "unchanged", data


def tiny_object(bss_size: int = 8) -> bytes:
    """A minimal valid BPF object (~600 bytes): a .text function, a .bss, BTF with an int.

    Small enough that a claim of gigabytes in it is a claim about nothing.
    """
    names = b"\0.text\0.bss\0.BTF\0.symtab\0.strtab\0prog\0"
    off = {n: names.index(n.encode() + b"\0")
           for n in (".text", ".bss", ".BTF", ".symtab", ".strtab", "prog")}
    text = bytes([0xB7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])    # r0 = 0; exit
    strs = b"\0int\0"
    types = struct.pack("<IIII", 1, 1 << 24, 4, (1 << 24) | 32)             # INT 'int', s32
    btf = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types),
                      len(strs)) + types + strs
    syms = bytes(SYM_SIZE) + struct.pack("<IBBHQQ", off["prog"], (1 << 4) | 2, 0, 1, 0,
                                         len(text))
    body = bytearray(EHDR_SIZE)

    def place(blob: bytes) -> int:
        body.extend(bytes(-len(body) % 8))
        at = len(body)
        body.extend(blob)
        return at

    o_text, o_btf, o_sym, o_str = place(text), place(btf), place(syms), place(names)
    shoff = place(b"")
    sh = struct.Struct("<IIQQQQIIQQ")
    hdrs = [bytes(SHDR_SIZE),
            sh.pack(off[".text"], SHT_PROGBITS, 6, 0, o_text, len(text), 0, 0, 8, 0),
            sh.pack(off[".bss"], SHT_NOBITS, 3, 0, o_btf, bss_size, 0, 0, 8, 0),
            sh.pack(off[".BTF"], SHT_PROGBITS, 0, 0, o_btf, len(btf), 0, 0, 4, 0),
            sh.pack(off[".symtab"], SHT_SYMTAB, 0, 0, o_sym, len(syms), 5, 1, 8, SYM_SIZE),
            sh.pack(off[".strtab"], SHT_STRTAB, 0, 0, o_str, len(names), 0, 0, 1, 0)]
    body.extend(b"".join(hdrs))
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    body[:EHDR_SIZE] = ident + struct.pack("<HHIQQQIHHHHHH", 1, 247, 1, 0, 0, shoff, 0,
                                           EHDR_SIZE, 0, 0, SHDR_SIZE, len(hdrs), 5)
    return bytes(body)


@dataclass(frozen=True)
class Seed:
    """A corpus input set that links: the scenario and its files, in link order."""

    scenario: str
    paths: tuple[Path, ...]

    def datas(self) -> list[bytes]:
        return [p.read_bytes() for p in self.paths]


def load_seeds(corpus_dir: Path = CORPUS_DIR) -> list[Seed]:
    """Every scenario's input list, plus each object alone, sorted for determinism."""
    seeds: list[Seed] = []
    singles: set[Path] = set()
    for toml in sorted(corpus_dir.glob("*/scenario.toml")):
        try:
            spec = tomllib.loads(toml.read_text())
        except (OSError, tomllib.TOMLDecodeError):
            continue
        paths = tuple((toml.parent / p).resolve() for p in spec.get("inputs", []))
        if paths and all(p.is_file() for p in paths):
            seeds.append(Seed(toml.parent.name, paths))
            singles.update(paths)
    for p in sorted(singles):
        seeds.append(Seed(f"{p.parent.name}/{p.name}", (p,)))
    return seeds


@dataclass
class Case:
    index: int
    seed: Seed
    names: list[str]
    datas: list[bytes]
    description: str


def make_case(seeds: list[Seed], index: int, master_seed: int = 0) -> Case:
    """The ``index``-th mutated input set; a pure function of its arguments."""
    rng = random.Random(f"bpflink-mutation:{master_seed}:{index}")
    seed = seeds[rng.randrange(len(seeds))]
    datas = seed.datas()
    names = [f"{seed.scenario}:{p.name}" for p in seed.paths]
    victim = rng.randrange(len(datas))
    rounds = rng.choice([1, 1, 1, 1, 2, 3])
    desc, datas[victim] = mutate(datas[victim], rng, rounds)
    description = f"#{index} {seed.scenario} {seed.paths[victim].name}: {desc}"
    if len(datas) > 1 and rng.random() < 0.05:       # occasionally a second victim
        other = (victim + 1) % len(datas)
        d2, datas[other] = mutate(datas[other], rng, 1)
        description += f"; {seed.paths[other].name}: {d2}"
    return Case(index, seed, names, datas, description)
