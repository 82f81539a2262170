"""Call-graph scenarios of the corpus, linked through the ``bpflink`` CLI in a subprocess.

Error scenarios (link-level defects): every listed order (every permutation, for the ambiguous
ones) exits 1, writes no output, and prints exactly the diagnostic below —
the same text whatever the order, because candidates, cycles and chains are
named by name and file, never by position.  Inputs are given relative to the
scenario folder, so messages name ``a.o`` rather than a path.

Warning scenarios (program-level defects): exit 0 with exactly the warning
below, and exit 1 with the same text as an error under ``--fatal-warnings``.

Scenarios that link: exit 0, no diagnostics, the call graph has the edges
below, and the output runs in the kernel with the scenario's return values
(the exception-callback ones take the bpf_throw path: the callback's return
value is the program's).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scenarios import check_loaded, load_scenario

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def run_bpflink(scenario: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bpflink", *args], cwd=CORPUS / scenario,
                          capture_output=True, text=True)


def orders(scenario: str, every_permutation: bool = False) -> list[tuple[str, ...]]:
    sc = load_scenario(CORPUS / scenario)
    if every_permutation:
        return list(itertools.permutations(p.name for p in sc.inputs))
    return [tuple(p.name for p in order) for order in sc.all_orders]


AMBIGUOUS_HINT = (
    "bpflink: note: libbpf and the kernel look the callback up by name and take the first "
    "match, so the input order would decide which one is used; give the exception callback a "
    "name no other function has, or rename the others (a static function's name is free to "
    "change)\n")

EXPECTED_ERRORS = {
    "exc_ambiguous_2": (
        "bpflink: error: g1.o: section tc: g1_prog: exception_callback:cb is ambiguous: 2 "
        "functions are named 'cb'\n"
        ">>> global cb in g1.o (section .text)\n"
        ">>> static cb in g2.o (section .text)\n" + AMBIGUOUS_HINT),
    "exc_ambiguous_3": (
        "bpflink: error: g1.o: section tc: g1_prog: exception_callback:cb is ambiguous: 2 "
        "functions are named 'cb'\n"
        ">>> global cb in g2.o (section .text)\n"
        ">>> static cb in g3.o (section .text)\n" + AMBIGUOUS_HINT),
}

ERROR_CASES = [
    pytest.param(sc, order, id=f"{sc}[{'-'.join(o.removesuffix('.o') for o in order)}]")
    for sc in EXPECTED_ERRORS
    for order in orders(sc, every_permutation=sc.startswith("exc_ambiguous"))
]


@pytest.mark.parametrize("scenario,order", ERROR_CASES)
def test_link_fails_with_exact_diagnostic(scenario, order, tmp_path):
    out = tmp_path / "out.o"
    proc = run_bpflink(scenario, *order, "-o", str(out))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == EXPECTED_ERRORS[scenario]
    assert proc.stdout == ""
    assert not out.exists()


@pytest.mark.parametrize("scenario", sorted(EXPECTED_ERRORS))
def test_graph_subcommand_fails_the_same_way(scenario):
    proc = run_bpflink(scenario, "graph", *orders(scenario)[0])
    assert (proc.returncode, proc.stderr, proc.stdout) == (1, EXPECTED_ERRORS[scenario], "")


# Program-level defects: the link succeeds with exactly this warning (the
# program named will not load; every other one does), and fails with the
# same text as an error under --fatal-warnings.
EXPECTED_WARNINGS = {
    "exc_missing": (
        "bpflink: warning: a.o: section tc: missing_prog: exception_callback:no_such_cb: function "
        "'no_such_cb' not found in any input; when missing_prog is loaded, libbpf refuses to "
        "load it: \"cannot find exception callback 'no_such_cb'\"\n"
        "bpflink: note: define a global function 'no_such_cb' in one of the inputs, or fix the "
        "name in the tag\n"),
    "exc_static": (
        "bpflink: warning: a.o: section tc: static_cb_prog: exception_callback:static_cb names a "
        "static function; the exception callback must be a global, non-hidden function; when "
        "static_cb_prog is loaded, libbpf refuses to load it: \"exception callback static_cb "
        "must be a global non-hidden function\"\n"
        ">>> static static_cb in a.o (section .text)\n"
        "bpflink: note: libbpf and the kernel look the callback up by name and accept only a "
        "global function: remove 'static' from static_cb\n"),
    "exc_two_tags": (
        "bpflink: warning: a.o: section tc: two_tags_prog: multiple exception_callback tags on "
        "one program; a program has at most one exception callback; when two_tags_prog is "
        "loaded, the verifier refuses it: \"multiple exception callback tags for main "
        "subprog\"\n"
        ">>> exception_callback:cb_one\n"
        ">>> exception_callback:cb_two\n"
        "bpflink: note: keep one exception_callback tag on two_tags_prog\n"),
    "exc_called": (
        "bpflink: warning: a.o: section tc: called_prog: exception_callback:exc_cb names exc_cb, "
        "which is also called directly; the verifier refuses direct calls to an exception "
        "callback; when called_prog is loaded, the verifier refuses it: \"cannot call exception "
        "cb directly\"\n"
        ">>> called by global b_work in b.o (section .text)\n"
        "bpflink: note: move the shared code into a function that exc_cb and its callers both "
        "call\n"),
    "recursion": (
        "bpflink: warning: a.o: section tc: rec_prog: recursion: rec_a -> rec_b -> rec_a; the "
        "verifier rejects recursive calls; when rec_prog is loaded, the verifier refuses it: "
        "\"the call stack of 8 frames is too deep !\"\n"
        ">>> global rec_a in a.o (section .text)\n"
        ">>> global rec_b in b.o (section .text)\n"
        "bpflink: note: turn the recursion into a loop (a bounded loop or bpf_loop)\n"),
    "deep_chain": (
        "bpflink: warning: a.o: section tc: deep_prog: call chain too deep: 10 frames, the "
        "verifier allows 8: deep_prog -> f1 -> f2 -> f3 -> f4 -> f5 -> f6 -> f7 -> f8 -> f9; "
        "when deep_prog is loaded, the verifier refuses it: \"the call stack of 8 frames is too "
        "deep !\"\n"
        ">>> global deep_prog in a.o (section tc)\n"
        + "".join(f">>> global f{i} in {'a' if i % 2 else 'b'}.o (section .text)\n"
                  for i in range(1, 10))
        + "bpflink: note: mark some of these functions __always_inline, or merge them\n"),
}

WARNING_CASES = [
    pytest.param(sc, order, id=f"{sc}[{'-'.join(o.removesuffix('.o') for o in order)}]")
    for sc in EXPECTED_WARNINGS for order in orders(sc)
]


@pytest.mark.parametrize("scenario,order", WARNING_CASES)
def test_link_warns_with_exact_diagnostic(scenario, order, tmp_path):
    out = tmp_path / "out.o"
    proc = run_bpflink(scenario, *order, "-o", str(out))
    assert (proc.returncode, proc.stderr, proc.stdout) == (0, EXPECTED_WARNINGS[scenario], "")
    assert out.exists()


@pytest.mark.parametrize("scenario,order", WARNING_CASES)
def test_fatal_warnings_turn_them_into_errors(scenario, order, tmp_path):
    out = tmp_path / "out.o"
    proc = run_bpflink(scenario, *order, "-o", str(out), "--fatal-warnings")
    expected = EXPECTED_WARNINGS[scenario].replace("bpflink: warning: ", "bpflink: error: ", 1)
    assert (proc.returncode, proc.stderr, proc.stdout) == (1, expected, "")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("scenario", sorted(EXPECTED_WARNINGS))
def test_graph_subcommand_warns_the_same_way(scenario):
    proc = run_bpflink(scenario, "graph", *orders(scenario)[0])
    assert (proc.returncode, proc.stderr) == (0, EXPECTED_WARNINGS[scenario])
    assert proc.stdout.startswith("# bpflink call graph: ")


# -- scenarios that link and run ---------------------------------------------------------------

# (program or function, callee, kind) edges of each scenario's graph, by name
EXPECTED_EDGES = {
    "exc_same": {("exc_prog", "exc_cb", "exception_callback"),
                 ("b_prog", "b_double", "call")},
    "exc_cross": {("exc_cross_prog", "cross_cb", "exception_callback")},
    "exc_throw_both": {("throw_a", "cb_a", "exception_callback"),
                       ("throw_b", "cb_b", "exception_callback")},
    "loop_callback": {("loop_a", "loop_cb", "func_ref"), ("loop_b", "loop_cb", "func_ref")},
    "deep_chain_ok": {("chain_prog", "f1", "call")} | {(f"f{i}", f"f{i + 1}", "call")
                                                       for i in range(1, 7)},
    "graph_all_kinds": {("kinds_prog", "twice", "call"), ("kinds_prog", "step", "func_ref"),
                        ("kinds_prog", "on_throw", "exception_callback"),
                        ("plain_prog", "scale", "call"), ("scale", "triple", "call")},
}

# where each edge's callee lives, when it pins a cross-input binding
CALLEE_FILE = {
    ("exc_cross", "cross_cb"): "b.o",
    ("exc_throw_both", "cb_a"): "a.o",
    ("exc_throw_both", "cb_b"): "b.o",
    ("loop_callback", "loop_cb"): "b.o",
    ("graph_all_kinds", "step"): "b.o",
}

GOOD_CASES = [
    pytest.param(sc, order, id=f"{sc}[{'-'.join(o.removesuffix('.o') for o in order)}]")
    for sc in EXPECTED_EDGES for order in orders(sc)
]


@pytest.mark.parametrize("scenario,order", GOOD_CASES)
def test_graph_has_the_expected_edges(scenario, order):
    proc = run_bpflink(scenario, "graph", *order, "--format", "json")
    assert (proc.returncode, proc.stderr) == (0, "")
    doc = json.loads(proc.stdout)
    by_id = {f["id"]: f for f in doc["functions"]}
    got = {(by_id[e["from"]]["name"], by_id[e["to"]]["name"], e["kind"]) for e in doc["edges"]}
    assert got == EXPECTED_EDGES[scenario]
    for e in doc["edges"]:
        want = CALLEE_FILE.get((scenario, by_id[e["to"]]["name"]))
        if want:
            assert by_id[e["to"]]["file"] == want


@pytest.mark.parametrize("scenario,order", GOOD_CASES)
def test_links_and_runs_in_the_kernel(scenario, order, tmp_path, kernel):
    out = tmp_path / "out.o"
    proc = run_bpflink(scenario, *order, "-o", str(out))
    assert (proc.returncode, proc.stderr) == (0, "")
    assert check_loaded(kernel.load(out), load_scenario(CORPUS / scenario)) == []


def test_exception_callback_return_value_is_the_programs(tmp_path, kernel):
    """The bpf_throw path really runs: same input, other input, and the default callback."""
    for scenario, order, expected in [
        ("exc_same", ("a.o", "b.o"), {"exc_prog": 73, "plain_throw": 9}),
        ("exc_cross", ("b.o", "a.o"), {"exc_cross_prog": 507, "exc_cross_nothrow": 11}),
        ("graph_all_kinds", ("b.o", "a.o"), {"kinds_prog": 41}),
    ]:
        out = tmp_path / f"{scenario}.o"
        assert run_bpflink(scenario, *order, "-o", str(out)).returncode == 0
        obj = kernel.load(out)
        assert {prog: obj.run(prog) for prog in expected} == expected


def test_print_callgraph_prints_and_links(tmp_path):
    out = tmp_path / "out.o"
    proc = run_bpflink("exc_cross", "a.o", "b.o", "-o", str(out), "--print-callgraph")
    assert proc.returncode == 0 and out.exists()
    assert proc.stdout.splitlines()[:3] == [
        "# bpflink call graph: 2 programs, 1 subprogram, 1 edge",
        "program exc_cross_prog [a.o tc+0x0] 6 insns, global, stack 0",
        "    exception_callback -> cross_cb [b.o .text+0x0]",
    ]
