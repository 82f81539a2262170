#!/usr/bin/env python3
"""Build the kernel's BPF selftests from Debian's linux-source-6.1, relink and compare.

    python scripts/selftests.py build  [-j 2] [--force]   # compile into the cache
    python scripts/selftests.py report [-j 2] [--json] [NAME ...]
    python scripts/selftests.py path                      # print the cache folder

``build`` extracts what the selftests need from
``/usr/src/linux-source-6.1.tar.xz`` (``tools/testing/selftests/bpf``,
``tools/lib/bpf``, ``tools/include``, ``scripts/bpf_doc.py``), generates the
two headers the selftests' Makefile generates (``bpf_helper_defs.h`` from the
UAPI ``bpf.h`` with the kernel's own ``bpf_doc.py``; ``vmlinux.h`` from this
machine's ``/sys/kernel/btf/vmlinux`` with bpftool), and compiles every
``progs/*.c`` with the pinned ziglang clang, using the selftests' flags (see
:func:`compile_command`).  A file that does not compile against this
kernel's ``vmlinux.h`` (the sources are 6.1's, the kernel is newer) is
recorded with its first error and left out.

The objects are cached outside the repository, in
``${XDG_CACHE_HOME:-~/.cache}/bpflink/selftests-<package version>-zig<version>-<btf hash>-<recipe>/``:
a new Debian upload, compiler, kernel BTF or change to the flags below makes
a new folder.  The
folder's ``manifest.json`` is written last, so a build that was interrupted
is redone.

``report`` relinks every compiled object alone and prints the counts and
every difference (see :func:`check_object`, which ``tests/test_realworld.py``
uses too): libbpf must open the output with the same programs and maps,
each program, loaded alone, must load exactly when the input's does, and
libbpf must hand the kernel the same instructions (and the kernel keep the
same xlated instructions, func_info and line_info).  It then does the
selftests Makefile's own multi-object links (``*.skel.h-deps``) with bpflink
and with bpftool and compares the two (:func:`check_link_set`).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


PACKAGE = "linux-source-6.1"
TARBALL = Path("/usr/src/linux-source-6.1.tar.xz")
VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")
TOP = "linux-source-6.1"  # the tarball's top folder

# What the build needs from the tarball (prefixes below TOP/).
EXTRACT = ("tools/testing/selftests/bpf/", "tools/lib/bpf/", "tools/include/", "scripts/bpf_doc.py")

# tools/lib/bpf/Makefile: SRC_HDRS, installed as <bpf/...> next to the generated
# bpf_helper_defs.h (the selftests include them as <bpf/bpf_helpers.h>).
LIBBPF_HEADERS = (
    "bpf.h", "libbpf.h", "btf.h", "libbpf_common.h", "libbpf_legacy.h", "bpf_helpers.h",
    "bpf_tracing.h", "bpf_endian.h", "bpf_core_read.h", "skel_internal.h", "libbpf_version.h",
    "usdt.bpf.h",
)

PROGS = f"{TOP}/tools/testing/selftests/bpf/progs"

# The selftests Makefile's CLANG_BPF_BUILD_RULE with BPF_CFLAGS + CLANG_CFLAGS
# + TRUNNER_BPF_CFLAGS for test_progs, paths relative to PROGS: the compiler
# runs there, as the corpus build does, so no cache path ends up in the DWARF
# of the sources.  CLANG_SYS_INCLUDES is the host compiler's search list after
# everything else, as the Makefile's get_sys_includes does.
#
# The compiler is the pinned ziglang wheel's clang, but its plain clang driver
# (``python -m ziglang clang``), not ``zig cc`` as corpus/build.py uses:
# zig cc always passes -fno-builtin (and -ffreestanding for the corpus's
# target), which turns every memcpy()/memset() the selftests write into a
# call of an undefined extern function that libbpf refuses.  The selftests'
# ``clang -target bpf`` treats them as builtins and inlines them.  The
# wheel's clang headers (stddef.h, stdbool.h...) are its resource dir.
#
# -Werror is left out: its only effect here is to refuse sources that warn
# because the compiler (clang 22) and vmlinux.h (this kernel) are newer than
# the 6.1 sources, and a warning does not change the object.
SELFTEST_FLAGS = (
    "-D__TARGET_ARCH_x86",
    "-mlittle-endian",
    "-I../../../../../../gen",          # INCLUDE_DIR: <bpf/*.h> and vmlinux.h
    "-I..",                             # CURDIR: tools/testing/selftests/bpf
    "-I../../../../include/uapi",       # APIDIR
    "-idirafter", "/usr/include/x86_64-linux-gnu",
    "-idirafter", "/usr/include",
    "-Wno-compare-distinct-pointer-types",
    "-DENABLE_ATOMICS_TESTS",
)

# Per-object additions from the Makefile.
EXTRA_FLAGS = {
    "test_l4lb_noinline": ("-fno-inline",),
    "test_xdp_noinline": ("-fno-inline",),
}


class BuildError(RuntimeError):
    pass


# --------------------------------------------------------------------------
# the cache key


def package_version() -> str | None:
    """Debian version of linux-source-6.1, or None when it is not installed."""
    if not TARBALL.is_file():
        return None
    try:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", PACKAGE], capture_output=True, text=True)
    except FileNotFoundError:
        proc = None
    if proc is None or proc.returncode != 0 or not proc.stdout:
        # Not from dpkg (copied by hand): the tarball's size and mtime stand in.
        st = TARBALL.stat()
        return f"file{st.st_size}-{int(st.st_mtime)}"
    return proc.stdout.strip()


def compiler_version() -> str:
    from importlib.metadata import version

    return "zig" + version("ziglang")


def vmlinux_hash() -> str:
    return hashlib.sha256(VMLINUX_BTF.read_bytes()).hexdigest()[:12]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bpflink"


def recipe_hash() -> str:
    """Changes when this script's way of building changes (flags, headers, command)."""
    recipe = repr((SELFTEST_FLAGS, EXTRA_FLAGS, LIBBPF_HEADERS, EXTRACT,
                   compile_command(Path("x.c"), Path("x.o"))[3:]))
    return hashlib.sha256(recipe.replace(str(_zig_lib()), "ZIG").encode()).hexdigest()[:8]


def cache_dir() -> Path:
    """<cache>/selftests-<package version>-<compiler>-<vmlinux BTF hash>-<recipe hash>."""
    version = package_version()
    if version is None:
        raise BuildError(f"{TARBALL} is missing (Debian package {PACKAGE})")
    return cache_root() / f"selftests-{version}-{compiler_version()}-{vmlinux_hash()}-{recipe_hash()}"


def unavailable() -> str | None:
    """Why the selftests cannot be built here, or None."""
    if not TARBALL.is_file():
        return f"{TARBALL} is missing (install the Debian package {PACKAGE})"
    if not VMLINUX_BTF.is_file():
        return f"{VMLINUX_BTF} is missing (kernel without BTF)"
    if shutil.which("bpftool") is None and not os.access("/usr/sbin/bpftool", os.X_OK):
        return "bpftool is missing (needed to dump vmlinux.h)"
    return None


# --------------------------------------------------------------------------
# build


def _extract(dest: Path) -> None:
    prefixes = tuple(f"{TOP}/{p}" for p in EXTRACT)
    with tarfile.open(TARBALL) as tar:
        members = [m for m in tar if m.name.startswith(prefixes) and (m.isfile() or m.isdir())]
        if hasattr(tarfile, "data_filter"):      # Python >= 3.11.4 (and 3.8.17, 3.9.17, 3.10.12)
            tar.extractall(dest, members=members, filter="data")
        else:
            tar.extractall(dest, members=members)


def _generate_headers(src: Path) -> None:
    gen = src / "gen"
    (gen / "bpf").mkdir(parents=True, exist_ok=True)
    libbpf = src / TOP / "tools/lib/bpf"
    for name in LIBBPF_HEADERS:
        shutil.copyfile(libbpf / name, gen / "bpf" / name)
    # tools/lib/bpf/Makefile's $(BPF_HELPER_DEFS) rule.
    with (gen / "bpf" / "bpf_helper_defs.h").open("w") as out:
        subprocess.run(
            [sys.executable, str(src / TOP / "scripts/bpf_doc.py"), "--header",
             "--file", str(src / TOP / "tools/include/uapi/linux/bpf.h")],
            stdout=out, check=True, cwd=src / TOP,
        )
    bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    with (gen / "vmlinux.h").open("w") as out:
        subprocess.run([bpftool, "btf", "dump", "file", str(VMLINUX_BTF), "format", "c"], stdout=out, check=True)


def _zig_lib() -> Path:
    import ziglang

    return Path(ziglang.__file__).resolve().parent / "lib"


def compile_command(source: Path, output: Path) -> list[str]:
    """The command that compiles one selftests source (run with cwd = its folder)."""
    return [
        sys.executable, "-m", "ziglang", "clang", "-resource-dir", str(_zig_lib()),
        "-g", "-O2", "-target", "bpfel", "-mcpu=v3", "-fdebug-compilation-dir=.",
        *SELFTEST_FLAGS, *EXTRA_FLAGS.get(source.stem, ()),
        "-c", source.name, "-o", str(output),
    ]


def _compile_one(source: Path, obj_dir: Path) -> tuple[str, str | None]:
    output = obj_dir / f"{source.stem}.bpf.o"
    proc = subprocess.run(compile_command(source, output.resolve()), cwd=source.parent,
                          capture_output=True, text=True)
    if proc.returncode == 0:
        return source.stem, None
    output.unlink(missing_ok=True)
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    tail = proc.stderr.strip().splitlines()
    return source.stem, (errors[0] if errors else tail[-1] if tail else "compiler failed")


def build(jobs: int = 2, force: bool = False, log=print) -> Path:
    """Compile the selftests into the cache unless already there; return the folder."""
    reason = unavailable()
    if reason:
        raise BuildError(reason)
    folder = cache_dir()
    if (folder / "manifest.json").is_file() and not force:
        return folder
    started = time.monotonic()
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Build in a sibling and rename, so a half-built cache is never used.
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        src = work / "src"
        _extract(src)
        _generate_headers(src)
        obj_dir = work / "obj"
        obj_dir.mkdir()
        sources = sorted((src / PROGS).glob("*.c"))
        log(f"compiling {len(sources)} selftests sources with {jobs} jobs into {folder}")
        results: dict[str, str | None] = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            for name, err in pool.map(lambda s: _compile_one(s, obj_dir), sources):
                results[name] = err
        manifest = {
            "package": PACKAGE,
            "package_version": package_version(),
            "compiler": compiler_version(),
            "vmlinux_btf_sha256_12": vmlinux_hash(),
            "build_seconds": round(time.monotonic() - started, 1),
            "sources": {name: {"compiled": err is None, "error": err} for name, err in sorted(results.items())},
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        work.rename(folder)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    log(f"built in {time.monotonic() - started:.0f} s")
    return folder


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def objects(folder: Path) -> list[Path]:
    return sorted((folder / "obj").glob("*.bpf.o"))


# --------------------------------------------------------------------------
# link and compare


@dataclass
class ObjectResult:
    """What relinking one object alone did."""

    name: str
    opened: bool = False             # libbpf opened the input
    open_error: str = ""
    linked: bool = False
    link_error: str = ""             # bpflink's diagnostics when the link failed
    open_diffs: list[str] = field(default_factory=list)   # programs/maps libbpf sees differently
    programs: int = 0
    parity: int = 0                  # programs that load (or fail) the same
    load_diffs: list[str] = field(default_factory=list)   # "prog: input loads, output fails: ..."
    insn_diffs: list[str] = field(default_factory=list)   # "prog: ..." instructions differ
    notes: list[str] = field(default_factory=list)        # differences that are allowed (layout)
    loaded: int = 0                  # programs that loaded (in both)

    @property
    def ok(self) -> bool:
        return not self.opened or (self.linked and not self.open_diffs and not self.load_diffs
                                   and not self.insn_diffs)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _load_reason_text(log: str) -> str:
    """The line of a libbpf log that says why: the verifier's last words, or libbpf's."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith(("libbpf:", "-- END", "processed ")) and "verification time" not in line:
            return line[:160]
    failing = [line for line in lines if "fail" in line and "failed to load object" not in line]
    return (failing or lines or [""])[-1][:160]


def _load_reason(load) -> str:
    """One line for why a program did not load."""
    reason = _load_reason_text(load.log)
    return f"{load.error_text}: {reason}" if reason else load.error_text


def _first_difference(a: list[str] | None, b: list[str] | None) -> str:
    """Where two instruction listings first differ ("" when equal)."""
    if a == b:
        return ""
    if a is None or b is None:
        return f"{'none' if a is None else len(a)} vs {'none' if b is None else len(b)} instructions"
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"#{i}: {x} vs {y} ({len(a)} vs {len(b)} instructions)"
    return f"{len(a)} vs {len(b)} instructions"


def skeleton(bpftool: str, path: Path) -> str | None:
    """``bpftool gen skeleton`` of ``path`` without the embedded object bytes; None if it fails.

    The skeleton is what C users program against (the selftests Makefile
    makes one from each linked object): the maps, programs and the structs
    that lay out each data section's variables.  Only the object bytes it
    embeds may differ.
    """
    proc = subprocess.run([bpftool, "gen", "skeleton", str(path), "name", "skel"], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    text = proc.stdout
    head, sep, rest = text.partition("skel__elf_bytes(size_t *sz)\n{")
    if sep:
        _, _, tail = rest.partition("\n}\n")
        text = head + sep + "<object bytes>\n}\n" + tail
    return text


def check_object(path: Path, out_dir: Path, *, loads: bool = True, bpftool: str | None = None) -> ObjectResult:
    """Relink ``path`` alone into ``out_dir`` (same file name) and compare with libbpf.

    With ``bpftool``, the two objects' skeletons must be the same too.
    """
    import bpflink
    from tests import kernel

    result = ObjectResult(path.name)
    try:
        before = kernel.open_info(path)
    except kernel.LoadError as e:
        # libbpf's errno alone misleads (an unresolved extern is ENOENT): add its own words
        result.open_error = f"{_first_line(e.message)}; {_load_reason_text(e.log)}"
        return result
    result.opened = True
    # The same file name keeps libbpf's object name, hence its internal map
    # names ("<obj>.rodata"), identical on both sides.
    out = out_dir / path.name
    try:
        bpflink.link([path], out)
    except bpflink.LinkError as e:
        result.link_error = "\n".join(d.render() for d in e.errors)
        return result
    result.linked = True
    _compare(path, out, before, result, loads=loads)
    if bpftool:
        mine, theirs = skeleton(bpftool, out), skeleton(bpftool, path)
        if mine != theirs:
            where = _first_difference(theirs and theirs.splitlines(), mine and mine.splitlines())
            result.open_diffs.append(f"bpftool gen skeleton differs: {where}")
    return result


def _compare(path: Path, out: Path, before, result: ObjectResult, *, loads: bool = True,
             layout_may_differ: bool = False) -> None:
    """Fill ``result`` with how libbpf sees ``out`` against ``path`` (already opened as ``before``).

    ``layout_may_differ``: ``path`` is another linker's output of the same
    inputs.  Two linkers may lay merged data sections out differently
    (libbpf pads each input's section to the largest alignment seen so far,
    bpflink to the section's own), so internal maps' sizes and the offsets
    into them are noted, not counted as differences.
    """
    from tests import kernel

    try:
        after = kernel.open_info(out)
    except kernel.LoadError as e:
        result.open_diffs.append(f"libbpf cannot open the output: {_first_line(e.message)}")
        return
    internal = {m.name for m in before.maps if "." in m.name}
    sized_only = {m.name for m in before.maps if m.name in internal
                  and any(m._replace(value_size=0) == n._replace(value_size=0) for n in after.maps)}
    for diff in kernel.compare_open_info(before, after):
        if layout_may_differ and diff.startswith("map ") and diff.split("'")[1] in sized_only:
            result.notes.append(diff)
        else:
            result.open_diffs.append(diff)
    if not loads:
        return
    names = [p.name for p in before.programs]
    result.programs = len(names)
    ins = kernel.load_each_program(path, names, xlated=True)
    outs = kernel.load_each_program(out, names, xlated=True)
    for name in names:
        a, b = ins[name], outs[name]
        insn_diffs = result.notes if layout_may_differ else result.insn_diffs
        where = _first_difference(a.insns, b.insns)
        if where:
            insn_diffs.append(f"{name}: libbpf hands the kernel other instructions: {where}")
        elif a.loaded and b.loaded and (where := _first_difference(a.xlated, b.xlated)):
            insn_diffs.append(f"{name}: the kernel's xlated instructions differ: {where}")
        if a.loaded == b.loaded:
            result.parity += 1
            result.loaded += a.loaded
        elif a.loaded:
            result.load_diffs.append(f"{name}: input loads, output does not: {_load_reason(b)}")
        else:
            result.load_diffs.append(f"{name}: output loads, input does not: {_load_reason(a)}")


# --------------------------------------------------------------------------
# the selftests' own multi-object links


def link_sets(folder: Path) -> dict[str, list[str]]:
    """The Makefile's static links: skeleton name -> object stems, in link order.

    ``linked_funcs.skel.h-deps := linked_funcs1.bpf.o linked_funcs2.bpf.o``
    is linked by ``bpftool gen object`` there; here by bpflink and bpftool
    both.
    """
    makefile = folder / "src" / TOP / "tools/testing/selftests/bpf/Makefile"
    sets: dict[str, list[str]] = {}
    for line in makefile.read_text().splitlines():
        head, sep, deps = line.partition(".skel.h-deps :=")
        if sep and head and " " not in head:
            sets[head] = [d.removesuffix(".bpf.o") for d in deps.split()]
    return sets


def check_link_set(folder: Path, name: str, stems: list[str], out_dir: Path, bpftool: str) -> ObjectResult:
    """Link one of :func:`link_sets` with bpflink and with bpftool; compare the two outputs."""
    import bpflink
    from tests import kernel

    inputs = [folder / "obj" / f"{stem}.bpf.o" for stem in stems]
    result = ObjectResult(name)
    ref_dir, our_dir = out_dir / "bpftool", out_dir / "bpflink"
    ref_dir.mkdir()
    our_dir.mkdir()
    ref, ours = ref_dir / f"{name}.bpf.o", our_dir / f"{name}.bpf.o"
    proc = subprocess.run([bpftool, "gen", "object", str(ref), *map(str, inputs)], capture_output=True, text=True)
    before = None
    if proc.returncode != 0:
        result.open_error = f"bpftool gen object failed: {_first_line(proc.stderr)}"
    else:
        try:
            before = kernel.open_info(ref)
        except kernel.LoadError as e:
            result.open_error = f"libbpf does not open bpftool's output: {_load_reason_text(e.log)}"
    # The inputs are the selftests' own link: bpflink must link them whether
    # or not libbpf 1.1 manages to.
    result.opened = True
    try:
        bpflink.link(inputs, ours)
    except bpflink.LinkError as e:
        result.link_error = "\n".join(d.render() for d in e.errors)
        return result
    result.linked = True
    if before is not None:
        _compare(ref, ours, before, result, layout_may_differ=True)
        return result
    # No reference: the selftests run every program of these links, so each
    # must load from bpflink's output.
    try:
        mine = kernel.open_info(ours)
    except kernel.LoadError as e:
        result.open_diffs.append(f"libbpf cannot open the output: {_first_line(e.message)}")
        return result
    loads = kernel.load_each_program(ours, [p.name for p in mine.programs])
    result.programs = len(loads)
    for load in loads.values():
        if load.loaded:
            result.parity += 1
            result.loaded += 1
        else:
            result.load_diffs.append(f"{load.name}: does not load from bpflink's output: {_load_reason(load)}")
    return result


def _check_set_in_worker(args: tuple[str, str, list[str], str]) -> ObjectResult:
    folder, name, stems, bpftool = args
    with tempfile.TemporaryDirectory(prefix="bpflink-selftests-") as tmp:
        return check_link_set(Path(folder), name, stems, Path(tmp), bpftool)


def check_link_sets(folder: Path, bpftool: str, jobs: int = 2) -> list[ObjectResult]:
    import multiprocessing

    work = [(str(folder), name, stems, bpftool) for name, stems in link_sets(folder).items()]
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        return list(pool.map(_check_set_in_worker, work))


def _check_in_worker(args: tuple[str, bool, str | None]) -> ObjectResult:
    path, loads, bpftool = args
    with tempfile.TemporaryDirectory(prefix="bpflink-selftests-") as tmp:
        return check_object(Path(path), Path(tmp), loads=loads, bpftool=bpftool)


def check_all(folder: Path, jobs: int = 2, names: list[str] | None = None, loads: bool = True,
              bpftool: str | None = None) -> list[ObjectResult]:
    """check_object over the cached objects, ``jobs`` processes at a time."""
    import multiprocessing

    paths = objects(folder)
    if names:
        paths = [p for p in paths if p.name.removesuffix(".bpf.o") in names]
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        return list(pool.map(_check_in_worker, [(str(p), loads, bpftool) for p in paths], chunksize=4))


def summary(folder: Path, results: list[ObjectResult]) -> dict:
    sources = manifest(folder)["sources"]
    return {
        "files": len(sources),
        "compiled": sum(1 for s in sources.values() if s["compiled"]),
        "opened": sum(r.opened for r in results),
        "linked": sum(r.linked for r in results),
        "programs": sum(r.programs for r in results),
        "parity": sum(r.parity for r in results),
        "loaded": sum(r.loaded for r in results),
        "objects_equal": sum(r.ok for r in results if r.opened),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "report", "path"))
    parser.add_argument("names", nargs="*", help="report: only these objects (source stems)")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--force", action="store_true", help="build: rebuild even if cached")
    parser.add_argument("--json", action="store_true", help="report: print JSON")
    parser.add_argument("--no-load", action="store_true", help="report: link and open only")
    args = parser.parse_args(argv)
    try:
        if args.command == "path":
            print(cache_dir())
            return 0
        folder = build(args.jobs, force=args.force and args.command == "build",
                       log=lambda msg: print(msg, file=sys.stderr))
    except BuildError as e:
        print(f"selftests: {e}", file=sys.stderr)
        return 1
    if args.command == "build":
        m = manifest(folder)
        compiled = sum(1 for s in m["sources"].values() if s["compiled"])
        print(f"{folder}: {compiled}/{len(m['sources'])} compiled (build took {m['build_seconds']} s)")
        return 0
    started = time.monotonic()
    bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    results = check_all(folder, args.jobs, args.names or None, loads=not args.no_load, bpftool=bpftool)
    counts = summary(folder, results)
    sets = [] if args.names or args.no_load else check_link_sets(folder, bpftool, args.jobs)
    counts["link_sets"] = len(sets)
    counts["link_sets_equal"] = sum(r.ok for r in sets)
    counts["seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps({"counts": counts, "objects": [asdict(r) for r in results],
                          "link_sets": [asdict(r) for r in sets]}, indent=1))
        return 0
    for r in sets:
        for note in ([r.open_error] if r.open_error else []) + r.notes:
            print(f"{r.name} (link of {', '.join(link_sets(folder)[r.name])}): note: {note}")
    for r in results + sets:
        if not r.opened:
            continue
        if not r.linked:
            print(f"{r.name}: link failed: {r.link_error}")
        for d in r.open_diffs:
            print(f"{r.name}: open differs: {d}")
        for d in r.load_diffs + r.insn_diffs:
            print(f"{r.name}: {d}")
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0 if all(r.ok for r in results + sets) else 1


if __name__ == "__main__":
    sys.exit(main())
