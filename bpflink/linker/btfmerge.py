"""Merge every input's BTF and BTF.ext into one, fixed to the output layout.

Types are appended input by input with their IDs remapped, except:

* DATASECs are rebuilt, one per output section, from the final layout: a
  static variable sits at its input section's offset plus its own; a global
  sits where the *resolved* symbol sits.  (libbpf keeps the offset of the
  first declaration it saw, so a map or variable defined after an extern or
  a losing weak definition gets a stale offset and the output misloads.)
* A global VAR/FUNC appears once: the winning definition's type (or the first
  declaration's, for externs the kernel resolves); every other input's
  VAR/FUNC of that name is mapped to it.  So extern entries are replaced by
  their definition.
* ``.extern`` DATASECs are dropped, as libbpf does.

Deduplication runs afterwards (``bpflink.btf.dedup``).
"""

from __future__ import annotations

from ..btf.ext import MergedBtfExt
from ..btf.types import (DATASEC, DECL_TAG, FUNC, FUNC_PROTO, FUNC_STATIC, VAR, VAR_STATIC, Btf,
                         BtfType, MergedBtf)
from ..elf.reader import InputObject
from ..errors import Diagnostics
from .layout import Layout
from .model import Piece
from .symbols import GlobalSymbol

TypeMap = list[int]           # input type ID -> output type ID


def _is_global(t: BtfType) -> bool:
    return (t.kind is VAR and t.data != VAR_STATIC) or \
        (t.kind is FUNC and t.vlen_info != FUNC_STATIC)


def merge_btf(inputs: list[InputObject], layout: Layout, globals_: dict[str, GlobalSymbol],
              diags: Diagnostics) -> tuple[Btf, dict[int, TypeMap]]:
    out = MergedBtf()
    # Which (input, type ID) stands for each global name in the output.
    reps: dict[str, tuple[int, int]] = {}
    for g in globals_.values():
        rep = g.representative
        if rep.btf_id:
            reps[g.name] = (id(rep.obj), rep.btf_id)
    maps: dict[int, TypeMap] = {}
    aliases: list[tuple[TypeMap, int, BtfType]] = []
    # Each input type goes in as itself with its input's map, which is complete
    # once every input is in: out remaps it when read (dedup copies only the
    # types it keeps).
    slots, slot_maps = out.slots()
    assert slot_maps is not None
    put = slots.append
    for obj in inputs:
        types = obj.btf.types
        m: TypeMap = [0] * len(types)
        maps[id(obj)] = m
        oid = id(obj)
        collapsed = _collapsed_vars(obj, layout, globals_)
        # Per type only the kind tests and one append: the slot IDs count on
        # from ``new`` and the input's map goes in once per kept type at the end.
        start = new = len(slots)
        for tid in range(1, len(types)):
            t = types[tid]
            k = t.kind
            if k is DATASEC or (collapsed and (tid in collapsed or
                                               (k is DECL_TAG and t.ref in collapsed))):
                continue
            if (k is VAR and t.data != VAR_STATIC) or (k is FUNC and t.vlen_info != FUNC_STATIC):
                first = reps.setdefault(t.name, (oid, tid))
                if first != (oid, tid):
                    aliases.append((m, tid, t))
                    continue
            m[tid] = new
            new += 1
            put(t)
        slot_maps += [m] * (new - start)
    rep_out = {name: maps[oid][tid] for name, (oid, tid) in reps.items() if oid in maps}
    for m, tid, t in aliases:
        m[tid] = rep_out[t.name]
    _rebuild_datasecs(inputs, layout, globals_, reps, maps, out, diags)
    _complete_extern_protos(out, aliases)
    return out, maps


def _collapsed_vars(obj: InputObject, layout: Layout,
                    globals_: dict[str, GlobalSymbol]) -> set[int]:
    """VARs of this input's license/version when another input's identical one is kept.

    Their section is not linked and resolution skips their symbols, so, as
    libbpf's linker does, they are left out of the output BTF (with any decl
    tag on them): a global one named unlike the kept one ('_license' next to
    'LICENSE') would otherwise stay behind as a VAR of no DATASEC.  A global
    that some linked input also has is mapped to that input's VAR instead.
    """
    out: set[int] = set()
    collapsed = {s.name for s in obj.sections if (id(obj), s.index) in layout.aliases}
    if not collapsed:
        return out
    for t in obj.btf.types:
        if t.kind is not DATASEC or t.name not in collapsed:
            continue
        for vtid, _off, _size in t.data:
            vt = obj.btf.types[vtid]
            if not (_is_global(vt) and vt.name in globals_):
                out.add(vtid)
    return out


def _complete_extern_protos(out: MergedBtf, aliases: list[tuple[TypeMap, int, BtfType]]) -> None:
    """Give the prototype of every other declaration of a global function the
    parameter names of the one that stands for it.

    Extern declarations carry unnamed parameters; without their names the
    declaration's FUNC_PROTO differs from the definition's and survives
    dedup.  libbpf's ``complete_extern_btf_info`` does this too (only when
    the extern comes first; here in either order).
    """
    for m, tid, t in aliases:
        if t.kind is not FUNC:
            continue
        slots, slot_maps = out.slots()
        rep, rep_map = slots[m[tid]], slot_maps[m[tid]] if slot_maps else None
        dst, src = slots[m[t.ref]], slots[rep_map[rep.ref] if rep_map else rep.ref]
        if dst.kind is not FUNC_PROTO or src.kind is not FUNC_PROTO \
                or len(dst.data) != len(src.data) or all(dp[0] for dp in dst.data):
            continue
        dst = out.own(m[t.ref])     # a copy of its own: the input's type stays as parsed
        for dp, sp in zip(dst.data, src.data):
            if not dp[0]:
                dp[0] = sp[0]


def _rebuild_datasecs(inputs: list[InputObject], layout: Layout,
                      globals_: dict[str, GlobalSymbol], reps: dict[str, tuple[int, int]],
                      maps: dict[int, TypeMap], out: Btf,
                      diags: Diagnostics) -> None:
    entries: dict[str, list[tuple[int, int, list[int]]]] = {}
    datasec_ids: list[tuple[TypeMap, int, str]] = []
    seq = 0
    for obj in inputs:
        types = obj.btf.types
        m = maps[id(obj)]
        for tid, t in enumerate(types):
            if t.kind is not DATASEC or t.name == ".extern":
                continue
            src = obj.section(t.name)
            piece = layout.piece(obj, src.index) if src is not None else None
            if src is not None and piece is None:
                continue        # its section is dropped (one libbpf skips): so is it,
                                # as libbpf's linker drops the DATASEC of a skipped section
            datasec_ids.append((m, tid, t.name))
            aliased = src is not None and (id(obj), src.index) in layout.aliases
            lst = entries.setdefault(t.name, [])
            for vtid, off, size in t.data:
                vt = types[vtid]
                if aliased:
                    # A later input's license/version: its bytes are the twin's, which
                    # the twin's own DATASEC describes.  Its variables have no symbol
                    # in the output (statics and globals alike: resolution skips them),
                    # so an entry here would overlap the twin's and name a variable
                    # libbpf cannot find ('char _license[]' next to 'char LICENSE[]').
                    continue
                if _is_global(vt):
                    if reps.get(vt.name) != (id(obj), vtid):
                        continue        # the winning definition's entry stands for it
                    g = globals_.get(vt.name)
                    if g is not None and g.definition is not None and g.out is not None:
                        if g.out.section is None or g.out.section.name != t.name:
                            diags.error(f"BTF places this global in '{t.name}', but its "
                                        f"symbol lives in "
                                        f"'{g.out.section.name if g.out.section else '?'}'",
                                        file=obj.name, section=".BTF", symbol=vt.name)
                            continue
                        off = g.out.value
                    elif piece is not None:
                        off += piece.offset
                elif piece is not None:
                    off += piece.offset
                lst.append((off, seq, [m[vtid], off, size]))
                seq += 1
    order = [s.name for s in layout.sections if s.name in entries]
    order += [n for n in entries if n not in layout.by_name]
    ids: dict[str, int] = {}
    for name in order:
        sec = layout.by_name.get(name)
        lst = entries[name]
        if sec is not None:     # .ksyms/.kconfig keep declaration order; the kernel
                                # requires sorted offsets only in real sections
            lst.sort(key=lambda e: (e[0], e[1]))
        ids[name] = out.add(BtfType(DATASEC, name, sec.size if sec else 0,
                                    [e[2] for e in lst]))
    for m, tid, name in datasec_ids:
        m[tid] = ids[name]


def merge_btf_ext(inputs: list[InputObject], layout: Layout,
                  maps: dict[int, TypeMap]) -> MergedBtfExt:
    """Records grouped per output section, offsets shifted, type IDs remapped."""
    ext = MergedBtfExt()
    line_runs = ext.line_runs
    assert line_runs is not None
    for obj in inputs:
        src_ext = obj.btf_ext
        if src_ext is None:
            continue
        m = maps[id(obj)]
        # One comprehension per section and kind (a loop body per record cost
        # more than the rest of the merge): copies with the offset shifted
        # and, for func_info and CO-RE, the type ID remapped.  line_info's
        # records are not copied: the encoder shifts them (see MergedBtfExt).
        for sec_name, recs in src_ext.func_info.items():
            piece = _piece_of(obj, sec_name, layout)
            if piece is not None:
                base = piece.offset
                ext.func_info.setdefault(piece.dst.name, []).extend(
                    [[o + base, m[t]] for o, t in recs])
        for sec_name, recs in src_ext.line_info.items():
            piece = _piece_of(obj, sec_name, layout)
            if piece is not None:
                runs = line_runs.setdefault(piece.dst.name, [])
                if recs:
                    runs.append((piece.offset, recs))
        for sec_name, recs in src_ext.core_relo.items():
            piece = _piece_of(obj, sec_name, layout)
            if piece is not None:
                base = piece.offset
                ext.core_relo.setdefault(piece.dst.name, []).extend(
                    [[o + base, m[t], a, k] for o, t, a, k in recs])
    order = [s.name for s in layout.sections]
    for table in (ext.func_info, line_runs, ext.core_relo):
        ordered = {n: table[n] for n in order if n in table}
        table.clear()
        table.update(ordered)
    return ext


def _piece_of(obj: InputObject, sec_name: str, layout: Layout) -> Piece | None:
    """Where input section ``sec_name`` of ``obj`` landed, if it was linked."""
    src = obj.section(sec_name)
    return layout.piece(obj, src.index) if src is not None else None
