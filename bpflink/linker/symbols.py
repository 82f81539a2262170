"""Symbol resolution: one global namespace across inputs, statics kept per input.

Resolution table (``docs/design.md`` has the long form):

=====================  =========================================================
strong + strong        error: duplicate symbol, every definition named
strong + weak          the strong definition wins, in either order
weak + weak            the first weak definition (command-line order) wins
extern + definition    bound to the definition, in either order; an extern
                       never changes the definition's binding (libbpf's linker
                       lets a strong extern turn a weak definition strong, so
                       some orders of a valid link fail there)
extern only            stays undefined: kfunc/ksym (``.ksyms``) and kconfig
                       (``.kconfig``) externs by design, any number of inputs
                       may declare them; other externs get a warning, since
                       libbpf will refuse to load them
visibility             hidden if any declaration or definition is hidden
statics                never bind across inputs; may share names
=====================  =========================================================

Every declaration of a global must agree with the definition (or the first
declaration) in BTF; declarations of a ``.maps`` global must agree as maps.
"""

from __future__ import annotations


from ..btf.mapdef import parse_map_def
from ..btf.types import DATASEC, FUNC, FUNC_STATIC, VAR, VAR_STATIC
from ..elf.constants import (SHN_ABS, SHN_UNDEF, STB_GLOBAL, STB_LOCAL, STB_WEAK,
                             STT_NOTYPE, STT_SECTION, STV_HIDDEN, STV_DEFAULT)
from ..elf.reader import InputObject, Symbol, ignores_symbols_in, libbpf_skips_type
from ..errors import Diagnostics, FormatError
from .compat import btf_mismatch, map_mismatch
from .layout import Layout
from .model import OutputSymbol, Piece

KERNEL_EXTERN_SECTIONS = (".ksyms", ".kconfig")


# Plain classes, not dataclasses: ``import dataclasses`` and generating the
# methods cost every bpflink process milliseconds at start-up.

class Candidate:
    """One input's declaration or definition of a global name."""

    __slots__ = ("obj", "sym", "piece", "btf_id", "datasec")

    def __init__(self, obj: InputObject, sym: Symbol, piece: Piece | None, btf_id: int,
                 datasec: str | None):
        self.obj = obj
        self.sym = sym
        self.piece = piece          # where a definition's section landed
        self.btf_id = btf_id        # its VAR/FUNC in obj.btf (0: none)
        self.datasec = datasec      # the BTF DATASEC that lists it

    def __repr__(self) -> str:
        return (f"Candidate(obj={self.obj!r}, sym={self.sym!r}, piece={self.piece!r}, "
                f"btf_id={self.btf_id!r}, datasec={self.datasec!r})")

    @property
    def is_definition(self) -> bool:
        return self.sym.shndx != SHN_UNDEF

    @property
    def is_weak(self) -> bool:
        return self.sym.bind == STB_WEAK

    def describe(self) -> str:
        """One ``>>>`` line: ``a.o: weak definition in section .text``."""
        if not self.is_definition:
            return f"{self.obj.name}: extern declaration"
        what = "weak definition" if self.is_weak else "definition"
        assert self.piece is not None       # a definition lies in a section
        return f"{self.obj.name}: {what} in section {self.piece.src.name}"


class GlobalSymbol:
    __slots__ = ("name", "candidates", "definition", "out")

    def __init__(self, name: str, candidates: list[Candidate] | None = None,
                 definition: Candidate | None = None, out: OutputSymbol | None = None):
        self.name = name
        self.candidates: list[Candidate] = [] if candidates is None else candidates
        self.definition = definition
        self.out = out

    def __repr__(self) -> str:
        return (f"GlobalSymbol(name={self.name!r}, candidates={self.candidates!r}, "
                f"definition={self.definition!r}, out={self.out!r})")

    @property
    def representative(self) -> Candidate:
        """Whose BTF describes the symbol in the output: the definition, else the first."""
        return self.definition or self.candidates[0]

    @property
    def is_kernel_extern(self) -> bool:
        return self.definition is None and any(
            c.datasec in KERNEL_EXTERN_SECTIONS for c in self.candidates)

    @property
    def hidden(self) -> bool:
        # loops, not any() of a generator: asked of every global, most with one candidate
        for c in self.candidates:
            if c.sym.visibility == STV_HIDDEN:
                return True
        return False

    @property
    def bind(self) -> int:
        if self.definition is not None:
            return self.definition.sym.bind
        for c in self.candidates:
            if c.sym.bind != STB_WEAK:
                return STB_GLOBAL
        return STB_WEAK


class SymbolTable:
    def __init__(self, globals: dict[str, GlobalSymbol], symbols: list[OutputSymbol],
                 index_map: dict[int, list[OutputSymbol | None]]):
        self.globals = globals          # first-appearance order
        self.symbols = symbols          # the output .symtab, locals first
        self.index_map = index_map      # id(obj) -> input index -> output

    def __repr__(self) -> str:
        return (f"SymbolTable(globals={len(self.globals)}, symbols={len(self.symbols)})")


def btf_globals(obj: InputObject, diags: Diagnostics) -> dict[str, tuple[int, str | None]]:
    """Non-static VAR/FUNC types by name, with the DATASEC that lists each."""
    found: dict[str, tuple[int, str | None]] = {}
    types = obj.btf.types
    for tid, t in enumerate(types):
        if t.kind is VAR and t.data != VAR_STATIC or \
                t.kind is FUNC and t.vlen_info != FUNC_STATIC:
            found.setdefault(t.name, (tid, None))
    for t in types:
        if t.kind is not DATASEC:
            continue
        for vtid, _off, _size in t.data:
            vt = types[vtid]
            if vt.kind not in (VAR, FUNC) or vt.name not in found:
                continue
            if (vt.kind is VAR and vt.data == VAR_STATIC) or \
                    (vt.kind is FUNC and vt.vlen_info == FUNC_STATIC):
                continue
            prev, _ = found[vt.name]
            if prev != vtid:
                diags.error(f"BTF is ambiguous: types [{prev}] and [{vtid}] both describe "
                            "this global", file=obj.name, section=".BTF", symbol=vt.name)
            found[vt.name] = (vtid, t.name)
    return found


def resolve(inputs: list[InputObject], layout: Layout, diags: Diagnostics) -> dict[str, GlobalSymbol]:
    globals_: dict[str, GlobalSymbol] = {}
    for obj in inputs:
        btf_names = btf_globals(obj, diags)
        for sym in obj.symbols[1:]:
            if sym.bind == STB_LOCAL:
                continue
            piece = None
            if sym.shndx != SHN_UNDEF:
                if sym.shndx == SHN_ABS:
                    diags.error("absolute global symbols are not supported in BPF objects",
                                file=obj.name, symbol=sym.name)
                    continue
                key = (id(obj), sym.shndx)
                if key in layout.aliases:
                    continue        # a deduplicated license/version: its twin defines it
                piece = layout.placement.get(key)
                sec = obj.sections[sym.shndx]
                if piece is None and (ignores_symbols_in(sec.name) or
                                      libbpf_skips_type(sec.type)):
                    continue        # in DWARF, BTF or a string table: libbpf's linker
                                    # ignores it too
                if piece is None:
                    diags.error(f"global symbol lives in section "
                                f"'{obj.sections[sym.shndx].name}', which is not linked",
                                file=obj.name, symbol=sym.name)
                    continue
            btf_id, datasec = btf_names.get(sym.name, (0, None))
            cand = Candidate(obj, sym, piece, btf_id, datasec)
            g = globals_.get(sym.name)
            if g is None:           # not setdefault: that would make one per candidate
                g = globals_[sym.name] = GlobalSymbol(sym.name)
            g.candidates.append(cand)
            # a definition (piece is set just for those): cand.is_definition, inline
            if piece is not None and (g.definition is None or
                                      (g.definition.is_weak and not cand.is_weak)):
                g.definition = cand
    for g in globals_.values():
        if len(g.candidates) > 1:   # one declaration agrees with itself
            _check_global(g, diags)
    return globals_


def _check_global(g: GlobalSymbol, diags: Diagnostics) -> None:
    strong = [c for c in g.candidates if c.is_definition and not c.is_weak]
    if len(strong) > 1:
        diags.error(f"duplicate symbol: {len(strong)} inputs define it (none weak)",
                    file=strong[1].obj.name, symbol=g.name,
                    notes=[c.describe() for c in strong],
                    hint="make all but one definition static, or mark them __weak")
        return
    rep = g.representative
    for c in g.candidates:
        if c is rep:
            continue
        if not c.btf_id or not rep.btf_id:
            missing = c if not c.btf_id else rep
            diags.error("no BTF describes this global, so its declarations cannot be "
                        "checked against each other; compile with -g",
                        file=missing.obj.name, symbol=g.name)
            return
        is_map = rep.datasec == ".maps" or c.datasec == ".maps"
        if is_map:
            why = _map_difference(rep, c)
            what = "map definition"
        else:
            why = btf_mismatch(rep.obj.btf, rep.btf_id, c.obj.btf, c.btf_id, True)
            what = "type"
        if why:
            diags.error(f"{what} does not match the one in {rep.obj.name} "
                        f"(theirs vs this one: {why})",
                        file=c.obj.name, symbol=g.name,
                        notes=[rep.describe(), c.describe()])
            return


def _map_difference(a: Candidate, b: Candidate) -> str | None:
    if a.datasec != b.datasec:
        return f"a map in one input ({a.obj.name}) but not in the other ({b.obj.name})"
    try:
        da = parse_map_def(a.obj.btf, a.btf_id, a.sym.name)
        db = parse_map_def(b.obj.btf, b.btf_id, b.sym.name)
    except FormatError as e:      # the reader checked every .maps variable; not a map there
        return f"invalid map definition ({e.message})"
    return map_mismatch(a.obj.btf, da, b.obj.btf, db)


def build_symtab(inputs: list[InputObject], layout: Layout,
                 globals_: dict[str, GlobalSymbol], diags: Diagnostics) -> SymbolTable:
    """The output symbol table: null, section symbols, locals by input, then globals."""
    symbols: list[OutputSymbol] = [OutputSymbol("", 0, 0, 0, 0, 0, None)]
    for sec in layout.sections:
        s = OutputSymbol("", 0, 0, STB_LOCAL, STT_SECTION, STV_DEFAULT, sec)
        sec.sym_index = len(symbols)
        symbols.append(s)
    index_map: dict[int, list[OutputSymbol | None]] = {}
    placement, aliases = layout.placement, layout.aliases
    for obj in inputs:
        imap: list[OutputSymbol | None] = [None] * len(obj.symbols)
        index_map[id(obj)] = imap
        for sym in obj.symbols[1:]:
            if sym.bind != STB_LOCAL:
                continue
            if sym.shndx == SHN_ABS or sym.shndx == SHN_UNDEF:
                out = OutputSymbol(sym.name, sym.value, sym.size, sym.bind, sym.type,
                                   sym.visibility, None, sym.shndx, obj.name)
                symbols.append(out)
                imap[sym.index] = out
                continue
            key = (id(obj), sym.shndx)
            piece = placement.get(key) or aliases.get(key)      # layout.piece, inline
            if piece is None:
                continue        # lives in a dropped section (DWARF, BTF...)
            dst = piece.dst
            if sym.type == STT_SECTION:
                imap[sym.index] = symbols[dst.sym_index]
                continue
            if key in aliases:
                continue
            out = OutputSymbol(sym.name, piece.offset + sym.value, sym.size, sym.bind,
                               sym.type, sym.visibility, dst, 0, obj.name)
            symbols.append(out)
            imap[sym.index] = out
    for g in globals_.values():
        d = g.definition
        vis = STV_HIDDEN if g.hidden else STV_DEFAULT
        if d is not None:
            assert d.piece is not None      # a definition lies in a section
            out = OutputSymbol(g.name, d.piece.offset + d.sym.value, d.sym.size, g.bind,
                               d.sym.type, vis, d.piece.dst, 0, d.obj.name)
        else:
            out = OutputSymbol(g.name, 0, 0, g.bind, STT_NOTYPE, vis, None, SHN_UNDEF,
                               g.candidates[0].obj.name)
        g.out = out
        symbols.append(out)
        for c in g.candidates:
            index_map[id(c.obj)][c.sym.index] = out
    # license/version symbols of later inputs: their twin's output symbol (the
    # first of its name), if any
    first_named: dict[str, OutputSymbol] | None = None     # made once, if ever needed
    for obj in inputs:
        imap = index_map[id(obj)]
        for sym in obj.symbols[1:]:
            if imap[sym.index] is None and (id(obj), sym.shndx) in aliases and sym.name:
                if first_named is None:
                    first_named = {}
                    for s in symbols:
                        first_named.setdefault(s.name, s)
                imap[sym.index] = first_named.get(sym.name)
    for i, s in enumerate(symbols):
        s.index = i
    return SymbolTable(globals_, symbols, index_map)


def check_unresolved(globals_: dict[str, GlobalSymbol], diags: Diagnostics) -> None:
    for g in globals_.values():
        if g.definition is not None or g.is_kernel_extern:
            continue
        diags.warning("undefined symbol: no input defines it, so libbpf will refuse to load "
                      "the output unless a later link supplies it",
                      file=g.candidates[0].obj.name, symbol=g.name,
                      notes=[c.describe() for c in g.candidates])
