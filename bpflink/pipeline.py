"""The link pipeline: one function whose body is the phases in order.

Each phase records diagnostics; a checkpoint after it stops the link on
errors, so the user sees every error of a phase at once and no later phase
runs on a broken state.  Nothing is written until every phase succeeded.
"""

from __future__ import annotations

import gc
import os
import stat
import time

from .btf import dedup as btf_dedup
from .elf.reader import InputObject, read_object
from .elf.writer import elf_chunks
from .errors import Diagnostic, Diagnostics, FormatError, InputError, LinkError, Severity, error
from .linker.archive import Archive, Extraction, select_inputs
from .linker.btfmerge import merge_btf, merge_btf_ext
from .linker.layout import lay_out
from .linker.model import LinkedObject
from .linker.relocate import relocate
from .linker.symbols import SymbolTable, build_symtab, check_unresolved, resolve

TYPE_CHECKING = False
if TYPE_CHECKING:
    from mmap import mmap
    from types import TracebackType
    from typing import NamedTuple

    from .graph.rules import TagRule    # the graph package: imported when a link builds one
else:       # typing.NamedTuple's class syntax, without importing typing (start-up)
    from ._namedtuple import NamedTuple


# Plain classes, not dataclasses: ``import dataclasses`` and generating the
# methods cost every bpflink process milliseconds at start-up.

class LinkOptions:
    def __init__(self, dedup: bool = True, graph_checks: bool = True,
                 fatal_warnings: bool = False, tag_rules: tuple[TagRule, ...] = ()):
        self.dedup = dedup                  # deduplicate the merged BTF (libbpf does, always)
        self.graph_checks = graph_checks    # build and check the call graph
        self.fatal_warnings = fatal_warnings  # every warning is an error: the link fails
        self.tag_rules = tag_rules  # declared decl-tag rules (bpflink.TagRule), over the table

    def __repr__(self) -> str:
        return (f"LinkOptions(dedup={self.dedup!r}, graph_checks={self.graph_checks!r}, "
                f"fatal_warnings={self.fatal_warnings!r}, tag_rules={self.tag_rules!r})")


class LinkOutcome:
    def __init__(self, chunks: list[bytes | bytearray | memoryview], linked: LinkedObject,
                 symtab: SymbolTable, callgraph: object, diagnostics: list[Diagnostic],
                 timings: dict[str, float] | None = None,
                 extractions: list[Extraction] | None = None):
        self.chunks = chunks        # the output object, as elf_chunks gives it
        self.linked = linked
        self.symtab = symtab
        self.callgraph = callgraph
        self.diagnostics = diagnostics
        self.timings: dict[str, float] = {} if timings is None else timings
        # archive members taken
        self.extractions: list[Extraction] = [] if extractions is None else extractions


MAX_INPUT = 1 << 30             # BPF objects are kilobytes to megabytes


def _read_input(path: str) -> bytes | mmap:
    """Read an input, but not an endless one: /dev/zero, or a pipe that never ends.

    What is neither ELF nor an archive is refused after its first bytes, and
    nothing is read past MAX_INPUT; either would otherwise fill memory.
    """
    from .fileio import read_whole
    from .linker.archive import MAGIC

    # unbuffered: a buffered read() of the rest would join it to what the
    # buffer already holds, one more copy of the whole input
    with open(path, "rb", buffering=0) as fh:
        head = b""
        while len(head) < len(MAGIC) and (more := fh.read(len(MAGIC) - len(head))):
            head += more        # a pipe may give the first bytes in pieces
        if head == b"!<thin>\n":
            raise FormatError("a thin archive (ar T), whose members live in other files: "
                              "not supported; make a normal one with 'ar rcs'")
        if not (head.startswith(b"\x7fELF") or head == MAGIC) and len(head) == len(MAGIC):
            raise FormatError("not an ELF file")
        st = os.fstat(fh.fileno())
        if stat.S_ISREG(st.st_mode) and st.st_size <= MAX_INPUT:
            # A regular file has a size: read (or map) it whole, into one buffer
            # (joining chunks would hold the input twice; a 1 MiB data section
            # per input makes that megabytes).
            data = read_whole(fh, st.st_size)
            if len(data) > MAX_INPUT:           # it grew since fstat
                raise FormatError(f"input is larger than {MAX_INPUT} bytes; not a BPF object")
            return data
        chunks, total = [head], len(head)
        while chunk := fh.read(1 << 20):        # read(n) would allocate n up front
            total += len(chunk)
            if total > MAX_INPUT:
                raise FormatError(f"input is larger than {MAX_INPUT} bytes; not a BPF object")
            chunks.append(chunk)
    return b"".join(chunks)


class Source(NamedTuple):
    """One input as given: a name, its bytes (or None: read ``path``), archive mode."""

    name: str
    data: bytes | None
    path: str | None
    whole_archive: bool = False         # an archive: take every member, not only needed ones


def read_inputs(sources: list[Source], diags: Diagnostics) -> list[InputObject | Archive]:
    """Phase 1: read and validate every input (all of them, to report every bad one).

    An archive's members are all read too: their symbol tables decide which
    are taken (:func:`bpflink.linker.archive.select_inputs`, after this phase).
    """
    from .fileio import is_temporary
    from .linker.archive import is_archive, members

    items: list[InputObject | Archive] = []
    data: bytes | mmap | None           # a large input file is mapped (fileio.read_whole)
    for name, data, path, whole in sources:
        if path is not None and is_temporary(path):
            diags.error("a temporary file of a bpflink link that never finished (it was "
                        "killed), not an output; delete it", file=name)
            continue
        if data is None:
            assert path is not None         # a source is bytes or a path
            try:
                data = _read_input(path)
            except OSError as e:
                diags.error(f"cannot read input: {e.strerror or e}", file=name)
                continue
            except FormatError as e:
                diags.error(e.message, file=name)
                continue
        try:
            if not is_archive(data):
                items.append(read_object(data, name))
                continue
            archive = Archive(name, [], whole)
            for member_name, member in members(name, data):
                try:
                    archive.members.append(read_object(member, member_name))
                except InputError as e:
                    for d in e.errors:
                        diags.add(d.replace(message=f"archive member is not a usable BPF "
                                          f"object: {d.message}", hint=d.hint or (
                                              "bpflink reads every member of an archive to "
                                              "learn what it defines; remove this one")))
            items.append(archive)
        except InputError as e:
            for d in e.diagnostics:
                diags.add(d)
        except FormatError as e:
            diags.add(error(e.message, file=name, section=e.section))
    return items


def check_inputs(inputs: list[InputObject], diags: Diagnostics) -> None:
    """Phase 2: properties the inputs must share."""
    if not inputs:
        diags.error("no input objects")
        return
    first = inputs[0]
    for obj in inputs[1:]:
        if obj.big_endian != first.big_endian:
            def order(o: InputObject) -> str:
                return "big-endian" if o.big_endian else "little-endian"
            diags.error(f"byte order mismatch: this input is {order(obj)} but "
                        f"{first.name} is {order(first)}; one link has one byte order",
                        file=obj.name)


class _Phases:
    """``with phases("name"):`` times a phase; the totals land in ``timings``.

    A class with ``__enter__``/``__exit__``, not ``contextlib.contextmanager``:
    the installed ``bpflink`` command would import contextlib for this alone.
    """

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._name = ""
        self._start = 0.0

    # The refusal rule (errors.RULES) of an error found in a phase, unless it has one.
    RULES = {"read": "elf", "layout+resolve": "resolve", "btf-merge": "resolve",
             "relocate": "relocate", "callgraph": "graph", "encode": "output"}

    def __call__(self, name: str) -> _Phases:
        self._name = name
        return self

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, kind: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        name = self._name
        if isinstance(e, LinkError):
            rule = self.RULES.get(name)
            e.diagnostics = [d.replace(rule=rule) if d.severity is Severity.ERROR
                             and d.rule is None else d for d in e.diagnostics]
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - self._start


def _warnings_as_errors(diags: Diagnostics) -> None:
    """--fatal-warnings: the same diagnostics, as errors (lld's way: nothing else changes)."""
    diags.items = [d.replace(severity=Severity.ERROR) if d.severity is Severity.WARNING else d
                   for d in diags.items]


def run_link(sources: list[Source],
             options: LinkOptions) -> LinkOutcome:
    """Read, lay out, resolve, merge BTF, dedup, relocate, check the graph, encode."""
    # A link allocates hundreds of thousands of small objects (types, records,
    # symbols) that live until it ends; the cyclic collector would scan them
    # again and again for nothing (a third of the time on the synth workload).
    # What little cyclic garbage a link leaves is collected once it is over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run_link(sources, options)
    finally:
        if collecting:
            gc.enable()


def _run_link(sources: list[Source],
              options: LinkOptions) -> LinkOutcome:
    diags = Diagnostics()
    phase = _Phases()

    with phase("read"):
        items = read_inputs(sources, diags)
        selection = select_inputs(items)
        diags.checkpoint(InputError)
        inputs = selection.objects
        if not inputs and items:
            diags.error("no input objects: an archive gives only the members that an "
                        "object before or after it needs",
                        hint="put --whole-archive before an archive to link all its members")
            diags.checkpoint()
        check_inputs(inputs, diags)
        diags.checkpoint()

    with phase("layout+resolve"):
        layout = lay_out(inputs, diags)
        diags.checkpoint()
        globals_ = resolve(inputs, layout, diags)
        diags.checkpoint()
        check_unresolved(globals_, diags)
        symtab = build_symtab(inputs, layout, globals_, diags)
        diags.checkpoint()

    with phase("btf-merge"):
        btf, type_maps = merge_btf(inputs, layout, globals_, diags)
        diags.checkpoint()
        ext = merge_btf_ext(inputs, layout, type_maps)

    with phase("btf-dedup"):
        if options.dedup:
            btf, id_map = btf_dedup.dedup(btf)
            btf_dedup.remap_ext(ext, id_map)

    with phase("relocate"):
        relocate(inputs, layout, symtab, diags)
        diags.checkpoint()

    linked = LinkedObject(inputs[0].big_endian, layout.sections, symtab.symbols, btf, ext,
                          inputs)

    with phase("callgraph"):
        from . import graph

        callgraph = graph.build_callgraph(linked, rules=graph.with_rules(options.tag_rules))
        if options.graph_checks:
            graph.check_callgraph(callgraph, linked, diags)
            diags.checkpoint()
        if options.fatal_warnings:
            _warnings_as_errors(diags)
            diags.checkpoint()

    with phase("encode"):
        try:
            chunks = elf_chunks(linked)
        except FormatError as e:
            diags.error(e.message)
            diags.checkpoint()
    return LinkOutcome(chunks, linked, symtab, callgraph, diags.items, phase.timings,
                       selection.extractions)
