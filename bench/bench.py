#!/usr/bin/env python3
"""Time bpflink against ``bpftool gen object`` on the same inputs, in one run.

    python bench/bench.py                       # gen_synth 16 units x 64 funcs
    python bench/bench.py --units 4 --funcs 16  # smaller
    python bench/bench.py --workload kernel --units 8   # gen_kernel_types (root: needs vmlinux BTF)

The workload generators live in ``../shared/bench/`` (override with
``--shared DIR``).  Units are compiled once with the pinned clang from the
``ziglang`` wheel into ``bench/work/`` (ignored by git).  Each linker runs
``--repeat`` times; the best wall time counts.  bpflink is timed both as the
CLI (what a Makefile pays, interpreter start-up included) and in-process
(the library call), with its per-phase split, so dedup's share is visible.
Prints one table; the ratio column is bpflink / bpftool.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generate(args) -> list[Path]:
    work = ROOT / "bench" / "work" / f"{args.workload}-{args.units}x{args.funcs}"
    stamp = work / ".built"
    stem = "u" if args.workload == "synth" else "k"      # what each generator names its units
    units = [work / f"{stem}{i}.o" for i in range(args.units)]
    if stamp.exists() and all(u.exists() for u in units):
        return units
    work.mkdir(parents=True, exist_ok=True)
    shared = Path(args.shared)
    extra: list[str] = []
    if args.workload == "synth":
        subprocess.run([sys.executable, str(shared / "gen_synth.py"), str(work), str(args.units),
                        str(args.funcs)], check=True)
    else:
        vmlinux_h = work / "vmlinux.h"
        if not vmlinux_h.exists():
            with open(vmlinux_h, "w") as fh:
                subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux",
                                "format", "c"], check=True, stdout=fh)
        subprocess.run([sys.executable, str(shared / "gen_kernel_types.py"), str(work),
                        str(args.units), "vmlinux.h"], check=True)
        extra = ["-D__TARGET_ARCH_x86"]

    from corpus.build import compile_command      # the corpus's pinned compiler command

    def compile_unit(i: int) -> None:
        subprocess.run(compile_command(work / f"{stem}{i}.c", f"{stem}{i}.o", extra), cwd=work,
                       check=True)

    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(compile_unit, range(args.units)))
    stamp.touch()
    return units


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=["synth", "kernel"], default="synth")
    ap.add_argument("--units", type=int, default=16)
    ap.add_argument("--funcs", type=int, default=64, help="functions per unit (synth only)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "bench"))
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))
    import bpflink

    units = generate(args)
    work = units[0].parent
    size = sum(u.stat().st_size for u in units)
    rows = []
    bpftool = shutil.which("bpftool")
    t_bpftool = None
    if bpftool:
        out = work / "out.bpftool.o"
        t_bpftool = best(lambda: subprocess.run([bpftool, "gen", "object", str(out),
                                                 *map(str, units)], check=True,
                                                capture_output=True), args.repeat)
        rows.append(("bpftool gen object", t_bpftool))
    out = work / "out.bpflink.o"
    cli = [sys.executable, "-m", "bpflink", *map(str, units), "-o", str(out)]
    rows.append(("bpflink (CLI)", best(lambda: subprocess.run(cli, check=True), args.repeat)))
    results = []
    rows.append(("bpflink (library)",
                 best(lambda: results.append(bpflink.link(list(map(str, units)))),
                      args.repeat)))
    timings = min(results, key=lambda r: sum(r.timings.values())).timings

    print(f"workload: {args.workload}, {args.units} units"
          + (f" x {args.funcs} funcs" if args.workload == "synth" else "")
          + f", {size / 1e6:.2f} MB of objects; best of {args.repeat}")
    print(f"{'linker':<22}{'seconds':>10}{'ratio':>9}")
    for name, secs in rows:
        ratio = f"{secs / t_bpftool:.1f}x" if t_bpftool else "-"
        print(f"{name:<22}{secs:>10.3f}{ratio:>9}")
    total = sum(timings.values())
    print("bpflink phases (library run):")
    for phase, secs in timings.items():
        print(f"  {phase:<16}{secs * 1000:>9.1f} ms {100 * secs / total:>5.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
