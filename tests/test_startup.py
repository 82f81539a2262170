"""Start-up cost: what a bpflink process imports, and the plain classes that spare it.

Most of a small link's time is the interpreter starting and importing; the
link itself is about a millisecond.  So the link path keeps off the costly
standard modules: ``dataclasses`` (it imports inspect, ast, dis and tokenize,
and generates every class's methods with exec), ``typing``, ``tomllib``
(only for a pyproject.toml that may hold a ``[tool.bpflink]`` table), and
the optional ``lief``/``networkx``/pyelftools.  Checked here in a child
process without ``site`` (whose hooks are not bpflink's), plus the value
semantics the hand-written classes must keep from the dataclasses they were.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpflink
from bpflink._namedtuple import NamedTuple
from bpflink.btf.mapdef import MapDef
from bpflink.errors import Diagnostic, Severity, error
from bpflink.graph.rules import (TagRule, _is_c_identifier, _may_name_tool_bpflink,
                                  find_project_config)
from bpflink.linker.archive import Extraction

ROOT = Path(__file__).resolve().parent.parent
SMALL = [str(ROOT / "corpus" / "cross_call" / n) for n in ("a.o", "b.o")]

# Never imported by a plain link (CLI or library) or by ``import bpflink, bpflink.cli``.
# contextlib: ``python -m`` imports it (runpy), the installed ``bpflink`` command need not.
# argparse (with gettext, and re and enum, which it imports): only for a command line
# outside the link's fast path (cli._parse_plain_link), help and usage errors.
HEAVY = ("dataclasses", "typing", "inspect", "ast", "dis", "tokenize", "tomllib", "lief",
         "networkx", "elftools", "pathlib", "shutil", "contextlib", "argparse", "gettext",
         "enum", "re")

_CHILD = """
import sys
import bpflink, bpflink.cli
after_import = sorted(sys.modules)
if sys.argv[1] == "cli":
    rc = bpflink.cli.main(sys.argv[2:])
else:
    rc = 0
    bpflink.link(sys.argv[2:-2], sys.argv[-1])
after_link = sorted(sys.modules)
import json     # last: it imports re
sys.stdout.write(json.dumps({"rc": rc, "import": after_import, "link": after_link}))
"""


def child_modules(cwd: Path, how: str, *argv: str) -> dict[str, object]:
    """Run a link in a fresh interpreter without ``site``; the modules it had loaded."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-S", "-c", _CHILD, how, *argv], cwd=cwd, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def heavy(mods: object) -> list[str]:
    assert isinstance(mods, list)
    return [m for m in mods if m.split(".")[0] in HEAVY]


@pytest.mark.parametrize("how", ["cli", "library"])
def test_a_plain_link_imports_nothing_heavy(tmp_path, how):
    # A pyproject.toml above the working directory that names bpflink (a project
    # that depends on it, and calls a script after it) but has no [tool.bpflink].
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "xdp-thing"\ndependencies = ["bpflink"]\n'
        '[project.scripts]\nbpflink = "bpflink.cli:main_entry"\n[tool.ruff]\nline-length = 99\n')
    work = tmp_path / "src"
    work.mkdir()
    out = tmp_path / "out.o"
    got = child_modules(work, how, *SMALL, "-o", str(out))
    assert got["rc"] == 0
    assert out.read_bytes()[:4] == b"\x7fELF"
    assert "bpflink.graph.checks" in got["link"]     # the graph was built and checked
    assert heavy(got["import"]) == []
    assert heavy(got["link"]) == []


def test_the_command_imports_nothing_heavy(tmp_path):
    # python -m bpflink, through main_entry (its signal handlers too), in a fresh
    # interpreter without site; -X importtime lists every module it imported
    out = tmp_path / "out.o"
    proc = subprocess.run([sys.executable, "-S", "-X", "importtime", "-m", "bpflink", *SMALL,
                           "-o", str(out)], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:4] == b"\x7fELF"
    mods = [line.split("|")[-1].strip() for line in proc.stderr.splitlines()
            if line.startswith("import time:")]
    assert "bpflink.graph.checks" in mods
    # runpy (python -m) imports contextlib; signal's IntEnums are not built
    assert [m for m in heavy(mods) if m != "contextlib"] == []
    assert "signal" not in mods


def test_a_bpflink_table_is_still_read(tmp_path):
    # the same process with a [tool.bpflink] table: tomllib is imported, the rule applies
    (tmp_path / "pyproject.toml").write_text('[tool.bpflink]\ntag-rules = ["ctor:on=type"]\n')
    got = child_modules(tmp_path, "cli", *SMALL,
                        "-o", str(tmp_path / "out.o"))
    assert got["rc"] == 0
    assert "tomllib" in got["link"]
    assert find_project_config(tmp_path) == str(tmp_path / "pyproject.toml")


# Spellings of TOML, each with what tomllib says about data["tool"]["bpflink"].
TOML = [
    '[tool.bpflink]\ntag-rules = []\n',
    '[ tool . bpflink ]\n',
    '[ "tool" . \'bpflink\' ]\n',
    '[[tool.bpflink]]\nx = 1\n',
    '[tool.bpflink.sub]\nx = 1\n',
    '[tool]\nx = 1\nbpflink = {}\n',
    '[tool] # the tools\nbpflink.tag-rules = []\n',
    '["tool"]\r\nbpflink = 1\r\n',
    "[\t'tool'\t]\nx = [\n  [1],\n]\nbpflink = 1\n",
    'tool.bpflink.tag-rules = []\n',
    'tool = { bpflink = { tag-rules = [] } }\n',
    '[tool."bpf\\u006cink"]\n',
    '["\\u0074ool".bpflink]\n',
    '[project]\nname = "bpflink"\n[project.scripts]\nbpflink = "bpflink.cli:main_entry"\n',
    '[project]\nname = "x"\n',
    '[tool.other]\nbpflink = 1\n',
    '[tool.other]\nx = """\n[tool]\n"""\nbpflink = 1\n',
    'a = "[tool]"\nbpflink = 1\n',
    'bpflink = 1\ntools = 2\n',
]


@pytest.mark.parametrize("text", TOML)
def test_a_pyproject_is_parsed_whenever_it_may_hold_the_table(text):
    data = tomllib.loads(text)
    has_table = isinstance(data.get("tool"), dict) and "bpflink" in data["tool"]
    if has_table:
        assert _may_name_tool_bpflink(text.encode())
    if "bpflink" not in text and "\\u" not in text:
        assert not _may_name_tool_bpflink(text.encode())


def test_skipped_files_are_the_ones_without_the_table():
    # the filter does skip something: files that only name bpflink as a project or script
    assert not _may_name_tool_bpflink(TOML[13].encode())
    assert not _may_name_tool_bpflink(TOML[15].encode())
    assert not _may_name_tool_bpflink(TOML[18].encode())


def test_a_broken_file_naming_the_table_is_still_refused(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.bpflink\ntag-rules = [\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        find_project_config(tmp_path)
    # someone else's broken file is passed over, parsed or not
    (tmp_path / "pyproject.toml").write_text("[project\nname = 'bpflink'\n")
    assert find_project_config(tmp_path) != str(tmp_path / "pyproject.toml")


# -- the plain classes keep the dataclasses' value semantics --------------------------------

def test_diagnostic_is_a_value():
    d = error("bad", file="a.o", section=".text", notes=["x"], rule="elf")
    same = Diagnostic(Severity.ERROR, "bad", "a.o", ".text", None, ("x",), None, "elf")
    assert d == same and hash(d) == hash(same) and len({d, same}) == 1
    assert d != d.replace(message="worse") and d.replace(message="bad") == d
    assert d.replace(severity=Severity.WARNING).severity is Severity.WARNING
    assert d.replace(rule=None).file == "a.o"
    assert repr(d) == ("Diagnostic(severity=<Severity.ERROR: 'error'>, message='bad', "
                       "file='a.o', section='.text', symbol=None, notes=('x',), hint=None, "
                       "rule='elf')")
    with pytest.raises(TypeError):
        d.replace(colour="red")


def test_tag_rule_is_an_immutable_value():
    a = TagRule("reset:", sits_on="var")
    b = TagRule("reset:", kind="reset", sits_on="var")
    assert a == b and hash(a) == hash(b) and {a: 1}[b] == 1
    assert a.kind == "reset" and a.why.startswith("a loader that reads reset: tags")
    assert a != TagRule("reset:", sits_on="var", warn=True)
    with pytest.raises(AttributeError):
        a.warn = True       # type: ignore[misc]
    assert repr(a).startswith("TagRule(prefix='reset:', kind='reset', sits_on='var', ")
    with pytest.raises(ValueError):
        TagRule("reset")


def test_map_def_and_extraction_are_values():
    inner = MapDef(type=2, key_size=4)
    m = MapDef(type=12, inner=inner, values_offset=32, slots="map")
    assert m == MapDef(type=12, inner=MapDef(type=2, key_size=4), values_offset=32, slots="map")
    assert hash(m) == hash(MapDef(type=12, inner=inner, values_offset=32, slots="map"))
    assert m != MapDef(type=12)
    assert repr(inner).startswith("MapDef(type=2, key_size=4, value_size=0, ")
    e = Extraction("a.o", "libx.a(x.o)", "f")
    assert e == Extraction("a.o", "libx.a(x.o)", "f") and len({e, Extraction(*"abc")}) == 2


def test_link_result_keeps_its_fields_and_defaults():
    r = bpflink.link(SMALL)
    assert r.data[:4] == b"\x7fELF" and r.output is None and r.warnings == []
    assert r.inputs_used == SMALL and r.extractions == [] and set(r.timings) >= {"read"}
    plain = bpflink.LinkResult(b"x", None, [], None, None)
    assert (plain.timings, plain.inputs_used, plain.extractions, plain.symtab) == ({}, [], [], None)
    assert repr(plain) == ("LinkResult(data=b'x', output=None, warnings=[], callgraph=None, "
                           "timings={}, inputs_used=[], extractions=[])")


class _Pair(NamedTuple):
    """A doc."""

    left: int
    right: str = "r"

    def both(self) -> str:
        return f"{self.left}{self.right}"


def test_named_tuple_without_typing():
    p = _Pair(1)
    assert p == (1, "r") and p.both() == "1r" and _Pair.__doc__ == "A doc."
    assert repr(p) == "_Pair(left=1, right='r')" and p._replace(right="x") == (1, "x")
    assert _Pair._fields == ("left", "right") and _Pair.__module__ == __name__
    with pytest.raises(TypeError, match="without a default follows"):
        class _Bad(NamedTuple):
            a: int = 0
            b: int


# -- the stand-ins for enum and re ------------------------------------------------------------

def test_kind_keeps_the_int_enum_surface():
    from bpflink.btf.types import STRUCT, Kind
    kinds = list(Kind)
    assert len(Kind) == len(kinds) == 20 and [int(k) for k in kinds] == list(range(20))
    assert [k.name for k in kinds][:5] == ["UNKN", "INT", "PTR", "ARRAY", "STRUCT"]
    assert Kind.STRUCT is STRUCT is Kind(4) is kinds[4] and Kind(STRUCT) is STRUCT
    assert STRUCT == 4 and hash(STRUCT) == hash(4) and {4: "s"}[STRUCT] == "s"
    assert STRUCT.value == 4 and isinstance(STRUCT.value, int) and type(STRUCT.value) is int
    assert (str(STRUCT), f"{STRUCT}", f"{STRUCT:>3}") == ("4", "4", "  4")
    assert repr(STRUCT) == "<Kind.STRUCT: 4>" and Kind.ENUM64.name == "ENUM64"
    assert pickle.loads(pickle.dumps(STRUCT)) is STRUCT and copy.deepcopy(STRUCT) is STRUCT
    for bad in (20, -1, 4.0, "4", None):
        with pytest.raises(ValueError, match="is not a valid Kind"):
            Kind(bad)


def test_severity_keeps_the_enum_surface():
    members = list(Severity)
    assert members == [Severity.ERROR, Severity.WARNING, Severity.NOTE]
    assert [(s.name, s.value) for s in members] == [
        ("ERROR", "error"), ("WARNING", "warning"), ("NOTE", "note")]
    assert Severity("warning") is Severity.WARNING
    assert str(Severity.ERROR) == "Severity.ERROR"
    assert repr(Severity.NOTE) == "<Severity.NOTE: 'note'>"
    assert pickle.loads(pickle.dumps(Severity.ERROR)) is Severity.ERROR
    assert copy.deepcopy(Severity.WARNING) is Severity.WARNING
    assert Severity.ERROR != Severity.WARNING and len({*members, *members}) == 3
    with pytest.raises(ValueError, match="is not a valid Severity"):
        Severity("fatal")


_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*\Z"        # the patterns the string tests replace


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ_09-. \n\té٣"), max_size=8) | st.text(max_size=6))
def test_identifier_test_matches_the_pattern(text):
    assert _is_c_identifier(text) == bool(re.match(_IDENTIFIER, text))


_MARK_PARTS = st.sampled_from([".", ".bpflink-", "bpflink", "-", "1", "٣", "x", ".tmp",
                               "tmp", "\n", "/", "a.o"])


@settings(max_examples=600, deadline=None)
@given(st.lists(_MARK_PARTS, max_size=8).map("".join))
def test_temporary_name_test_matches_the_pattern(path):
    from bpflink.fileio import _TMP_NAME, is_temporary
    assert is_temporary(path) == bool(re.match(_TMP_NAME, os.path.basename(path)))


def test_named_tuple_behaves_as_collections_makes_one():
    import collections
    ref = collections.namedtuple("_Pair", ["left", "right"], defaults=["r"])
    ours, theirs = _Pair(1), ref(1)
    assert ours == theirs and repr(ours) == repr(theirs) and hash(ours) == hash(theirs)
    assert ours._asdict() == theirs._asdict() and ours.__getnewargs__() == (1, "r")
    assert _Pair._field_defaults == ref._field_defaults == {"right": "r"}
    assert _Pair.__match_args__ == ref.__match_args__ == ("left", "right")
    assert _Pair._make([3, "x"]) == (3, "x") and type(_Pair._make([3, "x"])) is _Pair
    assert _Pair(left=2, right="y").right == "y" and _Pair.left.__doc__ == ref.left.__doc__
    assert pickle.loads(pickle.dumps(_Pair(5, "z"))) == _Pair(5, "z")
    assert _Pair.__new__.__doc__ == ref.__new__.__doc__ and _Pair.__slots__ == ()
    match _Pair(7):
        case _Pair(left, right):
            assert (left, right) == (7, "r")
    for call, message in [(lambda: _Pair._make([1]), "Expected 2 arguments, got 1"),
                          (lambda: _Pair(1)._replace(middle=2), "unexpected field names"),
                          (lambda: _Pair(), "missing 1 required positional argument")]:
        with pytest.raises((TypeError, ValueError), match=message):
            call()
