"""End-to-end: every corpus scenario, linked by bpflink in every listed order.

Three layers per scenario and order:

* the link itself: exit status, the expected diagnostics, no output and no
  temporary file on error;
* the output read back by independent readers (pyelftools, lief, and
  bpflink's own reader) — big-endian scenarios stop here;
* the kernel: libbpf loads the output, every ``[run.*]`` program returns its
  expected value under BPF_PROG_TEST_RUN, and ``[globals]``/``[maps]`` hold
  their expected values.  Where bpftool can link the scenario, its output
  must behave identically; where libbpf 1.1 is known to fail or mislink, the
  scenario names the fault, a test checks that bpftool really fails on it,
  and bpflink is checked alone.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bpflink.cli import main as cli_main
from tests.scenarios import (Scenario, bpftool_link, check_loaded, check_refused,
                             error_matches, load_scenarios)

SCENARIOS = load_scenarios()


def _cases(predicate=lambda sc: True):
    for sc in SCENARIOS:
        if not predicate(sc):
            continue
        for order in sc.all_orders:
            label = "-".join(p.stem for p in order)
            yield pytest.param(sc, order, id=f"{sc.name}[{label}]")


def link_cli(inputs, out: Path, capsys, sc: Scenario | None = None,
             extra: tuple[str, ...] = ()) -> tuple[int, str]:
    """Link through the CLI as a user in the scenario folder would: its pyproject.toml
    (if any) and its ``tag_rules`` (as --tag-rule) declare decl-tag rules."""
    import os

    rules = [a for spec in (sc.tag_rules if sc else ()) for a in ("--tag-rule", spec)]
    cwd = os.getcwd()
    os.chdir(sc.path if sc else cwd)
    try:
        rc = cli_main([*map(str, inputs), "-o", str(out), *rules, *extra])
    finally:
        os.chdir(cwd)
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("sc,order", list(_cases()))
def test_link_outcome(sc: Scenario, order, tmp_path, capsys):
    out = tmp_path / "out.o"
    rc, err = link_cli(order, out, capsys, sc)
    assert "Traceback" not in err
    if sc.expects_error:
        assert rc == 1, err
        assert error_matches(err, sc) == [], err
        assert err.startswith("bpflink: error: "), err
        assert not out.exists(), "a failed link must not leave an output"
        assert list(tmp_path.iterdir()) == [], "no temporary files may remain"
        return
    assert rc == 0, err
    for s in sc.warning:
        assert s in err, f"expected warning {s!r} in:\n{err}"
    check_readback(out.read_bytes(), big_endian=sc.big_endian)


def check_readback(data: bytes, big_endian: bool) -> None:
    """pyelftools, lief and bpflink's reader all accept the output and agree."""
    import lief
    from elftools.elf.elffile import ELFFile

    from bpflink.elf.reader import read_object

    elf = ELFFile(io.BytesIO(data))
    assert elf.little_endian is not big_endian
    assert elf["e_machine"] == "EM_BPF" and elf["e_type"] == "ET_REL"
    names = [s.name for s in elf.iter_sections()]
    assert ".BTF" in names and ".symtab" in names
    symtab = elf.get_section_by_name(".symtab")
    syms = list(symtab.iter_symbols())
    first_global = symtab["sh_info"]
    assert all(s["st_info"]["bind"] == "STB_LOCAL" for s in syms[:first_global])
    assert all(s["st_info"]["bind"] != "STB_LOCAL" for s in syms[first_global:])

    parsed = lief.parse(list(data))
    assert parsed is not None
    assert sorted(s.name for s in parsed.sections if s.name) == sorted(n for n in names if n)
    assert sorted(s.name for s in parsed.symbols if s.name) == \
        sorted(s.name for s in syms if s.name)

    obj = read_object(data, "out.o")
    assert obj.big_endian is big_endian
    assert len(obj.btf) > 1


def observe(kernel, path: Path, sc: Scenario) -> dict:
    """Load ``path`` and record what each program returns and what globals hold."""
    obj = kernel.load(path, only=sc.load_only)
    seen: dict = {("run", r.program): obj.run(r.program, repeat=r.repeat) for r in sc.runs}
    for sec, sym in sc.globals:
        seen[("global", sec, sym)] = int.from_bytes(obj.read_global(sec, sym), "little")
    for name, entries in sc.maps.items():
        for key in entries:
            raw = obj.lookup(name, key)
            seen[("map", name, key)] = None if raw is None else int.from_bytes(raw, "little")
    return seen


@pytest.mark.parametrize("sc,order", list(_cases(lambda sc: sc.loadable)))
def test_runs_in_kernel(sc: Scenario, order, tmp_path, capsys, kernel):
    out = tmp_path / "out.o"
    rc, err = link_cli(order, out, capsys, sc)
    assert rc == 0, err
    assert check_loaded(kernel.load(out, only=sc.load_only), sc) == []
    assert check_refused(out, sc) == []


@pytest.mark.parametrize("sc", [s for s in SCENARIOS if s.loadable and not s.bpftool_skip_reason],
                         ids=str)
def test_behaves_like_bpftool(sc: Scenario, tmp_path, capsys, kernel, bpftool):
    """bpftool's link of the same inputs behaves exactly as bpflink's.

    Scenarios that name a libbpf fault are checked by test_bpftool_fault_is_real
    instead, and bpflink alone by test_runs_in_kernel.
    """
    ours, theirs = tmp_path / "bpflink.o", tmp_path / "bpftool.o"
    rc, err = link_cli(sc.inputs, ours, capsys, sc)
    assert rc == 0, err
    proc = bpftool_link(bpftool, sc.inputs, theirs)
    assert proc.returncode == 0, proc.stderr
    assert check_loaded(kernel.load(theirs, only=sc.load_only), sc) == []
    assert check_refused(theirs, sc) == []
    assert observe(kernel, ours, sc) == observe(kernel, theirs, sc)


@pytest.mark.parametrize("sc", [s for s in SCENARIOS if s.loadable and s.bpftool_skip_reason],
                         ids=str)
def test_bpftool_fault_is_real(sc: Scenario, tmp_path, kernel, bpftool):
    """Where a scenario names a libbpf fault, bpftool really fails on some listed order.

    Failing means: it refuses to link, or its output does not load, or the
    programs misbehave.  If bpftool one day gets every order right, this
    fails so the scenario can go back to comparing against it.
    """
    from tests.kernel import LoadError

    faults = []
    for i, order in enumerate(sc.all_orders):
        out = tmp_path / f"bpftool{i}.o"
        proc = bpftool_link(bpftool, order, out)
        if proc.returncode != 0:
            faults.append(f"link: {proc.stderr.strip().splitlines()[0]}")
            continue
        try:
            problems = check_loaded(kernel.load(out, only=sc.load_only), sc)
        except LoadError as e:
            faults.append(f"load: {e.message}")
            continue
        if problems:
            faults.append(f"run: {problems[0]}")
    assert faults, f"bpftool links every order correctly; the fault named is gone: " \
                   f"{sc.bpftool_skip_reason}"


@pytest.mark.parametrize("sc,order", list(_cases(lambda sc: sc.loadable and len(sc.inputs) > 1)))
def test_staged_link_behaves_like_one_link(sc: Scenario, order, tmp_path, kernel):
    """Linking the first input alone and its output with the other inputs, or every
    input alone and then the outputs together, runs as the scenario says: an
    output is a good input (its section symbols already moved once, statics and
    hidden globals of a link, its own deduplicated BTF and BTF.ext)."""
    import bpflink

    partials = []
    for i, p in enumerate(order):
        partials.append(tmp_path / f"partial{i}.o")
        # A partial link may lack what a later link supplies (exc_cross's a.o
        # has no exception callback of its own): the final links check it.
        bpflink.link([p], partials[-1], graph_checks=False)
    first, every = tmp_path / "first.o", tmp_path / "every.o"
    bpflink.link([partials[0], *order[1:]], first)
    bpflink.link(partials, every)
    assert check_loaded(kernel.load(first, only=sc.load_only), sc) == []
    assert check_loaded(kernel.load(every, only=sc.load_only), sc) == []


@pytest.mark.parametrize("sc,order", list(_cases(lambda sc: bool(sc.warning))))
def test_fatal_warnings_fail_the_link(sc: Scenario, order, tmp_path, capsys):
    """Every warning a scenario expects becomes an error with --fatal-warnings: exit 1,
    the same text as errors, no output, no temporary file."""
    out = tmp_path / "out.o"
    rc, err = link_cli(order, out, capsys, sc, ("--fatal-warnings",))
    assert rc == 1, err
    assert "bpflink: warning:" not in err and err.startswith("bpflink: error: "), err
    for s in sc.warning:
        assert s in err, f"expected {s!r} in:\n{err}"
    assert list(tmp_path.iterdir()) == [], "a failed link must not leave an output"


@pytest.mark.parametrize("sc", [s for s in SCENARIOS if s.refuse and s.warning], ids=str)
def test_each_warning_predicts_its_refusal(sc: Scenario, tmp_path, kernel):
    """The warning about a refused program quotes what the verifier or libbpf says
    when that program is loaded alone; the log must hold that very text.  (A
    scenario without warnings refuses what the linker cannot see: verify_refused.)"""
    import re

    import bpflink
    from tests.kernel import LoadedObject, LoadError

    out = tmp_path / "out.o"
    result = bpflink.link(sc.inputs, out)
    by_prog: dict[str, list[str]] = {}
    for w in result.warnings:
        by_prog.setdefault(w.symbol, []).append(w.message)
    assert sorted(by_prog) == sorted(sc.refuse), "one warning per refused program, and only them"
    for prog, messages in by_prog.items():
        assert len(messages) == 1, messages
        quoted = re.search(r'refuses? (?:to load )?it: "(.+)"', messages[0])
        assert quoted, messages[0]
        with pytest.raises(LoadError) as e:
            LoadedObject(out, only=[prog]).close()
        assert quoted.group(1) in e.value.log, (messages[0], e.value.log[-2000:])
