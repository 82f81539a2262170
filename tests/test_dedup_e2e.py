"""BTF dedup end to end: corpus links, the synthetic and the kernel-types workloads.

For each link:

* bpflink's output has no more BTF types than ``bpftool gen object``'s link
  of the same inputs (counted as ``bpftool btf dump file X | grep -c '^\\['``);
* a struct or union declared in several inputs appears once (no more often
  than in any one input);
* relinking the output gives the same bytes (dedup of its output is the
  identity);
* the kernel accepts the BTF: libbpf loads the object without "Error loading
  .BTF into kernel" (which it would otherwise ignore), and programs run as
  in bpftool's link.

The workloads come from ``../shared/bench/`` and are compiled with the pinned
clang of the ``ziglang`` wheel (skipped, with the reason, where either is
missing).  The kernel-types workload needs the running kernel's BTF and
bpftool to write ``vmlinux.h``, so it is a kernel test.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

import bpflink
from bpflink.btf.types import Btf, Kind
from bpflink.elf.reader import read_object
from tests.kernel import LoadedObject, LoadError
from tests.scenarios import Scenario, bpftool_link, load_scenarios
from tests.workloads import compile_units

BTF_REJECTED = "Error loading .BTF into kernel"


# -- checks shared by every link ------------------------------------------------------------
def bpftool_type_count(bpftool: Path, obj: Path) -> int:
    dump = subprocess.run([str(bpftool), "btf", "dump", "file", str(obj)], check=True,
                          capture_output=True, text=True).stdout
    return sum(1 for line in dump.splitlines() if line.startswith("["))


def named_composites(btf: Btf) -> Counter:
    return Counter((t.kind.name, t.name) for t in btf.types
                   if t.kind in (Kind.STRUCT, Kind.UNION) and t.name)


def link_and_check_dedup(inputs: list[Path], out: Path) -> bpflink.LinkResult:
    """Link; check structs appear once and relinking is a fixed point."""
    result = bpflink.link(inputs, out)
    per_input = [named_composites(read_object(p.read_bytes(), p.name).btf) for p in inputs]
    for (kind, name), n in named_composites(result.linked.btf).items():
        most = max(c[kind, name] for c in per_input)
        assert n <= most, f"{kind} {name} appears {n} times, at most {most} times in one input"
    again = bpflink.link([out], out.with_suffix(".again.o"))
    assert again.data == result.data, "relinking the output changed it"
    return result


def assert_not_more_types_than_bpftool(bpftool: Path, inputs: list[Path], out: Path) -> None:
    ref = out.with_suffix(".bpftool.o")
    proc = bpftool_link(bpftool, inputs, ref)
    assert proc.returncode == 0, proc.stderr
    ours, theirs = bpftool_type_count(bpftool, out), bpftool_type_count(bpftool, ref)
    assert ours <= theirs, f"bpflink keeps {ours} BTF types, bpftool {theirs}"


def load_log(obj: Path) -> tuple[LoadedObject | None, str, str]:
    """(loaded object or None, libbpf's log, the verifier's last words if it refused)."""
    try:
        loaded = LoadedObject(obj)
    except LoadError as e:
        lines = e.log.splitlines()
        ends = [i for i, line in enumerate(lines) if "END PROG LOAD LOG" in line]
        return None, e.log, "\n".join(lines[ends[0] - 3:ends[0]]) if ends else e.message
    return loaded, loaded.log, ""


# -- corpus -----------------------------------------------------------------------------------
def _links(predicate=lambda sc: True):
    for sc in load_scenarios():
        if sc.expects_error or not predicate(sc):
            continue
        for order in sc.all_orders:
            label = "-".join(p.stem for p in order)
            yield pytest.param(sc, list(order), id=f"{sc.name}[{label}]")


@pytest.mark.parametrize("sc,order", list(_links()))
def test_corpus_dedup(sc: Scenario, order, tmp_path):
    link_and_check_dedup(order, tmp_path / "out.o")


@pytest.mark.parametrize("sc,order", list(_links(lambda sc: sc.bpftool_skip_reason is None)))
def test_corpus_not_more_types_than_bpftool(sc: Scenario, order, tmp_path, bpftool):
    out = tmp_path / "out.o"
    bpflink.link(order, out)
    assert_not_more_types_than_bpftool(bpftool, order, out)


@pytest.mark.parametrize("sc,order", list(_links(lambda sc: sc.loadable)))
def test_corpus_btf_accepted_by_kernel(sc: Scenario, order, tmp_path, kernel):
    out = tmp_path / "out.o"
    bpflink.link(order, out)
    loaded = kernel.load(out, only=sc.load_only)
    assert BTF_REJECTED not in loaded.log


# -- workloads ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth_units(tmp_path_factory) -> list[Path]:
    return compile_units("gen_synth.py", ["4", "16"], tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="module")
def kernel_type_units(tmp_path_factory, bpftool) -> list[Path]:
    work = tmp_path_factory.mktemp("kernel_types")
    vmlinux_h = work / "vmlinux.h"
    with open(vmlinux_h, "w") as fh:
        subprocess.run([str(bpftool), "btf", "dump", "file", "/sys/kernel/btf/vmlinux",
                        "format", "c"], check=True, stdout=fh)
    return compile_units("gen_kernel_types.py", ["8", str(vmlinux_h)], work,
                         ["-D__TARGET_ARCH_x86"])


def test_synth_dedup(synth_units, tmp_path, bpftool):
    out = tmp_path / "out.o"
    link_and_check_dedup(synth_units, out)
    assert_not_more_types_than_bpftool(bpftool, synth_units, out)


def test_synth_runs_like_bpftool(synth_units, tmp_path, kernel, bpftool):
    ours, theirs = tmp_path / "bpflink.o", tmp_path / "bpftool.o"
    bpflink.link(synth_units, ours)
    assert bpftool_link(bpftool, synth_units, theirs).returncode == 0
    mine, ref = kernel.load(ours), kernel.load(theirs)
    assert BTF_REJECTED not in mine.log
    programs = sorted(ref.programs())
    assert sorted(mine.programs()) == programs and programs
    assert {p: mine.run(p) for p in programs} == {p: ref.run(p) for p in programs}


@pytest.mark.kernel
def test_kernel_types_dedup(kernel_type_units, tmp_path, bpftool):
    out = tmp_path / "out.o"
    result = link_and_check_dedup(kernel_type_units, out)
    assert result.timings["btf-dedup"] < 1.0, result.timings
    assert_not_more_types_than_bpftool(bpftool, kernel_type_units, out)


@pytest.mark.kernel
def test_kernel_types_btf_accepted_by_kernel(kernel_type_units, tmp_path, bpftool):
    # The workload passes a trusted task_struct pointer to a global function,
    # which the verifier refuses (no __arg_trusted) whoever links it; so the
    # check is that the kernel takes the BTF and the programs fare exactly as
    # in bpftool's link.
    ours, theirs = tmp_path / "bpflink.o", tmp_path / "bpftool.o"
    bpflink.link(kernel_type_units, ours)
    assert bpftool_link(bpftool, kernel_type_units, theirs).returncode == 0
    mine, ref = load_log(ours), load_log(theirs)
    try:
        assert BTF_REJECTED not in mine[1]
        assert (mine[0] is None, mine[2]) == (ref[0] is None, ref[2])
    finally:
        for loaded, _, _ in (mine, ref):
            if loaded is not None:
                loaded.close()
