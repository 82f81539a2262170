"""The ``.BTF.ext`` section: func_info, line_info and CO-RE relocation records.

Records are grouped per ELF section, keyed by section name.  Strings (file
names, source lines, CO-RE access strings) are held as ``str``; on encoding
they are looked up in the output BTF's string table, which must contain them
(the BTF encoder takes them as ``extra_strings``).

Record layouts (``include/uapi/linux/bpf.h``, libbpf ``libbpf_internal.h``)::

    func_info   insn_off u32, type_id u32
    line_info   insn_off u32, file_name_off u32, line_off u32, line_col u32
    core_relo   insn_off u32, type_id u32, access_str_off u32, kind u32

``insn_off`` is a byte offset into the section in ELF objects.
"""

from __future__ import annotations

import struct
import sys

from ..errors import FormatError
from .types import BTF_MAGIC, StringTable, _Strings, parse_header

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

MIN_HDR = 24          # up to line_info_len
CORE_HDR = 32         # adds core_relo_off/len
FUNC_REC, LINE_REC, CORE_REC = 8, 16, 16


class BtfExt:
    __slots__ = ("func_info", "line_info", "core_relo")

    # A record is a tuple as parsed from an input, a list in the merged
    # func_info and CO-RE tables (whose type IDs dedup rewrites in place): its
    # fields in the layout above.
    def __init__(self, func_info: dict[str, list[Any]] | None = None,
                 line_info: dict[str, list[Any]] | None = None,
                 core_relo: dict[str, list[Any]] | None = None):
        self.func_info: dict[str, list[Any]] = {} if func_info is None else func_info
        self.line_info: dict[str, list[Any]] = {} if line_info is None else line_info
        self.core_relo: dict[str, list[Any]] = {} if core_relo is None else core_relo

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BtfExt):
            return NotImplemented
        return (self.func_info, self.line_info, self.core_relo) == \
            (other.func_info, other.line_info, other.core_relo)

    __hash__ = None     # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (f"BtfExt(func_info={self.func_info!r}, line_info={self.line_info!r}, "
                f"core_relo={self.core_relo!r})")

    def _line_runs(self) -> dict[str, list[tuple[int, list[Any]]]]:
        """line_info as runs of records, each with an offset to add to its insn_offs."""
        return {name: [(0, recs)] if recs else [] for name, recs in self.line_info.items()}

    def sections(self) -> list[str]:
        seen: dict[str, None] = {}
        for table in (self.func_info, self._line_runs(), self.core_relo):
            for name in table:
                seen[name] = None
        return list(seen)

    def strings(self) -> list[str]:
        """Every string the records use (each at least once), in a stable order."""
        out: list[str] = []
        for sec in self.func_info:
            out.append(sec)
        for sec, runs in self._line_runs().items():
            out.append(sec)
            # Runs of records share their file name, and often their line: a string
            # that is the same object as the one before it is listed already, and
            # leaving it out spares the encoder's deduplication most of the list.
            f0 = ln0 = None
            for _, recs in runs:
                for r in recs:
                    f, ln = r[1], r[2]
                    if f is not f0:
                        out.append(f)
                        f0 = f
                    if ln is not ln0:
                        out.append(ln)
                        ln0 = ln
        for sec, recs in self.core_relo.items():
            out.append(sec)
            for r in recs:
                out.append(r[2])
        return out

    def is_empty(self) -> bool:
        return not (any(self.func_info.values()) or any(self._line_runs().values())
                    or any(self.core_relo.values()))

    def encode(self, strings: StringTable, big_endian: bool = False,
               order: list[str] | None = None) -> bytes:
        """Encode; ``order`` fixes the section order (default: insertion order)."""
        bo = ">" if big_endian else "<"
        u32 = struct.Struct(bo + "I")
        sec_hdr = struct.Struct(bo + "II")
        two = struct.Struct(bo + "II")
        four = struct.Struct(bo + "IIII")
        soff = strings.offset
        known = strings._offsets        # every string is in it: strings() listed them

        def block(table: dict[str, list[Any]], rec_size: int,
                  pack: Callable[[list[Any]], bytes],
                  count: Callable[[list[Any]], int] = len) -> bytes:
            names = [n for n in (order or list(table)) if table.get(n)]
            if not names:
                return b""
            out = [u32.pack(rec_size)]
            for name in names:
                recs = table[name]
                out.append(sec_hdr.pack(soff(name), count(recs)))
                out.append(pack(recs))
            return b"".join(out)

        # one comprehension per section's records: a call per record dominated
        funcs = block(self.func_info, FUNC_REC,
                      lambda recs: b"".join([two.pack(r[0], r[1]) for r in recs]))
        sixteen = struct.Struct(bo + "16I")

        def pack_lines(runs: list[tuple[int, list[Any]]]) -> bytes:
            # four records per pack: line_info is the largest table, and a pack
            # call and a list item per record were most of its cost
            body: list[bytes] = []
            for base, recs in runs:         # insn_offs shifted here (MergedBtfExt)
                it = iter(recs)
                body.append(b"".join([
                    sixteen.pack(o + base, known[f], known[ln], c, o2 + base, known[f2],
                                 known[ln2], c2, o3 + base, known[f3], known[ln3], c3,
                                 o4 + base, known[f4], known[ln4], c4)
                    for (o, f, ln, c), (o2, f2, ln2, c2), (o3, f3, ln3, c3), (o4, f4, ln4, c4)
                    in zip(it, it, it, it)]))
                for o, f, ln, c in recs[len(recs) & ~3:]:
                    body.append(four.pack(o + base, known[f], known[ln], c))
            return b"".join(body)

        lines = block(self._line_runs(), LINE_REC, pack_lines,
                      lambda runs: sum(len(recs) for _, recs in runs))
        cores = block(self.core_relo, CORE_REC,
                      lambda recs: b"".join([four.pack(o, t, known[a], k)
                                             for o, t, a, k in recs]))
        hdr = struct.pack(bo + "HBBIIIIIII", BTF_MAGIC, 1, 0, CORE_HDR,
                          0, len(funcs), len(funcs), len(lines),
                          len(funcs) + len(lines), len(cores))
        return hdr + funcs + lines + cores


# BtfExt's line_info slot, which MergedBtfExt's property stands in front of
_line_info: Any = BtfExt.__dict__["line_info"]


class MergedBtfExt(BtfExt):
    """The merged BTF.ext of a link, its line_info offsets shifted when encoded.

    line_info is the largest table (tens of thousands of records) and has no
    type IDs for dedup to rewrite: the merge keeps each input section's
    records as parsed, in ``line_runs`` with the offset of that section in
    the output, rather than copying every record to shift its insn_off.
    ``line_info`` makes the shifted records when first read, as
    :class:`bpflink.btf.types.MergedBtf` does its types.
    """

    __slots__ = ("line_runs",)

    def __init__(self) -> None:
        super().__init__()
        # per output section, (offset, records) of each input section with records;
        # None once line_info holds the records
        self.line_runs: dict[str, list[tuple[int, list[Any]]]] | None = {}

    @property
    def line_info(self) -> dict[str, list[Any]]:
        table: dict[str, list[Any]] = _line_info.__get__(self, BtfExt)
        runs = self.line_runs
        if runs is not None:
            self.line_runs = None
            for name, rs in runs.items():
                table.setdefault(name, []).extend(
                    [(o + base, f, ln, c) for base, recs in rs for o, f, ln, c in recs])
        return table

    @line_info.setter
    def line_info(self, value: dict[str, list[Any]]) -> None:
        _line_info.__set__(self, value)
        self.line_runs = None

    def _line_runs(self) -> dict[str, list[tuple[int, list[Any]]]]:
        runs = self.line_runs
        return super()._line_runs() if runs is None else runs


_ALIGNED = bytes(range(0, 256, 8))      # low bytes of multiples of 8


def parse(raw: bytes, btf_raw: bytes, n_types: int, section: str = ".BTF.ext",
          strings: _Strings | None = None,
          offsets: dict[tuple[str, str], tuple[int, bool]] | None = None) -> BtfExt:
    """Parse and validate ``.BTF.ext`` against its object's raw ``.BTF``.

    ``strings``: the BTF's string section as :func:`bpflink.btf.types.parse`
    decoded it (``Btf.raw_strings``), so it is not split and decoded twice.
    ``offsets``, if given, gets per (kind, section name) the largest
    ``insn_off`` and whether all are multiples of 8, found in C from the raw
    records: the reader checks them against the code without a loop per record.
    """
    if strings is None:
        _, _, _, sdata = parse_header(btf_raw, ".BTF")
        strings = _Strings(sdata, section)
    else:                   # its errors must name this section, as a fresh reader's would
        strings = strings.for_section(section)
    if len(raw) < MIN_HDR:
        raise FormatError(f"too short for a BTF.ext header ({len(raw)} bytes)", section=section)
    if struct.unpack_from("<H", raw)[0] == BTF_MAGIC:
        bo = "<"
    elif struct.unpack_from(">H", raw)[0] == BTF_MAGIC:
        bo = ">"
    else:
        raise FormatError("bad BTF.ext magic", section=section)
    _, version, _, hdr_len = struct.unpack_from(bo + "HBBI", raw)
    if version != 1:
        raise FormatError(f"unsupported BTF.ext version {version}", section=section)
    if hdr_len < MIN_HDR or hdr_len > len(raw):
        raise FormatError(f"bad BTF.ext header length {hdr_len}", section=section)
    fi_off, fi_len, li_off, li_len = struct.unpack_from(bo + "IIII", raw, 8)
    cr_off = cr_len = 0
    if hdr_len >= CORE_HDR:
        cr_off, cr_len = struct.unpack_from(bo + "II", raw, 24)
    body = memoryview(raw)[hdr_len:]      # sliced below without copies
    ext = BtfExt()
    low = 0 if bo == "<" else 3         # where an insn_off's lowest byte is
    swap = (bo == "<") != (sys.byteorder == "little")     # not the host's byte order

    cache = strings.cache

    def string(off: int, what: str) -> str:
        s = cache.get(off)
        return s if s is not None else strings.get(off, what)

    def check_types(types: Sequence[int], what: str) -> None:
        if types and max(types) >= n_types:
            bad = next(t for t in types if t >= n_types)
            raise FormatError(f"{what} references type [{bad}], but there are only "
                              f"{n_types - 1} types", section=section)

    # Records are read a whole section at a time, as columns of u32s (strided
    # memoryview slices, in C), and zipped into tuples, their strings looked up by
    # ``map``: a Python step per record (unpacking, a comprehension) was most
    # of the cost of reading large objects.
    def func_recs(cols: list[Sequence[int]], name: str) -> list[tuple[Any, ...]]:
        check_types(cols[1], f"func_info in '{name}'")
        return list(zip(*cols))

    def line_recs(cols: list[Sequence[int]], name: str) -> list[tuple[Any, ...]]:
        o, f, ln, c = cols
        try:
            return list(zip(o, map(cache.__getitem__, f), map(cache.__getitem__, ln), c))
        except KeyError:        # not at a string start, or bad: the first one named
            return [(o_, string(f_, "line_info file name"), string(ln_, "line_info line"), c_)
                    for o_, f_, ln_, c_ in zip(o, f, ln, c)]

    def core_recs(cols: list[Sequence[int]], name: str) -> list[tuple[Any, ...]]:
        o, t, a, k = cols
        check_types(t, f"CO-RE relocation in '{name}'")
        return [(o_, t_, string(a_, "CO-RE access string"), k_)
                for o_, t_, a_, k_ in zip(o, t, a, k)]

    def read_block(off: int, length: int, min_rec: int, what: str,
                   convert: Callable[[list[Sequence[int]], str], list[tuple[Any, ...]]]
                   ) -> dict[str, list[Any]]:
        table: dict[str, list[Any]] = {}
        if length == 0:
            return table
        if off + length > len(body) or length < 4:
            raise FormatError(f"{what} block (offset {off}, {length} bytes) runs past the "
                              f"end of the section", section=section)
        blk = body[off:off + length]
        rec_size = struct.unpack_from(bo + "I", blk)[0]
        if rec_size < min_rec or rec_size % 4:
            raise FormatError(f"{what} record size {rec_size} is invalid (minimum {min_rec})",
                              section=section)
        step = rec_size // 4        # newer producers may append fields: keep the ones we know
        pos = 4
        while pos < length:
            if pos + 8 > length:
                raise FormatError(f"{what} section header is truncated", section=section)
            name_off, num = struct.unpack_from(bo + "II", blk, pos)
            pos += 8
            name = strings.get(name_off, f"{what} section name")
            if num * rec_size > length - pos:
                raise FormatError(f"{what} for section '{name}' claims {num} records, more "
                                  f"than the block holds", section=section)
            chunk = blk[pos:pos + num * rec_size]
            # a column per known field; the insn_offs as ints at once (max reads them too)
            u32s: Sequence[int]
            if swap:        # the other byte order: unpacked (big-endian BPF is rare)
                u32s = struct.unpack(f"{bo}{len(chunk) // 4}I", chunk)
                insn_offs = list(u32s[::step])
            else:           # the u32s as they lie, viewed in place
                view = chunk.cast("I")
                u32s = view
                insn_offs = view[::step].tolist()
            cols: list[Sequence[int]] = [insn_offs,
                                         *[u32s[i::step] for i in range(1, min_rec // 4)]]
            if offsets is not None and num:
                # the largest insn_off; the low byte of every insn_off, with the
                # multiples of 8 deleted
                hi = max(cols[0])
                aligned = not bytes(chunk[low::rec_size]).translate(None, _ALIGNED)
                prev = offsets.get((what, name))
                if prev is not None:
                    hi, aligned = max(hi, prev[0]), aligned and prev[1]
                offsets[(what, name)] = (hi, aligned)
            table.setdefault(name, []).extend(convert(cols, name))
            pos += num * rec_size
        return table

    ext.func_info = read_block(fi_off, fi_len, FUNC_REC, "func_info", func_recs)
    ext.line_info = read_block(li_off, li_len, LINE_REC, "line_info", line_recs)
    ext.core_relo = read_block(cr_off, cr_len, CORE_REC, "CO-RE relocation", core_recs)
    return ext
