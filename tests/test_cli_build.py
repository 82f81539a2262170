"""bpflink in a build: archives, link maps, depfiles, response files, diagnostics, stdout.

Every test runs the installed console script (``.venv/bin/bpflink``, beside
the interpreter running the suite) in a subprocess, on real files: archives
made by binutils' ``ar rcs``, dependency files read by GNU make.  The
archive scenario is ``corpus/archive_lazy`` (its sources say which member
must be taken and why).
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import bpflink
from bpflink.cli import split_response_file

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
LAZY = CORPUS / "archive_lazy"
CROSS = [CORPUS / "cross_call" / "a.o", CORPUS / "cross_call" / "b.o"]
GOLDEN = Path(__file__).resolve().parent / "golden"
BPFLINK = Path(sys.executable).with_name("bpflink")
MEMBERS = ["mul.o", "add.o", "unused.o", "shadow.o", "weakdef.o"]     # libarith.a, in order


def bpflink_cli(*args, cwd=None, env=None, **kw) -> subprocess.CompletedProcess:
    assert BPFLINK.exists(), f"{BPFLINK}: the package is not installed in this venv"
    return subprocess.run([str(BPFLINK), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, timeout=120, **kw)


def text(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.decode()


@pytest.fixture
def lazy(tmp_path) -> Path:
    """A directory with archive_lazy's objects and ``libarith.a`` made by ``ar rcs``."""
    ar = shutil.which("ar")
    assert ar, "binutils' ar is needed (apt-get install binutils)"
    for src in LAZY.glob("*.o"):
        shutil.copy(src, tmp_path / src.name)
    subprocess.run([ar, "rcs", "libarith.a", *MEMBERS], cwd=tmp_path, check=True)
    return tmp_path


# -- static archives ------------------------------------------------------------------------

WHY_PROG = ("reference\textracted\tsymbol\n"
            "prog.o\tlibarith.a(add.o)\tlib_add\n"
            "libarith.a(add.o)\tlibarith.a(mul.o)\tlib_mul\n")


def test_archive_gives_only_the_members_needed_and_they_run(lazy, kernel):
    """add.o for lib_add, then mul.o for add.o; unused.o, the kfunc-named shadow.o and
    weakdef.o stay out.  Same bytes as linking the members as objects; runs: 484."""
    proc = bpflink_cli("prog.o", "libarith.a", "-o", "out.o", "--why-extract", "why.txt",
                       cwd=lazy)
    assert proc.returncode == 0 and text(proc) == "", text(proc)
    assert (lazy / "why.txt").read_text() == WHY_PROG
    plain = bpflink_cli("prog.o", "add.o", "mul.o", "-o", "plain.o", cwd=lazy)
    assert plain.returncode == 0, text(plain)
    assert (lazy / "out.o").read_bytes() == (lazy / "plain.o").read_bytes()
    assert kernel.load(lazy / "out.o").run("ar_prog") == 484


def test_archive_before_the_object_that_needs_it(lazy):
    """lld's order-free archives: a later object's reference takes an earlier archive's member."""
    proc = bpflink_cli("libarith.a", "prog.o", "-o", "out.o", "--why-extract", "-", cwd=lazy)
    assert proc.returncode == 0, text(proc)
    assert proc.stdout.decode() == WHY_PROG
    assert (lazy / "out.o").read_bytes() == bpflink.link(
        [lazy / "prog.o", lazy / "add.o", lazy / "mul.o"]).data


def test_weak_reference_takes_no_member(lazy):
    proc = bpflink_cli("weakref.o", "libarith.a", "-o", "out.o", "--why-extract", "why.txt",
                       cwd=lazy)
    assert proc.returncode == 0, text(proc)
    assert (lazy / "why.txt").read_text() == "reference\textracted\tsymbol\n"
    assert "lib_optional: undefined symbol" in text(proc)


def test_library_reports_the_members_used(lazy):
    linker = bpflink.Linker()
    linker.add_file(lazy / "prog.o")
    linker.add_file(lazy / "libarith.a")
    result = linker.link()
    assert result.inputs_used == [str(lazy / "prog.o"), f"{lazy}/libarith.a(add.o)",
                                  f"{lazy}/libarith.a(mul.o)"]
    assert [(e.member.rsplit("(", 1)[1], e.symbol) for e in result.extractions] == \
        [("add.o)", "lib_add"), ("mul.o)", "lib_mul")]


def test_whole_archive_toggles_apply_to_the_archives_after_them(lazy):
    subprocess.run(["ar", "rcs", "libunused.a", "unused.o"], cwd=lazy, check=True)
    subprocess.run(["ar", "rcs", "libplain.a", "mul.o", "add.o"], cwd=lazy, check=True)
    proc = bpflink_cli("prog.o", "--whole-archive", "libunused.a", "--no-whole-archive",
                       "libplain.a", "-o", "out.o", "--why-extract", "-", cwd=lazy)
    assert proc.returncode == 0, text(proc)
    assert proc.stdout.decode() == (
        "reference\textracted\tsymbol\n"
        "--whole-archive\tlibunused.a(unused.o)\t\n"
        "prog.o\tlibplain.a(add.o)\tlib_add\n"
        "libplain.a(add.o)\tlibplain.a(mul.o)\tlib_mul\n")
    assert (lazy / "out.o").read_bytes() == bpflink.link(
        [lazy / n for n in ("prog.o", "unused.o", "add.o", "mul.o")]).data
    # every member, in archive order, at the archive's place
    proc = bpflink_cli("prog.o", "--whole-archive", "libplain.a", "-o", "all.o", cwd=lazy)
    assert proc.returncode == 0, text(proc)
    assert (lazy / "all.o").read_bytes() == bpflink.link(
        [lazy / n for n in ("prog.o", "mul.o", "add.o")]).data


def test_archive_alone_links_nothing_and_says_why(lazy):
    proc = bpflink_cli("libarith.a", "-o", "out.o", cwd=lazy)
    assert proc.returncode == 1
    assert text(proc).startswith("bpflink: error: no input objects: an archive gives only "), \
        text(proc)
    assert "--whole-archive" in text(proc) and not (lazy / "out.o").exists()


def test_member_that_is_not_a_bpf_object_is_named(lazy):
    (lazy / "README").write_text("not an object\n")
    shutil.copy("/bin/true", lazy / "true.o")
    subprocess.run(["ar", "rcs", "libbad.a", "add.o", "README", "true.o"], cwd=lazy,
                   check=True)
    proc = bpflink_cli("prog.o", "libbad.a", "-o", "out.o", cwd=lazy)
    assert proc.returncode == 1
    err = text(proc).splitlines()
    assert err[0] == ("bpflink: error: libbad.a(README): archive member is not a usable BPF "
                      "object: not an ELF file"), err
    assert err[2].startswith("bpflink: error: libbad.a(true.o): archive member is not a "
                             "usable BPF object: not a 64-bit ELF object") or \
        err[2].startswith("bpflink: error: libbad.a(true.o): archive member is not a usable "
                          "BPF object: not a BPF object"), err
    assert "Traceback" not in text(proc) and not (lazy / "out.o").exists()


# -- link map ---------------------------------------------------------------------------------

def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BPFLINK_UPDATE_GOLDEN"):
        path.write_text(actual)
    assert actual == path.read_text(), f"{name} differs from the golden file"


def test_map_of_every_edge_kind_matches_golden(tmp_path):
    src = CORPUS / "graph_all_kinds"
    proc = bpflink_cli("a.o", "b.o", "-o", tmp_path / "out.o", "--map", tmp_path / "out.map",
                       cwd=src)
    assert proc.returncode == 0, text(proc)
    _golden("map_graph_all_kinds.txt", (tmp_path / "out.map").read_text())


def test_map_of_tagged_types_matches_golden(tmp_path):
    """Part 3 with ctor/dtor tags on a struct: the uses edges to it and its tag edges."""
    src = CORPUS / "tag_ctor_dtor"
    proc = bpflink_cli("a.o", "b.o", "-o", tmp_path / "out.o", "--map", tmp_path / "out.map",
                       cwd=src)
    assert proc.returncode == 0, text(proc)
    _golden("map_tag_ctor_dtor.txt", (tmp_path / "out.map").read_text())


def test_map_of_an_archive_link_matches_golden_and_the_library(lazy):
    proc = bpflink_cli("prog.o", "libarith.a", "-o", "out.o", "--map", "out.map", cwd=lazy)
    assert proc.returncode == 0, text(proc)
    written = (lazy / "out.map").read_text()
    _golden("map_archive_lazy.txt", written)
    cwd = os.getcwd()
    os.chdir(lazy)
    try:
        result = bpflink.link(["prog.o", "libarith.a"])
    finally:
        os.chdir(cwd)
    assert result.map.render() == written
    assert result.map.inputs == ("prog.o", "libarith.a(add.o)", "libarith.a(mul.o)")
    lock = next(s for s in result.map.symbols if s.name == "bpf_rcu_read_lock")
    assert (lock.defined_in, lock.kernel_extern, lock.declared) == (None, ".ksyms", ("prog.o",))


def test_map_names_weak_losers_and_declarations(tmp_path):
    src = CORPUS / "extern_weak_strong"
    proc = bpflink_cli("a.o", "weak.o", "strong.o", "-o", tmp_path / "o.o", "--map", "-",
                       cwd=src)
    assert proc.returncode == 0, text(proc)
    lines = proc.stdout.decode().splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("  pick: "))
    assert lines[i].startswith("  pick: global func, defined in strong.o at .text+0x"), lines[i]
    assert lines[i + 1:i + 3] == ["      lost (weak definition): weak.o",
                                  "      declared in a.o"]


# -- depfile ----------------------------------------------------------------------------------

def test_depfile_names_output_inputs_and_members(lazy):
    proc = bpflink_cli("prog.o", "libarith.a", "-o", "out.o", "--depfile", "out.d", cwd=lazy)
    assert proc.returncode == 0, text(proc)
    assert (lazy / "out.d").read_text() == (
        "out.o: prog.o libarith.a\n"
        "# archive members linked: libarith.a(add.o) libarith.a(mul.o)\n"
        "\nprog.o:\n\nlibarith.a:\n")


MAKEFILE = """\
out.o: {prog} libarith.a
\t{bpflink} {prog} libarith.a -o $@ --depfile out.d
-include out.d
"""


def _make(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    make = shutil.which("make")
    assert make, "GNU make is needed (apt-get install make)"
    return subprocess.run([make, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_depfile_drives_make_with_awkward_names(lazy):
    """A prerequisite named 'my prog$1#.o' survives make's parsing; a deleted input does
    not break the next make (phony targets); touching an input rebuilds."""
    weird = "my prog$1#.o"
    shutil.copy(lazy / "prog.o", lazy / weird)
    esc = weird.replace("$", "$$").replace("#", "\\#").replace(" ", "\\ ")
    quoted = "'" + weird.replace("$", "$$") + "'"
    (lazy / "Makefile").write_text(MAKEFILE.format(prog=esc, bpflink=BPFLINK)
                                   .replace(f"{BPFLINK} {esc}", f"{BPFLINK} {quoted}"))
    first = _make(lazy)
    assert first.returncode == 0, first.stderr
    assert "\\ prog$$1\\#.o" in (lazy / "out.d").read_text()
    assert _make(lazy, "-q", "out.o").returncode == 0           # up to date
    os.utime(lazy / weird, (2e9, 2e9))                           # the weird input is newer
    assert _make(lazy, "-q", "out.o").returncode == 1, "make did not read the escaped name"
    assert _make(lazy).returncode == 0
    # the input goes away and the Makefile no longer names it: the depfile still does,
    # and only its phony target keeps make from failing
    (lazy / weird).unlink()
    (lazy / "Makefile").write_text(MAKEFILE.format(prog="prog.o", bpflink=BPFLINK))
    again = _make(lazy)
    assert again.returncode == 0, again.stderr
    assert "No rule to make target" not in again.stderr


def test_depfile_needs_an_output_file(lazy):
    proc = bpflink_cli("prog.o", "libarith.a", "-o", "-", "--depfile", "d", cwd=lazy)
    assert proc.returncode == 2 and "--depfile needs an output file" in text(proc)


def test_map_docstring_sample_is_the_golden():
    from bpflink import linkmap

    doc = linkmap.__doc__
    start = doc.index("    # bpflink link map")
    block = doc[start:doc.index("\n\nOffsets and sizes", start)]
    sample = "\n".join(line[4:] for line in block.splitlines()) + "\n"
    assert sample == (GOLDEN / "map_graph_all_kinds.txt").read_text()


# -- -o - -------------------------------------------------------------------------------------

def test_output_to_stdout_is_the_object_and_nothing_else(tmp_path):
    proc = bpflink_cli(CROSS[0], "-o", "-", cwd=tmp_path)        # a.o alone: one warning
    assert proc.returncode == 0
    assert proc.stdout == bpflink.link([CROSS[0]]).data
    assert "warning" in text(proc)                                # diagnostics: stderr only
    assert os.listdir(tmp_path) == []                             # no file, not even a temp


def test_output_to_stdout_refuses_a_terminal(tmp_path):
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([str(BPFLINK), *map(str, CROSS), "-o", "-"], stdout=slave,
                              stderr=subprocess.PIPE, timeout=60, cwd=tmp_path)
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith("bpflink: error: refusing to write a binary object "
                                           "to a terminal")


def test_stdout_has_one_writer(tmp_path):
    for extra in (["--print-callgraph"], ["--map", "-"], ["--why-extract", "-"]):
        proc = bpflink_cli(*CROSS, "-o", "-", *extra, cwd=tmp_path)
        assert proc.returncode == 2, (extra, text(proc))
        assert proc.stdout == b""


def _is_null_device(path: str | Path) -> bool:
    st = os.lstat(path)
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)


def test_output_to_a_device_or_fifo_is_written_in_place(tmp_path):
    """Renaming over a device node would replace it with a regular file (as root,
    /dev/null itself): non-regular outputs are opened and written instead."""
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    proc = bpflink_cli(*CROSS, "-o", null, "--map", null, "--why-extract", null)
    assert proc.returncode == 0, text(proc)
    assert _is_null_device(null) and os.listdir(tmp_path) == ["null"]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    proc = bpflink_cli(*CROSS, "-o", fifo)
    got, _ = reader.communicate(timeout=60)
    assert proc.returncode == 0 and got == bpflink.link(CROSS).data
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_output_to_dev_null_leaves_dev_null_alone(tmp_path):
    assert _is_null_device("/dev/null"), "/dev/null was already broken before this test"
    proc = bpflink_cli(*CROSS, "-o", "/dev/null", "--map", "/dev/null")
    assert proc.returncode == 0, text(proc)
    assert _is_null_device("/dev/null")


# -- response files -----------------------------------------------------------------------------

@pytest.mark.parametrize("line,args", [
    # libiberty's own buildargv test vectors (argv.c, #ifdef MAIN)
    ("a simple command line", ["a", "simple", "command", "line"]),
    ("arg 'foo' is single quoted", ["arg", "foo", "is", "single", "quoted"]),
    ('arg "bar" is double quoted', ["arg", "bar", "is", "double", "quoted"]),
    ('arg "foo bar" has embedded whitespace', ["arg", "foo bar", "has", "embedded",
                                               "whitespace"]),
    ("arg 'Jack said \\'hi\\'' has single quotes", ["arg", "Jack said 'hi'", "has", "single",
                                                    "quotes"]),
    ("arg 'Jack said \\\"hi\\\"' has double quotes", ["arg", 'Jack said "hi"', "has", "double",
                                                      "quotes"]),
    ("trailing-whitespace ", ["trailing-whitespace"]),
    ("", []),
    (" \n\t ", []),
    ("a\\ b c\\\\d 'e'\"f\"g '' x", ["a b", "c\\d", "efg", "", "x"]),
])
def test_response_file_splitting_matches_libiberty(line, args):
    assert split_response_file(line) == args


def test_response_files_nest_and_quote(tmp_path):
    spaced = tmp_path / "dir with space"
    spaced.mkdir()
    for p in CROSS:
        shutil.copy(p, spaced / p.name)
    (tmp_path / "inner.rsp").write_text("'dir with space/b.o'\n-o \"out put.o\"\n")
    (tmp_path / "outer.rsp").write_text("dir\\ with\\ space/a.o @inner.rsp --map=m.map\n")
    proc = bpflink_cli("@outer.rsp", cwd=tmp_path)
    assert proc.returncode == 0, text(proc)
    assert (tmp_path / "out put.o").read_bytes() == bpflink.link(CROSS).data
    assert (tmp_path / "m.map").exists()


def test_missing_response_file_stays_an_argument(tmp_path):
    proc = bpflink_cli(*CROSS, "@nowhere.rsp", "-o", "out.o", cwd=tmp_path)
    assert proc.returncode == 1
    assert text(proc).startswith("bpflink: error: @nowhere.rsp: cannot read input: No such "
                                 "file or directory"), text(proc)


def test_response_file_errors(tmp_path):
    (tmp_path / "d").mkdir()
    proc = bpflink_cli("@d", cwd=tmp_path)
    assert proc.returncode == 2 and text(proc) == "bpflink: error: @-file refers to a " \
        "directory: d\n"
    (tmp_path / "self.rsp").write_text("@self.rsp")
    proc = bpflink_cli("@self.rsp", cwd=tmp_path)
    assert proc.returncode == 2 and text(proc) == "bpflink: error: too many @-files " \
        "encountered\n"


# -- diagnostics --------------------------------------------------------------------------------

def test_quiet_prints_errors_only(tmp_path):
    proc = bpflink_cli(CROSS[0], "-o", tmp_path / "w.o")
    assert proc.returncode == 0 and "warning: " in text(proc)
    proc = bpflink_cli(CROSS[0], "-q", "-o", tmp_path / "w.o")
    assert proc.returncode == 0 and text(proc) == ""
    dup = CORPUS / "err_dup_strong"
    proc = bpflink_cli(dup / "a.o", dup / "b.o", "-q", "-o", tmp_path / "e.o")
    assert proc.returncode == 1 and text(proc).startswith("bpflink: error: ")
    proc = bpflink_cli(*CROSS, "-q", "-v", "-o", tmp_path / "x.o")
    assert proc.returncode == 2


@pytest.fixture
def many_bad(tmp_path) -> list[Path]:
    """25 inputs that are not ELF: the read phase reports every one (25 errors)."""
    paths = []
    for i in range(25):
        p = tmp_path / f"bad{i:02}.o"
        p.write_bytes(b"not an object, number %d\n" % i)
        paths.append(p)
    return paths


@pytest.mark.parametrize("limit,shown", [(None, 20), ("3", 3), ("0", 25), ("25", 25)])
def test_error_limit(many_bad, tmp_path, limit, shown):
    extra = [] if limit is None else ["--error-limit", limit]
    proc = bpflink_cli(*many_bad, "-o", tmp_path / "out.o", *extra)
    assert proc.returncode == 1
    lines = text(proc).splitlines()
    errors = [line for line in lines if ": not an ELF file" in line]
    assert errors == [f"bpflink: error: {p}: not an ELF file" for p in many_bad[:shown]]
    too_many = ("bpflink: error: too many errors emitted, stopping now (use --error-limit=0 "
                "to see all errors)")
    assert lines == errors + ([too_many] if shown < 25 else [])


def _stderr_on_a_terminal(args: list, env: dict[str, str]) -> str:
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([str(BPFLINK), *map(str, args)], stdout=subprocess.DEVNULL,
                              stderr=slave, env=env, timeout=60)
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    return b"".join(chunks).decode()


WARN_COLORED = "bpflink: \x1b[1;35mwarning:\x1b[0m "


@pytest.mark.parametrize("mode,terminal,env,colored", [
    ("always", False, {}, True),
    ("always", False, {"NO_COLOR": "1"}, True),     # the flag beats the environment
    ("never", True, {}, False),
    ("auto", False, {}, False),
    ("auto", True, {}, True),
    ("auto", True, {"NO_COLOR": "1"}, False),
    ("auto", True, {"NO_COLOR": ""}, True),          # no-color.org: set *and* not empty
    ("auto", True, {"TERM": "dumb"}, False),
])
def test_color(tmp_path, mode, terminal, env, colored):
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    base["TERM"] = "xterm"
    args = [CROSS[0], "-o", tmp_path / "w.o", f"--color={mode}"]
    if terminal:
        err = _stderr_on_a_terminal(args, {**base, **env})
    else:
        proc = bpflink_cli(*args, env={**base, **env})
        err = text(proc)
    assert ("\x1b[" in err) == colored, repr(err)
    if colored:
        assert WARN_COLORED in err


def test_json_diagnostics_match_golden(tmp_path):
    dup = CORPUS / "err_dup_strong"
    proc = bpflink_cli("a.o", "b.o", "-o", tmp_path / "out.o", "--diagnostics-format=json",
                       cwd=dup)
    assert proc.returncode == 1
    _golden("diagnostics_err_dup_strong.jsonl", text(proc))
    for line in text(proc).splitlines():
        d = json.loads(line)
        assert list(d) == ["severity", "file", "section", "symbol", "message", "related",
                           "hint"]
        assert d["severity"] in ("error", "warning", "note")


def test_json_diagnostics_warnings_and_limit(tmp_path, many_bad):
    proc = bpflink_cli(CROSS[0], "-o", tmp_path / "w.o", "--diagnostics-format", "json")
    [warning] = [json.loads(line) for line in text(proc).splitlines()]
    assert warning["severity"] == "warning" and warning["symbol"] == "b_compute"
    assert warning["related"] == [f"{CROSS[0]}: extern declaration"]
    proc = bpflink_cli(*many_bad, "-o", tmp_path / "o.o", "--diagnostics-format=json",
                       "--error-limit=2", "--color=always")
    lines = [json.loads(line) for line in text(proc).splitlines()]
    assert [d["file"] for d in lines] == [str(many_bad[0]), str(many_bad[1]), None]
    assert lines[2]["message"].startswith("too many errors emitted")
    assert "\x1b" not in text(proc)


# -- bpftool's argument order -----------------------------------------------------------------

def test_gen_object_is_the_link_in_bpftool_order(tmp_path):
    proc = bpflink_cli("gen", "object", tmp_path / "g.o", *CROSS)
    assert proc.returncode == 0, text(proc)
    assert (tmp_path / "g.o").read_bytes() == bpflink.link(CROSS).data
    proc = bpflink_cli("gen", "object", tmp_path / "m.o", *CROSS, "--map", tmp_path / "m.map")
    assert proc.returncode == 0 and (tmp_path / "m.map").exists()
    proc = bpflink_cli("gen", "object", "-", *CROSS)
    assert proc.returncode == 0 and proc.stdout == bpflink.link(CROSS).data


@pytest.mark.parametrize("argv,message", [
    (["gen", "object", "-o", "x.o", "a.o"], "expected OUT first"),
    (["gen", "object", "x.o", "a.o", "-o", "y.o"], "-o is not accepted"),
    (["gen", "object", "x.o"], "the following arguments are required: IN"),
])
def test_gen_object_usage_errors(tmp_path, argv, message):
    proc = bpflink_cli(*argv, cwd=tmp_path)
    assert proc.returncode == 2 and message in text(proc), text(proc)
    assert os.listdir(tmp_path) == []


def test_gen_object_help():
    proc = bpflink_cli("gen", "object", "--help")
    assert proc.returncode == 0 and proc.stdout.decode().startswith(
        "usage: bpflink gen object [-h] OUT IN [IN ...]")


def _doc_block_after(doc: str, marker: str) -> str:
    """The indented block that follows the first line containing ``marker``."""
    lines = doc[doc.index(marker) + len(marker):].splitlines()[1:]
    while not lines[0].strip():
        lines.pop(0)
    block = []
    for line in lines:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    return "\n".join(block).rstrip("\n") + "\n"


def test_usage_doc_samples_are_the_goldens():
    """docs/usage.md shows the archive map and the JSON diagnostic: the goldens, verbatim."""
    doc = (ROOT / "docs" / "usage.md").read_text()
    assert _doc_block_after(doc, "For\n`prog.o libarith.a` (corpus/archive_lazy):") == \
        (GOLDEN / "map_archive_lazy.txt").read_text()
    assert _doc_block_after(doc, "The duplicate above, as JSON") == \
        (GOLDEN / "diagnostics_err_dup_strong.jsonl").read_text()
    assert WHY_PROG in _doc_block_after(doc, "`--why-extract=FILE` writes lld's table")


def test_options_anywhere_and_clustered(tmp_path):
    """Inputs between options, '--' before inputs, '-qo FILE' clustered: one link."""
    want = bpflink.link(CROSS).data
    for argv in (["-o", "x.o", "--", *CROSS], ["-qo", "x.o", CROSS[0], "--no-dedup", CROSS[1]],
                 [CROSS[0], "-ox.o", "--error-limit", "3", CROSS[1]]):
        (tmp_path / "x.o").unlink(missing_ok=True)
        proc = bpflink_cli(*argv, cwd=tmp_path)
        assert proc.returncode == 0, (argv, text(proc))
        if "--no-dedup" not in argv:
            assert (tmp_path / "x.o").read_bytes() == want


def test_graph_to_stdout_with_dash(tmp_path):
    a = bpflink_cli("graph", *CROSS, cwd=tmp_path)
    b = bpflink_cli("graph", *CROSS, "-o", "-", cwd=tmp_path)
    assert a.returncode == b.returncode == 0 and a.stdout == b.stdout != b""
    assert os.listdir(tmp_path) == []


def test_every_option_has_help_for_the_generated_reference():
    """The reference page is generated from these parsers: no option may lack help."""
    from bpflink.cli import parsers

    for command, parser in parsers().items():
        for action in parser._actions:
            if action.option_strings and action.help is None:
                pytest.fail(f"{command} {action.option_strings[0]}: no help string")


def test_thin_archive_is_refused_plainly(lazy):
    subprocess.run(["ar", "rcsT", "libthin.a", "add.o", "mul.o"], cwd=lazy, check=True)
    proc = bpflink_cli("prog.o", "libthin.a", "-o", "out.o", cwd=lazy)
    assert proc.returncode == 1
    assert text(proc).startswith("bpflink: error: libthin.a: a thin archive (ar T)"), text(proc)


def test_output_to_stdout_failures(tmp_path):
    """A failed link writes nothing to stdout; a closed pipe is an error, not a traceback."""
    dup = CORPUS / "err_dup_strong"
    proc = bpflink_cli(dup / "a.o", dup / "b.o", "-o", "-", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == b"" and "duplicate symbol" in text(proc)
    p = subprocess.Popen([str(BPFLINK), *map(str, CROSS), "-o", "-"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 1
    assert err == "bpflink: error: cannot write output to stdout: Broken pipe\n"
    assert os.listdir(tmp_path) == []


def test_reports_and_output_need_distinct_files(tmp_path):
    proc = bpflink_cli(*CROSS, "-o", "out.o", "--map", "out.o", cwd=tmp_path)
    assert proc.returncode == 1
    assert text(proc) == ("bpflink: error: out.o: the map file and the output are the same "
                          "file; give each its own path\n")
    assert os.listdir(tmp_path) == []
    proc = bpflink_cli(*CROSS, "-o", "out.o", "--depfile", CROSS[0], cwd=tmp_path)
    assert proc.returncode == 1 and "the depfile would overwrite this input" in text(proc)
    assert os.listdir(tmp_path) == []


def test_response_file_that_is_a_device_or_fifo(tmp_path):
    """As libiberty: /dev/zero reads as empty (never forever); a FIFO stays a literal."""
    proc = bpflink_cli("@/dev/zero", *CROSS, "-o", "out.o", cwd=tmp_path)
    assert proc.returncode == 0, text(proc)
    os.mkfifo(tmp_path / "fifo")
    proc = bpflink_cli(*CROSS, "@fifo", "-o", "out.o", cwd=tmp_path)
    assert proc.returncode == 1 and text(proc).startswith("bpflink: error: @fifo: cannot read "
                                                          "input"), text(proc)
