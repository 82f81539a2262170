"""Build the call graph of a :class:`~bpflink.linker.model.LinkedObject`.

All implicit edges are made here, each with its kind:

* ``call``: a BPF-to-BPF call.  Through a relocation (``R_BPF_64_32`` against
  a function symbol, or against a section symbol with the target in the
  immediate: byte offset ``value + (imm + 1) * 8``), or pc-relative without
  one (``call`` with ``src_reg = BPF_PSEUDO_CALL``: instruction
  ``pc + imm + 1`` of the same section, which clang emits for a static
  callee in the caller's own section).
* ``func_ref``: a function's address loaded with ``ld_imm64``, relocated
  (``R_BPF_64_64`` to a symbol in an executable section: byte offset
  ``value + imm``) or already marked ``src_reg = BPF_PSEUDO_FUNC``
  (instruction ``pc + imm + 1``).  These are the callbacks of ``bpf_loop``,
  ``bpf_for_each_map_elem``, timers...
* one kind per decl-tag rule (:mod:`bpflink.graph.rules`), from what the
  tag sits on (a function, or the node of a tagged type or variable) to the
  one function its value names;
* ``uses``: from a function to a tagged type or variable it uses, and from
  a tagged variable to a tagged type in its BTF (see :func:`_add_uses_edges`
  for the exact definition).  These make a function a tag on a type or
  variable names reachable from every program that uses the carrier.

The linker has already moved every section-symbol immediate to output
offsets (:mod:`bpflink.linker.relocate`), so targets are computed on output
offsets and mapped back to the function that starts there.
"""

from __future__ import annotations


from ..btf.types import BtfType, Kind
from ..elf.constants import (
    BPF_INSN_SIZE,
    BPF_JMP_CALL,
    BPF_LD_IMM64,
    BPF_PSEUDO_CALL,
    BPF_PSEUDO_FUNC,
    R_BPF_64_32,
    R_BPF_64_64,
    STB_GLOBAL,
    STB_LOCAL,
    STB_WEAK,
    STT_FUNC,
    STT_SECTION,
    STV_DEFAULT,
    STV_HIDDEN,
)
from ..linker.model import LinkedObject, OutputReloc, OutputSection, OutputSymbol
from . import insn as bpf_insn
from .digraph import DiGraph
from .insn import RawInsn
from .rules import (CALL, FUNC_REF, ON_FUNCTION, ON_PROGRAM, ON_TYPE, ON_VAR, TAG_RULES, USES,
                    TagRule, edge_kinds)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal, NamedTuple, TypeAlias

    from .digraph import GraphLike

    # What the edge pass needs about a function besides its node attributes: its
    # output section, where its input section landed there, its start and end
    # there, and the calls and ld_imm64s that may make an edge (insn.scan()) as
    # insn.decode() tuples.  A plain tuple: one per function, made without a
    # Python-level call (and no class to build at start-up).
    _Code: TypeAlias = "tuple[OutputSection, int, int, int, list[RawInsn]]"
    # Per code section (by ``id``), offset -> its relocation; False for one against
    # a symbol outside code (a map, a variable), which never makes an edge.
    _CodeRelocs: TypeAlias = "dict[int, dict[int, OutputReloc | Literal[False]]]"
else:       # typing.NamedTuple's class syntax, without importing typing (start-up)
    from .._namedtuple import NamedTuple


class FuncId(NamedTuple):
    """Where a function lives: input file, section, byte offset in that input section."""

    file: str
    section: str
    offset: int

    def __str__(self) -> str:
        return f"{self.file}:{self.section}+0x{self.offset:x}"


class DataId(NamedTuple):
    """A tagged type or variable: ``("type", "foo")``, ``("var", "counter")``.

    Keyed by kind and name, so it never equals a :class:`FuncId` (three
    fields) and a struct and a variable of one name stay apart.
    """

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


# A node of the call graph: a function, or a tagged type or variable.
Node = FuncId | DataId


def is_function(graph: GraphLike, n: Node) -> bool:
    """Whether node ``n`` is a function (not a tagged type or variable)."""
    return bool(graph.nodes[n].get("kind", "function") == "function")


# Plain classes, not dataclasses: ``import dataclasses`` and generating the
# methods cost every bpflink process milliseconds at start-up.

class TagUse:
    """One decl tag that matched a rule, and what it resolved to."""

    __slots__ = ("rule", "tag", "value", "on_name", "on_kind", "component", "sites", "node",
                 "candidates", "files")

    def __init__(self, rule: TagRule, tag: str, value: str, on_name: str, on_kind: str,
                 component: int, sites: list[FuncId] | None = None, node: DataId | None = None,
                 candidates: list[FuncId] | None = None, files: list[str] | None = None):
        self.rule = rule
        self.tag = tag                  # the whole tag, "exception_callback:cb"
        self.value = value              # "cb"
        self.on_name = on_name          # name of the BTF type the tag sits on
        self.on_kind = on_kind          # its BTF kind ("FUNC", "VAR"...)
        self.component = component      # DECL_TAG component_idx (-1: the type itself)
        # functions it sits on
        self.sites: list[FuncId] = [] if sites is None else sites
        self.node = node                # the tagged type or variable it sits on
        # functions named `value`
        self.candidates: list[FuncId] = [] if candidates is None else candidates
        # inputs whose BTF has this tag
        self.files: list[str] = [] if files is None else files

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self.__slots__)

    __hash__ = None     # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return "TagUse(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__slots__) + ")"


class Dangling:
    """A call or function reference whose target is not the start of a function."""

    __slots__ = ("source", "insn_offset", "kind", "section", "target_offset")

    def __init__(self, source: FuncId, insn_offset: int, kind: str, section: str,
                 target_offset: int):
        self.source = source
        self.insn_offset = insn_offset      # byte offset of the instruction in its input section
        self.kind = kind
        self.section = section
        self.target_offset = target_offset  # byte offset in the output section

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self.__slots__)

    __hash__ = None     # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return "Dangling(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__slots__) + ")"


BIND_NAMES = {STB_LOCAL: "static", STB_GLOBAL: "global", STB_WEAK: "weak"}
VISIBILITY_NAMES = {STV_DEFAULT: "default", STV_HIDDEN: "hidden", 1: "internal", 3: "protected"}


def build_callgraph(linked: LinkedObject, rules: list[TagRule] | None = None) -> DiGraph:
    """The call graph: one node per function of the output, edges with their kind."""
    rules = list(TAG_RULES if rules is None else rules)
    graph = DiGraph(kinds=edge_kinds(rules), rules=rules, tags=[], dangling=[], uses_via={})
    exec_ids = {id(sec) for sec in linked.sections if sec.is_exec}   # (not None's id)
    # Most relocations in code are against maps and variables: decided once here.
    # One entry per code section, none for others (_add_functions tells them so).
    relocs: _CodeRelocs = {
        id(sec): {r.offset: r if id(r.symbol.section) in exec_ids else False
                  for r in sec.relocs}
        for sec in linked.sections if id(sec) in exec_ids}
    starts, code = _add_functions(graph, linked, relocs)
    _add_code_edges(graph, starts, code, relocs)
    type_ids = _add_tag_edges(graph, linked, starts, rules)
    if type_ids is not None:
        _add_uses_edges(graph, linked, starts, code, type_ids)
    return graph


# -- nodes ---------------------------------------------------------------------------------

def _display_names(linked: LinkedObject) -> dict[int, str]:
    """Input name per input; a name given twice gets ``#2``, ``#3``... on later copies."""
    seen: dict[str, int] = {}
    names: dict[int, str] = {}
    for obj in linked.inputs:
        n = seen[obj.name] = seen.get(obj.name, 0) + 1
        names[id(obj)] = obj.name if n == 1 else f"{obj.name}#{n}"
    return names


def _add_functions(graph: DiGraph, linked: LinkedObject, relocs: _CodeRelocs
                   ) -> tuple[dict[int, dict[int, FuncId]], dict[FuncId, _Code]]:
    """Add a node per STT_FUNC symbol in an executable section (``relocs`` has an
    entry per executable section).

    Returns, per output section (by ``id``), output offset -> the function
    starting there; and each function's code record.
    """
    display = _display_names(linked)
    big_endian = linked.big_endian
    by_section: dict[int, list[OutputSymbol]] = {}
    for sym in linked.symbols[1:]:
        if sym.type == STT_FUNC and id(sym.section) in relocs:     # a code section's
            by_section.setdefault(id(sym.section), []).append(sym)
    starts: dict[int, dict[int, FuncId]] = {}
    code: dict[FuncId, _Code] = {}
    new_id = tuple.__new__              # FuncId(...) without its Python-level __new__
    nodes: list[tuple[FuncId, dict[str, object]]] = []       # in output order
    for sec_index, sec in enumerate(linked.sections):
        syms = by_section.get(id(sec), [])
        # One function per start offset; a global name beats a local alias.
        chosen: dict[int, OutputSymbol] = {}
        for sym in syms:
            prev = chosen.get(sym.value)
            if prev is None or (prev.bind == STB_LOCAL and sym.bind != STB_LOCAL):
                chosen[sym.value] = sym
        offsets = sorted(chosen)
        at = starts[id(sec)] = {}
        if not offsets:
            continue            # (sec.data would join a data section's pieces: not needed)
        sec_name = sec.name
        entry = sec_name != ".text"     # libbpf: every other exec section holds programs
        # sec.origin(off), walking: offsets and pieces both ascend.  Each piece's bounds,
        # input name and start are looked up once, not per function.
        bounds = [(pc.offset, pc.offset + pc.src.size, display[id(pc.obj)])
                  for pc in sec.pieces]
        bounds.append((1 << 64, 0, ""))         # a sentinel past any symbol value (u64)
        p = 0
        base, end_of, file = bounds[0]          # the piece's start, end and input
        last = len(offsets) - 1
        funcs: list[tuple[int, int, OutputSymbol, str, int]] = []
        for i, off in enumerate(offsets):
            sym = chosen[off]
            end = off + sym.size if sym.size else (
                offsets[i + 1] if i < last else len(sec.data))
            while bounds[p + 1][0] <= off:
                p += 1
                base, end_of, file = bounds[p]
            if base <= off < end_of:
                funcs.append((off, end, sym, file, base))
        # Only relocations that may point into code can make an edge of a call or
        # ld_imm64 that is not pc-relative: the scan leaves out the others.
        relocated = [o for o, r in relocs.get(id(sec), {}).items() if r is not False]
        scanned = bpf_insn.CodeScanner(sec.data, big_endian, relocated).scan_all(
            [(off, end) for off, end, _sym, _file, _base in funcs])
        for (off, end, sym, file, base), (stack, insns) in zip(funcs, scanned):
            offset = off - base
            fid = new_id(FuncId, (file, sec_name, offset))
            nodes.append((fid, {
                "kind": "function", "name": sym.name, "file": file, "section": sec_name,
                "offset": offset, "size": (end - off) // BPF_INSN_SIZE,
                "bind": BIND_NAMES.get(sym.bind) or str(sym.bind),
                "visibility": VISIBILITY_NAMES.get(sym.visibility) or str(sym.visibility),
                "entry": entry, "stack": stack,
                "order": (sec_index, off),      # output position: the stable order
            }))
            at[off] = fid
            code[fid] = (sec, base, off, end, insns)
    graph.add_nodes_from(nodes)
    return starts, code


# -- edges from instructions ---------------------------------------------------------------

def _add_edge(graph: DiGraph, src: Node, dst: Node, kind: str) -> None:
    """Add ``kind`` to the edge src -> dst; ``kinds`` keeps every kind, in table order."""
    if graph.has_edge(src, dst):
        data = graph.edges[src, dst]
        if kind not in data["kinds"]:
            order = graph.graph["kinds"]
            data["kinds"] = tuple(sorted((*data["kinds"], kind), key=order.index))
            data["kind"] = data["kinds"][0]
    else:
        graph.add_edge(src, dst, kind=kind, kinds=(kind,))


def _add_code_edges(graph: DiGraph, starts: dict[int, dict[int, FuncId]],
                    code: dict[FuncId, _Code], relocs_by_section: _CodeRelocs) -> None:
    no_starts: dict[int, FuncId] = {}
    no_relocs: dict[int, OutputReloc | Literal[False]] = {}
    dangling = graph.graph["dangling"]
    # The graph has no edges yet: gather each edge's kinds, first seen first, and add
    # them at once as _add_edge() would have, one by one.
    edges: dict[tuple[Node, Node], list[str]] = {}
    # _add_functions() filled ``code`` in output order (section, then offset): the order
    # the edges and dangling references are recorded in.
    for fid, (sec, piece_offset, _start, _end, insns) in code.items():
        relocs = relocs_by_section.get(id(sec), no_relocs)
        # The calls and ld_imm64s that may make an edge, as plain decode() tuples: an
        # Insn per instruction cost more than the edges.
        for offset, opcode, _dst, src, _off, imm in insns:
            is_call = opcode == BPF_JMP_CALL
            reloc = relocs.get(offset)
            if reloc is False:
                continue                # a map or a variable (or a kfunc)
            if reloc is not None:
                target = _relocated_target(is_call, imm, reloc)
                if target is None:
                    continue            # a helper/kfunc call, a map or a variable
                tsec, toff = target
            elif src == (BPF_PSEUDO_CALL if is_call else BPF_PSEUDO_FUNC):
                # a BPF-to-BPF call, or an ld_imm64 already marked as a function's address
                tsec, toff = sec, offset + (imm + 1) * BPF_INSN_SIZE
            else:
                continue                # helper call, or ld_imm64 of a plain constant
            dst = starts.get(id(tsec), no_starts).get(toff)
            kind = CALL if is_call else FUNC_REF
            if dst is None:
                dangling.append(Dangling(fid, offset - piece_offset, kind, tsec.name, toff))
                continue
            kinds = edges.get((fid, dst))
            if kinds is None:
                edges[fid, dst] = [kind]
            elif kind not in kinds:
                kinds.append(kind)
    table = graph.graph["kinds"]
    added = []
    for (u, v), kinds in edges.items():
        ordered = tuple(kinds) if len(kinds) == 1 else tuple(sorted(kinds, key=table.index))
        added.append((u, v, {"kind": ordered[0], "kinds": ordered}))
    graph.add_edges_from(added)


def _relocated_target(is_call: bool, imm: int,
                      reloc: OutputReloc) -> tuple[OutputSection, int] | None:
    """(section, byte offset) a relocated call (else ld_imm64) points at, if it is code."""
    sym = reloc.symbol
    if sym.section is None or not sym.section.is_exec:
        return None
    if is_call and reloc.type == R_BPF_64_32:
        return sym.section, sym.value + (imm + 1) * BPF_INSN_SIZE
    if not is_call and reloc.type == R_BPF_64_64:
        return sym.section, sym.value + imm
    return None


# -- edges from decl tags ------------------------------------------------------------------

def functions_named(graph: GraphLike, name: str) -> list[FuncId]:
    """Every function of the output called ``name``, in output order.

    Every lookup by name goes through here and gets *all* candidates: after
    a static link a name may label several functions.
    """
    return sorted((n for n, d in graph.nodes(data=True)
                   if d["name"] == name and d.get("kind", "function") == "function"),
                  key=lambda n: graph.nodes[n]["order"])


def _func_info_sites(graph: DiGraph, linked: LinkedObject,
                     starts: dict[int, dict[int, FuncId]]) -> dict[int, list[FuncId]]:
    """BTF FUNC type ID -> the functions whose func_info record names it.

    func_info locates each function exactly (section, instruction offset),
    so it tells same-named functions apart even when BTF deduplication has
    merged their FUNC types into one.
    """
    out: dict[int, list[FuncId]] = {}
    for sec_name, recs in linked.btf_ext.func_info.items():
        sec = linked.section(sec_name)
        if sec is None:
            continue
        for insn_off, type_id in recs:
            fid = starts.get(id(sec), {}).get(insn_off)
            if fid is not None and fid not in out.setdefault(type_id, []):
                out[type_id].append(fid)
    return out


_CARRIER_KINDS = {Kind.FUNC: ON_FUNCTION, Kind.STRUCT: ON_TYPE, Kind.UNION: ON_TYPE,
                  Kind.VAR: ON_VAR}
DATA_ORDER = 1 << 30        # tagged types and variables sort after every function


def _add_tag_edges(graph: DiGraph, linked: LinkedObject,
                   starts: dict[int, dict[int, FuncId]], rules: list[TagRule]
                   ) -> dict[DataId, set[int]] | None:
    """Record every tag use, add tagged types/variables as nodes and each rule's edges.

    Returns each type/variable node's BTF type IDs (for the ``uses`` edges),
    or None when no tag sits on a type or variable.
    """
    if not rules:
        return None
    btf = linked.btf
    by_func_info: dict[int, list[FuncId]] | None = None
    tag_files: dict[tuple[str, str], list[str]] | None = None     # made at the first tag
    uses: list[TagUse] = []
    data_types: dict[DataId, set[int]] = {}
    seen: set[tuple[object, ...]] = set()
    for t in btf.types[1:]:
        if t.kind is not Kind.DECL_TAG:
            continue
        rule = next((r for r in rules if r.value_of(t.name) is not None), None)
        if rule is None:
            continue
        on = btf.types[t.ref] if 0 < t.ref < len(btf.types) else None
        use = TagUse(rule, t.name, rule.value_of(t.name) or "",
                     on.name if on is not None else "", on.kind.name if on is not None else "?",
                     t.data if isinstance(t.data, int) else -1)
        carrier = _CARRIER_KINDS.get(on.kind) if on is not None and use.component == -1 else None
        if on is None or carrier is None:
            pass
        elif carrier == ON_FUNCTION:
            if by_func_info is None:
                by_func_info = _func_info_sites(graph, linked, starts)
            use.sites = _tag_sites(graph, on.name, by_func_info.get(t.ref, []))
        else:
            use.node = DataId(carrier, on.name or f"(anonymous {on.kind.name.lower()} "
                              f"#{t.ref})")
            data_types.setdefault(use.node, set()).add(t.ref)
        if use.value:
            use.candidates = functions_named(graph, use.value)
        if tag_files is None:
            tag_files = _tag_origins(linked)
        use.files = tag_files.get((use.tag, use.on_name), [])
        # Unmerged BTF can hold the same tag twice on one carrier: count it once.
        key = (use.tag, tuple(use.sites) if use.sites else use.node or use.on_name, use.on_kind)
        if key in seen:
            continue
        seen.add(key)
        uses.append(use)
    _add_data_nodes(graph, uses, data_types)
    for use in uses:
        if len(use.candidates) != 1:
            continue
        for src in _placed(graph, use):
            _add_edge(graph, src, use.candidates[0], use.rule.kind)
    graph.graph["tags"] = uses
    return data_types or None


def _placed(graph: DiGraph, use: TagUse) -> list[Node]:
    """Where ``use`` sits, if that is where its rule says it belongs: the edge sources."""
    on = use.rule.sits_on
    if on == ON_PROGRAM:
        return [s for s in use.sites if graph.nodes[s]["entry"]]
    if on == ON_FUNCTION:
        return list(use.sites)
    if use.node is not None and use.node.kind == on:
        return [use.node]
    return []


def _add_data_nodes(graph: DiGraph, uses: list[TagUse],
                    data_types: dict[DataId, set[int]]) -> None:
    """A node per tagged type and variable, with the attributes every node has."""
    files: dict[DataId, list[str]] = {}
    for use in uses:
        if use.node is not None:
            have = files.setdefault(use.node, [])
            have.extend(f for f in use.files if f not in have)
    kinds = (ON_TYPE, ON_VAR)
    for rank, node in enumerate(sorted(data_types, key=lambda n: (kinds.index(n.kind), n.name))):
        where = sorted(files.get(node, []))    # by name: messages never follow input order
        graph.add_node(node, kind=node.kind, name=node.name,
                       file=where[0] if where else "", files=list(where), section=".BTF",
                       offset=0, size=0, bind="", visibility="default", entry=False, stack=0,
                       order=(DATA_ORDER, rank))


def _add_uses_edges(graph: DiGraph, linked: LinkedObject,
                    starts: dict[int, dict[int, FuncId]], code: dict[FuncId, _Code],
                    data_types: dict[DataId, set[int]]) -> None:
    """``uses`` edges: which functions use each tagged type or variable.

    The exact definition (docs/callgraph.md, "Tags on types and variables"):

    * function F uses variable V when an ``ld_imm64`` of F is relocated
      against V's symbol, or against a section symbol whose target offset
      is where V's symbol starts (clang's references to statics);
    * F uses type T when T is *contained* in the BTF of F's own FUNC (its
      prototype: return and parameter types), or in the BTF of a variable
      F uses;
    * a tagged variable V uses type T when T is contained in V's BTF type.

    *Contained*: reachable through pointers, typedefs, qualifiers, type
    tags, array elements, struct and union members and prototypes,
    transitively.  Local variables have no BTF and do not count.  When the
    variable a type is reached through carries no tag itself, the edge goes
    from F to T directly and ``graph["uses_via"]`` names the variable.
    """
    types = linked.btf.types
    type_nodes = {n: ids for n, ids in data_types.items() if n.kind == ON_TYPE}
    var_nodes = {n.name: n for n in data_types if n.kind == ON_VAR}
    contains = _containers(types, type_nodes)
    var_type_ids: dict[str, list[int]] = {}
    for tid, t in enumerate(types):
        if t.kind is Kind.VAR:
            var_type_ids.setdefault(t.name, []).append(tid)
    func_type = {fid: tid for tid, fids in _func_info_sites(graph, linked, starts).items()
                 for fid in fids}
    data_syms = _data_symbols(linked)
    via: dict[tuple[Node, Node], str] = graph.graph["uses_via"]

    def types_in(type_id_list: list[int]) -> list[DataId]:
        return [tn for tn, ids in contains.items() if any(i in ids for i in type_id_list)]

    for node in sorted(var_nodes.values()):
        for tn in types_in(var_type_ids.get(node.name, [])):
            _add_edge(graph, node, tn, USES)
    for fid in sorted(code, key=lambda n: graph.nodes[n]["order"]):
        for tn in types_in([func_type[fid]] if fid in func_type else []):
            _add_edge(graph, fid, tn, USES)
        for name in _variables_used(code[fid], linked, data_syms):
            var_node = var_nodes.get(name)
            if var_node is not None:
                _add_edge(graph, fid, var_node, USES)
                continue
            for tn in types_in(var_type_ids.get(name, [])):
                if not graph.has_edge(fid, tn):
                    via[(fid, tn)] = f"variable {name}"
                _add_edge(graph, fid, tn, USES)


_CONTAINER_KINDS = {Kind.PTR, Kind.TYPEDEF, Kind.CONST, Kind.VOLATILE, Kind.RESTRICT,
                    Kind.TYPE_TAG, Kind.ARRAY, Kind.STRUCT, Kind.UNION, Kind.FUNC_PROTO,
                    Kind.FUNC, Kind.VAR}


def _containers(types: list[BtfType], type_nodes: dict[DataId, set[int]]) -> dict[DataId, set[int]]:
    """Per tagged type: every BTF type ID that contains it (itself included).

    One reverse walk per tagged type over the type graph; nothing is built
    when no tag sits on a type, so links without such tags pay nothing.
    """
    if not type_nodes:
        return {}
    users: dict[int, list[int]] = {}
    for tid, t in enumerate(types):
        if t.kind not in _CONTAINER_KINDS:
            continue
        refs = [t.data[0]] if t.kind is Kind.ARRAY else t.type_ids()
        for r in refs:
            users.setdefault(r, []).append(tid)
    out: dict[DataId, set[int]] = {}
    for node, ids in type_nodes.items():
        seen = set(ids)
        stack = list(ids)
        while stack:
            for u in users.get(stack.pop(), ()):
                if u not in seen:
                    seen.add(u)
                    stack.append(u)
        out[node] = seen
    return out


def _data_symbols(linked: LinkedObject) -> dict[tuple[int, int], list[str]]:
    """(output section id, offset) -> names of the data symbols (STT_OBJECT) starting there."""
    out: dict[tuple[int, int], list[str]] = {}
    for sym in linked.symbols[1:]:
        if sym.section is not None and not sym.section.is_exec and sym.name and \
                sym.type != STT_FUNC and sym.type != STT_SECTION:
            out.setdefault((id(sym.section), sym.value), []).append(sym.name)
    return out


def _variables_used(fcode: _Code, linked: LinkedObject,
                    data_syms: dict[tuple[int, int], list[str]]) -> list[str]:
    """Names of the variables ``ld_imm64`` instructions of a function are relocated against."""
    section, _piece_offset, start, end, _insns = fcode
    relocs = {r.offset: r for r in section.relocs}
    names: list[str] = []
    # The scan kept only what may make a code edge: decode the function again (only
    # links with a tag on a type or variable get here).
    for offset, opcode, _dst, _src, _off, imm in bpf_insn.decode(section.data, start, end,
                                                                 linked.big_endian):
        if opcode != BPF_LD_IMM64:
            continue
        reloc = relocs.get(offset)
        if reloc is None or reloc.type != R_BPF_64_64:
            continue
        sym = reloc.symbol
        if sym.section is None or sym.section.is_exec:
            continue
        found = ([sym.name] if sym.type != STT_SECTION and sym.name
                 else data_syms.get((id(sym.section), sym.value + imm), []))
        names.extend(n for n in found if n not in names)
    return names


def _tag_origins(linked: LinkedObject) -> dict[tuple[str, str], list[str]]:
    """(tag, name of what it sits on) -> the inputs whose BTF carries it, in input order.

    The merged BTF no longer says where a tag came from; a tag that cannot be
    placed on a function still needs a file in its diagnostic.
    """
    display = _display_names(linked)
    out: dict[tuple[str, str], list[str]] = {}
    for obj in linked.inputs:
        types = obj.btf.types
        for t in types:
            if t.kind is Kind.DECL_TAG and 0 < t.ref < len(types):
                files = out.setdefault((t.name, types[t.ref].name), [])
                if display[id(obj)] not in files:
                    files.append(display[id(obj)])
    return out


def _tag_sites(graph: DiGraph, func_name: str, located: list[FuncId]) -> list[FuncId]:
    """The functions a tag on BTF FUNC ``func_name`` sits on.

    By name among entry programs (how libbpf matches a tag to a program);
    where several programs share the name, the func_info records that name
    this very FUNC type decide.  If no program has the name, the tag sits on
    whatever function func_info (or else the name) points at, which the
    checks then report.
    """
    named = functions_named(graph, func_name)
    programs = [n for n in named if graph.nodes[n]["entry"]]
    if len(programs) == 1:
        return programs
    if len(programs) > 1:
        narrowed = [n for n in programs if n in located]
        return narrowed or programs
    return [n for n in located if graph.nodes[n]["name"] == func_name] or named
