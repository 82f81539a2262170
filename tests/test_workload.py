"""The synthetic workload (16 units x 64 functions) links and runs like bpftool's link.

The units come from ``bench/gen_synth.py`` and are compiled with
the pinned clang of the ``ziglang`` wheel; the test skips (with the reason)
where either is missing.  Every one of the 128 programs must return, in
the kernel, what it returns in bpftool's link of the same inputs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import bpflink
from tests.workloads import compile_units


@pytest.fixture(scope="module")
def synth_units(tmp_path_factory) -> list[Path]:
    return compile_units("gen_synth.py", ["16", "64"], tmp_path_factory.mktemp("synth"))


def test_synth_links_deterministically(synth_units, tmp_path):
    first = bpflink.link(synth_units, tmp_path / "a.o")
    second = bpflink.link(synth_units, tmp_path / "b.o")
    assert first.warnings == []
    assert (tmp_path / "a.o").read_bytes() == (tmp_path / "b.o").read_bytes() == first.data
    assert second.data == first.data


def test_synth_behaves_like_bpftool(synth_units, tmp_path, kernel, bpftool):
    ours, theirs = tmp_path / "bpflink.o", tmp_path / "bpftool.o"
    bpflink.link(synth_units, ours)
    subprocess.run([str(bpftool), "gen", "object", str(theirs), *map(str, synth_units)],
                   check=True, capture_output=True)
    mine, ref = kernel.load(ours), kernel.load(theirs)
    programs = sorted(ref.programs())
    assert sorted(mine.programs()) == programs and len(programs) == 128
    results = {p: mine.run(p) for p in programs}
    assert results == {p: ref.run(p) for p in programs}
    assert len(set(results.values())) > 1      # the programs really compute something
