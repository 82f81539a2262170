"""docs/examples/make/Makefile, run by real ``make`` as docs/make.md describes it.

The example compiles with the pinned clang (``corpus.build.compile_command``),
archives with ``ar``, links with the installed ``bpflink`` console script, and
the kernel runs the result.  Then an input changes: make must relink, and the
new object must compute the new value.  A link that fails must leave the
previous output as it was (why the Makefile needs no ``.DELETE_ON_ERROR``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from corpus.build import compile_command

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "make"


def bpflink_script() -> str:
    """The installed console script: next to this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "bpflink"
    found = str(beside) if beside.exists() else shutil.which("bpflink")
    if found is None:
        pytest.fail("the bpflink console script is not installed (pip install -e .)")
    return found


def _make_vars(work: Path) -> list[str]:
    cmd = compile_command(work / "counter.c", "counter.o")
    assert cmd[-4:] == ["-c", "counter.c", "-o", "counter.o"]
    return [f"CLANG={shlex.join(cmd[:4])}", f"CFLAGS={shlex.join(cmd[4:-4])}",
            f"BPFLINK={bpflink_script()}"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    work = tmp_path / "make"
    shutil.copytree(EXAMPLE, work)
    return work


def make(work: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.fail("make is not installed (Debian package: make)")
    proc = subprocess.run(["make", "--no-print-directory", *args, *_make_vars(work)], cwd=work,
                          capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, f"make {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def edit(path: Path, old: str, new: str) -> None:
    """Change a source so make sees it newer than everything built from it."""
    before = max(p.stat().st_mtime_ns for p in path.parent.iterdir())
    path.write_text(path.read_text().replace(old, new))
    if path.stat().st_mtime_ns <= before:      # coarse clock: step past the newest file
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def symbols(path: Path) -> set[str]:
    with path.open("rb") as f:
        return {s.name for s in ELFFile(f).get_section_by_name(".symtab").iter_symbols()}


def test_make_builds_links_and_relinks_after_a_change(project, kernel):
    out = make(project, "-j4").stdout
    assert "gen object legacy.bpf.o" in out
    for target in ("counter.bpf.o", "legacy.bpf.o"):
        assert kernel.load(project / target).run("count") == 40

    assert make(project, "-q", check=False).returncode == 0, "up to date after one run"

    edit(project / "util_math.c", "#define FACTOR 10", "#define FACTOR 100")
    assert make(project, "-q", check=False).returncode == 1, "make must see the change"
    out = make(project, "-j4").stdout
    assert "counter.bpf.o --depfile" in out and "gen object legacy.bpf.o" in out, out
    for target in ("counter.bpf.o", "legacy.bpf.o"):
        assert kernel.load(project / target).run("count") == 400
    assert make(project, "-q", check=False).returncode == 0


def test_depfile_and_archive_member_selection(project):
    make(project, "counter.bpf.o")
    # The same text docs/make.md shows: the rule, the members taken, -MP phony targets.
    assert (project / "counter.bpf.o.d").read_text() == (
        "counter.bpf.o: counter.o libutil.a\n"
        "# archive members linked: libutil.a(util_math.o)\n"
        "\n"
        "counter.o:\n"
        "\n"
        "libutil.a:\n")
    # Only the member that defines a needed symbol was linked.
    linked = symbols(project / "counter.bpf.o")
    assert "scale" in linked and "unused_helper" not in linked


def test_gen_object_is_the_native_link(project):
    """bpftool's argument order links the same bytes as ``IN... -o OUT``."""
    make(project, "legacy.bpf.o")
    native = project / "native.bpf.o"
    subprocess.run([bpflink_script(), "counter.o", "util_math.o", "-o", str(native)],
                   cwd=project, check=True)
    assert (project / "legacy.bpf.o").read_bytes() == native.read_bytes()


def test_failed_link_keeps_the_previous_output(project):
    """Why the Makefile needs no .DELETE_ON_ERROR: a failed link writes nothing."""
    make(project, "counter.bpf.o")
    before = (project / "counter.bpf.o").read_bytes()
    # A declaration that disagrees with the archive's definition is a link
    # error (recursion would only warn: it sinks one program, not the link).
    edit(project / "counter.c", "int scale(int x);", "int scale(int x, int y);")
    edit(project / "counter.c", "\treturn scale(4);", "\treturn scale(4, 1);")
    failed = make(project, "counter.bpf.o", check=False)
    assert failed.returncode != 0
    assert "scale" in failed.stderr and "type" in failed.stderr, failed.stderr
    assert (project / "counter.bpf.o").read_bytes() == before
    assert not [p.name for p in project.iterdir() if p.name.startswith(".counter.bpf.o")]
    # The old output is older than its changed input, so the next make relinks.
    assert make(project, "-q", "counter.bpf.o", check=False).returncode == 1
