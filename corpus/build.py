#!/usr/bin/env python3
"""Rebuild the committed BPF objects of the link corpus from their sources.

Usage::

    python corpus/build.py [--out DIR] [--check] [SCENARIO ...]

With no scenario names every folder under ``corpus/`` that holds a
``scenario.toml`` is rebuilt.  Objects are written next to their sources
unless ``--out DIR`` is given, in which case ``DIR/<scenario>/<name>.o`` is
written instead and the committed files are left alone (the byte-identity test
uses this).  ``--check`` builds into a temporary directory and exits non-zero
if any object differs from the committed one.

How an object is built
----------------------
Every ``<name>.c`` in a scenario folder becomes ``<name>.o``.  The compiler is
the ``ziglang`` wheel's clang, run *in the scenario folder* with relative
paths so nothing about the checkout location ends up in the DWARF/BTF::

    python -m ziglang cc -target bpfel-freestanding-none -mcpu=v3 -O2 -g \\
        -fno-asynchronous-unwind-tables -fno-unwind-tables \\
        -fdebug-compilation-dir=. -c <name>.c -o <name>.o

(``-fno-unwind-tables`` is needed on top of the usual flags because zig cc
enables unwind tables by default; see BASE_FLAGS.)

Per-source extra flags: if the first line of a source is

    // bpflink-cflags: FLAG FLAG ...

the flags are appended to the command line (split like a shell would).  A
``-target T`` among them replaces the default target instead of being
appended, so ``// bpflink-cflags: -target bpfeb-freestanding-none`` builds a
big-endian object, and ``// bpflink-cflags: -g0`` builds one without BTF.

Derived objects
---------------
A few error scenarios need objects that are not compiler output.  They are
produced deterministically from a compiled object by :data:`DERIVED` below
(e.g. ``err_truncated/a.o`` is the first half of ``err_truncated/whole.o``)
and are checked for byte identity like compiled ones.  Files such as
``err_not_elf/a.o`` that have neither a source nor a recipe are hand-written
and committed as they are.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent

DEFAULT_TARGET = "bpfel-freestanding-none"

# Order matters only for readability; the target is inserted separately so a
# per-source "-target" can replace it.
BASE_FLAGS: tuple[str, ...] = (
    "-mcpu=v3",
    "-O2",
    "-g",
    "-fno-asynchronous-unwind-tables",
    # zig cc passes -funwind-tables=1 on its own, which emits .eh_frame with
    # relocations against .text; libbpf's linker rejects those ("relocation
    # against STT_SECTION in non-exec section"), so turn unwind tables off too.
    "-fno-unwind-tables",
    "-fdebug-compilation-dir=.",
)

CFLAGS_MARKER = "// bpflink-cflags:"


def _truncate_half(data: bytes) -> bytes:
    return data[: len(data) // 2]


@dataclass(frozen=True)
class Derived:
    """An object made from another object of the same scenario."""

    source: str  # object name inside the scenario folder, e.g. "whole.o"
    transform: Callable[[bytes], bytes]


# scenario -> {output object name: recipe}
DERIVED: dict[str, dict[str, Derived]] = {
    "err_truncated": {"a.o": Derived("whole.o", _truncate_half)},
}

# Committed ".o" files that are neither compiled nor derived (scenario/name).
# Anything else without a source is stale, which the corpus tests report.
HANDWRITTEN: frozenset[str] = frozenset({"err_not_elf/a.o"})


def expected_objects(scenario: Path) -> list[str]:
    """Names of the objects build_scenario() writes for ``scenario``."""
    names = [source.stem + ".o" for source in sorted(scenario.glob("*.c"))]
    names.extend(DERIVED.get(scenario.name, {}))
    return names


class BuildError(RuntimeError):
    pass


def extra_cflags(source: Path) -> list[str]:
    """Flags from the source's optional first-line ``bpflink-cflags`` comment."""
    with source.open(encoding="utf-8") as f:
        first = f.readline().strip()
    if not first.startswith(CFLAGS_MARKER):
        return []
    return shlex.split(first[len(CFLAGS_MARKER) :])


def compile_command(source: Path, output: str | Path, defines: Sequence[str] = ()) -> list[str]:
    """The full compiler command for ``source``; run it with cwd = source's folder.

    ``defines`` are further flags for sources that are not corpus scenarios
    (the benchmark workloads need ``-D__TARGET_ARCH_x86``).
    """
    target = DEFAULT_TARGET
    extra: list[str] = list(defines)
    flags = extra_cflags(source)
    i = 0
    while i < len(flags):
        if flags[i] == "-target" and i + 1 < len(flags):
            target = flags[i + 1]
            i += 2
            continue
        extra.append(flags[i])
        i += 1
    return [
        sys.executable,
        "-m",
        "ziglang",
        "cc",
        "-target",
        target,
        *BASE_FLAGS,
        *extra,
        "-c",
        source.name,
        "-o",
        str(output),
    ]


def scenario_dirs(names: Sequence[str] = ()) -> list[Path]:
    if names:
        dirs = [CORPUS_DIR / n for n in names]
        missing = [d.name for d in dirs if not (d / "scenario.toml").is_file()]
        if missing:
            raise BuildError(f"no such scenario: {', '.join(missing)}")
        return dirs
    return sorted(p.parent for p in CORPUS_DIR.glob("*/scenario.toml"))


def build_scenario(scenario: Path, out_dir: Path | None = None) -> list[Path]:
    """Compile every ``*.c`` of ``scenario`` and produce its derived objects.

    Returns the paths written.  With ``out_dir`` the objects go to
    ``out_dir/<scenario name>/`` instead of the scenario folder.
    """
    dest = scenario if out_dir is None else out_dir / scenario.name
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for source in sorted(scenario.glob("*.c")):
        obj = dest / (source.stem + ".o")
        # Relative output when building in place keeps the command identical
        # to the documented one; an absolute -o does not change the bytes.
        output: str | Path = obj.name if out_dir is None else obj.resolve()
        cmd = compile_command(source, output)
        proc = subprocess.run(cmd, cwd=scenario, capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError(f"{scenario.name}/{source.name}: compiler failed ({shlex.join(cmd)}):\n{proc.stderr}")
        if proc.stderr:
            # Warnings often mean the compiler folded away what a scenario
            # meant to test, so show them.
            print(f"{scenario.name}/{source.name}:\n{proc.stderr}", file=sys.stderr, end="")
        written.append(obj)
    for name, recipe in DERIVED.get(scenario.name, {}).items():
        src_obj = dest / recipe.source
        if not src_obj.is_file():
            raise BuildError(f"{scenario.name}/{name}: missing {recipe.source} to derive from")
        (dest / name).write_bytes(recipe.transform(src_obj.read_bytes()))
        written.append(dest / name)
    return written


def build(names: Sequence[str] = (), out_dir: Path | None = None) -> list[Path]:
    written: list[Path] = []
    for scenario in scenario_dirs(names):
        written.extend(build_scenario(scenario, out_dir))
    return written


def compare(built: Iterable[Path], out_dir: Path) -> list[str]:
    """Names (``scenario/obj``) of built objects that differ from the committed ones."""
    diffs = []
    for obj in built:
        rel = obj.relative_to(out_dir)
        committed = CORPUS_DIR / rel
        if not committed.is_file() or committed.read_bytes() != obj.read_bytes():
            diffs.append(str(rel))
    return diffs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help="scenario folder names (default: all)")
    parser.add_argument("--out", type=Path, help="write objects under DIR/<scenario>/")
    parser.add_argument(
        "--check", action="store_true", help="build into a temp dir and compare with the committed objects"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp)
                diffs = compare(build(args.scenarios, out), out)
            for d in diffs:
                print(f"differs: {d}", file=sys.stderr)
            return 1 if diffs else 0
        for path in build(args.scenarios, args.out):
            print(path)
    except BuildError as e:
        print(f"build.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
