"""bpflink: a static linker for BPF ELF objects.

    import bpflink
    result = bpflink.link(["a.o", "b.o"], "out.o")
    result.callgraph          # networkx.DiGraph of the linked functions (built on first use)

or, with inputs from memory::

    linker = bpflink.Linker()
    linker.add_file("a.o")
    linker.add_bytes(data, name="b.o")
    result = linker.link()    # result.data holds the object; nothing written
"""

from __future__ import annotations

import os
from .errors import (BpflinkError, Diagnostic, InputError, LinkError, OutputError, Severity,
                     error)

from .graph.rules import TagRule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from .linkmap import LinkMap
    from .linker.archive import Extraction
    from .pipeline import Source
    from .verify import VerifyReport

__all__ = ["link", "Linker", "LinkResult", "LinkError", "InputError", "OutputError",
           "BpflinkError", "Diagnostic", "Severity", "TagRule"]
__version__ = "0.2.0"


class _CallgraphField:
    """``LinkResult.callgraph``: the call graph as a ``networkx.DiGraph``, made on first read.

    The link builds bpflink's own :class:`bpflink.graph.DiGraph` (the link
    path never imports networkx); only a caller who reads ``callgraph`` pays
    for ``import networkx`` and the conversion, once.  The unconverted graph
    is ``LinkResult.digraph``.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.raw, self.converted = f"_{name}_raw", f"_{name}_nx"

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:
            raise AttributeError("callgraph")
        cached = obj.__dict__.get(self.converted)
        if cached is None:
            from .graph import DiGraph, to_networkx

            raw = obj.__dict__[self.raw]
            cached = to_networkx(raw) if isinstance(raw, DiGraph) else raw
            obj.__dict__[self.converted] = cached
        return cached

    def __set__(self, obj: object, value: object) -> None:
        obj.__dict__[self.raw] = value
        obj.__dict__.pop(self.converted, None)


class _JoinedBytes:
    """``LinkResult.data``: the output's bytes, joined from its buffers on first read.

    The link ends with the object as a list of buffers (its large data
    sections still views of the inputs); writing it to a file needs no more,
    so a caller that never reads ``data`` never pays for a second full-size
    copy of the output.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = f"_{name}"

    def __get__(self, obj: object, objtype: type | None = None) -> bytes:
        if obj is None:
            raise AttributeError("data")
        value = obj.__dict__[self.name]
        if not isinstance(value, bytes):
            value = obj.__dict__[self.name] = b"".join(value)
        return value

    def __set__(self, obj: object,
                value: bytes | bytearray | memoryview | list[bytes | bytearray | memoryview]
                ) -> None:
        obj.__dict__[self.name] = value if isinstance(value, (bytes, list)) else bytes(value)


class LinkResult:
    """What a successful link produced."""

    # A plain class, not a dataclass: ``import dataclasses`` and generating the
    # methods cost every bpflink process milliseconds at start-up.
    data = _JoinedBytes()           # the output object, bytes (joined on first read)
    callgraph = _CallgraphField()   # networkx.DiGraph, converted on first access

    def __init__(self, data: bytes | bytearray | memoryview | list[bytes | bytearray | memoryview],
                 output: str | None, warnings: list[Diagnostic], callgraph: Any,
                 linked: object, timings: dict[str, float] | None = None,
                 inputs_used: list[str] | None = None,
                 extractions: list[Extraction] | None = None, symtab: Any = None):
        self.data = data
        self.output = output            # where it was written, if anywhere
        self.warnings = warnings
        self.callgraph = callgraph
        self.linked = linked            # linker.model.LinkedObject
        self.timings: dict[str, float] = {} if timings is None else timings
        # "a.o", "libfoo.a(x.o)", link order
        self.inputs_used: list[str] = [] if inputs_used is None else inputs_used
        # why each member went in
        self.extractions: list[Extraction] = [] if extractions is None else extractions
        self.symtab = symtab            # bpflink.linker.symbols.SymbolTable

    def __repr__(self) -> str:
        return (f"LinkResult(data={self.data!r}, output={self.output!r}, "
                f"warnings={self.warnings!r}, callgraph={self.callgraph!r}, "
                f"timings={self.timings!r}, inputs_used={self.inputs_used!r}, "
                f"extractions={self.extractions!r})")

    @property
    def map(self) -> LinkMap:
        """The link map (:class:`bpflink.linkmap.LinkMap`): what ``--map`` writes, as objects."""
        cached: LinkMap | None = self.__dict__.get("_map")
        if cached is None:
            from .linkmap import build_map

            linked: Any = self.linked       # a LinkedObject
            cached = self.__dict__["_map"] = build_map(linked, self.symtab, self.digraph)
        return cached

    @property
    def digraph(self) -> Any:
        """The call graph without networkx: the :class:`bpflink.graph.DiGraph` the link
        built (or whatever graph was last assigned to ``callgraph``).

        Same nodes, edges and attributes as :attr:`callgraph`; every function
        of :mod:`bpflink.graph` takes either.
        """
        return self.__dict__["_callgraph_raw"]

    def verify(self) -> VerifyReport:
        """Load the output into the running kernel through libbpf: a
        :class:`bpflink.verify.VerifyReport` naming, for each program the
        verifier refuses, the input it came from.  Needs libbpf (the pylibbpf
        wheel or the system's libbpf.so.1) and CAP_BPF; without them the report
        says UNAVAILABLE and why.  Loads the written file if there is one, else
        ``data``.
        """
        from .verify import verify

        graph = self.digraph
        origins: dict[tuple[str, str], list[str]] = {}
        for n in sorted(graph.nodes, key=lambda n: graph.nodes[n]["order"]):
            d = graph.nodes[n]
            if d["entry"]:
                origins.setdefault((d["section"], d["name"]), []).append(d["file"])
        if self.output is not None:
            return verify(self.output, origins=origins)
        return verify(self.data, origins=origins, name="<output>")


class Linker:
    """Collects inputs, then links them in the order they were added."""

    def __init__(self, *, dedup: bool = True, graph_checks: bool = True,
                 fatal_warnings: bool = False, tag_rules: Iterable[TagRule] = ()):
        from .graph.rules import with_rules
        from .pipeline import LinkOptions

        tag_rules = tuple(tag_rules)
        with_rules(tag_rules)           # a bad table fails here, not mid-link
        self.options = LinkOptions(dedup=dedup, graph_checks=graph_checks,
                                   fatal_warnings=fatal_warnings, tag_rules=tag_rules)
        self._sources: list[Source] = []

    def add_file(self, path: str | os.PathLike[str], *, whole_archive: bool = False) -> None:
        """Add an object or an archive.  Of an archive only the members some object
        needs are linked (as ``ld`` does); ``whole_archive`` takes every member."""
        from .pipeline import Source

        path = os.fspath(path)
        self._sources.append(Source(path, None, path, whole_archive))

    def add_bytes(self, data: bytes, name: str = "<memory>", *,
                  whole_archive: bool = False) -> None:
        from .pipeline import Source

        self._sources.append(Source(name, bytes(data), None, whole_archive))

    def link(self, output: str | os.PathLike[str] | None = None, *,
             map_file: str | os.PathLike[str] | None = None,
             depfile: str | os.PathLike[str] | None = None,
             why_extract: str | os.PathLike[str] | None = None) -> LinkResult:
        """Link; write ``output`` atomically if given.  Raises LinkError.

        ``map_file`` gets the link map, ``depfile`` a make dependency file
        (needs ``output``), ``why_extract`` lld's table of the archive members
        taken.  They are written before the output, so an output on disk
        always has its companions.
        """
        from .fileio import same_file, write_atomic, writes_in_place
        from .pipeline import run_link

        out_path = os.fspath(output) if output is not None else None
        extras = {what: os.fspath(p) for what, p in
                  (("map", map_file), ("depfile", depfile), ("why-extract", why_extract))
                  if p is not None}
        if "depfile" in extras and out_path is None:
            raise ValueError("a dependency file needs an output path")
        targets = [(what, t) for what, t in [("output", out_path), *extras.items()]
                   if t is not None]
        labels = {"output": "output", "map": "map file", "depfile": "depfile",
                  "why-extract": "--why-extract file"}
        for i, (what, target) in enumerate(targets):
            for other, earlier in targets[:i]:
                if not writes_in_place(target) and (
                        os.path.abspath(target) == os.path.abspath(earlier) or
                        os.path.exists(target) and same_file(target, earlier)):
                    raise OutputError([error(f"the {labels[what]} and the {labels[other]} "
                                             "are the same file; give each its own path",
                                             file=target)])
        for what, target in targets:
            for name, _data, path, _whole in self._sources:
                if path is not None and os.path.exists(target) and same_file(path, target):
                    label = labels[what]
                    raise OutputError([error(f"the {label} would overwrite this input; choose "
                                             f"another {label} path", file=name)])
        outcome = run_link(self._sources, self.options)
        warnings = [d for d in outcome.diagnostics if d.severity is Severity.WARNING]
        result = LinkResult(outcome.chunks, out_path, warnings, outcome.callgraph, outcome.linked,
                            outcome.timings, [obj.name for obj in outcome.linked.inputs],
                            outcome.extractions, outcome.symtab)
        files: dict[str, Callable[[], str]] = {
            "map": lambda: result.map.render(),
            "depfile": lambda: _depfile(out_path, self._sources, outcome.extractions),
            "why-extract": lambda: _why_extract(outcome.extractions)}
        for what, maybe in [*extras.items(), ("output", out_path)]:
            if maybe is None:
                continue
            target = maybe
            try:
                data = outcome.chunks if what == "output" else files[what]().encode()
                write_atomic(target, data)
            except OSError as e:
                label = "output" if what == "output" else f"the {what} file"
                raise OutputError([error(f"cannot write {label}: {e.strerror or e}",
                                         file=target)]) from None
            except ValueError as e:
                raise OutputError([error(str(e), file=target)]) from None
        return result


def _depfile(output: str | None, sources: list[Source], extractions: list[Extraction]) -> str:
    from .depfile import render

    files = [path for _name, _data, path, _whole in sources if path is not None]
    return render(output or "", files, [e.member for e in extractions])


def _why_extract(extractions: list[Extraction]) -> str:
    from .linker.archive import render_why_extract

    return render_why_extract(extractions)


def link(inputs: Iterable[str | os.PathLike[str] | bytes],
         output: str | os.PathLike[str] | None = None,
         **options: Any) -> LinkResult:
    """Link ``inputs`` (paths, or bytes) into ``output`` (or only in memory)."""
    linker = Linker(**options)
    for i, item in enumerate(inputs):
        if isinstance(item, (bytes, bytearray, memoryview)):
            linker.add_bytes(bytes(item), name=f"<input {i}>")
        else:
            linker.add_file(item)
    return linker.link(output)
