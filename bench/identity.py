#!/usr/bin/env python3
"""Fingerprint what bpflink makes of every corpus scenario and workload: the byte-identity check.

    python -m bench.identity record FILE     # before a change
    python -m bench.identity check FILE      # after: every link must give the same bytes

For each link (every corpus scenario in every order it lists, each system
XDP object alone, and the benchmark workloads) it records the SHA-256 of the
output, or the rendered diagnostics of a failed link.  A performance change
must leave every fingerprint as it was; ``check`` prints the links that
differ and exits 1.
"""

from __future__ import annotations

import glob
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bpflink  # noqa: E402
from bench import workloads  # noqa: E402
from tests.scenarios import load_scenarios  # noqa: E402

WORK = ROOT / "bench" / "work"


def links() -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for sc in load_scenarios():
        for k, order in enumerate(sc.all_orders):
            out[f"corpus/{sc.name}#{k}"] = list(order)
    for obj in sorted(glob.glob("/usr/lib/x86_64-linux-gnu/bpf/*.o")):
        out[f"system/{Path(obj).name}"] = [Path(obj)]
    out["synth-4x16"] = workloads.synth(WORK / "synth-4x16", 4, 16)
    out["synth-16x64"] = workloads.synth(WORK / "synth-16x64", 16, 64)
    out["blob-5x16x1024"] = workloads.synth(WORK / "blob-5x16x1024", 5, 16, 1024)
    if workloads.VMLINUX_BTF.exists():
        out["kernel-8"] = workloads.kernel_types(WORK / "kernel-8", 8)
    return out


def fingerprint(inputs: list[Path]) -> str:
    """SHA-256 of the output (and its warnings), or the diagnostics; paths relative to the tree."""
    try:
        result = bpflink.link(inputs)
    except bpflink.LinkError as e:
        text = "error:" + "\n".join(d.render("bpflink") for d in e.diagnostics)
    else:
        warn = "".join(d.render("bpflink") for d in result.warnings)
        text = hashlib.sha256(result.data).hexdigest() + (":" + warn if warn else "")
    return text.replace(str(ROOT) + "/", "")


def main(argv: list[str]) -> int:
    mode, path = argv
    prints = {name: fingerprint(inputs) for name, inputs in links().items()}
    if mode == "record":
        Path(path).write_text(json.dumps(prints, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(prints)} links")
        return 0
    before = json.loads(Path(path).read_text())
    bad = sorted(n for n in before.keys() | prints.keys() if before.get(n) != prints.get(n))
    for n in bad:
        print(f"DIFFERS: {n}\n  before {before.get(n)}\n  after  {prints.get(n)}")
    print(f"{len(prints)} links, {len(bad)} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
