"""A link's cost grows linearly with its inputs: the scaling the benchmark shows, as a test.

Wall time on a shared machine is too noisy to assert on, so these count what
does not depend on load:

* Python function calls (cProfile's count) per unit of the synthetic
  workload: at 64 units at most 1.3x what they are at 16;
* traced memory (tracemalloc's peak) of the blob workload, whose inputs
  each carry a large data section: per input, at 20 inputs at most 1.3x
  what it is at 5; and in absolute terms at most twice the input size plus
  a fixed allowance, because section data is copied once (views of the
  input buffers, one copy into the output), not once per phase.

The workloads are compiled from ``bench/gen_synth.py`` with the pinned
compiler (small units: 8 functions each, so 100 compiles take seconds).
"""

from __future__ import annotations

import cProfile
import pstats
import tracemalloc
from pathlib import Path

import pytest

import bpflink
from tests.workloads import compile_units

LINEAR = 1.3


def calls(objs: list[Path]) -> int:
    prof = cProfile.Profile()
    prof.runcall(bpflink.link, objs)
    return pstats.Stats(prof).total_calls


def traced_peak(objs: list[Path]) -> int:
    tracemalloc.start()
    try:
        bpflink.link(objs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> dict[int, list[Path]]:
    return {n: compile_units("gen_synth.py", [str(n), "8"], tmp_path_factory.mktemp(f"s{n}"))
            for n in (16, 64)}


@pytest.fixture(scope="module")
def blob(tmp_path_factory) -> dict[int, list[Path]]:
    return {n: compile_units("gen_synth.py", [str(n), "2", "1024"],
                             tmp_path_factory.mktemp(f"b{n}")) for n in (5, 20)}


def test_synth_calls_per_unit_stay_flat(synth):
    bpflink.link(synth[16])                 # imports and caches out of the count
    per_unit = {n: calls(objs) / n for n, objs in synth.items()}
    assert per_unit[64] <= LINEAR * per_unit[16], per_unit
    assert per_unit[64] >= per_unit[16] / 4, per_unit   # it measured the link at all


def test_blob_memory_per_input_stays_flat(blob):
    bpflink.link(blob[5])
    per_input = {n: traced_peak(objs) / n for n, objs in blob.items()}
    assert per_input[20] <= LINEAR * per_input[5], per_input


def test_blob_section_data_is_copied_once(blob):
    objs = blob[20]
    size = sum(p.stat().st_size for p in objs)
    assert size > 20 << 20                  # the 1 MiB sections dominate
    peak = traced_peak(objs)
    # inputs (held as read) + the output + the link's own structures
    assert peak <= 2 * size + (8 << 20), f"peak {peak >> 20} MiB for {size >> 20} MiB of input"
