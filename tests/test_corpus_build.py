"""The committed corpus objects are exactly what corpus/build.py produces.

The linker's tests trust the committed ``.o`` files; if a source, the shared
header or the compiler changed without a rebuild, those tests would be
checking stale inputs.  This rebuilds everything into a temporary directory
and compares byte for byte, and checks that no object lacks a recipe.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from corpus import build
from tests.scenarios import CORPUS_DIR, load_scenarios



SCENARIO_DIRS = build.scenario_dirs()
EXPECTED = [f"{d.name}/{obj}" for d in SCENARIO_DIRS for obj in build.expected_objects(d)]


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("ziglang") is None:
        pytest.skip("ziglang is not installed (pip install ziglang==0.17.1); cannot rebuild the corpus")
    out = tmp_path_factory.mktemp("corpus_build")
    build.build(out_dir=out)
    return out


@pytest.mark.parametrize("obj", EXPECTED)
def test_object_is_reproducible(rebuilt: Path, obj: str) -> None:
    committed = CORPUS_DIR / obj
    assert committed.is_file(), f"{obj} is not committed; run python corpus/build.py"
    fresh = (rebuilt / obj).read_bytes()
    assert committed.read_bytes() == fresh, f"{obj} differs from a fresh build; run python corpus/build.py"


def test_every_committed_object_has_a_recipe() -> None:
    committed = {str(p.relative_to(CORPUS_DIR)) for p in CORPUS_DIR.glob("*/*.o")}
    orphans = committed - set(EXPECTED) - build.HANDWRITTEN
    assert not orphans, f"objects with no source, derivation or HANDWRITTEN entry: {sorted(orphans)}"
    missing_handwritten = {h for h in build.HANDWRITTEN if not (CORPUS_DIR / h).is_file()}
    assert not missing_handwritten


def test_every_scenario_folder_parses() -> None:
    scenarios = load_scenarios()
    assert [s.path for s in scenarios] == SCENARIO_DIRS
    assert len(scenarios) >= 30


def test_error_scenarios_name_their_inputs() -> None:
    # An error message that does not say which file is at fault is of little
    # use; every error scenario must expect at least one input's name, except
    # call-graph errors, which are about functions and name those instead.
    for s in load_scenarios():
        if s.error is None:
            continue
        names = {p.name for p in s.inputs}
        assert any(n in sub for sub in s.error for n in names) or s.name in {
            "recursion",
            "deep_chain",
            "exc_called",
        }, s.name


def test_cflags_marker_is_honoured(tmp_path: Path) -> None:
    # The big-endian and no-BTF scenarios depend on the first-line flags.
    be = build.compile_command(CORPUS_DIR / "big_endian" / "a.c", "a.o")
    assert be[be.index("-target") + 1] == "bpfeb-freestanding-none"
    assert be.count("-target") == 1
    nobtf = build.compile_command(CORPUS_DIR / "err_no_btf" / "a.c", "a.o")
    assert nobtf.index("-g0") > nobtf.index("-g")
    plain = build.compile_command(CORPUS_DIR / "cross_call" / "a.c", "a.o")
    assert plain[plain.index("-target") + 1] == build.DEFAULT_TARGET


def test_truncated_object_is_half_of_its_source() -> None:
    whole = (CORPUS_DIR / "err_truncated" / "whole.o").read_bytes()
    half = (CORPUS_DIR / "err_truncated" / "a.o").read_bytes()
    assert half == whole[: len(whole) // 2]


def test_endianness_of_committed_objects() -> None:
    # ELF e_ident[EI_DATA]: 1 little, 2 big.
    def ei_data(p: Path) -> int:
        return p.read_bytes()[5]

    for s in load_scenarios():
        for p in s.inputs:
            if p.read_bytes()[:4] != b"\x7fELF" or s.name == "err_truncated":
                continue
            if s.big_endian or (s.name == "err_mixed_endian" and p.name == "b.o"):
                assert ei_data(p) == 2, f"{s.name}/{p.name} should be big-endian"
            else:
                assert ei_data(p) == 1, f"{s.name}/{p.name} should be little-endian"
