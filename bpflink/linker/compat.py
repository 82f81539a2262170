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

from typing import Any

from ..btf.types import FUNC_STATIC, VAR_STATIC, Btf, Kind

_NAMED = (Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.FWD, Kind.FUNC, Kind.VAR)


def _kind_name(btf: Btf, tid: int) -> str:
    t = btf[tid]
    if t.kind is Kind.FWD:
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
    if not exact and (t1.kind is Kind.FWD) != (t2.kind is Kind.FWD):
        if t1.name != t2.name:
            return f"forward declaration '{t1.name}' does not match '{t2.name}'"
        fwd, other = (t1, t2) if t1.kind is Kind.FWD else (t2, t1)
        if (fwd.kflag and other.kind is Kind.UNION) or (not fwd.kflag and other.kind is Kind.STRUCT):
            return None
        return f"forward declaration of '{fwd.name}' does not match its {other.kind.name.lower()}"
    if t1.kind is not t2.kind:
        return f"{_kind_name(b1, id1)} vs {_kind_name(b2, id2)}"
    k = t1.kind
    if k in _NAMED and t1.name != t2.name:
        return f"{k.name.lower()} names '{t1.name}' vs '{t2.name}'"
    if k in (Kind.UNKN, Kind.FWD):
        return None
    if k in (Kind.INT, Kind.FLOAT, Kind.ENUM, Kind.ENUM64):
        if t1.ref != t2.ref:
            return f"{k.name.lower()} '{t1.name}' size {t1.ref} vs {t2.ref}"
        return None
    if k is Kind.PTR:
        return btf_mismatch(b1, t1.ref, b2, t2.ref, False, depth + 1, seen)
    if k is Kind.ARRAY:
        return btf_mismatch(b1, t1.data[0], b2, t2.data[0], exact, depth + 1, seen)
    if k in (Kind.FUNC, Kind.VAR):
        static1 = t1.linkage == (FUNC_STATIC if k is Kind.FUNC else VAR_STATIC)
        static2 = t2.linkage == (FUNC_STATIC if k is Kind.FUNC else VAR_STATIC)
        if static1 != static2:
            return f"{k.name.lower()} '{t1.name}' linkage differs (static vs global)"
        return btf_mismatch(b1, t1.ref, b2, t2.ref, exact, depth + 1, seen)
    if k in (Kind.STRUCT, Kind.UNION):
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
    if k is Kind.FUNC_PROTO:
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

_INT_FIELDS = ("type", "max_entries", "map_flags", "numa_node", "pinning", "key_size",
               "value_size", "map_extra")


def parse_map_def(btf: Btf, var_id: int) -> dict[str, Any]:
    """Decode a BTF map definition (``__uint``/``__type``/``__array`` members)."""
    t = btf[var_id]
    _, st = btf.resolve(t.ref if t.kind is Kind.VAR else var_id)
    if st.kind is not Kind.STRUCT:
        raise ValueError("map definition is not a struct")
    out: dict[str, Any] = {}
    for name, mtype, _off in st.data:
        _, mt = btf.resolve(mtype)
        if name in _INT_FIELDS:
            if mt.kind is not Kind.PTR:
                raise ValueError(f"map field '{name}' is not a pointer")
            _, arr = btf.resolve(mt.ref)
            if arr.kind is not Kind.ARRAY:
                raise ValueError(f"map field '{name}' is not a pointer to an array")
            out[name] = arr.data[2]
        elif name in ("key", "value"):
            if mt.kind is not Kind.PTR:
                raise ValueError(f"map field '{name}' is not a pointer")
            out[name + "_type"] = mt.ref
            out.setdefault(name + "_size", btf.type_size(mt.ref))
        elif name == "values":
            if mt.kind is not Kind.ARRAY:
                raise ValueError("map field 'values' is not an array")
            _, ptr = btf.resolve(mt.data[0])
            if ptr.kind is not Kind.PTR:
                raise ValueError("map field 'values' is not an array of pointers")
            if btf.resolve(ptr.ref)[1].kind is Kind.FUNC_PROTO:
                continue        # a prog array's program slots: no inner map to compare
            out["inner"] = parse_map_def(btf, ptr.ref)
    return out


def map_mismatch(b1: Btf, d1: dict[str, Any], b2: Btf, d2: dict[str, Any]) -> str | None:
    for field in ("type", "key_size", "value_size", "max_entries", "map_flags", "numa_node",
                  "pinning", "map_extra"):
        if d1.get(field, 0) != d2.get(field, 0):
            return f"{field} {d1.get(field, 0)} vs {d2.get(field, 0)}"
    for part in ("key", "value"):
        k1, k2 = d1.get(part + "_type"), d2.get(part + "_type")
        if (k1 is None) != (k2 is None):
            return f"{part} type given in one definition only"
        if k1 is not None and k2 is not None:
            why = btf_mismatch(b1, k1, b2, k2, True)
            if why:
                return f"{part} type: {why}"
    if ("inner" in d1) != ("inner" in d2):
        return "inner map given in one definition only"
    if "inner" in d1:
        why = map_mismatch(b1, d1["inner"], b2, d2["inner"])
        if why:
            return f"inner map: {why}"
    return None
