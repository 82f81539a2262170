"""Compatibility of two declarations of one global: BTF shape and map definitions.

Semantics follow libbpf's ``glob_sym_btf_matches`` and ``map_defs_match``
(``src/linker.c``): modifiers and typedefs are skipped; kinds, names and
sizes must agree; struct members must agree in name and offset when compared
exactly; behind a pointer only the shape is checked and a forward
declaration matches a struct or union of its name; function parameter names
are ignored.  Each check returns ``None`` when compatible, else a reason
that names what differs.
"""

from __future__ import annotations

from ..btf.mapdef import COMPARED_FIELDS, MapDef
from ..btf.types import (ARRAY, ENUM, ENUM64, FLOAT, FUNC, FUNC_PROTO, FUNC_STATIC, FWD, INT,
                         PTR, STRUCT, UNION, UNKN, VAR, VAR_STATIC, Btf)

# Kinds as module constants: ``Kind.X`` goes through the enum class's
# ``__getattr__`` on every use, and this walk runs per member of every
# cross-input declaration.
_NAMED = frozenset((STRUCT, UNION, ENUM, ENUM64, FWD, FUNC, VAR))
_SIZED = frozenset((INT, FLOAT, ENUM, ENUM64))


def _kind_name(btf: Btf, tid: int) -> str:
    t = btf[tid]
    if t.kind is FWD:
        return "union (forward)" if t.kflag else "struct (forward)"
    return t.kind.name.lower() + (f" '{t.name}'" if t.name else "")


def btf_mismatch(b1: Btf, id1: int, b2: Btf, id2: int, exact: bool = True,
                 depth: int = 0, seen: set[tuple[int, int, bool]] | None = None) -> str | None:
    """Why ``b1[id1]`` and ``b2[id2]`` are incompatible, or None."""
    if depth > 64:
        return None     # deep recursion only happens through pointers, which are lenient
    # A pair met again is compatible (a mismatch would have ended the walk), so
    # types shared by many members are compared once: without this, structs
    # nesting a shared struct ten times per level cost 10^levels.
    if seen is None:
        seen = set()
    if (id1, id2, exact) in seen:
        return None
    seen.add((id1, id2, exact))
    id1, t1 = b1.resolve(id1)
    id2, t2 = b2.resolve(id2)
    if not exact and (t1.kind is FWD) != (t2.kind is FWD):
        if t1.name != t2.name:
            return f"forward declaration '{t1.name}' does not match '{t2.name}'"
        fwd, other = (t1, t2) if t1.kind is FWD else (t2, t1)
        if (fwd.kflag and other.kind is UNION) or (not fwd.kflag and other.kind is STRUCT):
            return None
        return f"forward declaration of '{fwd.name}' does not match its {other.kind.name.lower()}"
    if t1.kind is not t2.kind:
        return f"{_kind_name(b1, id1)} vs {_kind_name(b2, id2)}"
    k = t1.kind
    if k in _NAMED and t1.name != t2.name:
        return f"{k.name.lower()} names '{t1.name}' vs '{t2.name}'"
    if k is UNKN or k is FWD:
        return None
    if k in _SIZED:
        if t1.ref != t2.ref:
            return f"{k.name.lower()} '{t1.name}' size {t1.ref} vs {t2.ref}"
        return None
    if k is PTR:
        return btf_mismatch(b1, t1.ref, b2, t2.ref, False, depth + 1, seen)
    if k is ARRAY:
        return btf_mismatch(b1, t1.data[0], b2, t2.data[0], exact, depth + 1, seen)
    if k is FUNC or k is VAR:
        static1 = t1.linkage == (FUNC_STATIC if k is FUNC else VAR_STATIC)
        static2 = t2.linkage == (FUNC_STATIC if k is FUNC else VAR_STATIC)
        if static1 != static2:
            return f"{k.name.lower()} '{t1.name}' linkage differs (static vs global)"
        return btf_mismatch(b1, t1.ref, b2, t2.ref, exact, depth + 1, seen)
    if k is STRUCT or k is UNION:
        if not exact:
            return None
        if len(t1.data) != len(t2.data):
            return (f"{k.name.lower()} '{t1.name}' has {len(t1.data)} vs {len(t2.data)} "
                    "members")
        for i, (m1, m2) in enumerate(zip(t1.data, t2.data)):
            if m1[0] != m2[0]:
                return f"{k.name.lower()} '{t1.name}' member #{i} is '{m1[0]}' vs '{m2[0]}'"
            if m1[2] != m2[2]:
                return f"{k.name.lower()} '{t1.name}' member '{m1[0]}' offsets differ"
            why = btf_mismatch(b1, m1[1], b2, m2[1], exact, depth + 1, seen)
            if why:
                return f"{k.name.lower()} '{t1.name}' member '{m1[0]}': {why}"
        return None
    if k is FUNC_PROTO:
        if len(t1.data) != len(t2.data):
            return f"{len(t1.data)} vs {len(t2.data)} parameters"
        for i, (p1, p2) in enumerate(zip(t1.data, t2.data)):
            why = btf_mismatch(b1, p1[1], b2, p2[1], exact, depth + 1, seen)
            if why:
                return f"parameter #{i + 1}: {why}"
        why = btf_mismatch(b1, t1.ref, b2, t2.ref, exact, depth + 1, seen)
        return f"return type: {why}" if why else None
    return f"unsupported BTF kind {k.name}"


# -- BTF-defined maps --------------------------------------------------------------------

def map_mismatch(b1: Btf, d1: MapDef, b2: Btf, d2: MapDef) -> str | None:
    """Why two definitions of one map differ, or None (libbpf's ``map_defs_match``).

    Both come from :func:`bpflink.btf.mapdef.parse_map_def`.  Key and value
    types, when given, must match exactly.  ``map_extra`` is compared too,
    which libbpf's linker does not do: an extern that names another arena
    address or hash count than the definition is a mistake the link would
    otherwise hide, and with two weak definitions the input order would pick
    the value (docs/design.md).
    """
    for field in COMPARED_FIELDS:
        v1, v2 = getattr(d1, field), getattr(d2, field)
        if v1 != v2:
            return f"{field} {v1:#x} vs {v2:#x}" if field == "map_extra" else \
                f"{field} {v1} vs {v2}"
        if field in ("key_size", "value_size"):
            part = field[:-5]
            k1, k2 = getattr(d1, part + "_type"), getattr(d2, part + "_type")
            if bool(k1) != bool(k2):
                return f"{part} type given in one definition only"
            if k1:
                why = btf_mismatch(b1, k1, b2, k2, True)
                if why:
                    return f"{part} type: {why}"
    if (d1.inner is None) != (d2.inner is None):
        return "inner map given in one definition only"
    if d1.inner is not None and d2.inner is not None:
        why = map_mismatch(b1, d1.inner, b2, d2.inner)
        if why:
            return f"inner map: {why}"
    return None
