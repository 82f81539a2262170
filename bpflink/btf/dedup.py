"""BTF deduplication with the semantics of libbpf's ``btf__dedup``.

The merged BTF of a link holds every input's types back to back, so a struct
declared in a shared header appears once per input.  :func:`dedup` collapses
equal type graphs into one and returns the compacted BTF plus the map from
old to new type IDs.  The phases are libbpf's (``src/btf.c``), in its order:

1. **Primitives** — INT, FLOAT, FWD, ENUM and ENUM64 are equal when every
   field is.  An enum forward declaration (an ENUM/ENUM64 with no
   enumerators) resolves to a full enum or enum64 of its name.
2. **Structs and unions** — each one not yet mapped is looked up by a shallow
   hash (kind, name, size, member names and offsets) among the canonical
   structs; a candidate is accepted when the two type graphs are equivalent
   (:meth:`_Dedup.is_equiv`, libbpf's ``btf_dedup_is_equiv``): walk both
   graphs in lockstep, recording in a *hypothetical map* which candidate-side
   type each canonical-side type stands for; a canonical type that would
   stand for two different candidate types (not structurally identical)
   means not equivalent.  A FWD matches a struct/union of its name and kind.
   On success the hypothetical map is merged: FWDs resolve to their struct,
   and the candidate graph's structs map onto the canonical graph's, so they
   need no walk of their own.
3. **Forward declarations** — a FWD left over resolves to the canonical
   struct/union of its name and kind if exactly one exists
   (``btf_dedup_resolve_fwds``).
4. **Everything else** — PTR, TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG,
   ARRAY, FUNC_PROTO, FUNC, DECL_TAG, and (unlike libbpf) VAR and DATASEC,
   bottom-up: once the types a type refers to are canonical, it is equal to
   another type exactly when their fields and canonical references are, so a
   dict keyed by that finds its representative.
5. **Compaction** — every canonical type keeps its place relative to the
   others; the rest disappear, and references are rewritten.

A canonical type is the first of its class met in ID order, except where a
later definition absorbs an earlier forward declaration.  After a run the
phases run again over the (much smaller) output until one merges nothing, so
dedup of an already deduplicated BTF is the identity and relinking an output
gives the same bytes.  Every phase is a pass over the types with dict
lookups; the struct walks visit each input's type graph about once, so time
is linear in the number of types in practice (the worst case, like libbpf's,
is not).  Where this differs from libbpf, and why: ``docs/btf-dedup.md``.
"""

from __future__ import annotations

import gc
from itertools import accumulate, chain
from operator import attrgetter, itemgetter

from ..errors import FormatError
from .ext import BtfExt
from . import types as _types
from .types import Btf, BtfType, Kind, MergedBtf

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Kinds as plain ints in module constants: the hot loops compare ints.
(_INT, _PTR, _ARRAY, _STRUCT, _UNION, _ENUM, _FWD, _TYPEDEF, _VOLATILE, _CONST, _RESTRICT,
 _FUNC, _FUNC_PROTO, _VAR, _DATASEC, _FLOAT, _DECL_TAG, _TYPE_TAG, _ENUM64) = range(1, 20)
assert [int(k) for k in Kind] == list(range(20))

# Kinds that are a name and qualifiers on one other type.
_CHAINS = frozenset({_PTR, _TYPEDEF, _VOLATILE, _CONST, _RESTRICT, _FUNC, _TYPE_TAG})
# Kinds that refer to exactly one type (VAR: linkage and DECL_TAG: component
# index live in ``data``; FUNC linkage in ``vlen_info``).
_ONE_REF = _CHAINS | {_VAR, _DECL_TAG}

# Kinds that merge_hypot may map a candidate-side type of onto another.
_MERGED = frozenset({_FWD, _STRUCT, _UNION})

_new = object.__new__

UNPROCESSED = -1
IN_PROGRESS = -2

# libbpf compares a canonical type that already stands for another candidate
# type structurally, this deep, before calling the graphs different: compilers
# sometimes emit identical duplicates within one unit.
IDENTICAL_DEPTH = 16


def _describe(t: BtfType, k: int) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    """Split ``t`` (of kind ``k``) into its shallow key and the type IDs it refers to.

    The shallow key is everything but the referenced IDs: two types with
    equal keys are equal once what they refer to is (enum forward
    declarations aside, see :func:`_enum_compat`).  Kind, name and kflag are
    in every key, as libbpf compares name and info for every kind.  The
    referenced IDs come in libbpf's comparison order (array: index first).
    """
    d = t.data
    if k in _ONE_REF:       # the most common kinds first
        return (k, t.name, t.kflag, t.vlen_info, d), (t.ref,)
    if k == _STRUCT or k == _UNION:
        names, ids, offsets = zip(*d) if d else ((), (), ())
        return (k, t.name, t.kflag, t.ref, names, offsets), ids
    if k == _FWD:
        return (k, t.name, t.kflag), ()
    if k == _FUNC_PROTO:
        return (k, t.name, t.kflag, tuple([x[0] for x in d])), (t.ref, *[x[1] for x in d])
    if k == _ARRAY:
        return (k, t.name, t.kflag, d[2]), (d[1], d[0])
    if k == _ENUM or k == _ENUM64:
        return (k, t.name, t.kflag, t.ref, tuple([(x[0], x[1]) for x in d])), ()
    if k == _DATASEC:
        return ((k, t.name, t.kflag, t.ref, tuple([(x[1], x[2]) for x in d])),
                tuple([x[0] for x in d]))
    return (k, t.name, t.kflag, t.ref, d), ()           # INT, FLOAT, void


class _Dedup:
    """One deduplication run; ``m`` is libbpf's ``d->map``.

    ``m[i]`` is UNPROCESSED, IN_PROGRESS (during the bottom-up phase), or the
    ID type ``i`` maps to; ``m[i] == i`` makes ``i`` canonical, and a chain
    of mappings ends at a canonical type.  ``sid[i]`` numbers the shallow key
    of type ``i`` (equal keys, equal numbers), so comparing and hashing
    shallow keys costs an int.
    """

    def __init__(self, btf: Btf):
        maps: list[list[int] | None] | None = None
        if isinstance(btf, MergedBtf):
            # Input types as parsed, each with its input's ID map: names, kinds
            # and everything but the IDs are the remapped type's; the IDs come
            # through the map.
            types, maps = btf.slots()
        else:
            types = btf.types
        self.types = types
        self.n = len(types)
        self.m = [UNPROCESSED] * self.n
        self.m[0] = 0
        self.settled = False
        accel = _types._accel
        if accel is not None:      # the loop below, in C (the same keys, numbered alike)
            keyed: tuple[bytes, list[int], list[tuple[int, ...]]] = \
                accel.dedup_keys(types, maps)
            self.kind_bytes, self.sid, self.children = keyed
            self.kinds = list(self.kind_bytes)
            return
        # bytes(...) of the kinds (IntEnums) runs in C; the list of ints comes from it.
        self.kind_bytes = bytes(map(attrgetter("kind"), types))
        self.kinds = kinds = list(self.kind_bytes)
        keys: dict[tuple[Any, ...], int] = {}
        sid: list[int] = []
        children: list[tuple[int, ...]] = []
        if maps is None:
            maps = [None] * len(types)
        one_ref = _ONE_REF
        # _describe, with its most common cases (a chain, a struct, a function
        # prototype) spelled out: this loop runs once per merged type.  The
        # referenced IDs of an input's type go through its map by an
        # itemgetter (one C call for all of them, not one call per ID).
        for t, k, m in zip(types, kinds, maps):
            if k in one_ref:
                key: tuple[Any, ...] = (k, t.name, t.kflag, t.vlen_info, t.data)
                kids: tuple[int, ...] = (t.ref if m is None else m[t.ref],)
            elif k == _STRUCT or k == _UNION:
                d = t.data
                if d:
                    names, kids, offsets = zip(*d)
                    if m is not None:
                        kids = itemgetter(*kids)(m) if len(kids) > 1 else (m[kids[0]],)
                else:
                    names = kids = offsets = ()
                key = (k, t.name, t.kflag, t.ref, names, offsets)
            elif k == _FUNC_PROTO:
                d = t.data
                if d:
                    names, kids = zip(*d)
                    kids = (t.ref, *kids) if m is None else itemgetter(t.ref, *kids)(m)
                else:
                    names = ()
                    kids = (t.ref if m is None else m[t.ref],)
                key = (k, t.name, t.kflag, names)
            elif k == _FWD:
                key = (k, t.name, t.kflag)
                kids = ()
            else:
                key, kids = _describe(t, k)
                if m is not None and kids:
                    kids = tuple([m[x] for x in kids])
            sid.append(keys.setdefault(key, len(keys)))
            children.append(kids)
        self.sid = sid
        self.children = children

    def next_pass(self, out: Btf, id_map: list[int], kept: list[int]) -> _Dedup:
        """The run over ``out``, this run's ``kept`` types compacted through
        ``id_map`` (as :func:`_compacted` made it), without building a key
        again: a shallow key holds no type IDs, so a kept type's is the one
        it had here; its parts are its parts here through ``id_map``."""
        run = _new(_Dedup)
        run.types = out.types
        run.n = len(kept)
        run.kind_bytes = bytes([self.kind_bytes[i] for i in kept])
        run.kinds = list(run.kind_bytes)
        run.sid = [self.sid[i] for i in kept]
        # All the parts through id_map in one map, then cut back per type.
        parts = [self.children[i] for i in kept]
        flat = tuple(map(id_map.__getitem__, chain.from_iterable(parts)))
        ends = list(accumulate(map(len, parts)))
        run.children = [flat[a:b] for a, b in zip([0] + ends, ends)]
        run.m = [UNPROCESSED] * run.n
        run.m[0] = 0
        run.settled = False
        return run

    def ids_of(self, *kinds: int) -> list[int]:
        """The IDs of the types of these kinds, in order (in C: each phase
        then loops over its own kinds only)."""
        from itertools import compress
        table = bytearray(256)
        for k in kinds:
            table[k] = 1
        return list(compress(range(self.n), self.kind_bytes.translate(table)))

    def run(self) -> tuple[list[int], list[int]]:
        """(old ID -> new ID, the kept IDs); the phases in C where the
        compiled module is built (the same steps, see ``_accel.c``)."""
        accel = _types._accel
        if accel is not None:
            out = accel.dedup_run(self.kind_bytes, self.sid, self.children, self.types)
            if isinstance(out, int):
                raise self._cycle_error(out)
            id_map, kept, self.settled = out
            return id_map, kept
        self.dedup_prims()
        self.dedup_structs()
        self.resolve_fwds()
        self.dedup_refs()
        return self.compact()

    def resolve(self, i: int) -> int:
        m = self.m
        j = m[i]
        while j >= 0 and j != i:
            i = j
            j = m[i]
        return i

    # -- phase 1 -------------------------------------------------------------------
    def dedup_prims(self) -> None:
        kinds, sid, m, types = self.kinds, self.sid, self.m, self.types
        table: dict[int, int] = {}
        latest_enum: dict[str, int] = {}     # name -> newest canonical enum/enum64
        pending_fwd: dict[str, int] = {}     # name -> canonical enum fwd not yet resolved
        for i in self.ids_of(_INT, _FLOAT, _FWD, _ENUM, _ENUM64):
            k = kinds[i]
            if k == _INT or k == _FLOAT or k == _FWD:
                m[i] = table.setdefault(sid[i], i)
            elif k == _ENUM or k == _ENUM64:
                name = types[i].name
                if not types[i].data:
                    # A forward declaration matches any enum of its name,
                    # enum64 included (libbpf's btf_compat_enum), newest first.
                    c = latest_enum.get(name)
                    if c is None:
                        m[i] = latest_enum[name] = pending_fwd[name] = i
                    else:
                        m[i] = self.resolve(c)
                    continue
                c = m[i] = table.setdefault(sid[i], i)
                fwd = pending_fwd.pop(name, None)
                if fwd is not None:
                    m[fwd] = c
                if c == i:
                    latest_enum[name] = i

    # -- phase 2 -------------------------------------------------------------------
    def dedup_structs(self) -> None:
        sid, m = self.sid, self.m
        candidates: dict[int, list[int]] = {}
        for i in self.ids_of(_STRUCT, _UNION):
            if m[i] != UNPROCESSED:
                continue
            cands = candidates.get(sid[i])
            new = i
            if cands is None:
                candidates[sid[i]] = [i]
            else:
                # Newest first, as libbpf's hash buckets: where a FWD makes
                # several candidates fit, the same one wins.
                for c in reversed(cands):
                    hypot = self.is_equiv(i, c)
                    if hypot is not None:
                        self.merge_hypot(hypot)
                        new = c
                        break
                else:
                    cands.append(i)
            m[i] = new
        # The canonical structs are the candidates (a walk maps only FWDs and
        # unprocessed structs).  When no two share a shallow key, a pass over
        # the output merges nothing: its primitives and FWDs are already
        # unequal and resolved as they can be, its structs meet no candidate,
        # and its reference types are unequal in key or canonical targets.
        self.settled = all(len(c) == 1 for c in candidates.values())

    def is_equiv(self, cand0: int, canon0: int) -> dict[int, int] | None:
        """libbpf's ``btf_dedup_is_equiv``, iteratively: the hypothetical map
        (canonical-side ID -> candidate-side ID) if the graphs from ``cand0``
        and ``canon0`` are equivalent, else None."""
        kinds, sid, children, m = self.kinds, self.sid, self.children, self.m
        hypot: dict[int, int] = {}
        # Depth first, as libbpf's recursion: a stack of the pairs of parts
        # still to compare, one zip per struct, prototype, array or datasec
        # met (equal shallow keys mean equally many parts); a type with one
        # part (a pointer, typedef, modifier) goes straight on to it.
        stack = [zip((cand0,), (canon0,))]
        push, hypot_get = stack.append, hypot.get
        while stack:
            for cand, canon in stack[-1]:
                kids: tuple[int, ...] = ()
                while True:
                    # Inlined self.resolve() of both sides: same canonical, equal.
                    rc = cand
                    j = m[rc]
                    while j >= 0 and j != rc:
                        rc = j
                        j = m[rc]
                    rk = canon
                    j = m[rk]
                    while j >= 0 and j != rk:
                        rk = j
                        j = m[rk]
                    if rc == rk:
                        break
                    if kinds[canon] == _FWD and kinds[rk] != _FWD:
                        canon = rk          # libbpf's resolve_fwd_id
                    seen = hypot_get(canon)
                    if seen is None:
                        hypot[canon] = cand
                    elif seen == cand:
                        break
                    elif kinds[seen] == _FWD and self.compatible(seen, cand):
                        # Unlike libbpf: the FWD met first and the definition met
                        # now are one type of the candidate graph (an input that
                        # declares a struct it also defines); the definition must
                        # still match.
                        hypot[canon] = cand
                    elif (kinds[cand] == _FWD and self.compatible(cand, seen)
                          or self.identical(seen, cand, IDENTICAL_DEPTH)):
                        break
                    else:
                        return None
                    if sid[cand] != sid[canon]:
                        if not self.compatible(cand, canon):
                            return None
                        break
                    kids = children[cand]
                    if len(kids) != 1:
                        break
                    cand = kids[0]
                    canon = children[canon][0]
                    kids = ()
                if kids:
                    push(zip(kids, children[canon]))
                    break
            else:
                stack.pop()
        return hypot

    def compatible(self, a: int, b: int) -> bool:
        """Unequal shallow keys that libbpf still calls equivalent: a FWD and
        a struct/union of its name and kind, or an enum and its forward
        declaration (same kind; across kinds the prim phase resolved it)."""
        ka, kb = self.kinds[a], self.kinds[b]
        ta, tb = self.types[a], self.types[b]
        if ta.name != tb.name:
            return False
        if ka == _FWD and (kb == _STRUCT or kb == _UNION):
            return ta.kflag == (kb == _UNION)          # FWD kflag: 1 = union
        if kb == _FWD and (ka == _STRUCT or ka == _UNION):
            return tb.kflag == (ka == _UNION)
        return ka == kb and (ka == _ENUM or ka == _ENUM64) and _enum_compat(ta, tb)

    def identical(self, a: int, b: int, depth: int) -> bool:
        """libbpf's ``btf_dedup_identical_types``: structurally the same, to a depth
        (counted in struct members, array and prototype parts; chains of
        pointers, typedefs and modifiers are followed without counting)."""
        kinds, sid, children = self.kinds, self.sid, self.children
        for _ in range(self.n):
            if a == b:
                return True
            if depth <= 0:
                return False
            if sid[a] != sid[b]:
                return (kinds[a] == kinds[b] and (kinds[a] == _ENUM or kinds[a] == _ENUM64)
                        and _enum_compat(self.types[a], self.types[b]))
            ka, kb = children[a], children[b]
            if kinds[a] not in _CHAINS:
                return all(x == y or self.identical(x, y, depth - 1) for x, y in zip(ka, kb))
            a, b = ka[0], kb[0]
        return False            # a cycle of reference types: invalid, never identical

    def merge_hypot(self, hypot: dict[int, int]) -> None:
        """libbpf's ``btf_dedup_merge_hypot_map``: record what the walk proved."""
        kinds, m = self.kinds, self.m
        for canon, cand in hypot.items():
            if kinds[cand] not in _MERGED and kinds[canon] != _FWD:
                # Nothing to record (most pairs: pointers, modifiers, prototypes,
                # primitives); only FWDs map to structs, structs to structs, so
                # resolving would not change that.
                continue
            # Inlined self.resolve() of both: thousands of pairs per walk.
            t = cand
            j = m[t]
            while j >= 0 and j != t:
                t = j
                j = m[t]
            c = canon
            j = m[c]
            while j >= 0 and j != c:
                c = j
                j = m[c]
            tk, ck = kinds[t], kinds[c]
            if ck == _FWD and tk != _FWD:
                m[c] = t
            elif tk == _FWD and ck != _FWD:
                m[t] = c
            elif (tk == _STRUCT or tk == _UNION) and m[c] == c and m[t] == UNPROCESSED:
                # The candidate graph's structs are now known to equal the
                # canonical graph's: map them, sparing them a walk each.
                m[t] = c

    # -- phase 3 -------------------------------------------------------------------
    def resolve_fwds(self) -> None:
        kinds, m, types = self.kinds, self.m, self.types
        unique: dict[str, int] = {}          # name -> its only canonical struct/union, or 0
        for i in self.ids_of(_STRUCT, _UNION):
            if m[i] == i:
                name = types[i].name
                unique[name] = 0 if name in unique else i
        for i in self.ids_of(_FWD):
            if m[i] != i:
                continue
            c = unique.get(types[i].name)
            if c and types[i].kflag == (kinds[c] == _UNION):
                m[i] = c

    # -- phase 4 -------------------------------------------------------------------
    def dedup_refs(self) -> None:
        """Bottom-up: a type's key is its shallow key and the canonical IDs of
        what it refers to, so a dict finds its representative."""
        sid, children, m = self.sid, self.children, self.m
        # Point every type mapped so far straight at its canonical type; from
        # here on a processed type's m[] entry is canonical.
        # (Only the kinds of phases 1-3: the reference types are unprocessed.)
        for i in self.ids_of(_INT, _FLOAT, _FWD, _ENUM, _ENUM64, _STRUCT, _UNION):
            j = m[i]
            if j >= 0 and j != i:           # self.resolve(i), inlined
                k = m[j]
                while k >= 0 and k != j:
                    j = k
                    k = m[j]
                m[i] = j
        # Keyed by (shallow key, canonical IDs referred to); a type referring
        # to one type (most of them) by the int shallow key << 32 | canonical
        # ID instead, which is cheaper to make and hash than a tuple.
        table: dict[Any, int] = {}
        setdefault = table.setdefault
        # Depth first from each root in ID order: the bottom frame iterates the
        # roots, every other frame the parts of a type in progress.  A type
        # whose parts are all done (most: a pointer to a struct, a typedef of
        # an int, a prototype of ints) is keyed as it is met, without a frame.
        roots = self.ids_of(_PTR, _ARRAY, _TYPEDEF, _VOLATILE, _CONST, _RESTRICT, _FUNC,
                            _FUNC_PROTO, _VAR, _DATASEC, _DECL_TAG, _TYPE_TAG)
        stack = [(-1, iter(roots))]
        while stack:
            i, it = stack[-1]
            for c in it:
                mc = m[c]
                if mc == UNPROCESSED:
                    kids = children[c]
                    if len(kids) == 1:
                        if m[kids[0]] >= 0:
                            m[c] = setdefault(sid[c] << 32 | m[kids[0]], c)
                            continue
                    elif kids:
                        done = itemgetter(*kids)(m)
                        if min(done) >= 0:
                            m[c] = setdefault((sid[c], *done), c)
                            continue
                    m[c] = IN_PROGRESS
                    stack.append((c, iter(kids)))
                    break
                if mc == IN_PROGRESS:
                    raise self._cycle_error(c)
            else:
                stack.pop()
                if i >= 0:
                    kids = children[i]
                    m[i] = setdefault(sid[i] << 32 | m[kids[0]] if len(kids) == 1
                                      else (sid[i], *[m[c] for c in kids]), i)

    def _cycle_error(self, c: int) -> FormatError:
        t = self.types[c]
        return FormatError(f"type [{c}] ({t.kind.name} '{t.name}') refers to itself through "
                           "reference types only", section=".BTF")

    # -- phase 5 -------------------------------------------------------------------
    def compact(self) -> tuple[list[int], list[int]]:
        """(old ID -> new ID, canonical old IDs in order): canonical types keep
        their relative order; every other type takes its canonical's new ID."""
        m = self.m
        kept = [i for i in range(self.n) if m[i] == i]
        new_id = [0] * self.n
        for new, old in enumerate(kept):
            new_id[old] = new
        return [new_id[c] for c in m], kept


def _enum_compat(a: BtfType, b: BtfType) -> bool:
    """libbpf's ``btf_compat_enum`` for unequal enums: one is a forward
    declaration (no enumerators) of the other's name."""
    return (not a.data or not b.data) and a.name == b.name


def dedup(btf: Btf) -> tuple[Btf, list[int]]:
    """Deduplicate ``btf``; return the new BTF and the old -> new type ID map.

    ``btf`` is left as it was; the new BTF holds copies of its canonical types.
    """
    # A run allocates a few containers per type and frees none of them until
    # it ends, which keeps triggering CPython's cyclic collector over the
    # whole heap (every input's parsed BTF) for nothing: pause it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        run = _Dedup(btf)
        run_map, kept = run.run()
        id_map = run_map
        out = _compacted(btf, run_map, kept)
        # One pass of libbpf's algorithm can leave two equivalent structs
        # apart: when the walk from one of them finds a canonical type that
        # would stand for two different types of the other's graph (say, a
        # FWD and the definition it names, both in one input).  A pass over
        # the output, much smaller than the merged input, merges them; repeat
        # until a pass merges nothing, so that dedup of its own output is the
        # identity (relinking an output gives the same bytes).  A pass that
        # left no two structs of one shallow key (``settled``) needs no
        # further pass: the next would merge nothing.
        while not run.settled:
            run = run.next_pass(out, run_map, kept)
            run_map, kept = run.run()
            if len(kept) == len(out.types):
                break
            out = _compacted(out, run_map, kept)
            id_map = [run_map[i] for i in id_map]
    finally:
        if collecting:
            gc.enable()
    return out, id_map


def _compacted(btf: Btf, id_map: list[int], kept: list[int]) -> Btf:
    """The kept types, copied with their IDs through ``id_map``."""
    maps: list[list[int] | None] | None = None
    if isinstance(btf, MergedBtf):
        types, maps = btf.slots()
    else:
        types = btf.types
    out: list[BtfType] = [BtfType(Kind.UNKN)]
    if maps is None:
        out += [types[old].remapped(id_map) for old in kept[1:]]
        return Btf(out)
    # A slot still holding an input's type maps its IDs through its input's
    # map, then id_map: both at once, one composed map per input.
    # The kept IDs ascend and an input's slots are consecutive: the composed
    # map is the one of the type before but at each input's first kept type.
    composed: dict[int, list[int]] = {}
    put = out.append
    m0: list[int] | None = None
    mm = id_map
    for old in kept[1:]:
        m = maps[old]
        if m is not m0:
            m0 = m
            if m is None:
                mm = id_map
            elif id(m) in composed:
                mm = composed[id(m)]
            else:
                # itemgetter: one C call (a map has type 0 and the slot's own ID)
                mm = composed[id(m)] = list(itemgetter(*m)(id_map))
        put(types[old].remapped(mm))
    return Btf(out)


def remap_ext(ext: BtfExt, id_map: list[int]) -> None:
    """Rewrite the type IDs of BTF.ext records (func_info, CO-RE) through ``id_map``."""
    for table in (ext.func_info, ext.core_relo):
        for recs in table.values():
            for r in recs:
                r[1] = id_map[r[1]]
