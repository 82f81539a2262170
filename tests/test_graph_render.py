"""Golden tests of the call-graph formats: text, DOT, JSON, mermaid.

The input is ``corpus/graph_all_kinds`` (every edge kind across two inputs
and a subprogram no program reaches), rendered through the CLI
(``bpflink graph a.o b.o --format F [-v] -o FILE``) from inside the scenario
folder so the file names in the output are the relative ones.  Goldens live
in ``tests/golden/``; after an intended format change, regenerate them with
``BPFLINK_UPDATE_GOLDEN=1 pytest tests/test_graph_render.py`` and review the
diff.  The samples in ``bpflink/graph/formats.py``'s docstring are checked
against the goldens too, so the documentation cannot drift.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

import bpflink.graph.formats as formats_mod
from bpflink.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIO = ROOT / "corpus" / "graph_all_kinds"
UPDATE = os.environ.get("BPFLINK_UPDATE_GOLDEN", "") not in ("", "0")
EXT = {"text": "txt", "dot": "dot", "json": "json", "mermaid": "mmd"}

CASES = [(fmt, verbose) for fmt in ("text", "dot", "json", "mermaid") for verbose in (False, True)
         if not (fmt == "json" and verbose)]       # JSON always has every function


def golden_path(fmt: str, verbose: bool) -> Path:
    return GOLDEN / f"graph_all_kinds{'-v' if verbose else ''}.{EXT[fmt]}"


def render_cli(fmt: str, verbose: bool, tmp_path: Path, monkeypatch,
               inputs=("a.o", "b.o")) -> str:
    monkeypatch.chdir(SCENARIO)
    out = tmp_path / f"graph.{EXT[fmt]}"
    argv = ["graph", *inputs, "--format", fmt, "-o", str(out)] + (["-v"] if verbose else [])
    assert cli_main(argv) == 0
    return out.read_text()


@pytest.mark.parametrize("fmt,verbose", CASES,
                         ids=[f"{f}{'-v' if v else ''}" for f, v in CASES])
def test_golden(fmt, verbose, tmp_path, monkeypatch):
    got = render_cli(fmt, verbose, tmp_path, monkeypatch)
    path = golden_path(fmt, verbose)
    if UPDATE:
        path.write_text(got)
    assert got == path.read_text(), f"{path.name} changed; see the module docstring to update"


def test_stdout_is_the_same_as_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(SCENARIO)
    assert cli_main(["graph", "a.o", "b.o"]) == 0
    assert capsys.readouterr().out == golden_path("text", False).read_text()


def test_rendering_is_deterministic(tmp_path, monkeypatch):
    for fmt, verbose in CASES:
        first = render_cli(fmt, verbose, tmp_path, monkeypatch)
        assert render_cli(fmt, verbose, tmp_path, monkeypatch) == first


def test_other_input_order_is_the_same_graph(tmp_path, monkeypatch):
    ab = json.loads(render_cli("json", False, tmp_path, monkeypatch))
    ba = json.loads(render_cli("json", False, tmp_path, monkeypatch, inputs=("b.o", "a.o")))

    def canon(doc):
        return (sorted(json.dumps({k: v for k, v in f.items() if k != "loads"}, sort_keys=True)
                       for f in doc["functions"]),
                sorted(json.dumps(e, sort_keys=True) for e in doc["edges"]),
                {f["id"]: sorted(f.get("loads", [])) for f in doc["functions"]})

    assert canon(ab) == canon(ba)


def test_json_describes_the_graph():
    doc = json.loads(golden_path("json", False).read_text())
    assert doc["format"] == "bpflink-callgraph" and doc["version"] == 1
    by_id = {f["id"]: f for f in doc["functions"]}
    name = {i: f["name"] for i, f in by_id.items()}
    assert {(name[e["from"]], name[e["to"]], e["kind"]) for e in doc["edges"]} == {
        ("kinds_prog", "twice", "call"),
        ("kinds_prog", "step", "func_ref"),
        ("kinds_prog", "on_throw", "exception_callback"),
        ("plain_prog", "scale", "call"),
        ("scale", "triple", "call"),
    }
    assert [name[i] for i in doc["unreachable"]] == ["unused_fn"]
    assert by_id["b.o:.text+0x0"]["visibility"] == "hidden"
    loads = {f["name"]: sorted(name[i] for i in f["loads"]) for f in doc["functions"] if f["entry"]}
    assert loads == {"kinds_prog": ["on_throw", "step", "twice"],
                     "plain_prog": ["scale", "triple"]}


def test_print_callgraph_during_a_link(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(SCENARIO)
    out = tmp_path / "out.o"
    assert cli_main(["a.o", "b.o", "-o", str(out), "--print-callgraph"]) == 0
    assert capsys.readouterr().out == golden_path("text", False).read_text()
    assert out.exists()
    assert cli_main(["a.o", "b.o", "-o", str(out), "--print-callgraph", "-v"]) == 0
    assert capsys.readouterr().out == golden_path("text", True).read_text()


def _docstring_block(after: str) -> str:
    """The indented sample that follows the line ending with ``after``."""
    lines = formats_mod.__doc__.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith(after)) + 1
    while not lines[start].strip():
        start += 1
    block = []
    for line in lines[start:]:
        if line.strip() and not line.startswith("    "):
            break
        block.append(line)
    return textwrap.dedent("\n".join(block)).strip("\n") + "\n"


@pytest.mark.parametrize("fmt,marker", [("text", "``text``::"), ("dot", "``dot``::"),
                                        ("mermaid", "``mermaid``::")])
def test_docstring_samples_are_the_goldens(fmt, marker):
    assert _docstring_block(marker) == golden_path(fmt, True).read_text()


def test_docstring_json_sample_lines_are_in_the_golden():
    golden = golden_path("json", False).read_text()
    sample = _docstring_block("``json``::")
    for line in sample.splitlines():
        if line.strip() != "...":
            assert line in golden, line
