"""Never stricter than libbpf: the differential property (tests/differential.py).

If libbpf 1.6's ``bpf_object__open_mem`` opens an object, bpflink links it
alone and libbpf opens the output with the same programs and maps -- or
bpflink refuses it by a rule docs/guarantees.md lists.  Here: every corpus
object, a fixed, seeded set of mutants (``scripts/soak.py --differential``
runs the same over tens of thousands), and one pinned case per place where
bpflink was found stricter than libbpf.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

import bpflink
from bpflink.errors import RULES
from tests import differential, mutators, oracle
from tests.mutators import SHDR_FIELDS, SYM_FIELDS, ElfView, put
from tests.scenarios import load_scenario

ROOT = Path(__file__).resolve().parent.parent
CORPUS_OBJECTS = sorted(ROOT.glob("corpus/*/*.o"))
SEEDS = mutators.load_seeds()
MUTANT_SETS = 400           # input sets; ~0.02 s each
MASTER_SEED = 8             # not a soak seed of the docs, so CI sees other inputs


@pytest.mark.parametrize("path", CORPUS_OBJECTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_object_is_never_refused_beyond_the_rules(path):
    v = differential.judge(f"{path.parent.name}/{path.name}", path.read_bytes())
    assert v.kind != differential.VIOLATION, v.detail


def test_most_corpus_objects_libbpf_opens_link_alone():
    """The corpus part is not vacuous: libbpf opens most objects and bpflink links them."""
    verdicts = {p: differential.judge(p.name, p.read_bytes()) for p in CORPUS_OBJECTS}
    opened = [v for v in verdicts.values() if v.kind != differential.UNOPENED]
    linked = [v for v in verdicts.values() if v.kind == differential.LINKED]
    assert len(opened) >= 60 and len(linked) >= len(opened) - 2, (len(opened), len(linked))
    # What the corpus refuses alone is a link-level call-graph defect (program-level
    # ones are warnings; map fields by __ulong are read) that its scenario expects as
    # an error: a tag libbpf's loader refuses for every program of the object.
    for path, v in verdicts.items():
        if v.kind == differential.REFUSED:
            scenario = load_scenario(path.parent)
            assert v.rule == "graph" and scenario.expects_error, v.detail
            assert scenario.error and all(e.lower() in v.detail.lower()
                                          for e in scenario.error), v.detail


def test_seeded_mutants_are_never_refused_beyond_the_rules():
    counts = {k: 0 for k in (differential.UNOPENED, differential.LINKED,
                             differential.REFUSED, differential.VIOLATION)}
    violations = []
    for index in range(MUTANT_SETS):
        case = mutators.make_case(SEEDS, index, MASTER_SEED)
        for name, data in differential.mutated_objects(case):
            v = differential.judge(name, data)
            counts[v.kind] += 1
            if v.kind == differential.VIOLATION:
                violations.append(f"{case.description}\n    {v.detail}")
    assert not violations, "\n".join(violations)
    # libbpf opens a good share of the mutants, and bpflink links many of those
    assert counts[differential.LINKED] >= 50 and counts[differential.REFUSED] >= 50, counts


def test_every_rule_is_documented_with_its_identifier():
    text = (ROOT / "docs" / "guarantees.md").read_text()
    for rule in RULES:
        assert re.search(rf"^\| `{re.escape(rule)}` \|", text, re.M), rule
    assert set(differential.DOCUMENTED) <= set(RULES)


def test_every_error_carries_a_rule():
    """Errors of every phase carry a rule: a truncated file, a duplicate definition."""
    data = (ROOT / "corpus/weak_strong/a.o").read_bytes()
    with pytest.raises(bpflink.LinkError) as e:
        oracle.link_datas(["a.o"], [data[:100]])
    assert [d.rule for d in e.value.errors] == ["elf"]
    with pytest.raises(bpflink.LinkError) as e:
        oracle.link_datas(["a.o", "b.o"], [data, data])
    assert {d.rule for d in e.value.errors} == {"resolve"}


# -- where bpflink was stricter than libbpf, pinned ---------------------------------------

def _weak_strong() -> tuple[ElfView, bytearray]:
    data = (ROOT / "corpus/weak_strong/a.o").read_bytes()
    return ElfView(data), bytearray(data)


def _shdr(v: ElfView, d: bytearray, sec: str, field: str, value: int) -> None:
    off, code = SHDR_FIELDS[field]
    put(d, v.by_name(sec).hdr_off + off, code, value, v.bo)


def _section_symbol(v: ElfView, sec: str) -> dict:
    idx = v.by_name(sec).index
    return next(s for s in v.symbols() if s["shndx"] == idx and s["type"] == 3)


def _dwarf_flags(v, d):              # unknown flag bits on DWARF
    _shdr(v, d, ".debug_info", "sh_flags", 0x12345600)


def _dwarf_align(v, d):              # alignment 3 on DWARF (libbpf 1.6's linker skips
    _shdr(v, d, ".debug_line", "sh_addralign", 3)      # DWARF here; 1.1's did not)


def _rel_dwarf_compressed(v, d):      # SHF_COMPRESSED on a DWARF relocation section
    _shdr(v, d, ".rel.debug_line", "sh_flags", 0x7FF)


def _rel_dwarf_nobits(v, d):          # .rel.debug_info retyped NOBITS of 2 GiB
    _shdr(v, d, ".rel.debug_info", "sh_type", 8)
    _shdr(v, d, ".rel.debug_info", "sh_size", 0x80000000)


def _empty_section_past_eof(v, d):    # a zero-sized section claims to start past the end
    _shdr(v, d, ".rel.BTF.ext", "sh_size", 0)
    _shdr(v, d, ".rel.BTF.ext", "sh_offset", 1 << 56)


def _shentsize(v, d):                 # e_shentsize is not 64
    put(d, 58, "H", 16, v.bo)


def _symbol_outside_dwarf(v, d):      # a section symbol of .debug_frame claims 127 bytes
    s = _section_symbol(v, ".debug_frame")
    off, code = SYM_FIELDS["st_size"]
    put(d, s["off"] + off, code, 0xFFFFFFFF, v.bo)


def _global_in_dwarf(v, d):           # a DWARF section symbol made global
    s = _section_symbol(v, ".debug_line")
    off, code = SYM_FIELDS["st_info"]
    put(d, s["off"] + off, code, (1 << 4) | 3, v.bo)


def _symtab_compressed(v, d):         # SHF_COMPRESSED on the symbol table (rebuilt anyway)
    _shdr(v, d, ".symtab", "sh_flags", 0x800)


STRICTER_THAN_LIBBPF = [_dwarf_flags, _dwarf_align, _rel_dwarf_compressed, _rel_dwarf_nobits,
                        _empty_section_past_eof, _shentsize, _symbol_outside_dwarf,
                        _global_in_dwarf, _symtab_compressed]


@pytest.mark.parametrize("mutation", STRICTER_THAN_LIBBPF, ids=lambda f: f.__name__.strip("_"))
def test_what_libbpf_opens_and_links_bpflink_links(mutation):
    """Each of these inputs libbpf 1.6 opens; bpflink refused each before, and must
    now link it with the same programs and maps."""
    v, d = _weak_strong()
    mutation(v, d)
    data = bytes(d)
    assert oracle.libbpf().describe_mem(data)[0] is not None, "libbpf must open the input"
    verdict = differential.judge("a.o", data)
    assert verdict.kind == differential.LINKED, verdict.detail


@pytest.mark.parametrize("mutation", [m for m in STRICTER_THAN_LIBBPF if m is not _dwarf_align],
                         ids=lambda f: f.__name__.strip("_"))
def test_libbpf_linker_links_them_too(mutation, bpftool):
    """The reference: libbpf's static linker (bpftool gen object) links each of them."""
    v, d = _weak_strong()
    mutation(v, d)
    assert differential.bpftool_links(bytes(d), bpftool)


def test_dropped_sections_stay_out_of_the_output():
    """A DWARF relocation section retyped NOBITS is dropped, not laid out as data."""
    v, d = _weak_strong()
    _rel_dwarf_nobits(v, d)
    out = oracle.link_datas(["a.o"], [bytes(d)]).data
    names = [s.name for s in ElfView(out).sections]
    assert ".rel.debug_info" not in names and ".data" in names
    assert struct.unpack_from("<H", out, 58)[0] == 64


def _kfunc_ksym_kconfig() -> tuple[ElfView, bytearray]:
    data = (ROOT / "corpus/kfunc_ksym_kconfig/a.o").read_bytes()
    return ElfView(data), bytearray(data)


def test_one_extern_twice_in_a_symbol_table_is_refused():
    """Soak seed 0, input set 17278: a local symbol overwritten by a copy of the kconfig
    extern CONFIG_BPF_SYSCALL.  libbpf's open counts the extern twice (a .kconfig map
    of 10 bytes instead of 9), libbpf's linker refuses the object; bpflink linked it
    into an output libbpf saw differently.  Now refused, naming both symbols."""
    v, d = _kfunc_ksym_kconfig()
    src = v.symbol("CONFIG_BPF_SYSCALL")
    local = next(s for s in v.symbols() if s["bind"] == 0 and s["index"] > 0 and
                 s["type"] == 3)
    d[local["off"]:local["off"] + 24] = d[src["off"]:src["off"] + 24]
    verdict = differential.judge("a.o", bytes(d))
    assert verdict.kind == differential.REFUSED and verdict.rule == "elf-symbol", verdict
    assert "'CONFIG_BPF_SYSCALL' is in the symbol table twice" in verdict.detail


def test_data_relocation_into_dwarf_is_refused_by_the_reader():
    """Soak seed 0, input set 17338: a flipped byte renamed .debug_info (and, through a
    shared string, its relocation section), so a kept data section relocates against
    .debug_abbrev, which is dropped.  libbpf's linker refuses it; bpflink refused it
    only in the relocation phase, by no documented rule.  Now the reader says so."""
    v, d = _weak_strong()
    names = v.by_name(".shstrtab") or v.sections[v.shstrndx]
    at = bytes(d).index(b".rel.debug_info\0", names.offset) + 4
    d[at] = ord(">")                # '.rel>debug_info' relocates '>debug_info'
    verdict = differential.judge("a.o", bytes(d))
    assert verdict.kind == differential.REFUSED and verdict.rule == "elf", verdict
    assert "which is not linked" in verdict.detail


def test_btf_that_libbpf_does_not_read_is_no_btf():
    """Soak seed 0 (after the corpus grew), input set 3577: .BTF retyped SHT_STRTAB.
    libbpf's open skips string tables, so it opened the object without BTF (its .bss
    map not mmapable); bpflink read the BTF anyway and linked an output libbpf saw
    with BTF (.bss mmapable).  Now such a .BTF counts as none: refused under 'btf',
    as libbpf's linker refuses an object whose globals have no BTF.  A .BTF.ext that
    libbpf skips is skipped: the object links, without line and function info."""
    v, d = _weak_strong()
    _shdr(v, d, ".BTF", "sh_type", 3)
    verdict = differential.judge("a.o", bytes(d))
    assert verdict.kind == differential.REFUSED and verdict.rule == "btf", verdict
    assert "'.BTF' is not SHT_PROGBITS" in verdict.detail
    v, d = _weak_strong()
    _shdr(v, d, ".BTF.ext", "sh_type", 3)
    verdict = differential.judge("a.o", bytes(d))
    assert verdict.kind == differential.LINKED, verdict.detail
    out = ElfView(oracle.link_datas(["a.o"], [bytes(d)]).data)
    assert out.by_name(".BTF") is not None and out.by_name(".BTF.ext") is None


def _map_in_map() -> tuple[ElfView, bytearray]:
    data = (ROOT / "corpus/map_in_map/a.o").read_bytes()
    return ElfView(data), bytearray(data)


@pytest.mark.parametrize("rtype", [1, 10, 3], ids=["R_BPF_64_64", "R_BPF_64_32", "ABS32"])
def test_maps_slot_relocation_of_any_type_links(rtype):
    """Soak seed 0, input set 7271: the .maps slot relocation (R_BPF_64_ABS64 at offset
    56 of the 64-byte .maps) retyped R_BPF_64_64.  libbpf's open reads every .maps
    relocation as a 64-bit slot whatever its type, and its linker copies it; bpflink
    took it for a 16-byte ld_imm64 patch that ran past .maps, and refused the type.
    Now the output keeps the relocation, and libbpf sees the same maps."""
    v, d = _map_in_map()
    r = v.relocs(".rel.maps")[0]
    assert (r["offset"], r["type"], v.by_name(".maps").size) == (56, 2, 64)
    put(d, r["off"] + 8, "Q", (r["sym"] << 32) | rtype, v.bo)
    data = bytes(d)
    assert oracle.libbpf().describe_mem(data)[0] is not None, "libbpf must open the input"
    verdict = differential.judge("a.o", data)
    assert verdict.kind == differential.LINKED, verdict.detail
    out = ElfView(oracle.link_datas(["a.o"], [data]).data)
    [kept] = out.relocs(".rel.maps")
    assert kept["type"] == rtype and out.symbols()[kept["sym"]]["name"] == "inner"


def test_maps_slot_relocation_past_its_map_is_still_refused():
    """What libbpf's open refuses stays refused: a .maps relocation at an offset no
    map's 'values' slot covers."""
    v, d = _map_in_map()
    r = v.relocs(".rel.maps")[0]
    put(d, r["off"], "Q", 60, v.bo)
    assert oracle.libbpf().describe_mem(bytes(d))[0] is None
    with pytest.raises(bpflink.LinkError) as e:
        oracle.link_datas(["a.o"], [bytes(d)])
    assert e.value.errors[0].section == ".rel.maps"


@pytest.mark.parametrize("sh_type", [0x6FFF4C03, 3], ids=["SHT_LLVM_ADDRSIG", "SHT_STRTAB"])
def test_license_of_a_type_libbpf_skips_is_no_license(sh_type):
    """Soak seed 0, input set 19958: 'license' retyped SHT_LLVM_ADDRSIG.  libbpf's open
    and linker skip sections of that type whatever their name (ignore_elf_section,
    is_ignored_sec): to them the object has no license, and the linker drops the
    section, the LICENSE symbol in it and its DATASEC.  bpflink refused it ("must hold
    its contents"); now it does what libbpf's linker does."""
    v, d = _weak_strong()
    _shdr(v, d, "license", "sh_type", sh_type)
    data = bytes(d)
    assert oracle.libbpf().describe_mem(data)[0] is not None, "libbpf must open the input"
    verdict = differential.judge("a.o", data)
    assert verdict.kind == differential.LINKED, verdict.detail
    result = oracle.link_datas(["a.o"], [data])
    out = ElfView(result.data)
    assert out.by_name("license") is None
    assert "LICENSE" not in {s["name"] for s in out.symbols()}
    assert "license" not in {t["name"] for t in out.btf_named() if t["kind"] == 15}


def test_libbpf_linker_links_the_slot_and_license_cases_too(bpftool):
    """The reference for the two above: bpftool gen object links each."""
    v, d = _map_in_map()
    r = v.relocs(".rel.maps")[0]
    put(d, r["off"] + 8, "Q", (r["sym"] << 32) | 1, v.bo)
    assert differential.bpftool_links(bytes(d), bpftool)
    v, d = _weak_strong()
    _shdr(v, d, "license", "sh_type", 0x6FFF4C03)
    assert differential.bpftool_links(bytes(d), bpftool)


def _data_pointer_retyped(rtype: int) -> bytes:
    """corpus/data_pointers/b.o with its .data pointer to a string (R_BPF_64_ABS64
    against the section symbol of .rodata.str1.1) retyped."""
    data = (ROOT / "corpus/data_pointers/b.o").read_bytes()
    v, d = ElfView(data), bytearray(data)
    r = v.relocs(".rel.data")[1]
    assert r["type"] == 2 and v.symbols()[r["sym"]]["type"] == 3
    put(d, r["off"] + 8, "Q", (r["sym"] << 32) | rtype, v.bo)
    return bytes(d)


def test_instruction_relocation_against_a_section_in_data_is_refused_by_the_reader():
    """Soak seed 0 (122 corpus objects), input set 1363: that pointer retyped
    R_BPF_64_64.  Once R_BPF_64_64 in data counted 8 bytes, not 16, the reader let it
    through and the relocation phase refused it, by no documented rule.  Only a
    pointer carries a section symbol's target in data; libbpf's linker refuses every
    relocation against a section symbol in data.  Now the reader does, under 'elf'."""
    verdict = differential.judge("b.o", _data_pointer_retyped(1))
    assert verdict.kind == differential.REFUSED and verdict.rule == "elf", verdict
    assert "(R_BPF_64_64) against section '.rodata.str1.1' in a data section" in \
        verdict.detail


def test_libbpf_linker_refuses_it_too(bpftool):
    assert not differential.bpftool_links(_data_pointer_retyped(1), bpftool)


def _rename_as_btf(sec: str) -> bytes:
    """weak_strong/a.o with section ``sec`` given the name of its .BTF (and the
    relocation section of ``sec``, if any, that of .rel.BTF)."""
    v, d = _weak_strong()
    off, code = SHDR_FIELDS["sh_name"]
    for old, new in ((sec, ".BTF"), (".rel" + sec, ".rel.BTF")):
        if v.by_name(old) is not None:
            name = struct.unpack_from(v.bo + code, d, v.by_name(new).hdr_off + off)[0]
            put(d, v.by_name(old).hdr_off + off, code, name, v.bo)
    return bytes(d)


def test_of_two_btf_sections_the_last_is_read():
    """Soak seed 1, input set 17816: a flipped byte in the string '.rel.BTF.ext'
    renamed .BTF.ext (which shares it) '.BTF', after the real one.  libbpf's open and
    linker read the *last* .BTF of an object; bpflink read the first, so it linked an
    output with BTF (its data maps mmapable) of an input libbpf had opened without
    (its BTF unparseable).  Now bpflink reads the last too: refused under 'btf', as
    libbpf's linker refuses it.  And a section before the real .BTF named '.BTF' no
    longer hides it: that object links."""
    last = _rename_as_btf(".BTF.ext")
    assert oracle.libbpf().describe_mem(last)[0] is not None, "libbpf must open the input"
    verdict = differential.judge("a.o", last)
    assert verdict.kind == differential.REFUSED and verdict.rule == "btf", verdict
    assert "broken BTF" in verdict.detail
    first = _rename_as_btf(".debug_abbrev")
    verdict = differential.judge("a.o", first)
    assert verdict.kind == differential.LINKED, verdict.detail


def test_libbpf_linker_refuses_a_last_btf_it_cannot_parse(bpftool):
    assert not differential.bpftool_links(_rename_as_btf(".BTF.ext"), bpftool)
