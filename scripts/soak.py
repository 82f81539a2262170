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

``--differential`` checks instead that bpflink is never stricter than libbpf
(``tests.differential``): each mutated object (and first every corpus object)
that libbpf's ``bpf_object__open_mem`` opens must link alone into an output
libbpf opens with the same programs and maps, or be refused by a documented
rule.  It prints how many objects were tried, how many libbpf opened, how many
bpflink linked, refusals per rule and every violation; exit 1 on a violation.
``--bpftool`` also tries each refusal under a rule that says "libbpf's static
linker refuses these too" with ``bpftool gen object``, and counts the ones it
links.

The five slowest input sets are linked again at the end in the parent,
warm, best of three ("re-timed"), since a worker's observed time includes
scheduling noise.  ``--replay I`` runs input set I in this process, prints what happened and,
with ``--save DIR``, writes its objects there so the CLI can be run on them (with
``--differential``: judges its mutated objects and writes those).  Input set I depends
on the corpus: a set number names the same input only over the same corpus objects.
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

from tests import differential, mutators, oracle  # noqa: E402

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


def run_differential(seeds, index: int, master_seed: int, timeout: float,
                     bpftool: bool) -> dict:
    """Judge every mutated object of input set ``index`` alone (tests.differential)."""
    case = mutators.make_case(seeds, index, master_seed)
    verdicts = []
    signal.alarm(max(1, int(timeout)))
    try:
        for name, data in differential.mutated_objects(case):
            v = differential.judge(name, data, with_bpftool=bpftool)
            verdicts.append((v.kind, v.rule, v.detail, v.bpftool_linked))
    except Timeout:
        verdicts.append((differential.VIOLATION, None, f"hang: no answer within {timeout} s",
                         False))
    finally:
        signal.alarm(0)
    return {"index": index, "verdicts": verdicts, "description": case.description,
            "kind": "differential", "seconds": 0.0, "detail": "", "unattributed": False}


def _worker(conn, master_seed: int, timeout: float, mem: int | None,
            diff: tuple[bool, bool] = (False, False)) -> None:
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
        if diff[0]:
            conn.send(run_differential(seeds, index, master_seed, timeout, diff[1]))
        else:
            conn.send(run_one(seeds, index, master_seed, timeout, mem))


class Pool:
    """Workers fed one index at a time; a hung or dead worker is replaced."""

    def __init__(self, n: int, master_seed: int, timeout: float, mem: int | None,
                 diff: tuple[bool, bool] = (False, False)):
        self.ctx = mp.get_context("fork")
        self.args = (master_seed, timeout, mem, diff)
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
        if self.args[3][0] and self._libbpf_stuck(index):
            return {"index": index, "kind": "differential", "seconds": self.timeout,
                    "detail": "", "unattributed": False,
                    "description": f"#{index} (see --replay {index})",
                    "verdicts": [("libbpf-stuck", None, f"{why}: libbpf's open of the "
                                  "input itself does not return", False)]}
        return {"index": index, "kind": oracle.CRASHED, "seconds": self.timeout,
                "detail": f"{why} (exit {code})", "unattributed": False,
                "description": f"#{index} (see --replay {index})",
                "verdicts": [(differential.VIOLATION, None, f"{why} (exit {code})", False)]}

    def _libbpf_stuck(self, index: int) -> bool:
        """Does libbpf's open alone hang or crash on a mutated object of input set ``index``?

        Then the worker died in libbpf, judging the input, not in bpflink: libbpf
        did not open the input, so the property asks nothing of bpflink.
        """
        def probe() -> None:
            case = mutators.make_case(mutators.load_seeds(), index, self.args[0])
            for _name, data in differential.mutated_objects(case):
                oracle.libbpf().describe_mem(data)
        p = self.ctx.Process(target=probe, daemon=True)
        p.start()
        p.join(self.timeout)
        stuck = p.is_alive() or p.exitcode != 0
        if p.is_alive():
            p.kill()
            p.join()
        return stuck

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


def _run_to_end(pool: Pool, ids: range, on_result) -> None:
    """Run every input set of ``ids``; Ctrl-C stops early and keeps the figures so far."""
    try:
        pool.run(ids, on_result)
    except KeyboardInterrupt:
        print("interrupted; figures so far:", file=sys.stderr)
    finally:
        pool.close()


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
    ap.add_argument("--differential", action="store_true",
                    help="check 'never stricter than libbpf' instead (tests/differential.py)")
    ap.add_argument("--bpftool", action="store_true",
                    help="with --differential: try refusals with bpftool gen object too")
    args = ap.parse_args(argv)
    mem = args.mem_mb << 20 if args.mem_mb else None
    if args.differential:
        return differential_main(args)

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
    _run_to_end(pool, range(args.start, args.start + args.count), on_result)
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


def differential_replay(args) -> int:
    """--differential --replay I: judge the mutated objects of input set I here."""
    case = mutators.make_case(mutators.load_seeds(), args.replay, args.seed)
    print(case.description)
    verdicts = 0
    for name, data in differential.mutated_objects(case):
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            path = os.path.join(args.save, name.split(":")[-1])
            with open(path, "wb") as fh:
                fh.write(data)
            print("wrote", path)
        v = differential.judge(name, data, with_bpftool=args.bpftool)
        extra = "  (bpftool links it)" if v.bpftool_linked else ""
        print(f"{name}: {v.kind}{f' [{v.rule}]' if v.rule else ''}{extra}")
        if v.detail:
            print(f"    {v.detail}")
        verdicts += v.kind == differential.VIOLATION
    return 1 if verdicts else 0


def differential_main(args) -> int:
    """The --differential soak: corpus objects, then mutated objects, judged alone."""
    if args.replay is not None:
        return differential_replay(args)
    counts: collections.Counter = collections.Counter()
    per_rule: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    claims: collections.Counter = collections.Counter()
    violations: list[tuple[str, str]] = []
    claim_groups: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    stuck: list[str] = []           # libbpf's open never returned on the input
    examples: dict[tuple, str] = {}

    def record(where: str, verdicts) -> None:
        for kind, rule, detail, claim in verdicts:
            counts["objects"] += 1
            if kind != differential.UNOPENED:
                counts["opened"] += 1
            counts[kind] += 1
            if kind == "libbpf-stuck":
                counts["opened"] -= 1
                stuck.append(where)
            elif kind == differential.REFUSED:
                msg = detail.split(": ", 3)[-1]
                group = re.sub(r"0x[0-9a-f]+|[0-9]+", "N", re.sub(r"'[^']*'", "'X'", msg))[:90]
                per_rule[rule][group] += 1
                examples.setdefault((rule, group), f"{where}: {detail[:200]}")
                if claim:
                    claims[rule] += 1
                    claim_groups[rule][group] += 1
            elif kind == differential.VIOLATION:
                violations.append((where, detail))

    t0 = time.monotonic()
    corpus = sorted(ROOT.glob("corpus/*/*.o"))
    for path in corpus:
        v = differential.judge(f"{path.parent.name}/{path.name}", path.read_bytes(),
                               with_bpftool=args.bpftool)
        record(f"corpus {path.parent.name}/{path.name}", [(v.kind, v.rule, v.detail,
                                                           v.bpftool_linked)])
    corpus_counts = dict(counts)
    done = 0

    def on_result(res: dict) -> None:
        nonlocal done
        done += 1
        record(res["description"][:160], res["verdicts"])
        if not args.json and done % 1000 == 0:
            print(f"  {done}/{args.count}  objects {counts['objects']}  opened "
                  f"{counts['opened']}  linked {counts['linked']}  refused "
                  f"{counts['refused']}  violations {len(violations)}  "
                  f"({time.monotonic() - t0:.0f} s)", file=sys.stderr)

    pool = Pool(max(1, args.workers), args.seed, args.timeout, None, (True, args.bpftool))
    _run_to_end(pool, range(args.start, args.start + args.count), on_result)
    figures = {
        "input_sets": done, "corpus_objects": len(corpus),
        "corpus_opened": corpus_counts.get("opened", 0),
        "corpus_linked": corpus_counts.get("linked", 0),
        "objects": counts["objects"], "libbpf_opened": counts["opened"],
        "bpflink_linked": counts["linked"], "refused_documented": counts["refused"],
        "violations": len(violations), "libbpf_stuck": stuck,
        "refused_by_rule": {r: sum(c.values()) for r, c in sorted(per_rule.items())},
        "bpftool_links_refused": dict(claims) if args.bpftool else None,
        "elapsed_seconds": round(time.monotonic() - t0, 1), "seed": args.seed,
        "start": args.start, "workers": args.workers,
        "violation_list": [{"where": w, "detail": d} for w, d in violations],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"corpus objects  {len(corpus)}: libbpf opened {figures['corpus_opened']}, "
              f"bpflink linked {figures['corpus_linked']}")
        print(f"input sets      {done} (seed {args.seed}, from {args.start})")
        print(f"objects tried   {counts['objects']} (corpus + mutated)")
        print(f"libbpf opened   {counts['opened']}")
        print(f"bpflink linked  {counts['linked']} (same programs and maps in libbpf)")
        print(f"refused         {counts['refused']} by a documented rule:")
        for rule, groups in sorted(per_rule.items(), key=lambda kv: -sum(kv[1].values())):
            extra = f", bpftool links {claims[rule]}" if args.bpftool else ""
            print(f"  {rule:18} {sum(groups.values()):6}{extra}")
            for group, n in groups.most_common(4):
                print(f"      {n:5} x {group}")
            for group, n in claim_groups[rule].most_common(6):
                print(f"      {n:5} x {group}  <- bpftool links these")
        print(f"libbpf stuck    {len(stuck)} (its open of the input hangs or crashes; "
              "not judged)")
        for where in stuck[:10]:
            print(f"  {where}")
        print(f"violations      {len(violations)}")
        for where, detail in violations[:50]:
            print(f"  {where}\n      {detail[:300]}")
        print(f"elapsed         {figures['elapsed_seconds']} s on {args.workers} worker(s)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
