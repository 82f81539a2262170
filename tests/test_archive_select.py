"""Which archive members a link takes: lld's lazy-symbol rules, table-driven on tiny inputs.

Each input is a stand-in with only what :func:`select_inputs` reads: a name,
a symbol table of ``"+name"`` (defines), ``"-name"`` (needs), ``"~name"``
(needs weakly) and ``"kname"`` (a kfunc extern, listed in ``.ksyms``).  The
end-to-end tests with real ``ar`` archives, the kernel and the CLI are in
``test_cli_build.py``.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bpflink.btf.types import Kind
from bpflink.elf.constants import STB_GLOBAL, STB_WEAK
from bpflink.elf.reader import Symbol
from bpflink.linker.archive import Archive, render_why_extract, select_inputs


def obj(name: str, *syms: str):
    symbols = [Symbol(0, "", 0, 0, 0, 0, 0, 0, 0)]
    types: list = [SimpleNamespace(kind=Kind.UNKN, name="")]
    ksyms = []
    for i, s in enumerate(syms, 1):
        kind, sym = s[0], s[1:]
        bind = STB_WEAK if kind == "~" else STB_GLOBAL
        shndx = 1 if kind == "+" else 0
        symbols.append(Symbol(i, sym, 0, 0, bind, 0, 0, 0, shndx))
        if kind == "k":
            types.append(SimpleNamespace(kind=Kind.FUNC, name=sym))
            ksyms.append((len(types) - 1, 0, 0))
    types.append(SimpleNamespace(kind=Kind.DATASEC, name=".ksyms", data=ksyms))
    return SimpleNamespace(name=name, symbols=symbols, btf=SimpleNamespace(types=types))


def lib(name: str, *members, whole: bool = False) -> Archive:
    return Archive(name, [obj(f"{name}({m[0]})", *m[1:]) for m in members], whole)


CASES = {
    "takes a member, and what that member needs, from earlier in the archive": (
        [obj("p.o", "-a"), lib("l.a", ("b.o", "+b"), ("a.o", "+a", "-b"), ("u.o", "+u"))],
        ["p.o", "l.a(a.o)", "l.a(b.o)"],
        ["p.o\tl.a(a.o)\ta", "l.a(a.o)\tl.a(b.o)\tb"]),
    "a weak reference takes nothing": (
        [obj("p.o", "~a"), lib("l.a", ("a.o", "+a"))], ["p.o"], []),
    "a name already defined (even weakly) takes nothing": (
        [obj("p.o", "-a"), obj("w.o", "+a"), lib("l.a", ("a.o", "+a"))], ["p.o", "w.o"], []),
    "a kfunc extern takes nothing": (
        [obj("p.o", "kbpf_x"), lib("l.a", ("x.o", "+bpf_x"))], ["p.o"], []),
    "the first archive defining a name provides it": (
        [obj("p.o", "-a"), lib("1.a", ("a.o", "+a")), lib("2.a", ("a.o", "+a"))],
        ["p.o", "1.a(a.o)"], ["p.o\t1.a(a.o)\ta"]),
    "an archive before the object that needs it": (
        [lib("l.a", ("a.o", "+a")), obj("p.o", "-a")], ["p.o", "l.a(a.o)"],
        ["p.o\tl.a(a.o)\ta"]),
    "an object after the archive defines the name first: nothing taken": (
        [lib("l.a", ("a.o", "+a")), obj("d.o", "+a"), obj("p.o", "-a")], ["d.o", "p.o"], []),
    "depth first, like lld: a member taken for x also defines y": (
        [obj("p.o", "-x", "-y"), lib("l.a", ("xy.o", "+x", "+y"), ("y.o", "+y"))],
        ["p.o", "l.a(xy.o)"], ["p.o\tl.a(xy.o)\tx"]),
    "depth first: a member's needs come before its needer's next reference": (
        [obj("p.o", "-a", "-c"), lib("l.a", ("a.o", "+a", "-b"), ("b.o", "+b"),
                                     ("c.o", "+c"))],
        ["p.o", "l.a(a.o)", "l.a(b.o)", "l.a(c.o)"],
        ["p.o\tl.a(a.o)\ta", "l.a(a.o)\tl.a(b.o)\tb", "p.o\tl.a(c.o)\tc"]),
    "whole archive: every member, in archive order, at its place": (
        [obj("p.o", "-a"), lib("l.a", ("u.o", "+u"), ("a.o", "+a"), whole=True),
         obj("q.o")],
        ["p.o", "l.a(u.o)", "l.a(a.o)", "q.o"],
        ["--whole-archive\tl.a(u.o)\t", "--whole-archive\tl.a(a.o)\t"]),
    "a chain as long as the archive (no recursion limit)": (
        [obj("p.o", "-f0"), lib("l.a", *[(f"m{i}.o", f"+f{i}", f"-f{i + 1}")
                                         for i in reversed(range(3000))])],
        None, None),
}


@pytest.mark.parametrize("items,objects,why", CASES.values(), ids=CASES.keys())
def test_select(items, objects, why):
    sel = select_inputs(items)
    if objects is None:
        assert len(sel.objects) == 3001 and sel.objects[-1].name == "l.a(m2999.o)"
        return
    assert [o.name for o in sel.objects] == objects
    assert render_why_extract(sel.extractions) == \
        "".join(f"{line}\n" for line in ["reference\textracted\tsymbol", *why])
