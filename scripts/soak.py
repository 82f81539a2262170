#!/usr/bin/env python3
"""Soak bpflink with mutated corpus objects and print the figures.

    python scripts/soak.py [-n 10000] [--seed 0] [--workers N] [--timeout 10]
                           [--mem-mb 256] [--json] [--replay INDEX [--save DIR]]

Input set number ``i`` is ``tests.mutators.make_case(seeds, i, seed)``: a
corpus scenario (or one of its objects alone) with one to three
structure-aware mutations applied to one input (see tests/mutators.py).
Each is linked in-process through the library inside a worker process, and
judged by ``tests.oracle``:

linked     the link succeeded and the output reads back with pyelftools,
           lief and libbpf's bpf_object__open_mem
rejected   a LinkError whose errors render as ``bpflink: error: ...``
crashed    any other exception, a malformed diagnostic, an output that does
           not read back, a link over --timeout seconds (hang), a link that
           needs more than --mem-mb MiB of address space (MemoryError under
           RLIMIT_AS), or a worker that died

Bounds: a worker sets ``signal.alarm`` per input and the parent kills a
worker that has not answered --timeout + 5 seconds later.  The memory cap
applies to bpflink only (RLIMIT_AS soft limit lowered around the link, raised
again for the read-back, where libbpf may map a large .bss lazily).

The five slowest input sets are linked again at the end in the parent,
warm, best of three ("re-timed"), since a worker's observed time includes
scheduling noise.  ``--replay I`` runs input set I in this process, prints what happened and,
with ``--save DIR``, writes its objects there so the CLI can be run on them.
Exit status: 0 when nothing crashed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import heapq
import json
import multiprocessing as mp
import os
import re
import resource
import signal
import sys
import time
from multiprocessing.connection import wait
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import mutators, oracle  # noqa: E402

HEADROOM = 3 << 30      # hard RLIMIT_AS above the worker's baseline (libbpf may mmap .bss)


class Timeout(BaseException):
    """Raised by SIGALRM; a BaseException so no ``except Exception`` swallows it."""


def _on_alarm(signum, frame):
    raise Timeout()


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _set_soft(limit: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY and (limit == resource.RLIM_INFINITY or limit > hard):
        limit = hard                # RLIM_INFINITY is -1: min() would pick it
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def run_one(seeds, index: int, master_seed: int, timeout: float, mem: int | None) -> dict:
    """Build, link and judge one input set (in the calling process)."""
    case = mutators.make_case(seeds, index, master_seed)
    signal.alarm(max(1, int(timeout)))
    try:
        if mem is not None:
            _set_soft(_vm_size() + mem)
        try:
            outcome, data, undefined = oracle.try_link(case.names, case.datas)
        finally:
            if mem is not None:
                _set_soft(resource.RLIM_INFINITY)
        outcome = oracle.finish(outcome, data, undefined)
    except Timeout:
        outcome = oracle.Outcome(oracle.CRASHED, f"hang: no answer within {timeout} s", timeout)
    finally:
        signal.alarm(0)
    return {"index": index, "kind": outcome.kind, "detail": outcome.detail,
            "seconds": outcome.seconds, "unattributed": outcome.unattributed,
            "description": case.description}


def _worker(conn, master_seed: int, timeout: float, mem: int | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)        # the parent handles ^C
    signal.signal(signal.SIGALRM, _on_alarm)
    seeds = mutators.load_seeds()
    oracle.libbpf()                                     # bind before limiting memory
    import lief  # noqa: F401
    for seed in seeds[:3]:      # warm up: lazy imports and caches are not the inputs' cost
        oracle.check_case([p.name for p in seed.paths], seed.datas())
    if mem is not None:
        resource.setrlimit(resource.RLIMIT_AS, (_vm_size() + HEADROOM, _vm_size() + HEADROOM))
    while True:
        index = conn.recv()
        if index is None:
            return
        conn.send(run_one(seeds, index, master_seed, timeout, mem))


class Pool:
    """Workers fed one index at a time; a hung or dead worker is replaced."""

    def __init__(self, n: int, master_seed: int, timeout: float, mem: int | None):
        self.ctx = mp.get_context("fork")
        self.args = (master_seed, timeout, mem)
        self.timeout = timeout
        self.workers = [self._spawn() for _ in range(n)]

    def _spawn(self):
        parent, child = self.ctx.Pipe()
        p = self.ctx.Process(target=_worker, args=(child, *self.args), daemon=True)
        p.start()
        child.close()
        return {"proc": p, "conn": parent, "index": None, "since": 0.0}

    def run(self, indices, on_result) -> None:
        todo = collections.deque(indices)
        busy = 0
        while todo or busy:
            for w in self.workers:
                if w["index"] is None and todo:
                    w["index"], w["since"] = todo.popleft(), time.monotonic()
                    w["conn"].send(w["index"])
                    busy += 1
            ready = wait([w["conn"] for w in self.workers if w["index"] is not None], 1.0)
            now = time.monotonic()
            for w in self.workers:
                if w["index"] is None:
                    continue
                if w["conn"] in ready:
                    try:
                        res = w["conn"].recv()
                    except (EOFError, OSError):
                        res = self._dead(w, "worker died")
                    on_result(res)
                    w["index"] = None
                    busy -= 1
                elif not w["proc"].is_alive() or now - w["since"] > self.timeout + 5:
                    why = "hang: worker killed" if w["proc"].is_alive() else "worker died"
                    on_result(self._dead(w, why))
                    busy -= 1

    def _dead(self, w, why: str) -> dict:
        index = w["index"]
        w["proc"].kill()
        w["proc"].join()
        code = w["proc"].exitcode
        fresh = self._spawn()
        w.update(fresh)
        return {"index": index, "kind": oracle.CRASHED, "seconds": self.timeout,
                "detail": f"{why} (exit {code})", "unattributed": False,
                "description": f"#{index} (see --replay {index})"}

    def close(self) -> None:
        for w in self.workers:
            try:
                w["conn"].send(None)
            except OSError:
                pass
        for w in self.workers:
            w["proc"].join(5)
            if w["proc"].is_alive():
                w["proc"].kill()


def retime(slow: list[tuple[float, int, str]], master_seed: int) -> list[dict]:
    """Link the slowest input sets again here, warm, best of three: observed times in
    the workers include scheduling noise and garbage collection."""
    if not slow:
        return []
    seeds = mutators.load_seeds()
    oracle.check_case([p.name for p in seeds[0].paths], seeds[0].datas())
    out = []
    for observed, index, description in slow:
        case = mutators.make_case(seeds, index, master_seed)
        best = min(oracle.try_link(case.names, case.datas)[0].seconds for _ in range(3))
        out.append({"index": index, "observed": round(observed, 4), "seconds": round(best, 4),
                    "description": description})
    return out


def _group(detail: str) -> str:
    if " <- " in detail:
        return detail.split(":")[0] + detail[detail.find(" <- "):][:100]
    d = detail.split("libbpf: ")[-1]
    d = re.sub(r"'[^']*'", "'X'", d)
    return re.sub(r"0x[0-9a-f]+|[0-9]+", "N", d)[:120]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--count", type=int, default=10000, help="input sets to try")
    ap.add_argument("--start", type=int, default=0, help="first input set number")
    ap.add_argument("--seed", type=int, default=0, help="master seed")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per input set")
    ap.add_argument("--mem-mb", type=int, default=256,
                    help="address space bpflink may add per link (0: no limit)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--replay", type=int, metavar="INDEX", help="run one input set here")
    ap.add_argument("--save", metavar="DIR", help="with --replay: write its objects here")
    args = ap.parse_args(argv)
    mem = args.mem_mb << 20 if args.mem_mb else None

    if args.replay is not None:
        seeds = mutators.load_seeds()
        case = mutators.make_case(seeds, args.replay, args.seed)
        print(case.description)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            for name, data in zip(case.names, case.datas):
                path = os.path.join(args.save, name.split(":")[-1])
                with open(path, "wb") as fh:
                    fh.write(data)
                print("wrote", path)
        signal.signal(signal.SIGALRM, _on_alarm)
        res = run_one(seeds, args.replay, args.seed, args.timeout, None)
        print(f"{res['kind']} in {res['seconds']:.3f} s: {res['detail']}")
        return 1 if res["kind"] == oracle.CRASHED else 0

    counts = collections.Counter()
    crashes: dict[str, list[dict]] = collections.defaultdict(list)
    unattributed: list[dict] = []
    slowest: dict | None = None
    slow: list[tuple[float, int, str]] = []         # the five slowest, for re-timing
    done = 0
    t0 = time.monotonic()

    def on_result(res: dict) -> None:
        nonlocal slowest, done
        done += 1
        counts[res["kind"]] += 1
        if res["kind"] == oracle.CRASHED:
            crashes[_group(res["detail"])].append(res)
        if res.get("unattributed"):
            unattributed.append(res)
        if slowest is None or res["seconds"] > slowest["seconds"]:
            slowest = res
        heapq.heappush(slow, (res["seconds"], res["index"], res["description"]))
        if len(slow) > 5:
            heapq.heappop(slow)
        if not args.json and done % 1000 == 0:
            print(f"  {done}/{args.count}  linked {counts['linked']}  rejected "
                  f"{counts['rejected']}  crashed {counts['crashed']}  "
                  f"({time.monotonic() - t0:.0f} s)", file=sys.stderr)

    pool = Pool(max(1, args.workers), args.seed, args.timeout, mem)
    try:
        pool.run(range(args.start, args.start + args.count), on_result)
    except KeyboardInterrupt:
        print("interrupted; figures so far:", file=sys.stderr)
    finally:
        pool.close()
    elapsed = time.monotonic() - t0
    retimed = retime(sorted(slow, reverse=True), args.seed)

    figures = {
        "tried": done, "linked": counts["linked"], "rejected": counts["rejected"],
        "crashed": counts["crashed"],
        "rejected_without_file": len(unattributed),
        "slowest_seconds": round(slowest["seconds"], 4) if slowest else 0.0,
        "slowest": slowest["description"] if slowest else "",
        "slowest_retimed": retimed,
        "elapsed_seconds": round(elapsed, 1), "seed": args.seed, "start": args.start,
        "seeds": len(mutators.load_seeds()),
        "workers": args.workers, "timeout": args.timeout, "mem_mb": args.mem_mb,
        "crash_groups": {k: {"count": len(v), "examples": [
            {"index": r["index"], "description": r["description"], "detail": r["detail"][-300:]}
            for r in v[:3]]} for k, v in sorted(crashes.items(), key=lambda kv: -len(kv[1]))},
        "rejected_without_file_examples": [
            {"index": r["index"], "description": r["description"], "detail": r["detail"]}
            for r in unattributed[:5]],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"tried     {figures['tried']}")
        print(f"linked    {figures['linked']}")
        print(f"rejected  {figures['rejected']}  (of which {len(unattributed)} name no input "
              "file)")
        print(f"crashed   {figures['crashed']}")
        print(f"slowest   {figures['slowest_seconds']:.3f} s  {figures['slowest']}")
        for r in retimed:
            print(f"  re-timed {r['seconds']:.4f} s (was {r['observed']:.4f})  "
                  f"{r['description'][:110]}")
        print(f"elapsed   {elapsed:.1f} s on {args.workers} worker(s), seed {args.seed}, "
              f"{figures['seeds']} corpus input sets")
        for group, info in figures["crash_groups"].items():
            print(f"\n{info['count']} x {group}")
            for ex in info["examples"]:
                print(f"    --replay {ex['index']}: {ex['description'][:160]}")
                print(f"        {ex['detail'][-200:]}")
        for ex in figures["rejected_without_file_examples"]:
            print(f"\nno file named: --replay {ex['index']}: {ex['detail'][:200]}")
    return 1 if counts["crashed"] else 0


if __name__ == "__main__":
    sys.exit(main())
