"""The compiled BTF parser and dedup (``bpflink/_accel.c``) against the pure-Python ones.

``parse`` hands a type section to the compiled parser first.  It must give
exactly the types the Python loop gives (the same kinds, names, numbers and
containers), or None, and None whenever the Python parser refuses the
section: it reports no error of its own, the Python parser words every one.
So these tests run both on every BTF at hand -- the corpus, the workloads,
the distro objects and the kernel's selftests where they are built, the
running kernel's own BTF -- and on generated and corrupted sections.

Dedup's phases in C (``dedup_run``) must give the Python phases' ID map,
kept types and "settled" flag, and so the same deduplicated BTF, on the
merged BTF of every corpus scenario and workload, on the kernel's BTF (alone
and twice over), and on the generated programs of test_btf_dedup.

The compiled module is optional (no C compiler, no parser: the same results,
slower).  Where it is missing its tests skip with the reason, and fail under
``BPFLINK_REQUIRE_ACCEL=1``, which CI sets.
"""

from __future__ import annotations

import os
import random
import struct
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import bpflink

from bpflink.btf import types as btf_types
from bpflink.btf.dedup import _Dedup, dedup
from bpflink.btf.types import (CONST, INT, PTR, STRUCT, UNKN, Btf, BtfType, MergedBtf, parse,
                               parse_header)
from bpflink.errors import FormatError
from tests.conftest import ROOT, skip_or_fail
from tests.mutators import ElfView
from tests.test_btf_checks import random_types
from tests.test_btf_dedup import merged, programs

REQUIRE_ACCEL_ENV = "BPFLINK_REQUIRE_ACCEL"
ACCEL = btf_types._accel
DISTRO_BPF = Path("/usr/lib/x86_64-linux-gnu/bpf")
VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")


@pytest.fixture(autouse=True)
def accel():
    if ACCEL is None:
        why = ("BPFLINK_NO_ACCEL is set" if os.environ.get("BPFLINK_NO_ACCEL")
               else "bpflink._accel is not built (no C compiler when installed?)")
        skip_or_fail(why, REQUIRE_ACCEL_ENV)
    return ACCEL


@contextmanager
def pure_python() -> Iterator[None]:
    saved, btf_types._accel = btf_types._accel, None
    try:
        yield
    finally:
        btf_types._accel = saved


def compiled(raw: bytes) -> list[BtfType] | None:
    """The compiled parser's types for a .BTF section, or None."""
    bo, _, tdata, sdata = parse_header(raw, ".BTF")
    strings = btf_types._Strings(sdata, ".BTF")
    types = ACCEL.parse_types(tdata, strings.cache, bo == ">", BtfType, btf_types._PARSE_KINDS)
    if types is not None:
        types[0] = BtfType(btf_types.UNKN)
    return types


def described(types: list[BtfType]) -> list[tuple]:
    """Each type's fields with the class of every value: a list is not a tuple,
    a Kind is not a bare int."""
    out = []
    for t in types:
        d = t.data
        shape = (type(d).__name__,
                 tuple((type(x).__name__, *map(type, x)) if isinstance(x, list)
                       else type(x).__name__ for x in d) if isinstance(d, list) else ())
        out.append((t.key(), type(t.kind), type(t.name), type(t.ref), type(t.kflag),
                    type(t.vlen_info), shape))
    return out


def check_same(raw: bytes, where: str) -> str:
    """Both parsers on ``raw``: the same types, or the compiled one's None where
    the Python one refuses.  Returns "ok", "refused" or "bailed"."""
    with pure_python():
        try:
            want = parse(raw)[0].types
        except FormatError:
            want = None
    try:
        got = compiled(raw)
    except FormatError:
        got = None          # parse_header's own refusal: neither parser ran
        assert want is None, where
        return "refused"
    if want is None:
        assert got is None, f"{where}: the compiled parser accepted what Python refuses"
        return "refused"
    if got is None:
        return "bailed"
    assert described(got) == described(want), where
    return "ok"


def objects_at_hand() -> Iterator[Path]:
    """The corpus, the built workloads (the small synth one built if need be: its
    functions call each other), and the distro's objects."""
    from bench import workloads

    yield from sorted(ROOT.glob("corpus/**/*.o"))
    workloads.synth(ROOT / "bench" / "work" / "synth-4x16", 4, 16)
    yield from sorted((ROOT / "bench" / "work").glob("**/*.o"))
    if DISTRO_BPF.is_dir():
        yield from sorted(DISTRO_BPF.glob("*.o"))


def btf_sections() -> Iterator[tuple[str, bytes]]:
    """(name, .BTF bytes) of every object at hand."""
    paths = list(objects_at_hand())
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import selftests
        cache = selftests.cache_dir()
    except Exception:           # the selftests are the real-world layer's to build
        cache = None
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    if cache is not None and cache.is_dir():
        paths += sorted(cache.glob("**/*.o"))
    for path in paths:
        # read apart from bpflink's reader, which parses the BTF it finds
        view = ElfView(path.read_bytes())
        sec = view.by_name(".BTF") if view.sections else None
        if sec is not None and sec.size:
            yield str(path), view.data[sec.offset:sec.offset + sec.size]


def test_same_types_for_every_object_at_hand():
    seen = {"ok": 0, "refused": 0, "bailed": 0}
    for where, raw in btf_sections():
        seen[check_same(raw, where)] += 1
    assert seen["ok"] >= 100, seen          # the corpus alone has more
    # Real objects never need the Python fallback (it is for odd or bad input).
    assert seen["bailed"] == 0, seen


def test_same_types_for_the_running_kernels_btf():
    """vmlinux's BTF: 100,000 or more types of every kind the kernel uses."""
    if not VMLINUX_BTF.exists():
        pytest.skip("no /sys/kernel/btf/vmlinux here")
    assert check_same(VMLINUX_BTF.read_bytes(), str(VMLINUX_BTF)) == "ok"


def test_same_outcome_on_random_type_graphs():
    """Valid graphs and graphs failing each of the parser's checks, in both
    byte orders (test_btf_checks.random_types)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    rng = random.Random(23)
    seen = {"ok": 0, "refused": 0, "bailed": 0}
    for i in range(3000):
        raw, _ = Btf(random_types(rng)).encode(big_endian=bool(i % 2))
        seen[check_same(raw, f"random graph {i}")] += 1
    assert seen["ok"] >= 150 and seen["refused"] >= 1000 and seen["bailed"] == 0, seen


def corruptions(raw: bytes, rng: random.Random) -> Iterator[bytes]:
    """``raw`` with one part of its type section spoiled: a word set to a random
    or boundary value, a byte flipped, the type section cut short."""
    bo = "<" if raw[0] == 0x9F else ">"
    hdr_len, type_off, type_len = struct.unpack_from(bo + "III", raw, 4)[0], *struct.unpack_from(
        bo + "II", raw, 8)
    start = hdr_len + type_off
    words = type_len // 4
    for _ in range(40):
        b = bytearray(raw)
        at = start + 4 * rng.randrange(words)
        what = rng.randrange(4)
        if what == 0:
            struct.pack_into(bo + "I", b, at, rng.choice([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF,
                                                          rng.getrandbits(32)]))
        elif what == 1:
            b[at + rng.randrange(4)] ^= 1 << rng.randrange(8)
        elif what == 2:             # a kind, vlen or kflag in a header word
            info = struct.unpack_from(bo + "I", b, at)[0]
            struct.pack_into(bo + "I", b, at, info ^ (1 << rng.choice([0, 1, 15, 24, 27, 28,
                                                                       31])))
        else:                       # the type section ends mid-record
            cut = 4 * rng.randrange(1, min(words, 8))
            struct.pack_into(bo + "I", b, 12, type_len - cut)
        yield bytes(b)


def test_same_outcome_on_corrupted_sections():
    rng = random.Random(7)
    seen = {"ok": 0, "refused": 0, "bailed": 0}
    for n, (where, raw) in enumerate(btf_sections()):
        if n >= 150:
            break
        for i, bad in enumerate(corruptions(raw, rng)):
            seen[check_same(bad, f"{where}, corruption {i}")] += 1
    assert seen["refused"] >= 500 and seen["ok"] >= 500, seen


def test_names_inside_other_strings_are_the_python_parsers():
    """An offset into the middle of a string (suffix sharing) is not in the
    pre-split cache: the compiled parser leaves the section to Python, which
    reads it."""
    strings = b"\0int\0"
    # INT named "nt" (offset 2, inside "int"), size 4, encoding 32 bits
    raw_types = struct.pack("<IIII", 2, 1 << 24, 4, 32)
    hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(raw_types), len(raw_types),
                      len(strings))
    raw = hdr + raw_types + strings
    assert compiled(raw) is None
    assert parse(raw)[0].types[1].name == "nt"


def test_no_reference_is_leaked():
    """Parsing, succeeding or bailing halfway, gives back every object it made:
    the interpreter holds as many blocks after 200 parses as after 20."""
    _, raw = next(iter(btf_sections()))
    bad = raw[:len(raw) // 2]
    bo, _, tdata, sdata = parse_header(raw, ".BTF")
    cache = btf_types._Strings(sdata, ".BTF").cache
    name = next(s for s in cache.values() if s)
    before = sys.getrefcount(name)

    def rounds(n: int) -> None:
        for _ in range(n):
            assert ACCEL.parse_types(tdata, cache, bo == ">", BtfType,
                                     btf_types._PARSE_KINDS) is not None
            ACCEL.parse_types(bad[len(raw) - len(tdata) - len(sdata):], cache, bo == ">",
                              BtfType, btf_types._PARSE_KINDS)

    rounds(20)
    blocks = sys.getallocatedblocks()
    rounds(200)
    assert sys.getallocatedblocks() - blocks < 50
    assert sys.getrefcount(name) == before


def test_links_are_the_same_bytes_without_it(tmp_path):
    """BPFLINK_NO_ACCEL=1 leaves the parser out; the link is the same."""
    inputs = [str(p) for p in sorted((ROOT / "corpus" / "exc_cross").glob("*.o"))]
    outs = []
    for flag in ("", "1"):
        out = tmp_path / f"out{flag}.o"
        env = dict(os.environ, BPFLINK_NO_ACCEL=flag)
        subprocess.run([sys.executable, "-m", "bpflink", *inputs, "-o", str(out)], env=env,
                       check=True)
        probe = subprocess.run([sys.executable, "-c", "from bpflink.btf import types; "
                                "print(types._accel is None)"], env=env, check=True,
                               capture_output=True, text=True).stdout.strip()
        assert probe == str(bool(flag))
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


# -- the instruction scan ---------------------------------------------------------

def test_scan_same_on_every_code_section_at_hand():
    """``scan_code`` against CodeScanner's Python loop on each code section of
    every object at hand, cut at its function symbols, with the offsets of its
    relocations (tests/test_graph.py holds both to the reference definition on
    generated code)."""
    from bpflink.elf.reader import read_object
    from bpflink.graph.insn import CodeScanner

    sections = functions = 0
    for path in objects_at_hand():
        try:
            obj = read_object(path.read_bytes(), str(path))
        except bpflink.InputError:
            continue                    # the corpus's deliberately broken inputs
        for sec in obj.sections:
            if not sec.is_exec:
                continue
            starts = sorted({s.value for s in obj.symbols if s.shndx == sec.index
                             and s.type == 2} | {0, len(sec.data)})
            ranges = list(zip(starts, starts[1:]))
            relocated = [r[0] for r in obj.relocations.get(sec.index, [])]
            got = ACCEL.scan_code(sec.data, obj.big_endian, relocated, ranges)
            with pure_python():
                want = CodeScanner(sec.data, obj.big_endian, relocated).scan_all(ranges)
            assert got == want, f"{path} {sec.name}"
            sections += 1
            functions += len(ranges)
    assert sections >= 200 and functions >= 290, (sections, functions)


def test_scan_leaves_what_it_does_not_take_to_python():
    """A part-instruction, a negative start, an offset that is no int: None for
    the whole call, and CodeScanner's Python loop does it."""
    code = bytes(16)
    for relocated, ranges in (([], [(0, 8), (0, 12)]), ([], [(-8, 8)]), ([2**64], [(0, 16)]),
                              ([-1], [(0, 16)]), (["8"], [(0, 16)]), ([], [(0, 8, 1)])):
        assert ACCEL.scan_code(code, False, relocated, ranges) is None, (relocated, ranges)
    assert ACCEL.scan_code(code, False, [], [(8, 8), (16, 99), (0, 16)]) == \
        [(0, []), (0, []), (0, [])]


# -- dedup ------------------------------------------------------------------------

def lazily_merged(*inputs: list[BtfType]) -> MergedBtf:
    """:func:`merged` as the linker hands it to dedup: each input's types as
    they are, with its map, remapped only when read."""
    btf = MergedBtf()
    for types in inputs:
        base = len(btf.slots()[0]) - 1
        m = [0] + [i + base for i in range(1, len(types) + 1)]
        for t in types:
            btf.add_remapped(t, m)
    return btf


def dedup_both_ways(btf: Btf, where: str) -> None:
    """_Dedup's keys and run in C and in Python: the same kinds, shallow-key
    numbers and references, the same (ID map, kept, settled); and dedup()
    whole (its later passes included): the same BTF and ID map."""
    run = _Dedup(btf)
    got = ACCEL.dedup_run(run.kind_bytes, run.sid, run.children, run.types)
    with pure_python():
        plain = _Dedup(btf)
        assert (run.kind_bytes, run.sid, run.children) == \
            (plain.kind_bytes, plain.sid, plain.children), where
        want = plain.run()
        want_btf, want_map = dedup(btf)
    assert not isinstance(got, int), where
    assert got == (*want, plain.settled), where
    got_btf, got_map = dedup(btf)
    assert got_map == want_map, where
    assert [t.key() for t in got_btf.types] == [t.key() for t in want_btf.types], where


def dedup_both_forms(inputs: list[list[BtfType]], where: str) -> None:
    dedup_both_ways(merged(*inputs), where)
    dedup_both_ways(lazily_merged(*inputs), f"{where} (merged lazily)")


def scenario_inputs() -> Iterator[tuple[str, list[Path]]]:
    """Each corpus folder's objects, and each built workload's, as one link's inputs."""
    for folder in sorted(p for p in (ROOT / "corpus").iterdir() if p.is_dir()):
        objs = sorted(folder.glob("*.o"))
        if objs:
            yield str(folder), objs
    for folder in sorted((ROOT / "bench" / "work").glob("*")):
        objs = sorted(folder.glob("*.o"))
        if objs:
            yield str(folder), objs[:24]


def test_dedup_same_for_every_corpus_folder_and_workload():
    """The merged BTF of a folder's inputs, as the linker hands dedup."""
    n = 0
    for where, objs in scenario_inputs():
        btfs = []
        for path in objs:
            view = ElfView(path.read_bytes())
            sec = view.by_name(".BTF") if view.sections else None
            if sec is None:
                continue
            try:
                btfs.append(parse(view.data[sec.offset:sec.offset + sec.size])[0].types[1:])
            except FormatError:
                continue            # the corpus's bad inputs: the reader refuses them
        if btfs:
            dedup_both_forms(btfs, where)
            n += 1
    assert n >= 40, n


def test_dedup_same_for_the_running_kernels_btf():
    """vmlinux alone (nearly nothing merges) and twice over (every type does)."""
    if not VMLINUX_BTF.exists():
        pytest.skip("no /sys/kernel/btf/vmlinux here")
    types = parse(VMLINUX_BTF.read_bytes())[0].types[1:]
    dedup_both_ways(Btf([BtfType(UNKN)] + types), "vmlinux")
    dedup_both_ways(lazily_merged(types, types), "vmlinux twice, merged lazily")


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_dedup_same_on_generated_programs(program):
    btf, _emitters = program
    dedup_both_ways(btf, "generated program")


def test_dedup_cycle_of_reference_types_is_the_same_error():
    """A pointer to a const of itself: refused by both with the Python message."""
    btf = Btf([BtfType(UNKN), BtfType(PTR, "", 2), BtfType(CONST, "", 1)])
    messages = []
    for ctx in (pure_python, contextmanager(lambda: iter([None]))):
        with ctx(), pytest.raises(FormatError) as e:
            dedup(btf)
        messages.append(e.value.message)
    assert messages[0] == messages[1] and "reference types only" in messages[0]


def nested_duplicates(depth: int, copies: int) -> list[BtfType]:
    """``struct S { struct L *a; struct L *b; }`` before its parts, with
    ``copies`` identical copies of the ``depth`` nested structs ``L`` (a
    compiler's duplicates): a walk from another input's S meets two types
    where it expects one, and libbpf's rule compares them ``IDENTICAL_DEPTH``
    levels deep."""
    first_chain = 3 + copies            # S, the pointers, int: IDs 1 .. 2 + copies
    tops = [first_chain + (c + 1) * depth - 1 for c in range(copies)]
    types = [BtfType(STRUCT, "S", 16, [["a", 2, 0], ["b", 1 + copies, 64]])]
    types += [BtfType(PTR, "", top) for top in tops]
    types.append(BtfType(INT, "int", 4, 32))
    for _ in range(copies):
        prev = 2 + copies               # the int
        for level in range(depth):
            types.append(BtfType(STRUCT, f"L{level}", 4, [["m", prev, 0]]))
            prev = len(types)
    return types


@pytest.mark.parametrize("depth", [1, 15, 16, 17, 30])
def test_dedup_same_on_identical_duplicates(depth):
    """Both sides stop comparing duplicates at the same depth: the first pass
    merges the two S exactly when the duplicates are identical within it (a
    later pass merges them either way, once the duplicates are one)."""
    btf = merged(nested_duplicates(depth, 1), nested_duplicates(depth, 2))
    dedup_both_forms([nested_duplicates(depth, 1), nested_duplicates(depth, 2)],
                     f"duplicates {depth} deep")
    id_map, _kept = _Dedup(btf).run()
    assert (id_map[1] == id_map[len(nested_duplicates(depth, 1)) + 1]) == (depth <= 16)
    out, _ = dedup(btf)
    assert sum(t.name == "S" for t in out.types) == 1
