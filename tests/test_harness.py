"""Tests of the test harness itself: tests/kernel.py and tests/scenarios.py.

The linker's tests will trust ``LoadedObject`` and ``check_loaded`` to say
whether a link is right, so they are checked here against objects whose
behaviour is known: single corpus objects, and links made by the reference
linker (bpftool).  The last test runs every scenario against bpftool's link,
which is also what keeps the corpus expectations honest.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest

from tests.conftest import KernelSession
from tests.kernel import (
    BPF_PROG_TYPE_SCHED_CLS,
    BPF_PROG_TYPE_SYSCALL,
    LoadedObject,
    LoadError,
    RunError,
    _TestRunOpts,
    kernel_available,
    libbpf_version,
)
from tests.scenarios import (
    CORPUS_DIR,
    Scenario,
    ScenarioError,
    bpftool_link,
    check_loaded,
    check_refused,
    error_matches,
    load_scenario,
    load_scenarios,
    scenario_params,
)


def _link(bpftool: Path, tmp_path: Path, scenario: str, order: int = 0) -> Path:
    sc = load_scenario(CORPUS_DIR / scenario)
    out = tmp_path / "out.o"
    proc = bpftool_link(bpftool, sc.all_orders[order], out)
    assert proc.returncode == 0, proc.stderr
    return out


# --------------------------------------------------------------------------
# kernel.py without a kernel


def test_libbpf_is_the_bundled_1_6() -> None:
    assert libbpf_version().startswith("v1.")


def test_kernel_available_reports_a_reason() -> None:
    ok, reason = kernel_available()
    assert isinstance(ok, bool)
    assert reason


def test_test_run_opts_matches_libbpf_layout() -> None:
    # libbpf checks opts->sz against the fields it knows; a wrong size makes
    # every test run fail with EINVAL, a wrong layout silently misreads retval.
    assert ctypes.sizeof(_TestRunOpts) == 80
    assert _TestRunOpts.retval.offset == 56


# --------------------------------------------------------------------------
# loading and running


@pytest.mark.kernel
def test_single_object_loads_and_runs(kernel: KernelSession) -> None:
    # exc_throw_both/a.o is complete on its own (license, callback, program).
    obj = kernel.load(CORPUS_DIR / "exc_throw_both" / "a.o")
    assert obj.programs() == ["throw_a"]
    assert obj.program_type("throw_a") == BPF_PROG_TYPE_SCHED_CLS
    assert obj.run("throw_a") == 101


@pytest.mark.kernel
def test_unresolved_extern_gives_load_error_with_log(kernel: KernelSession) -> None:
    with pytest.raises(LoadError) as info:
        kernel.load(CORPUS_DIR / "cross_call" / "a.o")
    assert "open failed" in info.value.message
    # The formatted libbpf log names the extern it could not resolve.
    assert "failed to find BTF for extern 'b_compute'" in info.value.log


@pytest.mark.kernel
def test_not_elf_gives_load_error(kernel: KernelSession) -> None:
    with pytest.raises(LoadError) as info:
        kernel.load(CORPUS_DIR / "err_not_elf" / "a.o")
    assert "err_not_elf/a.o" in info.value.message


@pytest.mark.kernel
def test_verifier_rejection_carries_the_verifier_log(kernel: KernelSession, bpftool: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.o"
    sc = load_scenario(CORPUS_DIR / "exc_called")
    assert bpftool_link(bpftool, sc.inputs, out).returncode == 0
    with pytest.raises(LoadError) as info:
        kernel.load(out)
    assert "load failed" in info.value.message
    assert "-- BEGIN PROG LOAD LOG --" in info.value.log
    assert "cannot call exception cb directly" in info.value.log


@pytest.mark.kernel
def test_linked_object_runs_programs(kernel: KernelSession, bpftool: Path, tmp_path: Path) -> None:
    obj = kernel.load(_link(bpftool, tmp_path, "cross_call"))
    assert obj.name == "out"
    assert sorted(obj.programs()) == ["cross_a", "cross_b"]
    assert obj.run("cross_a") == 202
    assert obj.run("cross_b") == 43
    # Custom packet: skb->len follows the data, b_compute(100) = 3 * 101 + 7.
    assert obj.run("cross_a", data=bytes(100)) == 310
    with pytest.raises(KeyError):
        obj.run("no_such_program")


@pytest.mark.kernel
def test_repeat_runs_accumulate(kernel: KernelSession, bpftool: Path, tmp_path: Path) -> None:
    obj = kernel.load(_link(bpftool, tmp_path, "static_same_name"))
    assert obj.run("static_a") == 70  # counter 5 -> 6
    assert obj.run("static_a", repeat=2) == 72  # -> 7 -> 8
    with pytest.raises(ValueError):
        obj.run("static_a", repeat=0)


@pytest.mark.kernel
def test_syscall_program_runs_without_data(kernel: KernelSession, bpftool: Path, tmp_path: Path) -> None:
    obj = kernel.load(_link(bpftool, tmp_path, "syscall_cross"))
    assert obj.program_type("sys_a") == BPF_PROG_TYPE_SYSCALL
    assert obj.run("sys_a", repeat=3) == 423
    assert obj.read_global(".bss", "b_runs") == (3).to_bytes(4, "little")
    # A syscall program given packet data is refused by the kernel.
    with pytest.raises(RunError):
        obj.run("sys_a", data=bytes(64))


@pytest.mark.kernel
def test_read_global_every_data_section(kernel: KernelSession, bpftool: Path, tmp_path: Path) -> None:
    obj = kernel.load(_link(bpftool, tmp_path, "data_sections", order=1))
    obj.run("data_a", repeat=3)

    def value(section: str, symbol: str) -> int:
        raw = obj.read_global(section, symbol)
        assert len(raw) == 4
        return int.from_bytes(raw, "little")

    assert value(".data", "b_data") == 2
    assert value(".rodata", "a_ro") == 20
    assert value(".bss", "a_bss") == 3
    assert value(".bss", "b_bss") == 0
    assert value(".data.custom", "b_custom") == 500
    assert value(".rodata.custom", "a_ro_custom") == 4000
    with pytest.raises(KeyError):
        obj.read_global(".data", "a_ro")  # wrong section
    with pytest.raises(KeyError):
        obj.read_global(".nosuch", "a_ro")


@pytest.mark.kernel
def test_read_global_refuses_ambiguous_statics(kernel: KernelSession, bpftool: Path, tmp_path: Path) -> None:
    obj = kernel.load(_link(bpftool, tmp_path, "static_same_name"))
    with pytest.raises(KeyError, match="ambiguous"):
        obj.read_global(".data", "counter")


@pytest.mark.kernel
def test_lookup(kernel: KernelSession, bpftool: Path, tmp_path: Path) -> None:
    obj = kernel.load(_link(bpftool, tmp_path, "extern_map"))
    assert {"counts", "a_only", "b_only"} <= set(obj.maps())
    obj.run("map_a")
    obj.run("map_b")
    assert obj.lookup("counts", 0) == (5).to_bytes(8, "little")
    assert obj.lookup("counts", (1).to_bytes(4, "little")) == (7).to_bytes(8, "little")
    assert obj.lookup("b_only", 3) == (9).to_bytes(4, "little")
    assert obj.lookup("b_only", 4) is None  # hash map: absent key
    with pytest.raises(ValueError):
        obj.lookup("counts", b"\0\0")  # wrong key size
    with pytest.raises(KeyError):
        obj.lookup("no_such_map", 0)


@pytest.mark.kernel
def test_closed_object_refuses_use(kernel: KernelSession) -> None:
    with LoadedObject(CORPUS_DIR / "exc_throw_both" / "a.o") as obj:
        assert obj.run("throw_a") == 101
    with pytest.raises(ValueError, match="closed"):
        obj.programs()


# --------------------------------------------------------------------------
# scenarios.py


def test_scenarios_parse() -> None:
    scenarios = {s.name: s for s in load_scenarios()}
    cross = scenarios["cross_call"]
    assert [p.name for p in cross.inputs] == ["a.o", "b.o"]
    assert [[p.name for p in o] for o in cross.all_orders] == [["a.o", "b.o"], ["b.o", "a.o"]]
    assert {r.program: r.retval for r in cross.runs} == {"cross_a": 202, "cross_b": 43}
    assert cross.loadable and cross.bpftool_skip_reason is None

    ba = scenarios["weak_weak_ba"]
    assert ba.inputs[0] == CORPUS_DIR.resolve() / "weak_weak_ab" / "b.o"

    data = scenarios["data_sections"]
    assert data.globals[(".data.custom", "a_custom")] == 300
    assert next(r for r in data.runs if r.program == "data_a").repeat == 3

    assert scenarios["extern_map"].maps["counts"] == {0: 10, 1: 7, 2: 0}
    assert scenarios["kfunc_ksym_kconfig"].bpftool_skip_reason
    assert scenarios["big_endian"].big_endian and not scenarios["big_endian"].loadable
    err = scenarios["err_dup_strong"]
    assert err.expects_error and not err.loadable
    assert error_matches("libbpf: DUPLICATE symbol dup_func in a.o and b.o", err) == []
    assert error_matches("dup_func: a.o", err) == ["duplicate", "b.o"]


def _write(tmp_path: Path, toml: str) -> Path:
    folder = tmp_path / "sc"
    folder.mkdir(exist_ok=True)
    (folder / "a.o").write_bytes(b"")
    (folder / "scenario.toml").write_text(toml)
    return folder


@pytest.mark.parametrize(
    "toml, complaint",
    [
        ('description = "x"\ninputs = ["a.o"]\n[run.p]\nretval = 1\nrepaet = 2\n', "unknown keys"),
        ('description = "x"\ninputs = ["a.o"]\nbogus = 1\n[run.p]\nretval = 1\n', "unknown keys"),
        ('description = "x"\ninputs = ["missing.o"]\n[run.p]\nretval = 1\n', "does not exist"),
        ('description = "x"\ninputs = ["a.o"]\n', "at least one"),
        ('description = "x"\ninputs = ["a.o"]\nbpftool = "skip"\n[run.p]\nretval = 1\n', "bpftool"),
        ('description = "x"\ninputs = ["a.o"]\n[error]\ncontains = []\n', "must not be empty"),
        ('description = "x"\ninputs = ["a.o"]\n[run.p]\nretval = 1\n[error]\ncontains = ["e"]\n', "cannot have"),
        ('description = "x"\ninputs = ["a.o"]\n[run.p]\nretval = 1\n[globals]\n"counter" = 1\n', "<section>:<symbol>"),
        ('description = "x"\ninputs = ["a.o"]\n[run.p]\nretval = 1\n[maps.m]\n"zero" = 1\n', "keys must be integers"),
    ],
)
def test_scenario_loader_is_strict(tmp_path: Path, toml: str, complaint: str) -> None:
    with pytest.raises(ScenarioError, match=complaint):
        load_scenario(_write(tmp_path, toml))


def test_scenario_loader_defaults(tmp_path: Path) -> None:
    sc = load_scenario(_write(tmp_path, 'description = "x"\ninputs = ["a.o"]\n[error]\ncontains = ["E"]\n'))
    assert sc.bpftool == "same" and not sc.big_endian and sc.orders == () and sc.warning == ()
    assert sc.error == ("E",)


# --------------------------------------------------------------------------
# the corpus against the reference linker


def _bpftool_reference(s: Scenario) -> bool:
    return s.bpftool_skip_reason is None


@pytest.mark.kernel
@pytest.mark.parametrize("scenario", scenario_params(_bpftool_reference))
def test_bpftool_link_behaves_as_scenario_says(
    scenario: Scenario, kernel: KernelSession, bpftool: Path, tmp_path: Path
) -> None:
    for i, order in enumerate(scenario.all_orders):
        label = " ".join(p.name for p in order)
        out = tmp_path / f"out{i}.o"
        proc = bpftool_link(bpftool, order, out)
        if scenario.expects_error:
            assert proc.returncode != 0, f"[{label}] bpftool linked a scenario that must fail"
            continue
        assert proc.returncode == 0, f"[{label}] bpftool failed: {proc.stderr}"
        if not scenario.loadable:
            continue
        # A fresh load per order: runs change globals and maps.
        with LoadedObject(out, only=scenario.load_only) as obj:
            problems = check_loaded(obj, scenario)
        problems += check_refused(out, scenario)
        assert problems == [], f"[{label}] " + "; ".join(problems)


# --------------------------------------------------------------------------
# conftest's skip-or-fail rule


def test_missing_kernel_skips_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import REQUIRE_KERNEL_ENV, skip_or_fail

    monkeypatch.delenv(REQUIRE_KERNEL_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no kernel here"):
        skip_or_fail("no kernel here", REQUIRE_KERNEL_ENV)
    monkeypatch.setenv(REQUIRE_KERNEL_ENV, "0")
    with pytest.raises(pytest.skip.Exception):
        skip_or_fail("no kernel here", REQUIRE_KERNEL_ENV)


def test_missing_kernel_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import REQUIRE_BPFTOOL_ENV, REQUIRE_KERNEL_ENV, skip_or_fail

    monkeypatch.setenv(REQUIRE_KERNEL_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="BPFLINK_REQUIRE_KERNEL=1"):
        skip_or_fail("no kernel here", REQUIRE_KERNEL_ENV)
    monkeypatch.setenv(REQUIRE_BPFTOOL_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="BPFLINK_REQUIRE_BPFTOOL=1"):
        skip_or_fail("no bpftool", REQUIRE_BPFTOOL_ENV)
