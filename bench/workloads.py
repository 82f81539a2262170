"""Generate and compile the link workloads: the inputs of bench/bench.py and the workload tests.

    synth(work, units, funcs, blob_kib=0) -> [u0.o, ...]    # bench/gen_synth.py
    kernel_types(work, units) -> [k0.o, ...]                # bench/gen_kernel_types.py

Units are compiled in parallel with the corpus's pinned compiler command
(``corpus.build.compile_command``: clang from the ``ziglang`` wheel), so the
objects are the same wherever they are built.  A ``.built`` stamp in ``work``
lets a second call reuse them.  The kernel-types workload writes
``vmlinux.h`` from the running kernel's BTF with bpftool.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import gen_kernel_types, gen_synth

VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")


def _compile(sources: list[str], work: Path, defines: list[str]) -> list[Path]:
    from corpus.build import compile_command      # the corpus's pinned compiler command

    def build(src: str) -> Path:
        src_path = Path(src)
        out = src_path.with_suffix(".o")
        proc = subprocess.run(compile_command(src_path, out.name, defines), cwd=work,
                              capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"compiling {src_path.name} failed:\n{proc.stderr}")
        return out

    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        return list(pool.map(build, sources))


def _cached(work: Path, stem: str, units: int) -> list[Path] | None:
    objs = [work / f"{stem}{i}.o" for i in range(units)]
    if (work / ".built").exists() and all(o.exists() for o in objs):
        return objs
    return None


def synth(work: Path, units: int, funcs: int, blob_kib: int = 0) -> list[Path]:
    """The synthetic workload's objects, in unit order."""
    work = Path(work)
    objs = _cached(work, "u", units)
    if objs is None:
        objs = _compile(gen_synth.write_units(work, units, funcs, blob_kib), work, [])
        (work / ".built").touch()
    return objs


def vmlinux_h(work: Path) -> Path:
    """``vmlinux.h`` of the running kernel (bpftool dumps its BTF as C)."""
    path = Path(work) / "vmlinux.h"
    if not path.exists():
        Path(work).mkdir(parents=True, exist_ok=True)
        text = subprocess.run(["bpftool", "btf", "dump", "file", str(VMLINUX_BTF), "format",
                               "c"], check=True, capture_output=True, text=True).stdout
        path.write_text(text)
    return path


def kernel_types(work: Path, units: int) -> list[Path]:
    """The kernel-types workload's objects, in unit order (needs bpftool and kernel BTF)."""
    work = Path(work)
    objs = _cached(work, "k", units)
    if objs is None:
        vmlinux_h(work)
        objs = _compile(gen_kernel_types.write_units(work, units, "vmlinux.h"), work,
                        ["-D__TARGET_ARCH_x86"])
        (work / ".built").touch()
    return objs


if __name__ == "__main__":      # python -m bench.workloads synth DIR 16 64 [1024]
    kind, work, *nums = sys.argv[1:]
    made = synth(Path(work), *map(int, nums)) if kind == "synth" else \
        kernel_types(Path(work), int(nums[0]))
    print("\n".join(map(str, made)))
