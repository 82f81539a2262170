"""``--verify``: the output loaded into the kernel through libbpf after the link.

Through the installed console script, as a build runs it:

* a correct link the verifier refuses in part (``corpus/verify_refused``, and
  every scenario listing refused programs): exit 1, each refused program
  named with its input file and section as the call-graph warnings name it,
  the verifier log's last lines (with the C source line from BTF line info),
  ``SEC("?...")`` programs left out, and the output left in place, byte for
  byte what a link without ``--verify`` writes;
* every loadable corpus scenario verifies (exit 0 under ``--verify=require``);
* the kernel cannot be asked — no libbpf (``$BPFLINK_LIBBPF`` naming nothing,
  or the library search finding nothing), no permission (the console script
  run as ``nobody`` without capabilities by ``setpriv``), a program type the
  kernel lacks (real ``fentry`` programs, which this kernel refuses even to
  root; and libbpf's probe answering 0), no attach target: a warning and
  exit 0, or an error and exit 1 under ``--verify=require``; a table test
  pins which errno means "cannot verify here" and which a refusal;
* the library: ``LinkResult.verify()`` for a written and an in-memory link.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import bpflink
import bpflink.verify as verify_mod
from bpflink.cli import main as cli_main
from bpflink.verify import Outcome
from tests.scenarios import load_scenario, load_scenarios

SCENARIOS = load_scenarios()


def refused_programs(sc) -> tuple[str, ...]:
    """The programs the kernel refuses: the scenario's ``[refuse.<program>]`` tables."""
    return tuple(sc.refuse)


REFUSING = [sc for sc in SCENARIOS if refused_programs(sc)]
LOADABLE = [sc for sc in SCENARIOS if sc.loadable and not refused_programs(sc)]
REFUSED = load_scenario(Path(__file__).resolve().parent.parent / "corpus" / "verify_refused")


def console_script() -> str:
    """The installed ``bpflink`` entry point of the interpreter running the tests."""
    script = Path(sys.executable).parent / "bpflink"
    if script.exists():
        return str(script)
    found = shutil.which("bpflink")
    if found is None:
        pytest.fail("the bpflink console script is not installed (pip install -e .)")
    return found


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None,
        prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*prefix, console_script(), *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _orders(scenarios):
    return [pytest.param(sc, order, id=f"{sc.name}[{'-'.join(p.stem for p in order)}]")
            for sc in scenarios for order in sc.all_orders]


# -- the kernel refuses ----------------------------------------------------------------------

@pytest.mark.kernel
@pytest.mark.parametrize("sc,order", _orders(REFUSING))
def test_refused_program_is_named_with_its_input_and_log(sc, order, tmp_path):
    names = [os.path.relpath(p, sc.path) for p in order]
    plain = run([*names, "-o", str(tmp_path / "plain.o")], cwd=sc.path)
    assert plain.returncode == 0, plain.stderr
    out = tmp_path / "out.o"
    proc = run([*names, "-o", str(out), "--verify"], cwd=sc.path)
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("bpflink: error: ")]
    # A program in a SEC("?...") section is not loaded by default, so not verified.
    graph = bpflink.link(order).digraph
    section = {d["name"]: d["section"] for _n, d in graph.nodes(data=True) if d["entry"]}
    refused = [p for p in refused_programs(sc) if not section[p].startswith("?")]
    assert len(errors) == len(refused), proc.stderr
    for prog in set(refused_programs(sc)) - set(refused):
        assert not any(f": {prog}: " in e for e in errors), f"{prog} is not autoloaded: {errors}"
    warnings = [line for line in proc.stderr.splitlines()
                if line.startswith("bpflink: warning: ")]
    for prog in refused:
        line = next(e for e in errors if f": {prog}: " in e)
        assert "refused this program" in line
        where = line[len("bpflink: error: "):line.index(f": {prog}: ") + len(prog) + 3]
        assert where.split(": ")[0] in names, f"{line}: the program's input is not named"
        # A link warning about the same program (a call-graph check predicting the
        # refusal) names it the same way, so the two line up.
        for w in warnings:
            if f": {prog}: " in w:
                assert w.startswith(f"bpflink: warning: {where}"), (w, line)
    # What the program's log says when it is loaded alone, --verify shows too
    # (with -v, the whole log).
    verbose = run([*names, "-o", str(tmp_path / "v.o"), "--verify", "-v"], cwd=sc.path)
    for prog in refused:
        for s in sc.refuse[prog]:
            assert s in verbose.stderr, f"{prog}: {s!r} not in:\n{verbose.stderr}"
    assert "the output is written" in proc.stderr
    assert out.read_bytes() == (tmp_path / "plain.o").read_bytes(), \
        "--verify must leave the correct link in place, unchanged"


@pytest.mark.kernel
def test_refusal_names_input_section_and_source_line(tmp_path):
    """The exact first line, and the verifier's words with the C source line."""
    proc = run(["a.o", "b.o", "-o", str(tmp_path / "out.o"), "--verify"], cwd=REFUSED.path)
    lines = proc.stderr.splitlines()
    assert lines[0] == ("bpflink: error: b.o: section xdp: unchecked: the kernel verifier "
                        "refused this program (EACCES); its verifier log:"), proc.stderr
    log = [line[4:] for line in lines if line.startswith(">>> ")]
    assert any(line.startswith("invalid access to packet") for line in log), log
    assert any("@ b.c:28" in line and "data[0]" in line for line in log), log
    assert "checked" not in " ".join(lines[0:1]).replace("unchecked", "")


@pytest.mark.kernel
def test_library_report_lists_every_program(tmp_path):
    result = bpflink.link(REFUSED.inputs, tmp_path / "out.o")
    report = result.verify()
    assert report.outcome is Outcome.REFUSED and not report.ok
    by_name = {p.name: p for p in report.programs}
    assert by_name["checked"].status == "verified" and by_name["checked"].file.endswith("a.o")
    bad = by_name["unchecked"]
    assert bad.status == "refused" and bad.file.endswith("b.o") and bad.section == "xdp"
    assert "invalid access to packet" in bad.log and bad.errno == 13
    # In memory (no output written): the same verdicts, from the bytes.
    mem = bpflink.link(REFUSED.inputs).verify()
    assert [(p.name, p.status, p.file) for p in mem.programs] == \
        [(p.name, p.status, p.file) for p in report.programs]
    assert mem.target == "<output>"


# -- the kernel accepts ----------------------------------------------------------------------

@pytest.mark.kernel
def test_good_link_verifies_through_the_console_script(tmp_path):
    sc = next(s for s in SCENARIOS if s.name == "cross_call")
    proc = run(["a.o", "b.o", "-o", str(tmp_path / "out.o"), "--verify=require", "-v"],
               cwd=sc.path)
    assert proc.returncode == 0, proc.stderr
    assert "error" not in proc.stderr and "warning" not in proc.stderr, proc.stderr
    assert ": verified: 2 of 2 programs loaded with libbpf" in proc.stderr, proc.stderr


@pytest.mark.kernel
@pytest.mark.parametrize("sc", LOADABLE, ids=str)
def test_every_loadable_scenario_verifies(sc, tmp_path, capsys):
    rc = cli_main([*map(str, sc.inputs), "-o", str(tmp_path / "out.o"), "--verify=require"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "error" not in err, err


@pytest.mark.kernel
def test_autoload_off_programs_are_not_loaded(tmp_path):
    """A SEC("?xdp") program is libbpf's "not loaded by default": --verify leaves it out."""
    from corpus.build import compile_command

    b_off = tmp_path / "b_off.o"
    cmd = compile_command(REFUSED.path / "b.c", b_off, defines=['-DUNCHECKED_SEC="?xdp"'])
    subprocess.run(cmd, cwd=REFUSED.path, check=True, capture_output=True)
    report = bpflink.link([REFUSED.path / "a.o", b_off], tmp_path / "out.o").verify()
    states = {p.name: (p.autoload, p.status) for p in report.programs}
    assert states == {"checked": (True, "verified"), "unchecked": (False, "not loaded"),
                      "no_null_check": (True, "refused")}, states
    assert [d.symbol for d in report.diagnostics()] == ["no_null_check"]


# -- the kernel cannot be asked --------------------------------------------------------------

def test_no_libbpf_named_by_env_warns_then_requires(tmp_path):
    env = {verify_mod.LIBBPF_ENV: str(tmp_path / "no-such-libbpf.so")}
    out = tmp_path / "out.o"
    proc = run(["a.o", "b.o", "-o", str(out), "--verify"], cwd=REFUSED.path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith(f"bpflink: warning: {out}: cannot verify in the kernel: "
                                  "no libbpf: $BPFLINK_LIBBPF="), proc.stderr
    assert "pip install pylibbpf" in proc.stderr and out.exists()
    for strict in (["--verify=require"], ["--verify", "--fatal-warnings"]):
        proc = run(["a.o", "b.o", "-o", str(out), *strict], cwd=REFUSED.path, env=env)
        assert proc.returncode == 1, strict
        assert proc.stderr.startswith(f"bpflink: error: {out}: cannot verify in the kernel: ")
        assert out.exists()


def test_library_search_finding_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(verify_mod.LIBBPF_ENV, raising=False)
    monkeypatch.setattr(verify_mod, "_wheel_libbpf", lambda: None)
    monkeypatch.setattr(verify_mod, "_system_libbpf", lambda: None)
    monkeypatch.setattr(verify_mod, "_SONAME", "libbpf-bpflink-test-absent.so.0")
    monkeypatch.setattr(verify_mod, "_loaded", {})
    args = [*map(str, REFUSED.inputs), "-o", str(tmp_path / "out.o")]
    assert cli_main([*args, "--verify"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "no libbpf found" in err, err
    assert cli_main([*args, "--verify=require"]) == 1
    assert "error" in capsys.readouterr().err


@pytest.mark.kernel
def test_without_capabilities(tmp_path):
    """The console script as nobody, every capability dropped: EPERM, said plainly."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    # pytest's tmp_path is private to root; nobody needs a directory it can write.
    work = Path(tempfile.mkdtemp(prefix="bpflink-verify-"))
    try:
        work.chmod(0o777)
        for p in REFUSED.inputs:
            shutil.copy(p, work / p.name)
        prefix = (setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                  "--inh-caps=-all", "--bounding-set=-all")
        out = work / "out.o"
        proc = run(["a.o", "b.o", "-o", "out.o", "--verify"], cwd=work, prefix=prefix)
        assert proc.returncode == 0, proc.stderr
        assert "bpflink: warning: out.o: cannot verify in the kernel: the kernel does not " \
               "permit loading BPF programs (uid " in proc.stderr, proc.stderr
        assert "neither CAP_BPF nor CAP_SYS_ADMIN" in proc.stderr
        assert out.exists()
        proc = run(["a.o", "b.o", "-o", "out.o", "--verify=require"], cwd=work, prefix=prefix)
        assert proc.returncode == 1 and "bpflink: error: out.o: cannot verify" in proc.stderr
    finally:
        shutil.rmtree(work)


@pytest.mark.kernel
def test_program_type_the_kernel_lacks(tmp_path, capsys, monkeypatch):
    """libbpf's probe says the kernel lacks the refused programs' types: they cannot be
    checked here, which is a warning (an error with =require), not a refusal; the
    xdp program ``checked`` — its type "missing" too — loaded, so it is verified."""
    real = verify_mod._Libbpf.__init__

    def no_xdp(self, path):
        real(self, path)
        probe = self.probe_prog_type
        # XDP and SCHED_CLS (tc): the types of the two refused programs.
        self.probe_prog_type = lambda t, opts: 0 if t in (6, 3) else probe(t, opts)

    monkeypatch.setattr(verify_mod._Libbpf, "__init__", no_xdp)
    monkeypatch.setattr(verify_mod, "_loaded", {})
    args = [*map(str, REFUSED.inputs), "-o", str(tmp_path / "out.o")]
    assert cli_main([*args, "--verify"]) == 0
    err = capsys.readouterr().err
    assert "bpflink: warning: " in err and "section xdp: unchecked: cannot verify this program " \
        "here: this kernel lacks program type xdp" in err, err
    assert "section tc: no_null_check: cannot verify this program here: this kernel lacks " \
        "program type sched_cls" in err, err
    assert "verifier refused" not in err
    assert cli_main([*args, "--verify=require"]) == 1
    assert "bpflink: error: " in capsys.readouterr().err


def test_link_without_verify_never_loads_libbpf(tmp_path):
    """Linking needs neither libbpf nor the verify module."""
    code = ("import sys; from bpflink.cli import main; "
            f"rc = main([*{[str(p) for p in REFUSED.inputs]!r}, '-o', {str(tmp_path / 'o.o')!r}]); "
            "print(rc, 'bpflink.verify' in sys.modules, 'ctypes' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.stdout.split() == ["0", "False", "False"], proc.stderr


TRACING_SOURCE = r'''
#include "{include}"
char LICENSE[] SEC("license") = "GPL";
SEC("fentry/bpf_fentry_test1")
int on_test1(void *ctx) {{ return 0; }}
SEC("fentry/bpflink_no_such_function")
int on_missing(void *ctx) {{ return 0; }}
SEC("xdp")
int plain(struct xdp_md *ctx) {{ return XDP_PASS; }}
'''


@pytest.mark.kernel
def test_tracing_programs_the_kernel_cannot_take(tmp_path):
    """fentry programs, for real: one whose target exists (bpf_fentry_test1, built into
    every kernel with BPF_PROG_TEST_RUN) and one whose target does not.  Where this
    kernel has no tracing programs (libbpf's probe of the type fails: EPERM here) or
    no such target (ESRCH), the program cannot be verified here — a warning naming it
    and the reason, never a refusal — and the xdp program is still verified."""
    from corpus.build import CORPUS_DIR, compile_command

    source = tmp_path / "t.c"
    source.write_text(TRACING_SOURCE.format(include=CORPUS_DIR / "include" / "bpf_defs.h"))
    subprocess.run(compile_command(source, "t.o"), cwd=tmp_path, check=True,
                   capture_output=True)
    proc = run(["t.o", "-o", "out.o", "--verify"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "refused" not in proc.stderr, proc.stderr
    report = bpflink.link([tmp_path / "t.o"], tmp_path / "out2.o").verify()
    by_name = {p.name: p for p in report.programs}
    assert by_name["plain"].status == "verified"
    missing = by_name["on_missing"]
    assert missing.status == "unavailable", missing
    assert ("lacks program type tracing" in missing.reason
            or "no attach target" in missing.reason), missing.reason
    test1 = by_name["on_test1"]
    if test1.status == "unavailable":
        assert "lacks program type tracing" in test1.reason, test1.reason
        assert "t.o: section fentry/bpf_fentry_test1: on_test1: cannot verify this program " \
               "here: this kernel lacks program type tracing" in proc.stderr, proc.stderr
    else:
        assert test1.status == "verified", test1
    assert "warning: t.o: section fentry/bpflink_no_such_function: on_missing: " \
           "cannot verify this program here: " in proc.stderr, proc.stderr
    required = run(["t.o", "-o", "out.o", "--verify=require"], cwd=tmp_path)
    assert required.returncode == 1
    assert "error: t.o: section fentry/bpflink_no_such_function: on_missing: " \
           "cannot verify" in required.stderr, required.stderr


@pytest.mark.kernel
def test_log_tail_and_whole_log(tmp_path):
    report = bpflink.link(REFUSED.inputs, tmp_path / "out.o").verify()
    bad = next(p for p in report.refused if p.name == "no_null_check")
    lines = bad.log.rstrip("\n").splitlines()
    assert len(lines) > 3
    tail = next(d for d in report.diagnostics(tail=3) if d.symbol == "no_null_check")
    assert tail.message.endswith("the last 3 lines of its verifier log:")
    assert list(tail.notes) == lines[-3:]
    assert tail.notes[-1].startswith("processed ") and "map_value_or_null" in tail.notes[-2]
    whole = next(d for d in report.diagnostics(tail=None) if d.symbol == "no_null_check")
    assert list(whole.notes) == lines and whole.message.endswith("its verifier log:")


@pytest.mark.kernel
def test_what_libbpf_cannot_open_is_an_error(tmp_path):
    """Not a refusal of a program, and not "cannot verify": libbpf rejects the object."""
    report = verify_mod.verify(b"\x7fELF but not really", name="bad.o")
    assert report.outcome is Outcome.REFUSED and report.programs == []
    assert report.reason.startswith("opening it failed: ")
    [diag] = report.diagnostics()
    assert diag.render().startswith("bpflink: error: bad.o: libbpf could not load the output: "
                                    "opening it failed: ")


class _FakeLibbpf:
    """The two libbpf calls _unverifiable makes: the type's name and libbpf's probe."""

    def __init__(self, probe: int) -> None:
        self.probe = probe

    def prog_type_str(self, t: int) -> bytes:
        return {26: b"tracing", 6: b"xdp"}[t]

    def probe_prog_type(self, t: int, opts: object) -> int:
        return self.probe


@pytest.mark.parametrize("type_,probe,err,log,expect", [
    (26, 0, 1, "", ("this kernel lacks program type tracing (libbpf's probe of it fails; the "
                    "load: EPERM: Operation not permitted)")),
    (6, 1, 1, "", "the kernel does not permit loading this xdp program (EPERM; uid "),
    (26, 1, 524, "", ("this kernel does not support what this tracing program needs "
                      "(ENOTSUPP: operation not supported)")),
    (26, 1, 95, "", "this kernel does not support what this tracing program needs (EOPNOTSUPP"),
    (26, 1, 3, "", "this kernel has no attach target for this tracing program (ESRCH"),
    (6, 1, 3, "some verifier log\n", None),         # the kernel looked at it: a refusal
    (6, 1, 1, "some verifier log\n", None),
    (6, 1, 13, "", None),                           # EACCES: refused
    (6, 1, 7, "", None),                            # E2BIG: refused
], ids=["type-missing", "eperm-alone", "enotsupp", "eopnotsupp", "esrch", "esrch-with-log",
        "eperm-with-log", "eacces", "e2big"])
def test_what_counts_as_cannot_verify(type_, probe, err, log, expect):
    program = verify_mod._Program("p", "sec", type_, True)
    got = verify_mod._unverifiable(_FakeLibbpf(probe), program, err, log)  # type: ignore[arg-type]
    if expect is None:
        assert got is None
    else:
        assert got is not None and got.startswith(expect), got


@pytest.mark.kernel
@pytest.mark.parametrize("which", ["wheel", "system"])
def test_both_libbpfs_give_the_same_verdicts(which, tmp_path, monkeypatch):
    """The pylibbpf wheel's libbpf (1.6) and the system's libbpf.so.1 (Debian: 1.1)."""
    path = verify_mod._wheel_libbpf() if which == "wheel" else verify_mod._system_libbpf()
    if path is None:
        pytest.skip(f"no {which} libbpf here")
    monkeypatch.setenv(verify_mod.LIBBPF_ENV, path)
    report = bpflink.link(REFUSED.inputs, tmp_path / "out.o").verify()
    assert report.libbpf_path == path
    if which == "system":
        assert report.libbpf.startswith("libbpf v1."), report.libbpf
    assert [(p.name, p.status, Path(p.file).name) for p in report.programs] == [
        ("checked", "verified", "a.o"), ("unchecked", "refused", "b.o"),
        ("no_null_check", "refused", "a.o")]
    assert all("processed " in p.log for p in report.refused)
