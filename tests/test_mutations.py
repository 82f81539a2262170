"""Hostile inputs: bpflink links and the output reads back, or it fails cleanly.

The property (``tests/oracle.py``): every mutated input set either links and
the output reads back with pyelftools, lief and libbpf's
``bpf_object__open_mem``, or the link raises :class:`bpflink.LinkError`
whose errors render as ``bpflink: error: ...``.  Never another exception,
never a hang, never memory out of proportion to the input.

Here a fast, deterministic subset (a few hundred input sets, seconds);
``scripts/soak.py`` runs the same property over tens of thousands.  Then one
pinned regression per crash the mutation suite found, and the memory bound
on tiny files that claim gigabytes.
"""

from __future__ import annotations

import random
import signal
import struct
import subprocess
import sys
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bpflink
from tests import mutators, oracle
from tests.mutators import ElfView, put, tiny_object

CORPUS = mutators.CORPUS_DIR
SEEDS = mutators.load_seeds()
PER_CASE_SECONDS = 10
FAMILY_CASES = 15


class _Timeout(BaseException):
    pass


def _raise_timeout(signum, frame):
    raise _Timeout()


def judge(names: list[str], datas: list[bytes]) -> oracle.Outcome:
    """The property for one input set, with a per-input time bound."""
    old = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.alarm(PER_CASE_SECONDS)
    try:
        return oracle.check_case(names, datas)
    except _Timeout:
        return oracle.Outcome(oracle.CRASHED, f"hang: over {PER_CASE_SECONDS} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# -- the property over deterministic mutations ---------------------------------------------

@pytest.mark.parametrize("family", sorted(mutators.MUTATORS))
def test_every_mutator_family_links_or_fails_cleanly(family):
    """FAMILY_CASES fixed input sets per mutator, across the corpus seeds."""
    crashes = []
    for k in range(FAMILY_CASES):
        rng = random.Random(f"family:{family}:{k}")
        seed = SEEDS[rng.randrange(len(SEEDS))]
        datas = seed.datas()
        victim = rng.randrange(len(datas))
        desc, datas[victim] = mutators.apply(datas[victim], rng, [family])
        out = judge([p.name for p in seed.paths], datas)
        if out.kind == oracle.CRASHED:
            crashes.append(f"{seed.scenario} {seed.paths[victim].name}: {desc}\n    {out.detail}")
    assert not crashes, "\n".join(crashes)


@settings(max_examples=200, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.sampled_from(SEEDS), victim=st.integers(0, 2),
       families=st.lists(st.sampled_from(sorted(mutators.MUTATORS)), min_size=1, max_size=3),
       rng=st.randoms(use_true_random=False))
def test_stacked_mutations_link_or_fail_cleanly(seed, victim, families, rng):
    """Hypothesis picks the seed, the victim and up to three mutators; it shrinks failures."""
    datas = seed.datas()
    victim %= len(datas)
    desc, datas[victim] = mutators.apply(datas[victim], rng, families)
    out = judge([p.name for p in seed.paths], datas)
    assert out.kind != oracle.CRASHED, f"{seed.scenario} {desc}: {out.detail}"


def test_soak_cases_are_reproducible():
    """scripts/soak.py --replay N rebuilds exactly input set N."""
    a = mutators.make_case(SEEDS, 1234, 7)
    b = mutators.make_case(SEEDS, 1234, 7)
    assert a.description == b.description and a.datas == b.datas
    assert mutators.make_case(SEEDS, 1235, 7).description != a.description


def test_cli_rejects_mutated_input_with_one_line_and_no_traceback(tmp_path):
    """The same inputs through the command line: exit 1, bpflink: error:, no output."""
    rejected = 0
    for index in range(200):
        case = mutators.make_case(SEEDS, index, 42)
        if oracle.check_case(case.names, case.datas, read_back=False).kind != oracle.REJECTED:
            continue
        paths = []
        for i, data in enumerate(case.datas):
            p = tmp_path / f"in{index}_{i}.o"
            p.write_bytes(data)
            paths.append(str(p))
        out = tmp_path / f"out{index}.o"
        proc = subprocess.run([sys.executable, "-m", "bpflink", *paths, "-o", str(out)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, (case.description, proc.stderr)
        assert proc.stderr.startswith("bpflink: error: "), (case.description, proc.stderr)
        assert "Traceback" not in proc.stderr, (case.description, proc.stderr)
        assert not out.exists()
        rejected += 1
        if rejected == 8:
            break
    assert rejected == 8


# -- one regression per crash found ----------------------------------------------------------

def _btf(v: ElfView, name: str | None = None, kind: int | None = None, nth: int = 0) -> dict:
    recs = [r for r in v.btf_named()
            if (name is None or r["name"] == name) and (kind is None or r["kind"] == kind)]
    return recs[nth]


def _shdr(v: ElfView, d: bytearray, sec: str, field: str, value: int) -> None:
    off, code = mutators.SHDR_FIELDS[field]
    put(d, v.by_name(sec).hdr_off + off, code, value, v.bo)


def _sym(v: ElfView, d: bytearray, name: str, field: str, value: int) -> None:
    off, code = mutators.SYM_FIELDS[field]
    put(d, v.symbol(name)["off"] + off, code, value, v.bo)


def _reloc_sym(v: ElfView, d: bytearray, rel: str, j: int, sym: int) -> None:
    r = v.relocs(rel)[j]
    put(d, r["off"] + 8, "Q", (sym << 32) | r["type"], v.bo)


def _typedef_cycle(v, d):                   # __u32 -> __u64 -> __u32
    a, b = _btf(v, "__u32"), _btf(v, "__u64")
    put(d, a["off"] + 8, "I", b["id"], v.bo)
    put(d, b["off"] + 8, "I", a["id"], v.bo)


def _pointer_cycle(v, d):                   # a PTR to itself
    p = _btf(v, kind=2)
    put(d, p["off"] + 8, "I", p["id"], v.bo)


def _pointer_array_cycle(v, d):             # PTR -> ARRAY -> PTR (the dedup's -ELOOP)
    p, arr = _btf(v, kind=2), _btf(v, kind=3)
    put(d, p["off"] + 8, "I", arr["id"], v.bo)
    put(d, arr["off"] + 12, "I", p["id"], v.bo)             # the array's element type


def _datasec_lists_int(v, d):
    ds = _btf(v, "license", kind=15)
    put(d, ds["off"] + 12, "I", _btf(v, "char")["id"], v.bo)


def _code_reloc_on_mov(v, d):
    r = v.relocs(".reltc")[0]
    d[v.by_name("tc").offset + r["offset"]] = 0xB7             # mov r0, imm


def _call_without_pseudo_src(v, d):
    r = v.relocs(".reltc")[0]
    _reloc_sym(v, d, ".reltc", 0, v.symbol("a_helper")["index"])   # a defined .text function
    d[v.by_name("tc").offset + r["offset"] + 1] = 0x00             # src_reg 0: a helper call


def _second_call_without_pseudo_src(v, d):
    """The reader checks a call's target once per (symbol, opcode); each site's
    src_reg must still be checked: the second call of one symbol is corrupted."""
    tc = v.by_name("tc")
    seen = set()
    for r in v.relocs(".reltc"):
        if v.data[tc.offset + r["offset"]] != 0x85:
            continue
        if r["sym"] in seen:
            d[tc.offset + r["offset"] + 1] = 0x00
            return
        seen.add(r["sym"])
    raise AssertionError("no symbol called twice in tc")


def _ld_imm64_of_license(v, d):
    r = next(r for r in v.relocs(".reltc") if r["type"] == 1)
    _reloc_sym(v, d, ".reltc", r["index"], v.symbol("LICENSE")["index"])


def _datasec_renamed(v, d):                 # DATASEC 'license' renamed to 'int'
    ds = _btf(v, "license", kind=15)
    put(d, ds["off"], "I", struct.unpack_from("<I", v.data, _btf(v, "int")["off"])[0], v.bo)


def _map_struct_grows(v, d):                # struct {type, key, value, max_entries}: 32 -> 64
    var = _btf(v, "counts", kind=14)
    struct_rec = next(r for r in v.btf_named() if r["id"] == var["ref"])
    put(d, struct_rec["off"] + 8, "I", 64, v.bo)


def _member(v, struct_id: int, name: str) -> int:
    """File offset of the member record called ``name`` of struct [struct_id]."""
    rec = next(r for r in v.btf_named() if r["id"] == struct_id)
    for i in range(rec["vlen"]):
        at = rec["off"] + 12 + 12 * i
        if v.btf_string(struct.unpack_from(v.bo + "I", v.data, at)[0]) == name:
            return at
    raise KeyError(name)


def _map_member_to_int(map_name: str, field: str):
    def corrupt(v, d):
        var = _btf(v, map_name, kind=14)
        put(d, _member(v, var["ref"], field) + 4, "I", _btf(v, "int")["id"], v.bo)
    return corrupt


def _values_array_sized(v, d):              # outer's __array(values, ...) gets 2 elements
    var = _btf(v, "outer", kind=14)
    values = struct.unpack_from(v.bo + "I", v.data, _member(v, var["ref"], "values") + 4)[0]
    arr = next(r for r in v.btf_named() if r["id"] == values)
    put(d, arr["off"] + 12 + 8, "I", 2, v.bo)


CROSS_A = CORPUS / "cross_call" / "a.o"
DATA_A = CORPUS / "data_sections" / "a.o"
MAP_A = CORPUS / "extern_map" / "a.o"
KCONFIG_A = CORPUS / "kfunc_ksym_kconfig" / "a.o"
MIM_A = CORPUS / "map_in_map" / "a.o"

# (id, source object, corruption(view, bytearray), message fragment)
REGRESSIONS = [
    ("btf-typedef-cycle", MAP_A, _typedef_cycle, "reference cycle that no pointer breaks"),
    ("btf-pointer-cycle", CROSS_A, _pointer_cycle, "without passing through a struct or union"),
    ("btf-pointer-array-cycle", CROSS_A, _pointer_array_cycle,
     "without passing through a struct or union"),
    ("datasec-lists-non-variable", CROSS_A, _datasec_lists_int, "which is not a variable"),
    ("compressed-code", CROSS_A, lambda v, d: _shdr(v, d, "tc", "sh_flags", 0x806),
     "compressed"),
    ("unknown-section-flags", CROSS_A, lambda v, d: _shdr(v, d, "tc", "sh_flags", 0x1006),
     "unknown bits 0x1000"),
    ("bss-of-3-gib", DATA_A, lambda v, d: _shdr(v, d, ".bss", "sh_size", 3 << 30),
     "largest map value"),
    ("license-nobits", CROSS_A, lambda v, d: _shdr(v, d, "license", "sh_type", 8),
     "must hold its contents"),
    ("reloc-on-a-mov", CROSS_A, _code_reloc_on_mov, "neither a call nor a 64-bit load"),
    ("reloc-against-file-symbol", CROSS_A,
     lambda v, d: _reloc_sym(v, d, ".reltc", 0, v.symbol("a.c")["index"]),
     "absolute or file symbol"),
    ("call-into-program-section", CROSS_A,
     lambda v, d: _reloc_sym(v, d, ".reltc", 0, v.symbol("cross_a")["index"]),
     "not a function in .text"),
    ("call-with-helper-src-reg", CROSS_A, _call_without_pseudo_src, "src_reg 0"),
    ("second-call-with-helper-src-reg", CORPUS / "statics_everywhere" / "a.o",
     _second_call_without_pseudo_src, "src_reg 0, not 1 (a BPF-to-BPF call)"),
    ("ld-imm64-of-license", DATA_A, _ld_imm64_of_license, "neither maps"),
    ("static-program", CROSS_A, lambda v, d: _sym(v, d, "cross_a", "st_info", 0x02),
     "static function in program section"),
    ("function-of-7-bytes", CROSS_A, lambda v, d: _sym(v, d, "a_helper", "st_size", 7),
     "does not cover whole 8-byte instructions"),
    ("empty-function", CROSS_A, lambda v, d: _sym(v, d, "a_helper", "st_size", 0),
     "does not cover whole 8-byte instructions"),
    ("global-var-without-object-symbol", DATA_A,
     lambda v, d: _sym(v, d, "a_data", "st_info", 0x10), "has no global object 'a_data'"),
    ("datasec-entry-past-section", CROSS_A,
     lambda v, d: put(d, _btf(v, "license", kind=15)["off"] + 16, "I", 1 << 20, v.bo),
     "lies outside"),
    ("datasec-naming-no-section", CROSS_A, _datasec_renamed, "no data section 'int'"),
    ("map-struct-past-its-entry", MAP_A, _map_struct_grows, "but its DATASEC entry holds"),
    ("kconfig-bool-of-3-bytes", KCONFIG_A,
     lambda v, d: put(d, _btf(v, "_Bool")["off"] + 8, "I", 3, v.bo),
     "cannot fill from the kernel config"),
    ("map-field-not-uint", MAP_A, _map_member_to_int("counts", "max_entries"),
     "field 'max_entries' is INT, not a pointer to an array"),
    ("map-key-not-pointer", MAP_A, _map_member_to_int("counts", "key"),
     "field 'key' is INT, not a pointer"),
    ("map-in-map-slot-holds-license", MIM_A,
     lambda v, d: _reloc_sym(v, d, ".rel.maps", 0, v.symbol("LICENSE")["index"]),
     "puts 'LICENSE' in a slot of map 'outer', which holds maps"),
    ("map-in-map-values-with-a-size", MIM_A, _values_array_sized, "not a zero-sized array"),
    ("hidden-map", MAP_A, lambda v, d: _sym(v, d, "counts", "st_other", 2), "is hidden"),
    ("static-map", MAP_A,
     lambda v, d: put(d, _btf(v, "a_only", kind=14)["off"] + 12, "I", 0, v.bo), "static map"),
]


@pytest.mark.parametrize("source,corrupt,fragment", [r[1:] for r in REGRESSIONS],
                         ids=[r[0] for r in REGRESSIONS])
def test_found_crash_is_now_one_clear_error(source, corrupt, fragment):
    v = ElfView(source.read_bytes())
    d = bytearray(v.data)
    corrupt(v, d)
    with pytest.raises(bpflink.LinkError) as info:
        oracle.link_datas(["bad.o"], [bytes(d)])
    errors = [e.render() for e in info.value.errors]
    assert len(errors) == 1, errors
    assert errors[0].startswith("bpflink: error: bad.o: "), errors
    assert fragment in errors[0], errors


def test_relocate_checks_each_call_site_after_resolution(monkeypatch):
    """relocate checks a call's resolved target once per (symbol, opcode), and each
    site's src_reg every time: with the reader's own check switched off, the
    corrupted second call of one symbol is still refused, by relocate."""
    from bpflink.elf import reader

    v = ElfView((CORPUS / "statics_everywhere" / "a.o").read_bytes())
    d = bytearray(v.data)
    _second_call_without_pseudo_src(v, d)
    monkeypatch.setattr(reader._Reader, "_check_code_reloc", lambda *args: None)
    with pytest.raises(bpflink.LinkError) as info:
        oracle.link_datas(["bad.o"], [bytes(d)])
    errors = [e.render() for e in info.value.errors]
    assert len(errors) == 1 and "has src_reg 0, not 1" in errors[0], errors
    assert "(a BPF-to-BPF call)" not in errors[0], errors      # relocate's, not the reader's


def test_bss_halves_that_sum_past_int_max_are_refused():
    """Each input's .bss is in bounds; the merged one is not."""
    datas = []
    for name in ("a.o", "b.o"):
        v = ElfView((CORPUS / "data_sections" / name).read_bytes())
        d = bytearray(v.data)
        _shdr(v, d, ".bss", "sh_size", 0x60000000)
        datas.append(bytes(d))
    with pytest.raises(bpflink.LinkError, match="output section '.bss' would be 3221225472"):
        oracle.link_datas(["a.o", "b.o"], datas)


# -- memory stays proportional to the input ----------------------------------------------------

def _claim(field_edit) -> bytes:
    v = ElfView(tiny_object())
    d = bytearray(v.data)
    field_edit(v, d)
    return bytes(d)


def _extended_shnum(v, d):
    put(d, 60, "H", 0, v.bo)                                # e_shnum = 0: count in section 0
    put(d, v.sections[0].hdr_off + 32, "Q", 1 << 40, v.bo)


def _btf_lengths(v, d):
    base = v.by_name(".BTF").offset
    put(d, base + 12, "I", 0xFFFFFFFC, v.bo)                # type_len
    put(d, base + 20, "I", 0xFFFFFFF0, v.bo)                # str_len


def _btf_huge_vlen(v, d):                                    # the INT becomes a 65535-member struct
    rec = v.btf_records()[0]
    put(d, rec["off"] + 4, "I", (4 << 24) | 0xFFFF, v.bo)


def _archive_member(v, d):
    d[:] = b"!<arch>\n" + b"big.o/".ljust(48) + b"4294967296".ljust(10) + b"`\n" + bytes(v.data)


CLAIMS = [
    ("bss-of-4-gib", lambda v, d: _shdr(v, d, ".bss", "sh_size", 1 << 32)),
    ("bss-of-16-eib", lambda v, d: _shdr(v, d, ".bss", "sh_size", (1 << 64) - 1)),
    ("text-of-4-gib", lambda v, d: _shdr(v, d, ".text", "sh_size", 1 << 32)),
    ("symtab-of-4-gib", lambda v, d: _shdr(v, d, ".symtab", "sh_size", 1 << 32)),
    ("2-to-the-40-sections", _extended_shnum),
    ("shstrndx-xindex-huge", lambda v, d: (put(d, 62, "H", 0xFFFF, v.bo),
                                           put(d, v.sections[0].hdr_off + 40, "I",
                                               0xFFFFFFFF, v.bo))),
    ("btf-lengths-of-4-gib", _btf_lengths),
    ("btf-vlen-65535", _btf_huge_vlen),
    ("archive-member-of-4-gib", _archive_member),
]


@pytest.mark.parametrize("edit", [c[1] for c in CLAIMS], ids=[c[0] for c in CLAIMS])
def test_tiny_file_claiming_gigabytes_allocates_little(edit):
    data = _claim(edit)
    assert len(data) < 1024
    tracemalloc.start()
    try:
        with pytest.raises(bpflink.LinkError) as info:
            oracle.link_datas(["tiny.o"], [data])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.errors[0].render().startswith("bpflink: error: tiny.o")
    assert peak < 4 << 20, f"peak {peak} bytes for a {len(data)}-byte input"


def test_tiny_file_claiming_gigabytes_links_under_an_address_space_limit(tmp_path):
    """The CLI, in a child capped at 256 MiB of address space, refuses each claim cleanly."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (256 << 20, 256 << 20))

    for name, edit in CLAIMS:
        bad = tmp_path / f"{name}.o"
        bad.write_bytes(_claim(edit))
        out = tmp_path / "out.o"
        proc = subprocess.run([sys.executable, "-m", "bpflink", str(bad), "-o", str(out)],
                              preexec_fn=cap, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, (name, proc.stderr)
        assert proc.stderr.startswith(f"bpflink: error: {bad}"), (name, proc.stderr)
        assert "MemoryError" not in proc.stderr and "Traceback" not in proc.stderr
        assert not out.exists()


def _append_and_point(v: ElfView, d: bytearray, sec: str, blob: bytes) -> None:
    """Put ``blob`` at the end of the file and make section ``sec`` be it."""
    off = len(d)
    d += blob
    put(d, v.by_name(sec).hdr_off + 24, "Q", off, v.bo)
    put(d, v.by_name(sec).hdr_off + 32, "Q", len(blob), v.bo)


def _btf_names_inside_one_long_string(v, d):
    """4000 INT types, each named by a different offset into one 40 KB string."""
    n, length = 4000, 40000
    strs = b"\0" + b"A" * length + b"\0"
    types = b"".join(struct.pack("<IIII", 1 + (i * 7) % length, 1 << 24, 4, 32)
                     for i in range(n))
    _append_and_point(v, d, ".BTF", struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types),
                                                 len(types), len(strs)) + types + strs)


def _symbols_naming_one_long_string(v, d):
    """4000 symbols naming 50 offsets of one 40 KB name."""
    strtab = v.by_name(".strtab")
    base = strtab.size
    _append_and_point(v, d, ".strtab",
                      v.data[strtab.offset:strtab.offset + base] + b"B" * 40000 + b"\0")
    syms = v.data[v.symtab.offset:v.symtab.offset + v.symtab.size] + b"".join(
        struct.pack("<IBBHQQ", base + i % 50, 0, 0, 0xFFF1, 0, 0) for i in range(4000))
    _append_and_point(v, d, ".symtab", syms)


@pytest.mark.parametrize("edit", [_btf_names_inside_one_long_string,
                                  _symbols_naming_one_long_string],
                         ids=["btf-names", "symbol-names"])
def test_names_pointing_into_one_long_string_do_not_multiply_memory(edit):
    """Once 535 MB for a 105 KB file (each offset decoded its own copy of the suffix)."""
    v = ElfView(tiny_object())
    d = bytearray(v.data)
    edit(v, d)
    tracemalloc.start()
    try:
        with pytest.raises(bpflink.LinkError, match="take over 4x the"):
            oracle.link_datas(["long.o"], [bytes(d)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * len(d) + (4 << 20), f"peak {peak} for {len(d)} bytes"


def test_thousands_of_variables_behind_one_long_typedef_chain_are_quick():
    """Each DATASEC entry's size walk followed the whole chain: 161 KB took 4.7 s, growing
    quadratically.  Chains are now capped as the kernel caps them (32)."""
    import time

    depth = nvars = 4000
    strs = b"\0int\0t\0v\0.bss\0"
    types = [struct.pack("<IIII", 1, 1 << 24, 4, 32)]
    types += [struct.pack("<III", 5, 8 << 24, 1 + i) for i in range(depth)]        # typedefs
    types += [struct.pack("<IIII", 7, 14 << 24, 1 + depth, 0)] * nvars             # static VARs
    types.append(struct.pack("<III", 9, (15 << 24) | nvars, 0) + b"".join(
        struct.pack("<III", depth + 2 + i, 0, 4) for i in range(nvars)))          # DATASEC .bss
    blob = b"".join(types)
    v = ElfView(tiny_object(bss_size=1 << 20))
    d = bytearray(v.data)
    _append_and_point(v, d, ".BTF", struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(blob),
                                                 len(blob), len(strs)) + blob + strs)
    t = time.perf_counter()
    with pytest.raises(bpflink.LinkError, match="the kernel resolves at most 32"):
        oracle.link_datas(["deep.o"], [bytes(d)])
    assert time.perf_counter() - t < 2.0


def test_comparing_types_that_share_substructs_is_not_exponential():
    """Two inputs declaring one global of a type whose structs each hold a shared struct
    100 times: comparing them walked 100^levels member pairs."""
    import time

    from bpflink.btf.types import Btf, BtfType, Kind
    from bpflink.linker.compat import btf_mismatch

    def dag(levels: int, int_size: int) -> tuple[Btf, int]:
        b = Btf()
        prev = b.add(BtfType(Kind.INT, "int", int_size, 32))
        for level in range(levels):
            prev = b.add(BtfType(Kind.STRUCT, f"s{level}", 4, [[f"m{i}", prev, 0]
                                                               for i in range(100)]))
        return b, prev

    (a, ta), (b, tb) = dag(20, 4), dag(20, 8)
    t = time.perf_counter()
    assert btf_mismatch(a, ta, a, ta) is None
    assert "size 4 vs 8" in btf_mismatch(a, ta, b, tb)
    assert time.perf_counter() - t < 1.0


def test_tiny_object_itself_links_and_reads_back():
    """The claims above are about a valid object, so only the claim is refused."""
    out = judge(["tiny.o"], [tiny_object()])
    assert out.kind == oracle.LINKED, out.detail


def test_mutated_inputs_stay_within_a_memory_budget():
    """Peak Python allocation of a link stays within 64 x the input plus 8 MiB."""
    rng = random.Random("memory")
    worst = (0.0, "")
    for _ in range(60):
        seed = SEEDS[rng.randrange(len(SEEDS))]
        datas = seed.datas()
        desc, datas[0] = mutators.apply(datas[0], rng, [rng.choice(
            ["huge_size", "shdr_field", "btf_header", "btf_type_record", "btf_ext_record",
             "symbol_field", "shnum_extended", "reloc_section_header"])])
        size = sum(map(len, datas))
        tracemalloc.start()
        try:
            oracle.check_case(["a.o", "b.o", "c.o"][:len(datas)], datas, read_back=False)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        budget = 64 * size + (8 << 20)
        assert peak < budget, f"{desc}: peak {peak} for {size} input bytes"
        worst = max(worst, (peak / size, desc))
