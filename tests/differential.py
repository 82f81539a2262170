"""The differential property: bpflink is never stricter than libbpf.

For one object, :func:`judge` asks libbpf 1.6 (``bpf_object__open_mem``, the
``pylibbpf`` wheel, through ``tests.oracle``) to open it.  If libbpf does,
bpflink must link the object alone, and libbpf must open the output and find
the same programs (name, section, type) and maps (name, type, key and value
size, max_entries, flags, map_extra).  bpflink may refuse the object only by
a documented rule: each error carries ``Diagnostic.rule``, a key of
``bpflink.errors.RULES``, and the rules in :data:`DOCUMENTED` are the ones
``docs/guarantees.md`` justifies.  Anything else is a violation:

``violation``  bpflink crashed, refused with an undocumented rule (or none),
               or linked an output libbpf does not open or sees differently.

Optionally (``with_bpftool``) a refusal is also tried with Debian's
``bpftool gen object`` (libbpf 1.1's static linker).  The rule ``elf`` says
libbpf's linker refuses the same inputs, so an ``elf`` refusal that bpftool
links is a violation too; for the other rules the soak only counts them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import traceback
from dataclasses import dataclass

import bpflink
from bpflink.errors import RULES

from tests import oracle

UNOPENED, LINKED, REFUSED, VIOLATION = "unopened", "linked", "refused", "violation"

# Rules under which bpflink may refuse what libbpf opens (docs/guarantees.md,
# "Never stricter than libbpf").  "relocate" and "output" are not here: with the
# reader's checks passed, one input alone must relocate and encode.
DOCUMENTED = ("elf", "elf-kept-section", "elf-name", "elf-symbol", "btf", "btf-ext", "load",
              "resolve", "graph")
# Rules whose stated reason is "libbpf's static linker refuses these too".
LINKER_REFUSES_TOO = ("elf",)
assert set(DOCUMENTED) <= set(RULES)


@dataclass
class Verdict:
    kind: str
    rule: str | None = None         # refused: the rule of the first error
    detail: str = ""
    bpftool_linked: bool = False    # refused, yet bpftool gen object links it (with_bpftool)


def _first_line(e: bpflink.LinkError) -> str:
    return e.errors[0].render().splitlines()[0] if e.errors else str(e)


def judge(name: str, data: bytes, with_bpftool: bool = False) -> Verdict:
    """The property for one object (in this process; libbpf never loads anything).

    ``with_bpftool``: try every refusal with ``bpftool gen object``; under a rule
    of LINKER_REFUSES_TOO, one that bpftool links is a violation.
    """
    lb = oracle.libbpf()
    shape, _log = lb.describe_mem(data)
    if shape is None:
        return Verdict(UNOPENED)
    try:
        result = oracle.link_datas([name], [data])
    except bpflink.LinkError as e:
        detail = _first_line(e)
        rules = {d.rule for d in e.errors}
        if not e.errors or not rules <= set(DOCUMENTED):
            return Verdict(VIOLATION, e.errors[0].rule if e.errors else None,
                           f"refused by an undocumented rule {sorted(map(str, rules))}: {detail}")
        rule = e.errors[0].rule
        linked = with_bpftool and bpftool_links(data)
        if linked and rule in LINKER_REFUSES_TOO:
            return Verdict(VIOLATION, rule, f"rule '{rule}' says libbpf's static linker "
                           f"refuses this too, but bpftool gen object links it: {detail}", True)
        return Verdict(REFUSED, rule, detail, linked)
    except Exception as e:      # noqa: BLE001 - the finding
        tb = traceback.extract_tb(e.__traceback__)
        where = "".join(f" <- {os.path.basename(f.filename)}:{f.lineno}({f.name})"
                        for f in reversed(tb[-4:]))
        return Verdict(VIOLATION, None, f"crash: {type(e).__name__}: {e}{where}")
    out, log = lb.describe_mem(result.data)
    if out is None:
        return Verdict(VIOLATION, None, f"libbpf does not open the output: {log[-300:]}")
    if out != shape:
        lost = (sorted(set(shape.programs) - set(out.programs)),
                sorted(set(shape.maps) - set(out.maps)))
        new = (sorted(set(out.programs) - set(shape.programs)),
               sorted(set(out.maps) - set(shape.maps)))
        return Verdict(VIOLATION, None, f"output differs: input only {lost}, output only {new}")
    return Verdict(LINKED)


def bpftool_available() -> bool:
    return shutil.which("bpftool") is not None


def bpftool_links(data: bytes, bpftool: str = "bpftool") -> bool:
    """Does libbpf's static linker (``bpftool gen object``) link this object alone?"""
    with tempfile.TemporaryDirectory(prefix="bpflink-diff-") as tmp:
        src, out = os.path.join(tmp, "in.o"), os.path.join(tmp, "out.o")
        with open(src, "wb") as fh:
            fh.write(data)
        try:
            proc = subprocess.run([str(bpftool), "gen", "object", out, src],
                                  capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return proc.returncode == 0


def mutated_objects(case) -> list[tuple[str, bytes]]:
    """The objects of a mutation case (tests.mutators.make_case) that were mutated."""
    originals = case.seed.datas()
    return [(n, d) for n, d, o in zip(case.names, case.datas, originals) if d != o]
