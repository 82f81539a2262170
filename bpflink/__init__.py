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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from .errors import (BpflinkError, Diagnostic, InputError, LinkError, OutputError, Severity,
                     error)

from .graph.rules import TagRule

if TYPE_CHECKING:
    from .verify import VerifyReport

__all__ = ["link", "Linker", "LinkResult", "LinkError", "InputError", "OutputError",
           "BpflinkError", "Diagnostic", "Severity", "TagRule"]
__version__ = "0.1.0"


class _CallgraphField:
    """``LinkResult.callgraph``: the call graph as a ``networkx.DiGraph``, made on first read.

    The link builds bpflink's own :class:`bpflink.graph.DiGraph` (the link
    path never imports networkx); only a caller who reads ``callgraph`` pays
    for ``import networkx`` and the conversion, once.  The unconverted graph
    is ``LinkResult.digraph``.
    """

    def __set_name__(self, owner, name: str) -> None:
        self.raw, self.converted = f"_{name}_raw", f"_{name}_nx"

    def __get__(self, obj, objtype=None):
        if obj is None:
            raise AttributeError("callgraph")   # dataclasses: a field without a default
        cached = obj.__dict__.get(self.converted)
        if cached is None:
            from .graph import DiGraph, to_networkx

            raw = obj.__dict__[self.raw]
            cached = to_networkx(raw) if isinstance(raw, DiGraph) else raw
            obj.__dict__[self.converted] = cached
        return cached

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.raw] = value
        obj.__dict__.pop(self.converted, None)


@dataclass
class LinkResult:
    """What a successful link produced."""

    data: bytes                         # the output object
    output: str | None                  # where it was written, if anywhere
    warnings: list[Diagnostic]
    callgraph: object = _CallgraphField()   # networkx.DiGraph, converted on first access
    linked: object = field(repr=False)  # bpflink.linker.model.LinkedObject
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def digraph(self):
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
        self._sources: list[tuple[str, bytes | None, str | None]] = []

    def add_file(self, path: str | os.PathLike) -> None:
        path = os.fspath(path)
        self._sources.append((path, None, path))

    def add_bytes(self, data: bytes, name: str = "<memory>") -> None:
        self._sources.append((name, bytes(data), None))

    def link(self, output: str | os.PathLike | None = None) -> LinkResult:
        """Link; write ``output`` atomically if given.  Raises LinkError."""
        from .fileio import same_file, write_atomic
        from .pipeline import run_link

        out_path = os.fspath(output) if output is not None else None
        if out_path is not None:
            for name, _data, path in self._sources:
                if path is not None and os.path.exists(out_path) and same_file(path, out_path):
                    raise OutputError([error("the output would overwrite this input; choose "
                                             "another output path", file=name)])
        outcome = run_link(self._sources, self.options)
        if out_path is not None:
            try:
                write_atomic(out_path, outcome.data)
            except OSError as e:
                raise OutputError([error(f"cannot write output: {e.strerror or e}",
                                         file=out_path)]) from None
        warnings = [d for d in outcome.diagnostics if d.severity is Severity.WARNING]
        return LinkResult(outcome.data, out_path, warnings, outcome.callgraph, outcome.linked,
                          outcome.timings)


def link(inputs: Iterable[str | os.PathLike | bytes], output: str | os.PathLike | None = None,
         **options) -> LinkResult:
    """Link ``inputs`` (paths, or bytes) into ``output`` (or only in memory)."""
    linker = Linker(**options)
    for i, item in enumerate(inputs):
        if isinstance(item, (bytes, bytearray, memoryview)):
            linker.add_bytes(bytes(item), name=f"<input {i}>")
        else:
            linker.add_file(item)
    return linker.link(output)
