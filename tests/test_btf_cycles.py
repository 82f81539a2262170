"""The BTF reader's cycle search, against a plain recursive DFS.

``btf.types._find_cycle`` is on the parse path of every input and is written
for speed; the type it returns names the error a cyclic input gets, so it
must be the one a straightforward DFS (roots in ID order, references in
order, void ending paths) meets first.
"""

from __future__ import annotations

import random
import sys

from bpflink.btf.types import _find_cycle


def reference(refs: list[list[int]]) -> int | None:
    state = [0] * len(refs)

    def visit(tid: int) -> int | None:
        state[tid] = 1
        for nxt in refs[tid]:
            if not nxt:
                continue
            if state[nxt] == 1:
                return nxt
            if state[nxt] == 0:
                found = visit(nxt)
                if found is not None:
                    return found
        state[tid] = 2
        return None

    for root in range(1, len(refs)):
        if not state[root]:
            found = visit(root)
            if found is not None:
                return found
    return None


def test_find_cycle_meets_the_cycle_a_plain_dfs_meets():
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    rng = random.Random(7)
    cyclic = 0
    for _ in range(3000):
        n = rng.randrange(1, 40)
        back = rng.random() < 0.5           # mostly acyclic graphs, some with back edges
        refs: list[list[int]] = [[]]
        for tid in range(1, n):
            refs.append([rng.choice([0, rng.randrange(1, n)]) if back and rng.random() < 0.1
                         else rng.randrange(0, n) if rng.random() < 0.2 else
                         rng.randrange(tid + 1, n) if tid + 1 < n else 0
                         for _ in range(rng.choice([0, 0, 1, 1, 2, 3]))])
        want = reference(refs)
        cyclic += want is not None
        assert _find_cycle(refs) == want, refs
    assert 300 < cyclic < 2700              # both outcomes were exercised
