"""The real-world layer: objects bpflink's corpus was not written for.

Two sources, both Debian packages rather than vendored copies:

* **Distro objects.** ``libxdp1`` and ``xdp-tools`` ship compiled BPF
  objects in ``/usr/lib/x86_64-linux-gnu/bpf``.  Each is relinked alone; the
  output must open in libbpf with the same programs and maps, give the same
  ``bpftool gen skeleton`` (but for the object bytes it embeds), each program
  must load (alone) exactly when the input's does, and the instructions must
  be the same twice over: those libbpf hands the kernel
  (``bpf_program__insns`` after the load) and, for programs that load, those
  the kernel ended up running (xlated instructions from
  ``bpf_prog_get_info_by_fd``), with map fds/ids replaced by map names.
* **The kernel's BPF selftests.** ``scripts/selftests.py`` compiles
  ``tools/testing/selftests/bpf/progs/*.c`` from ``linux-source-6.1`` into a
  cache outside the repository (built here, once, on first collection:
  about 1.5-3 minutes on 2 cores).  Every object libbpf opens must link
  alone, open the same (skeleton included), and every program, loaded
  alone, must load exactly when the input's does (programs this kernel
  refuses in both are parity too), with the same instructions and
  func/line info as the distro objects.  The Makefile's own multi-object
  links are linked by bpflink and bpftool and compared.

Both skip with the reason when a package is missing, and fail instead under
``BPFLINK_REQUIRE_REALWORLD=1`` (CI sets it).  :data:`PENDING` lists the
objects known to fail for a reason being fixed on another branch; they are
strict xfails, so each one that starts passing must be removed from the list.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import bpflink
from tests import kernel
from tests.conftest import ROOT, skip_or_fail

sys.path.insert(0, str(ROOT / "scripts"))
import selftests  # noqa: E402

REQUIRE_REALWORLD_ENV = "BPFLINK_REQUIRE_REALWORLD"

DISTRO_BPF = Path("/usr/lib/x86_64-linux-gnu/bpf")
DISTRO_PACKAGES = ("libxdp1", "xdp-tools")

# Known failures, each fixed on another branch; the lead empties this list
# as those branches merge (a case that passes fails the run: strict xfail).
PENDING: dict[str, str] = {
    # Empty since graphrules merged: test_global_func3 (a tc program with a
    # 9-frame chain) was refused by the link; it now links with a warning and
    # that program is refused by the verifier from input and output alike.
    # mapdef: the 6.1 selftests have no __ulong map fields, nothing pending.
}


def _installed(package: str) -> bool:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return proc.returncode == 0 and "install ok installed" in proc.stdout


# --------------------------------------------------------------------------
# distro objects


def _distro_objects() -> list[Path]:
    return sorted(DISTRO_BPF.glob("*.o")) if DISTRO_BPF.is_dir() else []


def test_distro_objects_present():
    missing = [p for p in DISTRO_PACKAGES if not _installed(p)]
    if missing or not _distro_objects():
        skip_or_fail(f"no distro BPF objects: Debian package(s) {', '.join(missing) or DISTRO_PACKAGES} "
                     f"missing or {DISTRO_BPF} empty", REQUIRE_REALWORLD_ENV)


# Tracing programs (xdpdump's fentry/fexit "func") attach to a BPF program
# chosen at run time; xdpdump sets the target with
# bpf_program__set_attach_target.  Any loaded XDP program with BTF will do.
_TRACING_SECTIONS = ("fentry/", "fexit/", "freplace/")
_ATTACH_TARGET = (DISTRO_BPF / "xdp-dispatcher.o", "xdp_pass")


@pytest.mark.kernel
@pytest.mark.parametrize("path", _distro_objects(), ids=lambda p: p.name)
def test_distro_object_relinks_to_the_same_instructions(path: Path, tmp_path: Path, bpftool):
    out = tmp_path / path.name   # same name: same libbpf object and internal map names
    bpflink.link([path], out)
    before, after = kernel.open_info(path), kernel.open_info(out)
    assert kernel.compare_open_info(before, after) == []
    assert selftests.skeleton(str(bpftool), out) == selftests.skeleton(str(bpftool), path)

    tracing = [p.name for p in before.programs if p.section.startswith(_TRACING_SECTIONS)]
    target = None
    if tracing and _ATTACH_TARGET[0].is_file():
        target = kernel.LoadedObject(_ATTACH_TARGET[0])
    try:
        attach = {name: (target.program_fd(_ATTACH_TARGET[1]), _ATTACH_TARGET[1]) for name in tracing} \
            if target else None
        ins = kernel.load_each_program(path, xlated=True, attach=attach)
        outs = kernel.load_each_program(out, xlated=True, attach=attach)
    finally:
        if target is not None:
            target.close()
    assert list(ins) == list(outs)
    for name in ins:
        a, b = ins[name], outs[name]
        assert a.loaded == b.loaded, f"{name}: input {a.error_text}, output {b.error_text}\n{b.log}"
        assert a.insns is not None and a.insns == b.insns, f"{name}: libbpf hands the kernel other instructions"
        assert a.xlated == b.xlated, f"{name}: the kernel's xlated instructions differ"


# --------------------------------------------------------------------------
# the kernel's BPF selftests


def _selftests_build() -> tuple[Path | None, str]:
    """The cached build (made now if missing), or None and why not."""
    reason = selftests.unavailable()
    if reason:
        return None, reason
    try:
        return selftests.build(jobs=2, log=lambda msg: print(f"selftests: {msg}", file=sys.stderr)), ""
    except (selftests.BuildError, OSError, subprocess.CalledProcessError) as e:
        return None, f"building the selftests failed: {e}"


_BUILD, _BUILD_PROBLEM = _selftests_build()


def _selftest_params() -> list:
    if _BUILD is None:
        return []
    params = []
    for obj in selftests.objects(_BUILD):
        name = obj.name.removesuffix(".bpf.o")
        marks = [pytest.mark.xfail(strict=True, reason=PENDING[name])] if name in PENDING else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@pytest.fixture(scope="session")
def selftests_results(bpftool) -> dict[str, selftests.ObjectResult]:
    """check_object over every cached object, two processes at a time."""
    assert _BUILD is not None
    results = selftests.check_all(_BUILD, jobs=2, bpftool=str(bpftool))
    return {r.name.removesuffix(".bpf.o"): r for r in results}


def test_selftests_built():
    if _BUILD is None:
        skip_or_fail(f"kernel selftests not built: {_BUILD_PROBLEM}", REQUIRE_REALWORLD_ENV)
    sources = selftests.manifest(_BUILD)["sources"]
    compiled = [n for n, s in sources.items() if s["compiled"]]
    # 486 of 497 compile against a 6.18 vmlinux.h; the rest use kernel
    # fields that no longer exist.  A collapse means the build broke.
    assert len(sources) > 400 and len(compiled) > 0.9 * len(sources), \
        {n: s["error"] for n, s in sources.items() if not s["compiled"]}


@pytest.mark.kernel
@pytest.mark.parametrize("name", _selftest_params())
def test_selftest_object_links_with_load_parity(name: str, selftests_results):
    r = selftests_results[name]
    if not r.opened:
        # Not a missing package: libbpf refuses the input itself, so there
        # is nothing for bpflink to match.
        pytest.skip(f"libbpf 1.6 refuses to open {name}: {r.open_error}")
    assert r.linked, f"libbpf opens {name} but bpflink does not link it:\n{r.link_error}"
    assert r.open_diffs == [], "libbpf (or bpftool's skeleton) sees the output differently"
    assert r.load_diffs == [], "a program loads in one of input/output only"
    assert r.parity == r.programs


@pytest.mark.kernel
def test_selftests_counts(selftests_results):
    """The figures docs/testing.md quotes, printed with -s; a floor on how much was opened."""
    assert _BUILD is not None
    counts = selftests.summary(_BUILD, list(selftests_results.values()))
    print("\nselftests:", " ".join(f"{k}={v}" for k, v in counts.items()))
    assert counts["opened"] > 0.9 * counts["compiled"], counts
    assert counts["loaded"] > 0, counts


def _link_set_params() -> list:
    if _BUILD is None:
        return []
    return [pytest.param(name, stems, id=name) for name, stems in selftests.link_sets(_BUILD).items()]


@pytest.mark.kernel
@pytest.mark.parametrize("name,stems", _link_set_params())
def test_selftests_multi_object_link_matches_bpftool(name: str, stems: list[str], bpftool, tmp_path: Path):
    """The selftests Makefile's own static links (``<skel>.skel.h-deps``), by bpflink and by bpftool.

    Programs and user maps must be the same and every program must load the
    same from both outputs; merged data sections may be laid out differently
    (see selftests._compare).  Where libbpf 1.1 mislinks (linked_maps: its
    output does not open), every program must load from bpflink's output.
    """
    r = selftests.check_link_set(_BUILD, name, stems, tmp_path, str(bpftool))
    assert r.linked, r.link_error
    assert r.open_diffs == []
    assert r.load_diffs == []
    assert r.programs > 0 and r.parity == r.programs
