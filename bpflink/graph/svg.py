"""The call graph as a picture: the DOT rendering laid out by Graphviz's ``dot -Tsvg``.

The picture is whatever :func:`bpflink.graph.formats.render_dot` says,
drawn: programs bold boxes, subprograms ellipses, each labelled with its
name, where it lives and its stack estimate; ``call`` edges solid,
``func_ref`` dotted, decl-tag edges dashed and labelled with the tag
(``exception_callback:on_throw``); with ``verbose`` the subprograms no
program reaches are added in grey.

Graphviz is not a dependency: ``dot`` is looked up on ``PATH`` when a
picture is asked for, and :class:`GraphvizMissing` says how to get it.  The
SVG is Graphviz's, so its bytes depend on the Graphviz version (the DOT text
is the stable, golden-tested format).
"""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

from ..errors import BpflinkError
from .formats import render_dot

if TYPE_CHECKING:
    from .digraph import GraphLike

INSTALL_HINT = ("install Graphviz (apt-get install graphviz, dnf install graphviz, "
                "brew install graphviz), or write --format dot and render it elsewhere")


class RenderError(BpflinkError):
    """Graphviz is missing or failed; ``hint`` says what to do."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class GraphvizMissing(RenderError):
    pass


def render_svg(graph: GraphLike, verbose: bool = False, dot: str | None = None) -> str:
    """SVG text of the call graph; ``dot`` is Graphviz's program (default: found on PATH)."""
    program = dot or shutil.which("dot")
    if program is None:
        raise GraphvizMissing("the svg format needs Graphviz's 'dot' program, which is not "
                              "on PATH", INSTALL_HINT)
    try:
        proc = subprocess.run([program, "-Tsvg"], input=render_dot(graph, verbose).encode(),
                              capture_output=True, check=False)
    except OSError as e:
        raise GraphvizMissing(f"cannot run Graphviz's dot ({program}): {e.strerror or e}",
                              INSTALL_HINT) from None
    if proc.returncode != 0:
        why = proc.stderr.decode(errors="replace").strip() or f"exit status {proc.returncode}"
        raise RenderError(f"Graphviz's dot failed: {why}")
    return proc.stdout.decode()
