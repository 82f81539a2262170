"""The BTF type section: an in-memory model, a bounds-checked parser and an encoder.

Format reference: the kernel's ``Documentation/bpf/btf.rst``.  Types hold
their strings as Python ``str`` (not string-table offsets), so types from
different inputs can be mixed freely; the encoder builds one deduplicated
string table.  Type references are plain ints (type IDs) kept in a few
well-known places per kind, which :meth:`BtfType.remap` rewrites.
"""

from __future__ import annotations

import struct
from itertools import accumulate
from operator import itemgetter

from ..errors import FormatError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any, ClassVar

BTF_MAGIC = 0xEB9F
BTF_VERSION = 1
HDR_SIZE = 24
MAX_VLEN = 0xFFFF
MAX_RESOLVE_DEPTH = 32          # the kernel's limit on nested type resolution (btf.c)


_KIND_NAMES = ("UNKN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF",
               "VOLATILE", "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT",
               "DECL_TAG", "TYPE_TAG", "ENUM64")


class _KindType(type):
    """Kind's class: iterates over the kinds in number order and has their count, as an
    IntEnum class does."""

    def __iter__(cls) -> Iterator[Kind]:
        return iter(_KINDS)

    def __len__(cls) -> int:
        return len(_KINDS)


class Kind(int, metaclass=_KindType):
    """A BTF kind: the int it is encoded as, with a name.

    The surface of the IntEnum it was (the kinds as class attributes and
    singletons, ``Kind(n)``, ``name``, ``value``, ``str()`` the number,
    iteration), without ``enum``: importing it (and ``re``, which needs it)
    cost every bpflink process about as much as linking two small objects.
    A plain class attribute is also a fast lookup, where ``Kind.STRUCT`` went
    through EnumType's slow attribute hook.
    """

    __slots__ = ()

    UNKN: ClassVar[Kind]
    INT: ClassVar[Kind]
    PTR: ClassVar[Kind]
    ARRAY: ClassVar[Kind]
    STRUCT: ClassVar[Kind]
    UNION: ClassVar[Kind]
    ENUM: ClassVar[Kind]
    FWD: ClassVar[Kind]
    TYPEDEF: ClassVar[Kind]
    VOLATILE: ClassVar[Kind]
    CONST: ClassVar[Kind]
    RESTRICT: ClassVar[Kind]
    FUNC: ClassVar[Kind]
    FUNC_PROTO: ClassVar[Kind]
    VAR: ClassVar[Kind]
    DATASEC: ClassVar[Kind]
    FLOAT: ClassVar[Kind]
    DECL_TAG: ClassVar[Kind]
    TYPE_TAG: ClassVar[Kind]
    ENUM64: ClassVar[Kind]

    def __new__(cls, number: int) -> Kind:
        """The kind numbered ``number`` (ValueError if none is), as ``IntEnum(n)`` looks one up."""
        try:
            if number >= 0:
                return _KINDS[number]
        except (IndexError, TypeError):
            pass
        raise ValueError(f"{number!r} is not a valid Kind")

    @property
    def name(self) -> str:
        return _KIND_NAMES[self]

    @property
    def value(self) -> int:
        return int(self)

    def __repr__(self) -> str:
        return f"<Kind.{_KIND_NAMES[self]}: {int(self)}>"

    __str__ = int.__repr__      # str(Kind.PTR) == "2", as an IntEnum's since Python 3.11


_KINDS: tuple[Kind, ...] = tuple(int.__new__(Kind, i) for i in range(len(_KIND_NAMES)))
for _kind in _KINDS:
    setattr(Kind, _KIND_NAMES[_kind], _kind)
del _kind

# The kinds as module constants, for comparisons in loops over every type.
(UNKN, INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC,
 FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64) = _KINDS


# Kinds whose third header word is a size rather than a type ID.
SIZED_KINDS = frozenset({INT, STRUCT, UNION, ENUM, ENUM64,
                         DATASEC, FLOAT})
# Kinds whose third header word is a type ID (0 = void where the kind allows it).
REF_KINDS = frozenset({PTR, TYPEDEF, VOLATILE, CONST, RESTRICT,
                       FUNC, FUNC_PROTO, VAR, DECL_TAG, TYPE_TAG})
MODIFIER_KINDS = frozenset({TYPEDEF, VOLATILE, CONST, RESTRICT,
                            TYPE_TAG})

# Linkage values (vlen of FUNC, linkage word of VAR).
FUNC_STATIC, FUNC_GLOBAL, FUNC_EXTERN = 0, 1, 2
VAR_STATIC, VAR_GLOBAL_ALLOCATED, VAR_GLOBAL_EXTERN = 0, 1, 2


_new = object.__new__


class BtfType:
    """One BTF type.

    ``ref`` is the size for sized kinds and the referenced type ID otherwise.
    ``vlen_info`` carries FUNC linkage.  ``data`` holds the kind's extra data:

    ========== ===============================================================
    INT        int encoding word
    ARRAY      [elem_type, index_type, nelems]
    STRUCT     list of [name, type, offset] (offset carries bitfield size
               in its top 8 bits when kflag is set)
    UNION      same as STRUCT
    ENUM       list of [name, value] (value as an unsigned 32-bit word)
    ENUM64     list of [name, value] (value as an unsigned 64-bit int)
    FUNC_PROTO list of [name, type]
    VAR        linkage
    DATASEC    list of [type, offset, size]
    DECL_TAG   component_idx (-1: the type itself)
    others     None
    ========== ===============================================================
    """

    __slots__ = ("kind", "name", "kflag", "ref", "vlen_info", "data")

    def __init__(self, kind: Kind, name: str = "", ref: int = 0, data: Any = None,
                 kflag: int = 0, vlen_info: int = 0):
        self.kind = kind
        self.name = name
        self.kflag = kflag
        self.ref = ref
        self.vlen_info = vlen_info
        self.data = data

    # -- structure -----------------------------------------------------------------
    @property
    def vlen(self) -> int:
        if self.kind in (STRUCT, UNION, ENUM, ENUM64,
                         FUNC_PROTO, DATASEC):
            return len(self.data)
        return self.vlen_info

    @property
    def linkage(self) -> int:
        """FUNC or VAR linkage."""
        if self.kind is FUNC:
            return self.vlen_info
        if self.kind is VAR:
            return int(self.data)
        raise ValueError(f"{self.kind.name} has no linkage")

    def type_ids(self) -> Iterator[int]:
        """Every type ID this type references, in encoding order."""
        k = self.kind
        if k in REF_KINDS:
            yield self.ref
        if k is ARRAY:
            yield self.data[0]
            yield self.data[1]
        elif k in (STRUCT, UNION):
            for m in self.data:
                yield m[1]
        elif k is FUNC_PROTO:
            for p in self.data:
                yield p[1]
        elif k is DATASEC:
            for v in self.data:
                yield v[0]

    def remap(self, fn: Callable[[int], int]) -> None:
        """Rewrite every referenced type ID through ``fn`` in place."""
        k = self.kind
        if k in REF_KINDS:
            self.ref = fn(self.ref)
        if k is ARRAY:
            self.data[0] = fn(self.data[0])
            self.data[1] = fn(self.data[1])
        elif k in (STRUCT, UNION, FUNC_PROTO):
            for m in self.data:
                m[1] = fn(m[1])
        elif k is DATASEC:
            for v in self.data:
                v[0] = fn(v[0])

    def remapped(self, m: list[int]) -> BtfType:
        """A copy whose referenced type IDs go through ``m`` (old ID -> new ID).

        ``copy()`` then ``remap(m.__getitem__)`` in one pass: merging BTF
        makes one of these per input type.
        """
        k = self.kind
        d = self.data
        # the bare object with its slots set, as parse makes them: BtfType(...)
        # would run __init__ in a Python frame of its own, per kept type of a dedup
        t = _new(BtfType)
        t.kind = k
        t.name = self.name
        t.kflag = self.kflag
        t.ref = m[self.ref] if k in REF_KINDS else self.ref
        t.vlen_info = self.vlen_info
        if k in _LIST_DATA_KINDS:       # one test passes the kinds whose data is a number
            if k is STRUCT or k is UNION:
                d = [[n, m[ty], off] for n, ty, off in d]
            elif k is FUNC_PROTO:
                d = [[n, m[ty]] for n, ty in d]
            elif k is ARRAY:
                d = [m[d[0]], m[d[1]], d[2]]
            elif k is DATASEC:
                d = [[m[v[0]], v[1], v[2]] for v in d]
            else:                       # ENUM, ENUM64
                d = [list(e) for e in d]
        t.data = d
        return t

    def copy(self) -> BtfType:
        d = self.data
        if isinstance(d, list):
            d = [list(x) if isinstance(x, list) else x for x in d]
        return BtfType(self.kind, self.name, self.ref, d, self.kflag, self.vlen_info)

    def key(self) -> tuple[Any, ...]:
        """A hashable, complete description (for tests and equality)."""
        d = self.data
        if isinstance(d, list):
            d = tuple(tuple(x) if isinstance(x, list) else x for x in d)
        return (int(self.kind), self.name, self.kflag, self.ref, self.vlen_info, d)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BtfType) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        return f"BtfType({self.kind.name}, {self.name!r}, ref={self.ref}, data={self.data!r})"


class Btf:
    """A complete BTF: ``types[0]`` is void, ``types[i]`` is type ID i."""

    def __init__(self, types: list[BtfType] | None = None):
        self.types: list[BtfType] = types if types is not None else [BtfType(UNKN)]
        self.raw_strings: _Strings | None = None     # the string section it was parsed from

    def __len__(self) -> int:
        return len(self.types)

    def __getitem__(self, type_id: int) -> BtfType:
        return self.types[type_id]

    def add(self, t: BtfType) -> int:
        self.types.append(t)
        return len(self.types) - 1

    def resolve(self, type_id: int, *, typedefs: bool = True) -> tuple[int, BtfType]:
        """Skip modifiers (and typedefs) to the underlying type; cycle-safe."""
        seen = 0
        t = self.types[type_id]
        while t.kind in MODIFIER_KINDS and (typedefs or t.kind is not TYPEDEF):
            type_id = t.ref
            t = self.types[type_id]
            seen += 1
            if seen > len(self.types):
                raise FormatError(f"type [{type_id}] is part of a modifier cycle", section=".BTF")
        return type_id, t

    def type_size(self, type_id: int) -> int:
        """Size in bytes of a type, as libbpf's btf__resolve_size computes it."""
        mult = 1
        for _ in range(len(self.types) + 1):
            t = self.types[type_id]
            if t.kind in SIZED_KINDS:
                return mult * t.ref
            if t.kind is PTR:
                return mult * 8
            if t.kind in MODIFIER_KINDS or t.kind is VAR:
                type_id = t.ref
            elif t.kind is ARRAY:
                mult *= t.data[2]
                type_id = t.data[0]
            else:
                raise FormatError(f"type [{type_id}] ({t.kind.name}) has no size", section=".BTF")
        raise FormatError(f"type [{type_id}] is part of a reference cycle", section=".BTF")

    def find_by_name(self, name: str, kind: Kind) -> list[int]:
        return [i for i, t in enumerate(self.types) if t.kind is kind and t.name == name]

    # -- encoding ------------------------------------------------------------------
    def encode(self, big_endian: bool = False,
               extra_strings: Sequence[str] = ()) -> tuple[bytes, StringTable]:
        """Encode to the raw ``.BTF`` section bytes.

        ``extra_strings`` are added to the string table after the types' strings
        (BTF.ext refers to strings of the BTF string section).  Returns the bytes
        and the string table so the BTF.ext encoder can look offsets up.
        """
        strings = StringTable()
        types = self.types[1:]
        # The types' strings in the order the records name them, added at
        # once (offsets summed in C): the same table as adding each on first
        # sight, without a method call per new string.
        order: list[str] = []
        note, note_all = order.append, order.extend
        for t in types:
            note(t.name)
            if t.kind in _NAMED_MEMBER_KINDS:
                note_all(map(_first, t.data))
        new = dict.fromkeys(order)
        new.pop("", None)
        strings.add_new(list(new))
        known = strings._offsets
        name_off = known.__getitem__
        bo = ">" if big_endian else "<"
        parts: list[bytes] = []
        put = parts.append
        one = struct.Struct(bo + "I")
        three = struct.Struct(bo + "III")
        two = struct.Struct(bo + "II")
        i32 = struct.Struct(bo + "i")
        for t in types:
            k = t.kind
            d = t.data
            vlen = len(d) if k in _MEMBER_KINDS else t.vlen_info
            put(three.pack(known[t.name], (int(k) << 24) | (vlen & MAX_VLEN) | ((t.kflag & 1) << 31),
                           t.ref))
            if k is STRUCT or k is UNION:
                if d:       # members as columns, packed by map: no Python step per member
                    ns, tys, offs = zip(*d)
                    put(b"".join(map(three.pack, map(name_off, ns), tys, offs)))
            elif k is FUNC_PROTO:
                if d:
                    ns, tys = zip(*d)
                    put(b"".join(map(two.pack, map(name_off, ns), tys)))
            elif k is INT or k is VAR:
                put(one.pack(d))
            elif k is ARRAY:
                put(three.pack(*d))
            elif k is ENUM:
                put(b"".join([two.pack(known[n], v & 0xFFFFFFFF) for n, v in d]))
            elif k is ENUM64:
                for n, v in d:
                    v &= 0xFFFFFFFFFFFFFFFF
                    put(three.pack(known[n], v & 0xFFFFFFFF, v >> 32))
            elif k is DATASEC:
                put(b"".join([three.pack(*v) for v in d]))
            elif k is DECL_TAG:
                put(i32.pack(d))
        out = b"".join(parts)
        # BTF.ext lists a string per record (tens of thousands of line_info
        # file names and source lines, few of them distinct): drop the repeats
        # in C first, keeping first-seen order, then add what is new at once.
        strings.add_new([s for s in dict.fromkeys(extra_strings) if s not in known])
        str_bytes = strings.data()
        hdr = struct.pack(bo + "HBBIIIII", BTF_MAGIC, BTF_VERSION, 0, HDR_SIZE,
                          0, len(out), len(out), len(str_bytes))
        return hdr + out + str_bytes, strings


# Kinds whose vlen is the length of their member list, and those among them
# whose members are named (the name first).
_MEMBER_KINDS = frozenset({STRUCT, UNION, ENUM, ENUM64, FUNC_PROTO, DATASEC})
_NAMED_MEMBER_KINDS = frozenset({STRUCT, UNION, ENUM, ENUM64, FUNC_PROTO})
_LIST_DATA_KINDS = _MEMBER_KINDS | {ARRAY}      # data is a list (of lists, but ARRAY's)
_first = itemgetter(0)


class MergedBtf(Btf):
    """The merged BTF of a link, with its input types' ID remapping deferred.

    Slot ``i`` holds an input's type as parsed and ``maps[i]`` that input's
    old -> new ID map (or None once the slot holds a type of its own): the
    remapped copy is made when ``types`` is first read.  Dedup reads the
    slots directly and copies only the types it keeps (one in eight when
    many inputs carry the same kernel types), so the merge makes no copy of
    the others.
    """

    def __init__(self) -> None:
        super().__init__()
        self.maps: list[list[int] | None] | None = [None]

    @property
    def types(self) -> list[BtfType]:
        maps = self.maps
        if maps is not None:
            self.maps = None
            slots = self._slots
            for i, m in enumerate(maps):
                if m is not None:
                    slots[i] = slots[i].remapped(m)
        return self._slots

    @types.setter
    def types(self, value: list[BtfType]) -> None:
        self._slots = value
        self.maps = None

    def __len__(self) -> int:
        return len(self._slots)

    def slots(self) -> tuple[list[BtfType], list[list[int] | None] | None]:
        """(slots, maps): the types as they stand, without remapping any."""
        return self._slots, self.maps

    def add(self, t: BtfType) -> int:
        self._slots.append(t)
        if self.maps is not None:
            self.maps.append(None)
        return len(self._slots) - 1

    def add_remapped(self, t: BtfType, m: list[int]) -> int:
        """Add ``t`` as ``t.remapped(m)`` would, deferring the copy."""
        if self.maps is None:
            return self.add(t.remapped(m))
        self._slots.append(t)
        self.maps.append(m)
        return len(self._slots) - 1

    def own(self, type_id: int) -> BtfType:
        """Slot ``type_id``'s type as a copy of its own (remapped), to modify in place."""
        maps = self.maps
        if maps is not None and maps[type_id] is not None:
            m = maps[type_id]
            assert m is not None
            self._slots[type_id] = self._slots[type_id].remapped(m)
            maps[type_id] = None
        return self._slots[type_id]


class StringTable:
    """An append-only, deduplicating NUL-terminated string table."""

    def __init__(self) -> None:
        self._offsets: dict[str, int] = {"": 0}
        self._parts: list[bytes] = [b"\0"]
        self._size = 1

    def add(self, s: str) -> int:
        off = self._offsets.get(s)
        if off is None:
            off = self._size
            b = s.encode() + b"\0"
            self._parts.append(b)
            self._size += len(b)
            self._offsets[s] = off
        return off

    def add_new(self, new: list[str]) -> None:
        """Add distinct strings not in the table yet, in order: ``add`` of each, in C."""
        parts = [s.encode() + b"\0" for s in new]
        offsets = list(accumulate(map(len, parts), initial=self._size))
        self._offsets.update(zip(new, offsets))
        self._parts += parts
        self._size = offsets[-1]

    def offset(self, s: str) -> int:
        return self._offsets[s]

    def data(self) -> bytes:
        return b"".join(self._parts)


class _Strings:
    """Bounds-checked reader of a BTF string section, with a cache."""

    def __init__(self, blob: bytes, section: str):
        self.blob = blob
        self.section = section
        # Pre-split once: nearly every offset in BTF points at a string start, and
        # one split is far cheaper than a find() per lookup.  Offsets into the
        # middle of a string (suffix sharing) fall back to get().
        cache: dict[int, str]
        if blob.isascii():
            # One decode and one split (in ASCII a string's length in
            # characters is its length in bytes), offsets summed in C.
            parts = blob.decode("ascii").split("\0")
            del parts[-1]
            cache = dict(zip(accumulate([len(p) + 1 for p in parts], initial=0), parts))
        else:
            cache = {}
            off = 0
            try:
                for part in blob.split(b"\0")[:-1]:
                    cache[off] = part.decode()
                    off += len(part) + 1
            except UnicodeDecodeError:
                pass            # get() reports the bad string when something uses it
        cache[0] = ""
        self.cache = cache
        # Each offset inside a string decodes a fresh suffix, so many offsets into
        # one long string would cost (offsets x length) memory: a 100 KB file could
        # ask for gigabytes.  Suffix sharing in real tables stays far below this.
        self.budget = 4 * len(blob) + 4096

    def for_section(self, section: str) -> _Strings:
        """The same strings, reporting errors in ``section``; the decoded cache is shared,
        the budget is fresh (as a new reader's would be)."""
        other = object.__new__(_Strings)
        other.blob, other.section, other.cache = self.blob, section, dict(self.cache)
        other.budget = 4 * len(self.blob) + 4096
        return other

    def get(self, off: int, what: str) -> str:
        s = self.cache.get(off)
        if s is not None:
            return s
        blob = self.blob
        if off >= len(blob):
            raise FormatError(f"{what}: string offset {off} is outside the string section "
                              f"({len(blob)} bytes)", section=self.section)
        end = blob.find(b"\0", off)
        if end < 0:
            raise FormatError(f"{what}: string at offset {off} has no terminating NUL",
                              section=self.section)
        self.budget -= end - off
        if self.budget < 0:
            raise FormatError(f"{what}: string offsets point inside other strings so often "
                              f"that reading them would take over 4x the {len(blob)}-byte "
                              "string section", section=self.section)
        try:
            s = blob[off:end].decode()
        except UnicodeDecodeError:
            raise FormatError(f"{what}: string at offset {off} is not valid UTF-8",
                              section=self.section) from None
        self.cache[off] = s
        return s


def parse_header(raw: bytes, section: str) -> tuple[str, int, bytes, bytes]:
    """Check a BTF header; return (byte order char, hdr_len, type bytes, string bytes)."""
    if len(raw) < HDR_SIZE:
        raise FormatError(f"too short for a BTF header ({len(raw)} bytes)", section=section)
    magic_le = struct.unpack_from("<H", raw)[0]
    if magic_le == BTF_MAGIC:
        bo = "<"
    elif struct.unpack_from(">H", raw)[0] == BTF_MAGIC:
        bo = ">"
    else:
        raise FormatError(f"bad BTF magic 0x{magic_le:04x}", section=section)
    _, version, _flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from(
        bo + "HBBIIIII", raw)
    if version != BTF_VERSION:
        raise FormatError(f"unsupported BTF version {version}", section=section)
    if hdr_len < HDR_SIZE or hdr_len > len(raw):
        raise FormatError(f"bad BTF header length {hdr_len}", section=section)
    body = len(raw) - hdr_len
    if type_off % 4 or type_len % 4:
        raise FormatError("BTF type section is not 4-byte aligned", section=section)
    if type_off + type_len > body or str_off + str_len > body:
        raise FormatError(f"BTF type or string section runs past the end of {section} "
                          f"({len(raw)} bytes)", section=section)
    if type_off < str_off < type_off + type_len or str_off < type_off < str_off + str_len:
        raise FormatError("BTF type and string sections overlap", section=section)
    strs = raw[hdr_len + str_off: hdr_len + str_off + str_len]
    if str_len == 0 or strs[0] != 0 or strs[-1] != 0:
        raise FormatError("BTF string section must start and end with NUL", section=section)
    return bo, hdr_len, raw[hdr_len + type_off: hdr_len + type_off + type_len], strs


def parse(raw: bytes, section: str = ".BTF") -> tuple[Btf, bool]:
    """Parse and validate raw ``.BTF`` bytes; return (Btf, big_endian).

    Validation: every record fits, every kind is known, every string offset
    points at a terminated string, every type ID is in range.  Semantic checks
    (cycles, sizes) happen where they are needed.

    The compiled parser (``_accel.parse_types``, where it is built) reads
    the type section first, with every check of this function, and makes the
    same objects; on anything this function would refuse it gives up, and
    the loop below runs and words the error.
    """
    bo, _, tdata, sdata = parse_header(raw, section)
    strings = _Strings(sdata, section)
    if _accel is not None:
        fast = _accel.parse_types(tdata, strings.cache, bo == ">", BtfType, _PARSE_KINDS)
        if fast is not None:
            fast[0] = BtfType(UNKN)
            btf = Btf(fast)
            btf.raw_strings = strings
            return btf, bo == ">"
    sget = strings.get
    # Formatting the "what" of a lookup costs more than the lookup: try the
    # pre-split cache first and build the message only on a miss (for member
    # lists: one try around the list, as nearly every name is a hit).
    cache = strings.cache
    member_types, param_types = _TYPE_IDS[bo]
    types: list[BtfType] = [BtfType(UNKN)]
    hdr = struct.Struct(bo + "III")
    u32 = struct.Struct(bo + "I")
    i32 = struct.Struct(bo + "i")
    three = struct.Struct(bo + "III")
    two = struct.Struct(bo + "II")
    pos, end = 0, len(tdata)
    kinds = _PARSE_KINDS

    def truncated(n: int, tid: int) -> FormatError:
        return FormatError(f"type [{tid}] is truncated (needs {n} bytes at offset {pos})",
                           section=section)

    # The bounds checks are spelled out (no helper call per type): this loop
    # runs once per type of every input.  It dispatches on the kind's number,
    # the kinds with no extra data (the most common) first, and builds the
    # list of what each type references (void left out) for the ID and cycle
    # checks as it goes.
    refs: list[Sequence[int]] = [()]     # void references nothing
    put_refs = refs.append
    # The IDs of each kind, in order: the checks after the loop visit only
    # the kinds they are about.
    by_kind: list[list[int]] = [[] for _ in range(32)]
    note_kind = [ids.append for ids in by_kind]
    put = types.append
    new = _new
    while pos < end:
        tid = len(types)
        try:                        # (a try costs nothing until it catches)
            name_off, info, ref = hdr.unpack_from(tdata, pos)
        except struct.error:        # fewer than 12 bytes left
            raise truncated(12, tid) from None
        pos += 12
        kc = (info >> 24) & 0x1F
        kind = kinds[kc]
        if kind is None:
            raise FormatError(f"type [{tid}] has unknown kind {kc}", section=section)
        note_kind[kc](tid)
        vlen = info & MAX_VLEN
        # BtfType(...) would run __init__ in a Python frame of its own: the
        # bare object with its slots set here costs half as much.
        t = new(BtfType)
        t.kind = kind
        try:
            t.name = cache[name_off]
        except KeyError:
            t.name = sget(name_off, f"type [{tid}] name")
        t.ref = ref
        t.data = None
        t.kflag = info >> 31
        t.vlen_info = 0
        if kc in _PLAIN_KINDS:      # PTR, FWD, TYPEDEF, modifiers, FLOAT: no extra data
            if vlen:
                raise FormatError(f"type [{tid}] ({kind.name}) has vlen {vlen}, expected 0",
                                  section=section)
            put(t)
            put_refs((ref,) if ref and kc in _PLAIN_REF_KINDS else ())
            continue
        if kc == 4 or kc == 5:      # STRUCT, UNION
            size = 12 * vlen
            if pos + size > end:
                raise truncated(size, tid)
            chunk = tdata[pos:pos + size]
            try:
                t.data = [[cache[n], ty, off] for n, ty, off in three.iter_unpack(chunk)]
            except KeyError:        # a name the pre-split missed: look each one up
                t.data = [[cache[n] if n in cache else sget(n, f"type [{tid}] member name"),
                           ty, off] for n, ty, off in three.iter_unpack(chunk)]
            put_refs(member_types[vlen](chunk))
            pos += size
        elif kc == 13:              # FUNC_PROTO
            size = 8 * vlen
            if pos + size > end:
                raise truncated(size, tid)
            chunk = tdata[pos:pos + size]
            try:
                t.data = [[cache[n], ty] for n, ty in two.iter_unpack(chunk)]
            except KeyError:
                t.data = [[cache[n] if n in cache else sget(n, f"type [{tid}] parameter name"),
                           ty] for n, ty in two.iter_unpack(chunk)]
            put_refs((ref,) + param_types[vlen](chunk))
            pos += size
        elif kc == 12:              # FUNC
            t.vlen_info = vlen
            put_refs((ref,) if ref else ())
        elif kc == 3:               # ARRAY
            if pos + 12 > end:
                raise truncated(12, tid)
            arr = list(three.unpack_from(tdata, pos))
            t.data = arr
            pos += 12
            if vlen:
                raise FormatError(f"type [{tid}] ({kind.name}) has vlen {vlen}, expected 0",
                                  section=section)
            put_refs(arr[:2])
        elif kc == 6:               # ENUM
            size = 8 * vlen
            if pos + size > end:
                raise truncated(size, tid)
            chunk = tdata[pos:pos + size]
            try:
                t.data = [[cache[n], v] for n, v in two.iter_unpack(chunk)]
            except KeyError:
                t.data = [[cache[n] if n in cache else sget(n, f"type [{tid}] enumerator name"),
                           v] for n, v in two.iter_unpack(chunk)]
            pos += size
            put_refs(())
        elif kc == 19:              # ENUM64
            size = 12 * vlen
            if pos + size > end:
                raise truncated(size, tid)
            t.data = [[cache[n] if n in cache else sget(n, f"type [{tid}] enumerator name"),
                       lo | (hi << 32)]
                      for n, lo, hi in three.iter_unpack(tdata[pos:pos + size])]
            pos += size
            put_refs(())
        elif kc == 15:              # DATASEC
            size = 12 * vlen
            if pos + size > end:
                raise truncated(size, tid)
            t.data = d = [list(v) for v in three.iter_unpack(tdata[pos:pos + size])]
            pos += size
            put_refs([v[0] for v in d])
        else:                       # INT, VAR, DECL_TAG: one word
            if pos + 4 > end:
                raise truncated(4, tid)
            t.data = (i32 if kc == 17 else u32).unpack_from(tdata, pos)[0]
            pos += 4
            if vlen:
                raise FormatError(f"type [{tid}] ({kind.name}) has vlen {vlen}, expected 0",
                                  section=section)
            put_refs((ref,) if ref and kc != 1 else ())
        put(t)
    btf = Btf(types)
    btf.raw_strings = strings       # decoded once: BTF.ext names strings of this section
    validate_ids(btf, section, refs, by_kind)
    check_cycles(btf, section, refs, by_kind)
    return btf, bo == ">"


def _find_cycle(refs: list[Sequence[int]]) -> int | None:
    """A type on a cycle of the graph ``refs`` (type ID -> referenced IDs), else None.

    One iterative DFS, linear in types plus references; 0 (void) ends paths.
    Types that reference nothing, and void, are done before it starts, and
    the inner ``for`` passes over references to done types without leaving
    the loop: most references lead to an int, a pointer or a type already
    walked.
    """
    # 0 done, 1 unseen, 2 on the stack: "done" is the one falsy state, so the
    # test most references get is a truth test.  Types with no references
    # start done.
    state = bytearray(map(bool, refs))
    state[0] = 0
    for root in range(1, len(refs)):
        if not state[root]:
            continue
        # A root whose references are all done is done: no stack for it.  Most
        # are, as most references point back to lower IDs or at a type done
        # from the start.
        for nxt in refs[root]:
            if state[nxt]:
                break
        else:
            state[root] = 0
            continue
        state[root] = 2
        stack = [(root, iter(refs[root]))]
        while stack:
            tid, it = stack[-1]
            for nxt in it:
                s = state[nxt]
                if not s:
                    continue
                if s == 2:
                    return nxt
                # The same shortcut for a type met on the way.
                for x in refs[nxt]:
                    if state[x]:
                        break
                else:
                    state[nxt] = 0
                    continue
                state[nxt] = 2
                stack.append((nxt, iter(refs[nxt])))
                break
            else:
                state[tid] = 0
                stack.pop()
    return None


def _ref_lists(types: list[BtfType]) -> list[Sequence[int]]:
    """Type ID -> the IDs it references (void left out), built once per parse."""
    single = REF_KINDS - {PTR, FUNC_PROTO}
    refs: list[Sequence[int]] = []
    for t in types:             # spelled out per kind: this loop is on the parse hot path
        k = t.kind
        if k in single or k is PTR:
            refs.append((t.ref,) if t.ref else ())
        elif k is FUNC_PROTO:
            refs.append([t.ref] + [p[1] for p in t.data])
        elif k is STRUCT or k is UNION:
            refs.append([m[1] for m in t.data])
        elif k is ARRAY:
            refs.append(t.data[:2])
        elif k is DATASEC:
            refs.append([v[0] for v in t.data])
        else:                   # INT, ENUM, FWD, FLOAT... reference nothing
            refs.append(())
    return refs


def _ids_by_kind(types: list[BtfType]) -> list[list[int]]:
    """Kind number -> the IDs of the types of that kind, in order (void left out)."""
    by_kind: list[list[int]] = [[] for _ in range(32)]
    for tid in range(1, len(types)):
        by_kind[int(types[tid].kind)].append(tid)
    return by_kind


def check_cycles(btf: Btf, section: str = ".BTF", refs: list[Sequence[int]] | None = None,
                 by_kind: list[list[int]] | None = None) -> None:
    """Reject reference cycles that do not describe a recursive type.

    A legitimate cycle (``struct list { struct list *next; }``) passes through
    a pointer *and* through a struct or union.  Without a pointer
    (``typedef A -> const B -> A``, a struct holding itself by value) the
    type has no size; without a struct or union (``PTR -> CONST -> PTR``,
    ``PTR -> ARRAY -> PTR``) it describes nothing.  The kernel and libbpf's
    dedup refuse both, and they would send :meth:`Btf.resolve`,
    :meth:`Btf.type_size` and every recursive walk round forever.

    ``refs`` (:func:`_ref_lists`) and ``by_kind`` (:func:`_ids_by_kind`)
    are computed when not given; the parser passes the ones it built.
    """
    types = btf.types
    if refs is None:
        refs = _ref_lists(types)
    if by_kind is None:
        by_kind = _ids_by_kind(types)
    # The graphs without the references of pointers, then of structs and
    # unions: a copy of refs with those kinds' entries emptied.
    no_ptr = refs.copy()
    for i in by_kind[PTR]:
        no_ptr[i] = ()
    found = _find_cycle(no_ptr)
    if found is not None:
        t = types[found]
        raise FormatError(f"type [{found}] ({t.kind.name} '{t.name}') is part of a reference "
                          "cycle that no pointer breaks", section=section)
    no_composite = refs.copy()
    for i in by_kind[STRUCT] + by_kind[UNION]:
        no_composite[i] = ()
    found = _find_cycle(no_composite)
    if found is not None:
        t = types[found]
        raise FormatError(f"type [{found}] ({t.kind.name} '{t.name}') refers to itself "
                          "without passing through a struct or union", section=section)
    # The chains resolve() and type_size() walk (modifiers, typedefs, VAR, array
    # elements) are acyclic now; bound their length as the kernel does
    # (MAX_RESOLVE_DEPTH), so that each walk is short: otherwise thousands of
    # variables behind one long typedef chain cost variables x length.  A
    # chain starts at a type of those kinds (any other type is behind none).
    walks = MODIFIER_KINDS | {VAR}
    depth = [0] * len(types)
    starts = sorted(by_kind[TYPEDEF] + by_kind[VOLATILE] + by_kind[CONST] + by_kind[RESTRICT]
                    + by_kind[TYPE_TAG] + by_kind[VAR] + by_kind[ARRAY])
    for start in starts:
        path = []
        tid = start
        while tid and not depth[tid]:
            t = types[tid]
            if t.kind in walks:
                nxt = t.ref
            elif t.kind is ARRAY:
                nxt = t.data[0]
            else:
                break
            path.append(tid)
            tid = nxt
        d = depth[tid] if tid else 0
        for tid in reversed(path):
            d += 1
            depth[tid] = d
        if d > MAX_RESOLVE_DEPTH:
            t = types[start]
            raise FormatError(f"type [{start}] ({t.kind.name} '{t.name}') is behind {d} "
                              "typedefs, modifiers or array dimensions; the kernel resolves "
                              f"at most {MAX_RESOLVE_DEPTH}", section=section)


_CHECKED_KINDS = frozenset({FUNC, VAR, DECL_TAG, DATASEC})
# A kind's 5-bit number -> the Kind, None where no kind has it.
_KIND_OF_NUMBER: tuple[Kind | None, ...] = tuple(Kind(i) if i < len(Kind) else None
                                                 for i in range(32))
# The kinds a type may have by number: UNKN (0) is none of them.
_PARSE_KINDS = (None,) + _KIND_OF_NUMBER[1:]

# The interface version bpflink/_accel.c must say it has to be used (a build of
# an older source, left behind by an editable install, is not).
ACCEL_API = 4


def _load_accel() -> Any:
    """The compiled module (``bpflink._accel``), or None: not built (no
    compiler when installed), built from another version of its source, or
    BPFLINK_NO_ACCEL set."""
    import os
    if os.environ.get("BPFLINK_NO_ACCEL"):
        return None
    try:
        from .. import _accel
    except ImportError:
        return None
    return _accel if getattr(_accel, "API", None) == ACCEL_API else None


# parse() hands each type section to it first, dedup its keys and phases, and
# graph.insn its code (they read it here, so that tests can swap it); None:
# the Python twins alone.
_accel = _load_accel()


if TYPE_CHECKING:
    _Unpacks = dict[int, Callable[[bytes], tuple[int, ...]]]
else:
    _Unpacks = dict         # Callable is imported only for type checking


class _TypeIds(_Unpacks):
    """vlen -> an unpack of the type IDs of that many struct members (or
    FUNC_PROTO parameters), made on first use: one C call per type where a
    comprehension would take a Python step per member."""

    def __init__(self, bo: str, member: str):
        super().__init__()
        self.bo, self.member = bo, member      # a member's layout: its type ID "I", the rest "x"

    def __missing__(self, vlen: int) -> Callable[[bytes], tuple[int, ...]]:
        unpack = self[vlen] = struct.Struct(self.bo + self.member * vlen).unpack
        return unpack


# By byte order: (member types, parameter types).
_TYPE_IDS = {bo: (_TypeIds(bo, "4xI4x"), _TypeIds(bo, "4xI")) for bo in "<>"}
# Kind numbers of the kinds with no data after the header, for parse's dispatch,
# and of those among them whose third word is a type ID.
_PLAIN_KINDS = frozenset(int(k) for k in (PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT,
                                          TYPE_TAG, FLOAT))
_PLAIN_REF_KINDS = frozenset(int(k) for k in (PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG))


def validate_ids(btf: Btf, section: str = ".BTF", refs: list[Sequence[int]] | None = None,
                 by_kind: list[list[int]] | None = None) -> None:
    """Every referenced type ID exists; kinds that need a non-void target have one."""
    types = btf.types
    n = len(types)
    if refs is None:
        refs = _ref_lists(types)
    if by_kind is None:
        by_kind = _ids_by_kind(types)
    # The largest reference first, in C; the loop naming the culprit runs
    # only when it is out of range.
    from itertools import chain
    if max(chain.from_iterable(refs), default=0) >= n:
        for tid, r in enumerate(refs):
            if r and max(r) >= n:
                t = types[tid]
                raise FormatError(f"type [{tid}] ({t.kind.name} '{t.name}') references "
                                  f"type [{max(r)}], but there are only {n - 1} types",
                                  section=section)
    if _kind_checks_pass(types, by_kind):
        return
    for tid in sorted(by_kind[FUNC] + by_kind[VAR] + by_kind[DECL_TAG] + by_kind[DATASEC]):
        t = types[tid]
        k = t.kind
        if k in (FUNC, VAR, DECL_TAG) and t.ref == 0:
            raise FormatError(f"type [{tid}] ({k.name} '{t.name}') references void",
                              section=section)
        if k is FUNC and btf.types[t.ref].kind is not FUNC_PROTO:
            raise FormatError(f"type [{tid}] (FUNC '{t.name}') does not point to a FUNC_PROTO",
                              section=section)
        if k is FUNC and t.vlen_info > FUNC_EXTERN:
            raise FormatError(f"type [{tid}] (FUNC '{t.name}') has unknown linkage "
                              f"{t.vlen_info}", section=section)
        if k is VAR and t.data > VAR_GLOBAL_EXTERN:
            raise FormatError(f"type [{tid}] (VAR '{t.name}') has unknown linkage {t.data}",
                              section=section)
        if k is DATASEC:
            for vt, _off, _size in t.data:
                v = btf.types[vt]
                if v.kind is not VAR and not (v.kind is FUNC and t.name == ".ksyms"):
                    raise FormatError(f"type [{tid}] (DATASEC '{t.name}') lists type [{vt}] "
                                      f"({v.kind.name} '{v.name}'), which is not a variable "
                                      "(only .ksyms may list functions)", section=section)
        if k is DECL_TAG and t.data < -1:
            raise FormatError(f"type [{tid}] (DECL_TAG '{t.name}') has bad component index "
                              f"{t.data}", section=section)


def _kind_checks_pass(types: list[BtfType], by_kind: list[list[int]]) -> bool:
    """Whether the checks :func:`validate_ids` makes per FUNC, VAR, DECL_TAG and
    DATASEC all pass, each kind in a loop of its own that tests only its own
    conditions; when one fails, the loop over them all in ID order names the
    first offender.  (A FUNC referencing void fails as "not a FUNC_PROTO":
    type 0 is UNKN.)"""
    for tid in by_kind[FUNC]:
        t = types[tid]
        if types[t.ref].kind is not FUNC_PROTO or t.vlen_info > FUNC_EXTERN:
            return False
    for tid in by_kind[VAR]:
        t = types[tid]
        if not t.ref or t.data > VAR_GLOBAL_EXTERN:
            return False
    for tid in by_kind[DECL_TAG]:
        t = types[tid]
        if not t.ref or t.data < -1:
            return False
    for tid in by_kind[DATASEC]:
        t = types[tid]
        for vt, _off, _size in t.data:
            v = types[vt].kind
            if v is not VAR and not (v is FUNC and t.name == ".ksyms"):
                return False
    return True
