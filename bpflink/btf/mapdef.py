"""BTF-defined map definitions, decoded the way libbpf's ``parse_btf_map_def`` does.

A map in ``.maps`` is a global variable whose type is an anonymous struct;
each member is one attribute, and the attribute's value lives in the
member's *type*, never in the section's bytes (libbpf's ``bpf_helpers.h``)::

    __uint(name, val)    int (*name)[val]          a pointer to an array of val elements
    __ulong(name, val)   enum { ___u = val } name  an ENUM or ENUM64 with one enumerator
    __type(name, T)      typeof(T) *name           key / value: a pointer to the type
    __array(name, T)     typeof(T) *name[]         values: slots of a map-in-map or prog array

This module is the one reader of that encoding in bpflink: the reader checks
every definition of every input with it, and the linker compares the
definitions of one map across inputs with what it returns.  It follows
libbpf (``src/libbpf.c``: ``parse_btf_map_def``, ``get_map_field_int``,
``get_map_field_long``) in strict mode, the mode ``bpf_object__open`` uses
by default and the one libbpf's static linker always uses:

* ``type``, ``max_entries``, ``map_flags``, ``numa_node``, ``key_size``,
  ``value_size`` and ``pinning`` are ``__uint`` only: modifiers and typedefs
  are skipped to the pointer, but the pointer must point straight at the
  array.  ``pinning`` is 0 (none) or 1 (by name).
* ``map_extra`` (the one 64-bit attribute: a bloom filter's hash count, an
  arena's user address) is ``__uint`` or ``__ulong``.  For ``__ulong`` the
  enum must have exactly one enumerator.  A 32-bit ENUM's value is read as
  libbpf reads it, as a signed 32-bit number widened to 64 bits, whatever
  the enum's signedness: ``__ulong(map_extra, 0x80000000)`` (an unsigned
  enum clang emits as 32-bit) means 0xffffffff80000000 to libbpf, so it
  means that here.  An ENUM64's value is its 64 bits as they are.
* ``key`` / ``value`` are ``__type``: the member itself (no typedef) is a
  pointer to a type with a size; its size must agree with ``key_size`` /
  ``value_size`` when both are given.
* ``values`` is the last member, only in an outer map whose ``type`` came
  before it and is a map-in-map (its elements point to a struct: the inner
  map's definition, parsed by these rules minus ``values`` and ``pinning``)
  or a prog array (its elements point to function prototypes).  It fixes
  ``value_size`` at 4.
* any other member name is an error (strict mode), and so is a map without
  a ``type`` (or with type 0).

Every refusal is a :class:`MapDefError`, a :class:`FormatError` whose
section is ``.maps`` and whose symbol is the map, so the reader's message
reads ``a.o: section .maps: arena: field 'map_extra': ...``.
"""

from __future__ import annotations

from ..errors import FormatError
from .types import Btf, BtfType, Kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

BPF_MAP_TYPE_PROG_ARRAY = 3
BPF_MAP_TYPE_ARRAY_OF_MAPS = 12
BPF_MAP_TYPE_HASH_OF_MAPS = 13
MAP_IN_MAP_TYPES = (BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS)

# libbpf's enum libbpf_pin_type
LIBBPF_PIN_NONE, LIBBPF_PIN_BY_NAME = 0, 1

# The attributes map_defs_match compares, in its order (map_extra last: see
# docs/design.md for why bpflink compares it and libbpf does not).
COMPARED_FIELDS = ("type", "key_size", "value_size", "max_entries", "map_flags", "numa_node",
                   "pinning", "map_extra")


class MapDefError(FormatError):
    """A map definition libbpf refuses; section ``.maps``, symbol the map."""

    def __init__(self, map_name: str, message: str):
        super().__init__(message, section=".maps", symbol=map_name)


class MapDef:
    """One decoded map definition (libbpf's ``struct btf_map_def``).

    Integer attributes that were not given are 0, as in libbpf.  ``key_type``
    and ``value_type`` are type IDs in the BTF the definition was read from
    (0: given by size only, or not at all).  ``values_offset`` is the byte
    offset of the ``values`` member inside the map's struct (None: no
    ``values``), and ``slots`` says what its initialisers may name: "map"
    for a map-in-map, "prog" for a prog array.
    """

    # compared and hashed by value, like the frozen dataclass it was (a plain
    # class: ``import dataclasses`` costs every process milliseconds at start-up)
    __slots__ = ("type", "key_size", "value_size", "max_entries", "map_flags", "numa_node",
                 "pinning", "map_extra", "key_type", "value_type", "inner", "values_offset",
                 "slots")

    def __init__(self, type: int = 0, key_size: int = 0, value_size: int = 0,
                 max_entries: int = 0, map_flags: int = 0, numa_node: int = 0, pinning: int = 0,
                 map_extra: int = 0, key_type: int = 0, value_type: int = 0,
                 inner: MapDef | None = None, values_offset: int | None = None,
                 slots: str | None = None):
        self.type = type
        self.key_size = key_size
        self.value_size = value_size
        self.max_entries = max_entries
        self.map_flags = map_flags
        self.numa_node = numa_node
        self.pinning = pinning
        self.map_extra = map_extra
        self.key_type = key_type
        self.value_type = value_type
        self.inner = inner
        self.values_offset = values_offset
        self.slots = slots

    def _key(self) -> tuple[int | MapDef | str | None, ...]:
        return (self.type, self.key_size, self.value_size, self.max_entries, self.map_flags,
                self.numa_node, self.pinning, self.map_extra, self.key_type, self.value_type,
                self.inner, self.values_offset, self.slots)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, MapDef)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "MapDef(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"


def parse_map_def(btf: Btf, type_id: int, map_name: str) -> MapDef:
    """Decode the map definition of ``map_name``.

    ``type_id`` is the map's VAR (as a ``.maps`` DATASEC lists it) or the
    type of its definition; modifiers and typedefs in front of the struct are
    skipped as libbpf does.  Raises :class:`MapDefError` for a definition
    libbpf refuses.
    """
    if btf[type_id].kind is Kind.VAR:
        type_id = btf[type_id].ref
    _, st = btf.resolve(type_id)
    if st.kind is not Kind.STRUCT:
        raise MapDefError(map_name, f"its definition is {_kind(st.kind)}, not a struct")
    return _parse(btf, st, map_name, "", inner=False)


def _kind(kind: Kind) -> str:
    return "void" if kind is Kind.UNKN else kind.name


def _parse(btf: Btf, st: BtfType, map_name: str, where: str, inner: bool) -> MapDef:
    """libbpf's parse_btf_map_def over one struct; ``where`` prefixes messages
    ("inner map: ") for a map-in-map's inner definition."""

    def bad(msg: str) -> MapDefError:
        return MapDefError(map_name, where + msg)

    f = {name: 0 for name in COMPARED_FIELDS}
    key_type = value_type = 0
    inner_def: MapDef | None = None
    values_offset: int | None = None
    slots: str | None = None
    last = len(st.data) - 1
    for i, (name, mtype, moff) in enumerate(st.data):
        if name in ("type", "max_entries", "map_flags", "numa_node"):
            f[name] = _field_int(btf, mtype, name, bad)
        elif name in ("key_size", "value_size"):
            size = _field_int(btf, mtype, name, bad)
            _agree(f, name, size, bad)
        elif name in ("key", "value"):
            ptr = btf[mtype]                    # libbpf takes the member's type as it is
            if ptr.kind is not Kind.PTR:
                raise bad(f"field '{name}' is {_kind(ptr.kind)}, not a pointer "
                          f"(__type({name}, T))")
            try:
                size = btf.type_size(ptr.ref)
            except FormatError:
                raise bad(f"the {name} type [{ptr.ref}] has no size") from None
            if size > 0xFFFFFFFF:
                raise bad(f"the {name} type [{ptr.ref}] is {size} bytes, more than 4 GiB")
            _agree(f, name + "_size", size, bad)
            if name == "key":
                key_type = ptr.ref
            else:
                value_type = ptr.ref
        elif name == "values":
            if inner:
                raise bad("'values' in an inner map: multi-level inner maps are not supported")
            if i != last:
                raise bad("'values' must be the last field")
            mtype_ = f["type"]
            if mtype_ in MAP_IN_MAP_TYPES:
                what = "map-in-map inner map"
            elif mtype_ == BPF_MAP_TYPE_PROG_ARRAY:
                what = "prog-array value"
            else:
                raise bad(f"'values' needs a map-in-map or prog-array type before it, "
                          f"not type {mtype_}")
            _agree(f, "value_size", 4, bad)
            arr = btf[mtype]                    # as it is: no typedef allowed here
            if arr.kind is not Kind.ARRAY or arr.data[2]:
                raise bad("'values' is not a zero-sized array (__array)")
            _, elem = btf.resolve(arr.data[0])
            if elem.kind is not Kind.PTR:
                raise bad(f"'values' holds {_kind(elem.kind)}, not pointers (__array)")
            target_id, target = btf.resolve(elem.ref)
            if mtype_ == BPF_MAP_TYPE_PROG_ARRAY:
                if target.kind is not Kind.FUNC_PROTO:
                    raise bad(f"{what} is {_kind(target.kind)}, not a function prototype")
                slots = "prog"
            else:
                if target.kind is not Kind.STRUCT:
                    raise bad(f"{what} is {_kind(target.kind)}, not a struct")
                inner_def = _parse(btf, target, map_name, where + "inner map: ", inner=True)
                slots = "map"
            bit_off = (moff & 0xFFFFFF) if st.kflag else moff
            values_offset = bit_off // 8
        elif name == "pinning":
            if inner:
                raise bad("an inner map cannot be pinned")
            val = _field_int(btf, mtype, name, bad)
            if val not in (LIBBPF_PIN_NONE, LIBBPF_PIN_BY_NAME):
                raise bad(f"pinning {val} is neither 0 (none) nor 1 (by name)")
            f[name] = val
        elif name == "map_extra":
            f[name] = _field_long(btf, mtype, name, bad)
        else:
            raise bad(f"unknown field '{name}'" if name else f"field #{i} has no name")
    if f["type"] == 0:
        raise bad("no map type: 'type' is missing or 0")
    return MapDef(key_type=key_type, value_type=value_type, inner=inner_def,
                  values_offset=values_offset, slots=slots, **f)


def _agree(f: dict[str, int], field: str, size: int,
           bad: Callable[[str], MapDefError]) -> None:
    """key_size against key, value_size against value and values (libbpf's
    'conflicting key size'): a size given twice must be the same."""
    if f[field] and f[field] != size:
        raise bad(f"{field} {f[field]} conflicts with {size}")
    f[field] = size


def _field_int(btf: Btf, mtype: int, name: str, bad: Callable[[str], MapDefError]) -> int:
    """get_map_field_int: ``int (*name)[val]``; the pointer may sit behind
    modifiers and typedefs, the array may not."""
    _, ptr = btf.resolve(mtype)
    if ptr.kind is not Kind.PTR:
        raise bad(f"field '{name}' is {_kind(ptr.kind)}, not a pointer to an array "
                  f"(__uint({name}, N))")
    arr = btf[ptr.ref]
    if arr.kind is not Kind.ARRAY:
        raise bad(f"field '{name}' points to {_kind(arr.kind)}, not an array "
                  f"(__uint({name}, N))")
    return int(arr.data[2])


def _field_long(btf: Btf, mtype: int, name: str, bad: Callable[[str], MapDefError]) -> int:
    """get_map_field_long: ``__uint``, or ``enum { ___u = val } name``."""
    _, t = btf.resolve(mtype)
    if t.kind is Kind.PTR:
        return _field_int(btf, mtype, name, bad)
    if t.kind not in (Kind.ENUM, Kind.ENUM64):
        raise bad(f"field '{name}' is {_kind(t.kind)}, neither a pointer to an array "
                  f"(__uint) nor an enum (__ulong)")
    if len(t.data) != 1:
        raise bad(f"field '{name}' is an enum of {len(t.data)} enumerators; __ulong({name}, N) "
                  "has exactly one")
    value = int(t.data[0][1])
    if t.kind is Kind.ENUM and value & 0x80000000:
        # struct btf_enum's val is an __s32, which libbpf assigns to a __u64
        value |= 0xFFFFFFFF_00000000
    return value
