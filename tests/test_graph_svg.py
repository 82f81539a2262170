"""``bpflink graph --format svg``: the call graph drawn by Graphviz's ``dot``.

Through the installed console script on ``corpus/graph_all_kinds`` (every
edge kind and an unreachable function): the SVG parses as XML, names every
function, and follows the conventions — programs boxes (polygons),
subprograms ellipses, each with its stack estimate; the decl-tag edge dashed
and labelled with its tag; with ``-v`` the unreachable function in grey.
Without Graphviz on PATH: exit 1, how to get it, no output file.

Needs Graphviz; skips without it unless ``BPFLINK_REQUIRE_GRAPHVIZ=1`` (CI
installs it and sets that).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "corpus" / "graph_all_kinds"
SVG = "{http://www.w3.org/2000/svg}"
REQUIRE_GRAPHVIZ_ENV = "BPFLINK_REQUIRE_GRAPHVIZ"


def bpflink(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "bpflink"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "bpflink"]
    proc = subprocess.run([*cmd, *args], cwd=SCENARIO, capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def graphviz() -> str:
    dot = shutil.which("dot")
    if dot is None:
        skip_or_fail("Graphviz's dot is not installed (apt-get install graphviz)",
                     REQUIRE_GRAPHVIZ_ENV)
    assert dot is not None
    return dot


def functions(verbose: bool) -> list[dict]:
    """Every function of the scenario's graph, from the JSON format."""
    proc = bpflink("graph", "a.o", "b.o", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    funcs = json.loads(proc.stdout)["functions"]
    return [f for f in funcs if verbose or f["reachable"]]


def draw(tmp_path: Path, verbose: bool) -> ET.Element:
    out = tmp_path / "graph.svg"
    proc = bpflink("graph", "a.o", "b.o", "--format", "svg", "-o", str(out),
                   *(["-v"] if verbose else []))
    assert proc.returncode == 0, proc.stderr
    return ET.fromstring(out.read_bytes())          # raises if it is not XML


def groups(svg: ET.Element, cls: str) -> dict[str, ET.Element]:
    """Graphviz's <g class="node|edge"> elements by their <title> (node id, "a->b")."""
    return {g.findtext(f"{SVG}title"): g for g in svg.iter(f"{SVG}g") if g.get("class") == cls}


def texts(g: ET.Element) -> list[str]:
    return [t.text or "" for t in g.iter(f"{SVG}text")]


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "v"])
def test_svg_names_every_function_with_its_stack(graphviz, tmp_path, verbose):
    svg = draw(tmp_path, verbose)
    assert svg.tag == f"{SVG}svg"
    nodes = groups(svg, "node")
    funcs = functions(verbose)
    assert sorted(nodes) == sorted(f["id"] for f in funcs)
    for f in funcs:
        g = nodes[f["id"]]
        assert texts(g) == [f["name"], f"{f['file']} {f['section']}+0x{f['offset']:x}",
                            f"stack {f['stack']}"]
        shape = g.find(f"{SVG}polygon") if f["entry"] else g.find(f"{SVG}ellipse")
        assert shape is not None, f"{f['name']}: programs are boxes, subprograms ellipses"
        grey = shape.get("stroke") == "gray"
        assert grey is (not f["reachable"]), f"{f['name']}: only unreachable ones are grey"
    assert any(not f["reachable"] for f in funcs) is verbose


def test_svg_edges_follow_the_conventions(graphviz, tmp_path):
    edges = groups(draw(tmp_path, verbose=False), "edge")
    by_label = {texts(g)[0]: g.find(f"{SVG}path") for g in edges.values()}
    assert sorted(by_label) == ["call", "exception_callback:on_throw", "func_ref"]
    assert by_label["call"].get("stroke-dasharray") is None                 # solid
    assert by_label["exception_callback:on_throw"].get("stroke-dasharray") == "5,2"  # dashed
    assert by_label["func_ref"].get("stroke-dasharray") == "1,5"            # dotted
    tag_edge = next(t for t, g in edges.items() if "exception_callback:on_throw" in texts(g))
    assert tag_edge == "a.o:tc+0x0->a.o:.text+0x0"


def test_svg_to_stdout(graphviz):
    proc = bpflink("graph", "a.o", "b.o", "--format", "svg")
    assert proc.returncode == 0, proc.stderr
    assert ET.fromstring(proc.stdout).tag == f"{SVG}svg"


def test_without_graphviz_says_how_to_get_it(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "graph.svg"
    env = {**os.environ, "PATH": str(empty)}
    proc = bpflink("graph", "a.o", "b.o", "--format", "svg", "-o", str(out), env=env)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "bpflink: error: the svg format needs Graphviz's 'dot' program, which is not on PATH",
        ("bpflink: note: install Graphviz (apt-get install graphviz, dnf install graphviz, "
         "brew install graphviz), or write --format dot and render it elsewhere")]
    assert not out.exists() and list(tmp_path.iterdir()) == [empty]
