r"""The link map: where every input went, who defined each global, what each program loads.

``bpflink ... --map FILE`` writes :func:`render` of the :class:`LinkMap`
that ``LinkResult.map`` holds.  The format is stable (golden tests in
``tests/test_cli_build.py``): inputs in link order, output sections in
output order with their pieces in offset order, global symbols by name,
programs in output order.  Numbers are hex, offsets are within the output
section.  The sample is ``corpus/graph_all_kinds`` (``bpflink a.o b.o -o
out.o --map out.map``; ``tests/golden/map_graph_all_kinds.txt``)::

    # bpflink link map

    Inputs:
      a.o
      b.o

    Output sections:
        Offset     Size Align  Section / input
             0       a8     8  .text
             0       38     8      a.o
            38       70     8      b.o
             0       b8     8  tc
             0       b8     8      a.o
             0        4     1  license
             0        4     1      a.o

    Global symbols:
      LICENSE: global object, defined in a.o at license+0x0, size 0x4
      bpf_throw: global notype, kernel extern (.ksyms)
          declared in a.o
      kinds_prog: global func, defined in a.o at tc+0x0, size 0xa0
      on_throw: global func, defined in a.o at .text+0x0, size 0x20
      plain_prog: global func, defined in a.o at tc+0xa0, size 0x18
      scale: global func, defined in b.o at .text+0x68, size 0x10
          declared in a.o
      step: global func (hidden), defined in b.o at .text+0x38, size 0x30
          declared in a.o
      unused_fn: global func, defined in b.o at .text+0x90, size 0x18

    Programs:
      kinds_prog [a.o tc+0x0]
          reaches: on_throw [a.o .text+0x0]
          reaches: twice [a.o .text+0x20]
          reaches: step [b.o .text+0x0]
          exception_callback: kinds_prog [a.o tc+0x0] -> on_throw [a.o .text+0x0]
      plain_prog [a.o tc+0xa0]
          reaches: scale [b.o .text+0x30]
          reaches: triple [b.o .text+0x40]

Offsets and sizes are hex.  Parts 1 and 2 give offsets in the output
section; part 3 names functions the way the call graph does, by input file,
input section and offset in that input section.

Part 1 lists each output section and each input section that went into it
(an input named ``lib.a(m.o)`` is an archive member).  ``license`` and
``version`` appear once: later inputs' identical copies are folded into the
first.  Part 2 gives, for each global name, the definition that won, its
binding, the definitions that lost (weak ones; two strong ones are an
error) and the inputs that only declared it; an undefined name says so, or
that it is a kernel extern libbpf resolves at load.  Part 3 gives, for each
entry program, the functions the loader appends to it (the call graph's
reachable set, :mod:`bpflink.graph.reach`) and every edge of a kind other
than ``call`` and ``func_ref`` -- the decl-tag edges -- leaving the program
or a function it reaches, whatever their kind and whatever their ends are
(functions, or tagged types and variables).
"""

from __future__ import annotations

from dataclasses import dataclass

from .elf.constants import STB_WEAK, STT_FUNC, STT_NOTYPE, STT_OBJECT, STV_HIDDEN
from .linker.model import LinkedObject
from .linker.symbols import SymbolTable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class Contribution:
    """One input section's place in an output section."""

    input: str              # "a.o", or "lib.a(m.o)" for an archive member
    offset: int             # within the output section
    size: int
    align: int


@dataclass(frozen=True)
class SectionMap:
    name: str
    size: int
    align: int
    nobits: bool            # .bss-like: takes no bytes in the file
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True)
class SymbolMap:
    name: str
    binding: str                    # "global" or "weak"
    type: str                       # "func", "object", "notype"
    hidden: bool
    defined_in: str | None          # the input whose definition won; None: undefined
    section: str | None             # output section of the definition
    offset: int                     # within that section
    size: int
    kernel_extern: str | None       # ".ksyms"/".kconfig" for an extern libbpf resolves
    lost: tuple[str, ...]           # inputs whose (weak) definitions lost
    declared: tuple[str, ...]       # inputs that only declared it (extern)


@dataclass(frozen=True)
class Node:
    """A call-graph node as the map shows it: its name and where it lives."""

    name: str
    where: str              # "a.o tc+0x0"

    def __str__(self) -> str:
        return f"{self.name} [{self.where}]"


@dataclass(frozen=True)
class TagEdge:
    kind: str               # "exception_callback", ...: any kind but call/func_ref
    source: Node
    target: Node


@dataclass(frozen=True)
class ProgramMap:
    program: Node
    reaches: tuple[Node, ...]       # what the loader appends to the program, in output order
    tag_edges: tuple[TagEdge, ...]


@dataclass(frozen=True)
class LinkMap:
    inputs: tuple[str, ...]         # what went into the link, in link order
    sections: tuple[SectionMap, ...]
    symbols: tuple[SymbolMap, ...]
    programs: tuple[ProgramMap, ...]

    def render(self) -> str:
        return render(self)


_TYPES = {STT_FUNC: "func", STT_OBJECT: "object", STT_NOTYPE: "notype"}


def build_map(linked: LinkedObject, symtab: SymbolTable, graph: Any) -> LinkMap:
    inputs = tuple(obj.name for obj in linked.inputs)
    sections = tuple(
        SectionMap(sec.name, sec.size, sec.align, sec.is_nobits,
                   tuple(Contribution(p.obj.name, p.offset, p.src.size, max(p.src.addralign, 1))
                         for p in sec.pieces))
        for sec in linked.sections)
    symbols = tuple(_symbol(g) for g in sorted(symtab.globals.values(), key=lambda g: g.name))
    return LinkMap(inputs, sections, symbols, _programs(graph))


def _symbol(g: Any) -> SymbolMap:
    d = g.definition
    lost = tuple(c.obj.name for c in g.candidates if c.is_definition and c is not d)
    declared = tuple(c.obj.name for c in g.candidates if not c.is_definition)
    hidden = any(c.sym.visibility == STV_HIDDEN for c in g.candidates)
    kernel = None
    if d is None and g.is_kernel_extern:
        kernel = next(c.datasec for c in g.candidates if c.datasec in (".ksyms", ".kconfig"))
    binding = "weak" if g.bind == STB_WEAK else "global"
    if d is None:
        sym_type = _TYPES.get(g.candidates[0].sym.type, str(g.candidates[0].sym.type))
        return SymbolMap(g.name, binding, sym_type, hidden, None, None, 0, 0, kernel, lost,
                         declared)
    return SymbolMap(g.name, binding, _TYPES.get(d.sym.type, str(d.sym.type)), hidden,
                     d.obj.name, d.piece.dst.name, d.piece.offset + d.sym.value, d.sym.size,
                     None, lost, declared)


def _node(graph: Any, n: Any) -> Node:
    d = graph.nodes[n]
    name = d.get("name") or str(n)
    kind = d.get("kind", "function")
    if kind != "function":              # a tagged type or variable: where its BTF came from
        files = d.get("files") or ([d["file"]] if d.get("file") else [])
        return Node(name, f"{kind} in {', '.join(files)}" if files else kind)
    if all(k in d for k in ("file", "section", "offset")):
        return Node(name, f"{d['file']} {d['section']}+0x{d['offset']:x}")
    return Node(name, str(n))


def _order(graph: Any, n: Any) -> tuple[tuple[int, ...], str]:
    o = graph.nodes[n].get("order", 1 << 62)
    return (tuple(o) if isinstance(o, tuple) else (o,), str(n))


def _programs(graph: Any) -> tuple[ProgramMap, ...]:
    """Per program: the functions it loads, and every edge of another kind than call
    and func_ref leaving what it loads or uses (its own tag edges, ``uses`` edges to
    tagged types and variables, their tags' edges...), whatever kinds a table adds."""
    from .graph import CALL, FUNC_REF, entries, reachable
    from .graph.reach import adjacency

    kinds = list(graph.graph.get("kinds", ()))

    def kind_key(k: str) -> tuple[int, str]:
        return (kinds.index(k) if k in kinds else len(kinds), k)

    adj = adjacency(graph)
    out = []
    for entry in entries(graph):
        reached = reachable(graph, entry)
        # what the program loads and uses: functions, tagged types and variables
        scope = adj.walk([entry, *adj.tags.get(entry, [])])
        edges = []
        for u in sorted(scope, key=lambda n: _order(graph, n)):
            for v in sorted(graph.successors(u), key=lambda n: _order(graph, n)):
                e = graph.edges[u, v]
                for k in sorted(e.get("kinds", (e["kind"],)), key=kind_key):
                    if k not in (CALL, FUNC_REF):
                        edges.append(TagEdge(k, _node(graph, u), _node(graph, v)))
        out.append(ProgramMap(_node(graph, entry), tuple(_node(graph, n) for n in reached),
                              tuple(edges)))
    return tuple(out)


def render(m: LinkMap) -> str:
    lines = ["# bpflink link map", "", "Inputs:"]
    lines += [f"  {name}" for name in m.inputs]
    lines += ["", "Output sections:", f"{'Offset':>10} {'Size':>8} {'Align':>5}  Section / input"]
    for sec in m.sections:
        nobits = " (nobits)" if sec.nobits else ""
        lines.append(f"{0:>10x} {sec.size:>8x} {sec.align:>5x}  {sec.name}{nobits}")
        for c in sec.contributions:
            lines.append(f"{c.offset:>10x} {c.size:>8x} {c.align:>5x}      {c.input}")
    lines += ["", "Global symbols:"]
    for s in m.symbols:
        what = f"{s.binding} {s.type}" + (" (hidden)" if s.hidden else "")
        if s.defined_in is not None:
            lines.append(f"  {s.name}: {what}, defined in {s.defined_in} at "
                         f"{s.section}+0x{s.offset:x}, size 0x{s.size:x}")
        elif s.kernel_extern:
            lines.append(f"  {s.name}: {what}, kernel extern ({s.kernel_extern})")
        else:
            lines.append(f"  {s.name}: {what}, undefined")
        if s.lost:
            lines.append(f"      lost (weak definition): {', '.join(s.lost)}")
        if s.declared:
            lines.append(f"      declared in {', '.join(s.declared)}")
    lines += ["", "Programs:"]
    for p in m.programs:
        lines.append(f"  {p.program}")
        lines += [f"      reaches: {n}" for n in p.reaches]
        lines += [f"      {e.kind}: {e.source} -> {e.target}" for e in p.tag_edges]
    return "\n".join(lines) + "\n"
