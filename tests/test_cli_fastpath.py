"""The plain link's fast path: its arguments parsed without importing argparse.

``cli._parse_plain_link`` parses the common link command line by hand (importing
argparse costs every process ~10 ms) and returns None for anything else,
which argparse then parses as before.  Held here to argparse itself: on any
command line, the fast path defers or gives exactly the namespace
``parse_intermixed_args`` gives and the inputs with the --whole-archive state
``_inputs_in_order`` gives; and on the common forms it does not defer.  A
child process then checks that a real link never imports argparse, and that
help and usage errors still come from it.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from bpflink import cli

ROOT = Path(__file__).resolve().parent.parent
SMALL = [str(ROOT / "corpus" / "cross_call" / n) for n in ("a.o", "b.o")]


def by_argparse(argv: list[str]) -> tuple[dict[str, object], list[tuple[str, bool]]] | None:
    """What the argparse path makes of ``argv``: None where it exits (usage error, help)."""
    parser = cli._link_parser()
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            args = parser.parse_intermixed_args(argv)
    except SystemExit:
        return None
    return vars(args), cli._inputs_in_order(parser, argv)


def by_fast_path(argv: list[str]) -> tuple[dict[str, object], list[tuple[str, bool]]] | None:
    got = cli._parse_plain_link(list(argv))
    return None if got is None else (vars(got[0]), got[1])


def typed(result: tuple[dict[str, object], list[tuple[str, bool]]]) -> object:
    """The result with each value's type, so that 1 is not taken for True."""
    values, ordered = result
    return {k: (type(v).__name__, v) for k, v in values.items()}, ordered


def assert_same_or_deferred(argv: list[str]) -> bool:
    """The fast path agrees with argparse on ``argv``, or defers; whether it took it."""
    fast = by_fast_path(argv)
    if fast is None:
        return False
    reference = by_argparse(argv)
    assert reference is not None, f"the fast path took {argv}, which argparse refuses"
    assert typed(fast) == typed(reference), argv
    return True


# -- the vocabulary ------------------------------------------------------------------------

INPUTS = ["a.o", "b.o", "lib.a", "dir/c.o", "x y.o", "a=b.o", "@missing.rsp", "é.o"]
FLAGS = ["--no-dedup", "--no-graph-checks", "--fatal-warnings", "--no-config",
         "--print-callgraph", "-v", "--verbose", "-q", "--quiet", "--verify",
         "--verify=require", "--whole-archive", "--no-whole-archive"]
STRING_OPTIONS = ["-o", "--output", "--map", "--depfile", "--why-extract", "--tag-rule"]
FILES = ["out.o", "-", "o.map", "d/x.d", "why.txt", "a b", "k=v", "cb:on=program"]
CHOICES = {"--color": cli.COLORS, "--diagnostics-format": cli.DIAGNOSTICS_FORMATS,
           "--error-limit": ["0", "1", "5", "20", "100", "007"]}

# Forms argparse treats specially, or refuses: the fast path must defer on them
# (or, where argparse accepts them, agree).
ODD_ARGS = ["-", "--", "-h", "--help", "--version", "-x", "--bogus", "-1", "", " ",
            "--verb", "--out", "--outp=x.o", "--no-dedu", "--whole", "--verify=auto",
            "--verify=", "--verbose=1", "--quiet=", "--whole-archive=1", "-qv", "-vq", "-qo",
            "-vo", "-o=x.o", "-o-", "-o--", "-oout.o", "-ov", "-output", "-ox=y", "--map=",
            "--output=", "--output=-", "--map=-x", "--o", "--color=bogus", "--color=",
            "--error-limit=-1", "--error-limit=x", "--error-limit=", "--error-limit= 3",
            "-Q", "---", "-@", "@", "--tag-rule=", "--tag-rule=-"]
ODD_VALUES = ["", " ", "-", "-x", "--", "-1", "-0", "--verbose", "-o", "bogus", "ALWAYS",
              "x", " 7", "+3", "1_0", "3.0", "٣", "1e3", "=x", "@f", "-v"]

common = st.one_of(
    st.sampled_from(INPUTS).map(lambda a: [a]),
    st.sampled_from(FLAGS).map(lambda f: [f]),
    st.tuples(st.sampled_from(STRING_OPTIONS), st.sampled_from(FILES)).map(list),
    st.sampled_from(STRING_OPTIONS[1:]).flatmap(
        lambda o: st.sampled_from(FILES).map(lambda v: [f"{o}={v}"])),
    st.sampled_from(sorted(CHOICES)).flatmap(
        lambda o: st.sampled_from(CHOICES[o]).flatmap(
            lambda v: st.sampled_from([[o, v], [f"{o}={v}"]]))),
)
odd = st.one_of(
    st.sampled_from(ODD_ARGS).map(lambda a: [a]),
    st.tuples(st.sampled_from([*STRING_OPTIONS, *CHOICES]), st.sampled_from(ODD_VALUES))
    .map(list),
    st.sampled_from([*STRING_OPTIONS, *CHOICES]).map(lambda o: [o]),   # value missing
)


def flatten(parts: list[list[str]]) -> list[str]:
    return [arg for part in parts for arg in part]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.one_of(common, common, common, odd), max_size=10).map(flatten),
       st.sampled_from([[], ["a.o", "-o", "out.o"]]))
def test_fast_path_agrees_with_argparse_or_defers(argv, required):
    # half of them with an input and -o, which argparse requires, so that the
    # odd forms are compared, not refused for want of the required ones
    event("taken" if assert_same_or_deferred(argv + required) else "deferred")


@settings(max_examples=500, deadline=None)
@given(st.lists(common, min_size=1, max_size=12).map(flatten), st.sampled_from(INPUTS),
       st.sampled_from(["out.o", "-"]), st.sampled_from([["-o"], ["--output"], []]))
def test_fast_path_takes_every_command_line_of_its_vocabulary(argv, first, out, spelling):
    argv = [first, *argv, *(spelling + [out] if spelling else [f"--output={out}"])]
    assert assert_same_or_deferred(argv), f"the fast path deferred on {argv}"


@pytest.mark.parametrize("argv", [
    ["a.o", "b.o", "-o", "out.o"],
    ["-o", "out.o", "a.o"],
    ["a.o", "-oout.o"],
    ["a.o", "--output=out.o", "--map", "out.map", "--depfile=out.d", "--why-extract", "-"],
    ["a.o", "b.o", "-o", "-", "-q", "--error-limit", "5", "--color=always",
     "--diagnostics-format", "json"],
    ["prog.o", "--whole-archive", "lib.a", "--no-whole-archive", "other.a", "-o", "x.o",
     "--whole-archive", "last.a"],
    ["a.o", "-o", "x.o", "--verify", "-v", "--print-callgraph", "--tag-rule", "a:on=program",
     "--tag-rule=b:on=var,kind=map", "--no-config", "--fatal-warnings", "--no-dedup",
     "--no-graph-checks"],
    ["a.o", "-o", "x.o", "--verify=require", "--error-limit=0", "-q", "-v"],
])
def test_fast_path_takes_the_common_forms(argv):
    assert assert_same_or_deferred(argv)


@pytest.mark.parametrize("argv", [
    ["a.o", "-o", "x.o", "-h"], ["--version"], ["a.o", "-o", "x.o", "--verb"],
    ["a.o", "-o", "x.o", "-qv"], ["a.o", "-o", "x.o", "--color=bogus"],
    ["a.o", "-o", "x.o", "--error-limit", "-1"], ["a.o", "-o", "x.o", "--map", "-x"],
    ["-o", "x.o", "--", "-a.o"], ["-", "-o", "x.o"], ["-o", "x.o"], ["a.o"], ["a.o", "-o"],
    ["a.o", "-o=x.o"],
])
def test_fast_path_defers_outside_its_vocabulary(argv):
    assert cli._parse_plain_link(argv) is None


def test_every_link_option_is_in_the_fast_path_or_deliberately_not():
    """A new option of the link form should be taught to the fast path (else it costs
    argparse's import on every link that uses it)."""
    deferred = {"-h", "--help", "--version"}
    known = {*cli._PLAIN_FLAGS, *cli._PLAIN_VALUES, "--verify", "--verify=require",
             "--whole-archive", "--no-whole-archive"}
    options = {o for action in cli._link_parser()._actions for o in action.option_strings}
    assert options == known | deferred


# -- main: errors found after parsing, on both paths ------------------------------------------

def usage_error_on_both_paths(monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str],
                              argv: list[str]) -> tuple[object, pytest.CaptureResult[str]]:
    """main(argv)'s exit status and output, the fast path taking it and then argparse
    (the fast path disabled); asserts the two are the same."""
    outputs = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(cli, "_parse_plain_link", lambda argv: None)
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
        outputs.append((exit_.value.code, capsys.readouterr()))
    assert outputs[0] == outputs[1]
    return outputs[0]


@pytest.mark.parametrize("extra", [
    ["-q", "-v"], ["-o", "-", "--print-callgraph"], ["-o", "-", "--depfile", "x.d"],
    ["--map", "-", "--why-extract=-", "--no-config"], ["--tag-rule", "nonsense"],
])
def test_usage_errors_after_parsing_are_argparse_s(monkeypatch, capsys, tmp_path, extra):
    monkeypatch.chdir(tmp_path)
    argv = [*SMALL, "-o", str(tmp_path / "out.o"), *extra]
    assert cli._parse_plain_link(argv) is not None
    code, out = usage_error_on_both_paths(monkeypatch, capsys, argv)
    assert code == 2 and out.err.startswith("usage: bpflink ") and "bpflink: error: " in out.err


@pytest.mark.parametrize("extra", [["-q", "-v"], ["--tag-rule", "nonsense"]])
def test_gen_object_usage_errors_name_gen_object_on_both_paths(monkeypatch, capsys, tmp_path,
                                                               extra):
    # gen object is rewritten to the link form and parsed by the same fast path;
    # its usage errors still name "bpflink gen object", as argparse's did
    monkeypatch.chdir(tmp_path)
    argv = ["gen", "object", str(tmp_path / "out.o"), *SMALL, *extra]
    code, out = usage_error_on_both_paths(monkeypatch, capsys, argv)
    assert code == 2 and out.err.startswith("usage: bpflink gen object ")


# -- a real process ------------------------------------------------------------------------

_CHILD = """
import sys
import bpflink.cli
rc = bpflink.cli.main(sys.argv[1:])
assert rc == 0, rc
assert "argparse" not in sys.modules, "the plain link imported argparse"
"""


def run(code: str, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ if env is None else env, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-S", "-c", code, *argv], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_plain_link_does_not_import_argparse(tmp_path):
    out = tmp_path / "out.o"
    proc = run(_CHILD, *SMALL, "-o", str(out), "--map", str(tmp_path / "out.map"), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:4] == b"\x7fELF"


def test_gen_object_does_not_import_argparse(tmp_path):
    out = tmp_path / "out.o"
    proc = run(_CHILD, "gen", "object", str(out), *SMALL, "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:4] == b"\x7fELF"


def test_help_and_unknown_options_are_still_argparse_s(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "100")
    main = "import sys, bpflink.cli; sys.exit(bpflink.cli.main(sys.argv[1:]))"
    proc = run(main, "--help", env=dict(os.environ, COLUMNS="100"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: bpflink ")
    assert proc.stdout == cli._link_parser().format_help()

    proc = run(main, *SMALL, "-o", "x.o", "--bogus", env=dict(os.environ, COLUMNS="100"))
    assert proc.returncode == 2
    with pytest.raises(SystemExit):
        cli._link_parser().parse_intermixed_args([*SMALL, "-o", "x.o", "--bogus"])
    assert proc.stderr == capsys.readouterr().err
    assert proc.stderr.endswith("bpflink: error: unrecognized arguments: --bogus\n")
