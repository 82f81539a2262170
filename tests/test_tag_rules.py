"""Decl-tag rules beyond exception callbacks: carriers, declared rules, graph output.

The scenarios ``corpus/tag_*`` are linked through the CLI from inside their
folder (so a ``pyproject.toml`` there declares rules, as it would for a
user) in every listed order; the graph edges and reachable sets are checked
by name.  ``tests/test_corpus.py`` loads and runs the same links in the
kernel (the kernel and libbpf ignore the unknown tags) and checks the
ambiguous ctor's warning and its ``--fatal-warnings`` error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bpflink
from bpflink.graph import parse_tag_rule
from bpflink.graph.rules import CTOR, DTOR, SPEC_GRAMMAR, TagRule, project_tag_rules
from tests.scenarios import load_scenario

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("BPFLINK_UPDATE_GOLDEN", "") not in ("", "0")


def run_bpflink(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bpflink", *args], cwd=cwd,
                          capture_output=True, text=True)


def graph_json(scenario: str, order, *extra: str) -> dict:
    sc = load_scenario(CORPUS / scenario)
    rules = [a for spec in sc.tag_rules for a in ("--tag-rule", spec)]
    proc = run_bpflink(sc.path, "graph", *order, "--format", "json", *rules, *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def named_edges(graph: dict) -> set[tuple[str, str, str]]:
    """(from, to, kind) by name: functions by name, tagged nodes as 'type foo'/'var x'."""
    label = {f["id"]: f["name"] for f in graph["functions"]}
    label.update({t["id"]: f"{t['kind']} {t['name']}" for t in graph["tagged"]})
    return {(label[e["from"]], label[e["to"]], e["kind"]) for e in graph["edges"]}


def loads(graph: dict) -> dict[str, set[str]]:
    name = {f["id"]: f["name"] for f in graph["functions"]}
    return {f["name"]: {name[i] for i in f["loads"]} for f in graph["functions"] if f["entry"]}


def orders(scenario: str) -> list[tuple[str, ...]]:
    return [tuple(p.name for p in o) for o in load_scenario(CORPUS / scenario).all_orders]


# (scenario, decl-tag and uses edges by name, what each program loads)
EXPECTED = {
    "tag_ctor_dtor": (
        {("type foo", "init_foo", "ctor"), ("type foo", "fini_foo", "dtor"),
         ("foo_prog", "type foo", "uses"),          # through its variable g_foo
         ("sum_foo", "type foo", "uses"),           # through its prototype
         ("init_foo", "type foo", "uses"), ("fini_foo", "type foo", "uses"),
         ("sum_prog", "sum_foo", "call")},
        {"foo_prog": {"init_foo", "fini_foo"}, "sum_prog": {"sum_foo", "init_foo", "fini_foo"}}),
    "tag_ctor_ambiguous": (
        # no ctor edge: the name is ambiguous
        {("a_prog", "init_foo", "call"), ("b_prog", "init_foo", "call"),
         ("init_foo", "type foo", "uses")},
        {"a_prog": {"init_foo"}, "b_prog": {"init_foo"}}),
    "tag_on_var": (
        {("var counter", "reset_counter", "reset"), ("count_prog", "var counter", "uses"),
         ("reset_counter", "var counter", "uses")},
        {"count_prog": {"reset_counter"}, "other_prog": set()}),
    "tag_on_static": (
        {("handle", "on_event", "hook"), ("static_prog", "handle", "call")},
        {"static_prog": {"handle", "on_event"}, "b_sys": set()}),
    "tag_project_rule": (
        {("step", "after_step", "hook"), ("var level", "reset_level", "reset"),
         ("step_prog", "step", "call"), ("step", "var level", "uses"),
         ("reset_level", "var level", "uses")},
        {"step_prog": {"step", "after_step", "reset_level"}, "b_sys": set()}),
}

CASES = [pytest.param(sc, order, id=f"{sc}[{'-'.join(o[0] for o in order)}]")
         for sc in EXPECTED for order in orders(sc)]


@pytest.mark.parametrize("scenario,order", CASES)
def test_graph_edges_and_reachability(scenario, order):
    graph = graph_json(scenario, order)
    edges, loaded = EXPECTED[scenario]
    assert named_edges(graph) == edges
    assert loads(graph) == loaded


def test_the_ambiguous_ctor_edge_and_warning_in_every_order():
    outs = []
    for order in orders("tag_ctor_ambiguous"):
        proc = run_bpflink(CORPUS / "tag_ctor_ambiguous", *order, "-o", os.devnull)
        assert proc.returncode == 0
        outs.append(proc.stderr)
    assert outs[0] == outs[1]
    assert outs[0].splitlines()[:3] == [
        "bpflink: warning: a.o: section .BTF: struct foo: ctor:init_foo is ambiguous: 2 "
        "functions are named 'init_foo'",
        ">>> static init_foo in a.o (section .text)",
        ">>> static init_foo in b.o (section .text)"]


@pytest.mark.parametrize("order", orders("tag_ctor_ambiguous"), ids="-".join)
def test_a_declared_ctor_rule_makes_the_ambiguity_an_error(order, tmp_path):
    folder = CORPUS / "tag_ctor_ambiguous"
    inputs = [str(folder / o) for o in order]
    out = tmp_path / "out.o"
    proc = run_bpflink(tmp_path, *inputs, "-o", str(out), "--tag-rule", "ctor:on=type,kind=ctor")
    assert proc.returncode == 1 and not out.exists()
    assert proc.stderr.startswith("bpflink: error: ")
    assert "struct foo: ctor:init_foo is ambiguous: 2 functions are named 'init_foo'" in proc.stderr
    assert proc.stderr.count(">>> static init_foo in ") == 2
    # the same rule from a pyproject.toml above the working directory
    (tmp_path / "pyproject.toml").write_text('[tool.bpflink]\ntag-rules = ["ctor:on=type"]\n')
    (tmp_path / "sub").mkdir()
    proc = run_bpflink(tmp_path / "sub", *inputs, "-o", str(out))
    assert proc.returncode == 1 and "ctor:init_foo is ambiguous" in proc.stderr
    assert not out.exists()
    proc = run_bpflink(tmp_path / "sub", *inputs, "-o", str(out), "--no-config")
    assert proc.returncode == 0 and "bpflink: warning: " in proc.stderr


def test_no_config_ignores_pyproject_but_not_the_command_line():
    graph = graph_json("tag_project_rule", ("a.o", "b.o"), "--no-config")
    edges = named_edges(graph)
    assert ("var level", "reset_level", "reset") in edges
    assert not any(k == "hook" for _, _, k in edges)
    assert "hook" not in graph["edge_kinds"]
    # the pyproject rule given on the command line instead: the same graph as with config
    spec = "hook:on=function,kind=hook,global,exclusive,one"
    declared = graph_json("tag_project_rule", ("a.o", "b.o"), "--no-config", "--tag-rule", spec)
    configured = graph_json("tag_project_rule", ("a.o", "b.o"))
    for key in ("functions", "tagged", "edges", "unreachable"):
        assert declared[key] == configured[key]
    # pyproject's rules come first in the table, the command line's after them
    assert configured["edge_kinds"][-2:] == ["hook", "reset"]
    assert declared["edge_kinds"][-2:] == ["reset", "hook"]
    path, rules = project_tag_rules(CORPUS / "tag_project_rule")
    assert path == str(CORPUS / "tag_project_rule" / "pyproject.toml")
    assert rules == [parse_tag_rule(spec)]


def test_the_library_takes_tag_rules(tmp_path):
    folder = CORPUS / "tag_on_var"
    rule = bpflink.TagRule("reset:", sits_on="var", kind="reset", exclusive_target=False)
    result = bpflink.link([folder / "a.o", folder / "b.o"], tmp_path / "out.o", tag_rules=[rule])
    g = result.callgraph
    [var] = [n for n, d in g.nodes(data=True) if d["kind"] == "var"]
    assert var == ("var", "counter") and str(var) == "var:counter"
    assert [(g.nodes[v]["name"], d["kinds"]) for _, v, d in g.out_edges(var, data=True)] == \
        [("reset_counter", ("reset",))]
    linker = bpflink.Linker(tag_rules=[rule])
    linker.add_file(folder / "a.o")
    assert [e.message for e in pytest.raises(bpflink.LinkError, linker.link).value.errors] == [
        "reset:reset_counter: function 'reset_counter' not found in any input"]
    # without the rule the tag is unknown: no node, no edge, no diagnostic
    plain = bpflink.link([folder / "a.o", folder / "b.o"])
    assert not any(d["kind"] == "var" for _, d in plain.callgraph.nodes(data=True))


# -- checks on the new carriers, read from the row ---------------------------------------------

def link_err(folder: str, *args: str, inputs=("a.o", "b.o")) -> tuple[int, str]:
    proc = run_bpflink(CORPUS / folder, *inputs, "-o", os.devnull, "--no-config", *args)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("folder,args,inputs,rc,first", [
    ("tag_on_var", ["--tag-rule", "reset:on=type"], ("a.o", "b.o"), 1,
     "bpflink: error: a.o: section .BTF: counter: reset:reset_counter sits on VAR counter; "
     "reset tags belong on a struct or union"),
    ("tag_on_var", ["--tag-rule", "reset:on=type,warn"], ("a.o", "b.o"), 0,
     "bpflink: warning: a.o: section .BTF: counter: reset:reset_counter sits on VAR counter; "
     "reset tags belong on a struct or union"),
    ("tag_on_var", ["--tag-rule", "reset:on=var"], ("a.o",), 1,
     "bpflink: error: a.o: section .BTF: variable counter: reset:reset_counter: function "
     "'reset_counter' not found in any input"),
    ("tag_on_var", ["--tag-rule", "reset:on=var,warn"], ("a.o",), 0,
     "bpflink: warning: a.o: section .BTF: variable counter: reset:reset_counter: function "
     "'reset_counter' not found in any input"),
    ("tag_on_static", ["--tag-rule", "hook:on=program"], ("a.o", "b.o"), 1,
     "bpflink: error: a.o: section .text: handle: hook:on_event sits on a subprogram, not an "
     "entry program; hook tags belong on the BTF FUNC of an entry program (a function in a "
     "SEC(\"...\") section)"),
    ("tag_ctor_ambiguous", ["--tag-rule", "ctor:on=type,global"], ("b.o",), 1,
     "bpflink: error: b.o: section .BTF: struct foo: ctor:init_foo names a static function; "
     "the ctor function must be a global, non-hidden function"),
    ("tag_ctor_ambiguous", ["--tag-rule", "ctor:on=type,exclusive"], ("a.o",), 1,
     "bpflink: error: a.o: section .BTF: struct foo: ctor:init_foo names init_foo, which is also "
     "called directly; the ctor: rule is exclusive: its ctor function is never called "
     "directly"),
    ("tag_ctor_ambiguous", ["--tag-rule", "ctor:on=type"], ("a.o",), 0, None),
], ids=["misplaced", "misplaced-warn", "missing", "missing-warn", "program-row-on-a-subprogram",
        "global", "exclusive", "fine"])
def test_declared_rules_check_what_their_row_says(folder, args, inputs, rc, first):
    got_rc, err = link_err(folder, *args, inputs=inputs)
    assert got_rc == rc, err
    assert (err.splitlines()[0] if err else None) == first


@pytest.mark.parametrize("spec,rule", [
    ("ctor:on=type,kind=ctor", TagRule("ctor:", kind="ctor", sits_on="type", at_most_one=False,
                                       global_target=False, exclusive_target=False,
                                       what="ctor function")),
    ("hook:on=function,global,exclusive,one,warn",
     TagRule("hook:", sits_on="function", warn=True, what="hook function")),
    (" x:on=var , one", None),
])
def test_spec_grammar(spec, rule):
    if rule is None:
        with pytest.raises(ValueError, match="PREFIX is a C identifier"):
            parse_tag_rule(spec)
    else:
        assert parse_tag_rule(spec) == rule


@pytest.mark.parametrize("spec,message", [
    ("ctor", "expected " + SPEC_GRAMMAR),
    ("ctor:", "'on=' is required"),
    ("ctor:on=struct", "on='struct'; expected one of program|function|type|var"),
    ("ctor:on=type,on=var", "'on' given twice"),
    ("ctor:on=type,kind=uses", "kind='uses' must be an identifier other than"),
    ("ctor:on=type,kind=a-b", "kind='a-b' must be an identifier"),
    ("ctor:on=type,strict", "unknown item 'strict'"),
    ("ctor:on=type,global=1", "unknown item 'global=1'"),
    ("9x:on=type", "PREFIX is a C identifier"),
])
def test_bad_specs_exit_2_with_one_line(spec, message, tmp_path):
    proc = run_bpflink(tmp_path, str(CORPUS / "cross_call" / "a.o"), "-o", str(tmp_path / "o"),
                       "--tag-rule", spec)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"bpflink: error: tag rule {spec!r}: " in proc.stderr or message in proc.stderr
    assert message in proc.stderr
    assert not (tmp_path / "o").exists()


def test_bad_pyproject_exits_2_naming_the_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.bpflink]\ntag-rules = ["ctor:on=nothing"]\n')
    proc = run_bpflink(tmp_path, str(CORPUS / "cross_call" / "a.o"), "-o", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert f"{tmp_path / 'pyproject.toml'}: [tool.bpflink] tag-rules: tag rule 'ctor:on=nothing'" \
        in proc.stderr
    assert run_bpflink(tmp_path, str(CORPUS / "cross_call" / "a.o"), "-o",
                       str(tmp_path / "o"), "--no-config").returncode == 0


def test_two_rules_may_not_share_a_kind():
    with pytest.raises(ValueError, match="both make edges of kind 'ctor'"):
        bpflink.Linker(tag_rules=[TagRule("make:", kind="ctor", sits_on="type")])


def test_ctor_and_dtor_rows_are_warnings_only_and_defined_by_no_loader():
    for row in (CTOR, DTOR):
        assert row.warn and row.defined_by == "" and row.sits_on == "type"


# -- output ------------------------------------------------------------------------------------

EXT = {"text": "txt", "dot": "dot", "json": "json", "mermaid": "mmd"}


@pytest.mark.parametrize("fmt", list(EXT))
def test_tagged_nodes_golden(fmt):
    proc = run_bpflink(CORPUS / "tag_ctor_dtor", "graph", "a.o", "b.o", "--format", fmt, "-v")
    assert proc.returncode == 0, proc.stderr
    path = GOLDEN / f"tag_ctor_dtor-v.{EXT[fmt]}"
    if UPDATE:
        path.write_text(proc.stdout)
    assert proc.stdout == path.read_text()


def test_verbose_text_says_why_each_function_is_reachable():
    proc = run_bpflink(CORPUS / "tag_ctor_dtor", "graph", "a.o", "b.o", "-v")
    why = [line.strip() for line in proc.stdout.splitlines() if line.strip().startswith("why ")]
    assert why == [
        "why init_foo: foo_prog -uses (variable g_foo)-> type foo -ctor-> init_foo",
        "why fini_foo: foo_prog -uses (variable g_foo)-> type foo -dtor-> fini_foo",
        "why init_foo: sum_prog -call-> sum_foo -uses-> type foo -ctor-> init_foo",
        "why fini_foo: sum_prog -call-> sum_foo -uses-> type foo -dtor-> fini_foo",
        "why sum_foo: sum_prog -call-> sum_foo"]


def test_dot_draws_types_and_variables_apart_from_functions():
    dot = run_bpflink(CORPUS / "tag_project_rule", "graph", "a.o", "b.o", "--format", "dot",
                      "--tag-rule", "reset:on=var").stdout
    assert '"var:level" [label="var level\\na.o .BTF", shape=cylinder];' in dot
    assert '"a.o:.text+0x0" -> "var:level" [label="uses", style=dotted, arrowhead=empty];' in dot
    mmd = run_bpflink(CORPUS / "tag_project_rule", "graph", "a.o", "b.o", "--format", "mermaid",
                      "--tag-rule", "reset:on=var").stdout
    assert '[("var level<br/>a.o .BTF")]' in mmd


TWO_CTORS = """\
// bpflink-cflags: -I{include}
#include "bpf_defs.h"

char LICENSE[] SEC("license") = "GPL";

struct __attribute__((btf_decl_tag("ctor:make_a"))) __attribute__((btf_decl_tag("ctor:make_b")))
pair {{
	int a;
}};

struct pair the_pair;

__noinline int make_a(void) {{ return 1; }}
__noinline int make_b(void) {{ return 2; }}

SEC("tc")
int pair_prog(struct __sk_buff *skb)
{{
	return the_pair.a;
}}
"""


def test_two_ctor_tags_on_one_struct(tmp_path):
    """A carrier with two tags of a one-per-carrier row: a warning on the built-in
    (warnings-only) row, an error on a declared one; both targets stay edges."""
    pytest.importorskip("ziglang")
    sys.path.insert(0, str(CORPUS))
    try:
        import build as corpus_build
    finally:
        sys.path.pop(0)
    (tmp_path / "pair.c").write_text(TWO_CTORS.format(include=CORPUS / "include"))
    subprocess.run(corpus_build.compile_command(tmp_path / "pair.c", "pair.o"), cwd=tmp_path,
                   check=True)
    linker = bpflink.Linker()
    linker.add_bytes((tmp_path / "pair.o").read_bytes(), name="pair.o")
    result = linker.link()
    [w] = result.warnings
    assert w.render().splitlines() == [
        "bpflink: warning: pair.o: section .BTF: struct pair: multiple ctor tags on type pair; a "
        "struct or union has at most one constructor",
        ">>> ctor:make_a",
        ">>> ctor:make_b",
        "bpflink: note: keep one ctor tag on type pair"]
    g = result.callgraph
    assert sorted(g.nodes[v]["name"] for v in g.successors(("type", "pair"))) == \
        ["make_a", "make_b"]
    with pytest.raises(bpflink.LinkError) as e:
        bpflink.link([tmp_path / "pair.o"], tag_rules=[parse_tag_rule("ctor:on=type,one")])
    assert [d.message for d in e.value.errors] == [
        "multiple ctor tags on type pair; a struct or union has at most one ctor function"]
    with pytest.raises(TypeError, match="expected bpflink.TagRule"):
        bpflink.Linker(tag_rules=["ctor:on=type"])


def test_a_broken_pyproject_with_our_table_exits_2(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.bpflink]\ntag-rules = ["ctor:on=type"\n')
    proc = run_bpflink(tmp_path, str(CORPUS / "cross_call" / "a.o"), "-o", str(tmp_path / "o"))
    assert proc.returncode == 2 and "pyproject.toml: not valid TOML" in proc.stderr
    (tmp_path / "pyproject.toml").write_text('[project\nname = "someone-else"\n')
    proc = run_bpflink(tmp_path, str(CORPUS / "cross_call" / "a.o"), "-o", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
