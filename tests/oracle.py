"""The mutation property: bpflink links and the output reads back, or it says why.

For one input set, :func:`check_case` links in-process and classifies:

``linked``    the link succeeded and the output reads back with pyelftools
              (every section, symbol and relocation), lief, and libbpf's
              ``bpf_object__open_mem`` (open only, never load; skipped for
              big-endian outputs, which libbpf refuses to open on this host);
``rejected``  a :class:`bpflink.LinkError` whose errors each render as
              ``bpflink: error: ...`` and name the input file;
``crashed``   anything else: another exception, a bad diagnostic, an output
              that does not read back, a timeout (set by the caller).

libbpf is reached with ctypes through the ``pylibbpf`` wheel's extension
module, which exports the libbpf C API.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import io
import os
import platform
import time
import traceback
from dataclasses import dataclass

import bpflink

LINKED, REJECTED, CRASHED = "linked", "rejected", "crashed"


@dataclass
class Outcome:
    kind: str
    detail: str = ""
    seconds: float = 0.0
    unattributed: bool = False      # rejected, but an error names no input file


@dataclass(frozen=True)
class Shape:
    """What libbpf's open finds in an object: the property's unit of comparison."""

    programs: tuple[tuple[str, str, int], ...]      # (name, section name, program type)
    maps: tuple[tuple, ...]     # (name, type, key size, value size, max_entries, flags, extra)


# -- libbpf open ------------------------------------------------------------------------

_PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


class _Libbpf:
    def __init__(self) -> None:
        spec = importlib.util.find_spec("pylibbpf")
        paths = []
        for loc in (spec.submodule_search_locations or []) if spec else []:
            paths += sorted(glob.glob(os.path.join(loc, "pylibbpf*.so")))
        if not paths:
            raise ImportError("pylibbpf (libbpf C API) is not installed")
        lib = ctypes.CDLL(paths[0], use_errno=True)
        lib.bpf_object__open_mem.restype = ctypes.c_void_p
        lib.bpf_object__open_mem.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
        lib.bpf_object__close.restype = None
        lib.bpf_object__close.argtypes = [ctypes.c_void_p]
        lib.bpf_object__next_program.restype = ctypes.c_void_p
        lib.bpf_object__next_program.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.bpf_program__name.restype = ctypes.c_char_p
        lib.bpf_program__name.argtypes = [ctypes.c_void_p]
        lib.libbpf_set_print.restype = ctypes.c_void_p
        lib.libbpf_set_print.argtypes = [ctypes.c_void_p]
        # what the differential property compares (tests/differential.py)
        for name, restype in (("bpf_program__section_name", ctypes.c_char_p),
                              ("bpf_program__type", ctypes.c_int),
                              ("bpf_map__name", ctypes.c_char_p),
                              ("bpf_map__type", ctypes.c_int),
                              ("bpf_map__key_size", ctypes.c_uint32),
                              ("bpf_map__value_size", ctypes.c_uint32),
                              ("bpf_map__max_entries", ctypes.c_uint32),
                              ("bpf_map__map_flags", ctypes.c_uint32),
                              ("bpf_map__map_extra", ctypes.c_uint64)):
            getattr(lib, name).restype = restype
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        lib.bpf_object__next_map.restype = ctypes.c_void_p
        lib.bpf_object__next_map.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self.lib = lib
        libc = ctypes.CDLL(None)
        self.vsnprintf = libc.vsnprintf
        self.vsnprintf.restype = ctypes.c_int
        self.vsnprintf.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                   ctypes.c_void_p]
        self.log: list[str] = []
        self._cb = _PRINT_FN(self._print)
        lib.libbpf_set_print(ctypes.cast(self._cb, ctypes.c_void_p))

    def _print(self, level: int, fmt: bytes, ap) -> int:
        try:
            if platform.machine() == "x86_64" and ap is not None:
                buf = ctypes.create_string_buffer(512)
                self.vsnprintf(buf, 512, fmt, ap)
                self.log.append(buf.value.decode(errors="replace"))
            else:
                self.log.append(fmt.decode(errors="replace"))
            del self.log[:-3]   # the last lines say why an open failed
        except Exception:       # never let an exception cross into C
            pass
        return 0

    def describe_mem(self, data: bytes) -> tuple[Shape | None, str]:
        """Open (never load) an object; what libbpf sees in it, or None, and the log.

        The object is named ``obj`` so that global-data maps get the same
        names (``obj.bss``, ...) in an input and in its linked output.
        """
        self.log.clear()
        buf = ctypes.create_string_buffer(data, len(data))
        name = ctypes.create_string_buffer(b"obj")
        opts = (ctypes.c_size_t * 2)(16, ctypes.addressof(name))   # sz, object_name
        obj = self.lib.bpf_object__open_mem(buf, len(data), opts)
        if not obj:
            err = ctypes.get_errno()
            return None, f"errno {err} ({os.strerror(err)}): " + "".join(self.log).strip()
        lib = self.lib
        try:
            progs, maps, p = [], [], None
            while p := lib.bpf_object__next_program(obj, p):
                progs.append((lib.bpf_program__name(p).decode(errors="replace"),
                              lib.bpf_program__section_name(p).decode(errors="replace"),
                              lib.bpf_program__type(p)))
            m = None
            while m := lib.bpf_object__next_map(obj, m):
                maps.append((lib.bpf_map__name(m).decode(errors="replace"),
                             lib.bpf_map__type(m), lib.bpf_map__key_size(m),
                             lib.bpf_map__value_size(m), lib.bpf_map__max_entries(m),
                             lib.bpf_map__map_flags(m), lib.bpf_map__map_extra(m)))
            return Shape(tuple(sorted(progs)), tuple(sorted(maps))), "".join(self.log)
        finally:
            lib.bpf_object__close(obj)

    def open_mem(self, data: bytes) -> tuple[list[str] | None, str]:
        """Open (never load) an object from memory; (program names | None, libbpf log)."""
        self.log.clear()
        buf = ctypes.create_string_buffer(data, len(data))
        obj = self.lib.bpf_object__open_mem(buf, len(data), None)
        if not obj:
            err = ctypes.get_errno()
            return None, f"errno {err} ({os.strerror(err)}): " + "".join(self.log).strip()
        try:
            progs, p = [], None
            while True:
                p = self.lib.bpf_object__next_program(obj, p)
                if not p:
                    break
                progs.append(self.lib.bpf_program__name(p).decode())
            return progs, "".join(self.log)
        finally:
            self.lib.bpf_object__close(obj)


_libbpf: _Libbpf | None = None


def libbpf() -> _Libbpf:
    global _libbpf
    if _libbpf is None:
        _libbpf = _Libbpf()
    return _libbpf


# -- read back ---------------------------------------------------------------------------

def readback(data: bytes, undefined_externs: bool = False) -> list[str]:
    """Problems reading a linked output back; [] when all three readers accept it.

    ``undefined_externs``: bpflink warned that a (non-kernel) extern stays
    undefined; libbpf then refuses the open by design ("failed to find BTF
    for extern", "unrecognized extern section"), which is not a defect.
    """
    problems: list[str] = []
    big_endian = len(data) > 5 and data[5] == 2
    try:
        from elftools.elf.elffile import ELFFile
        from elftools.elf.relocation import RelocationSection
        from elftools.elf.sections import SymbolTableSection

        elf = ELFFile(io.BytesIO(data))
        for sec in elf.iter_sections():
            if sec["sh_type"] != "SHT_NOBITS":      # pyelftools would build the zeros
                sec.data()
            if isinstance(sec, SymbolTableSection):
                for sym in sec.iter_symbols():
                    _ = (sym.name, sym["st_value"], sym["st_shndx"])
            elif isinstance(sec, RelocationSection):
                for rel in sec.iter_relocations():
                    _ = rel["r_info_sym"]
    except Exception as e:      # noqa: BLE001 - any failure is the finding
        problems.append(f"pyelftools: {type(e).__name__}: {e}")
    try:
        import lief

        if hasattr(lief, "logging"):
            lief.logging.disable()
        parsed = lief.ELF.parse(list(data))
        if parsed is None:
            problems.append("lief: could not parse the output")
        else:
            _ = [(s.name, s.size) for s in parsed.sections]
            _ = [s.name for s in parsed.symbols]
    except Exception as e:      # noqa: BLE001
        problems.append(f"lief: {type(e).__name__}: {e}")
    if not big_endian:          # libbpf opens only objects of the host's byte order
        progs, log = libbpf().open_mem(data)
        if progs is None and not (undefined_externs and "extern" in log):
            problems.append(f"libbpf open: {log}")
    return problems


# -- the property ----------------------------------------------------------------------------

def _diagnostics_ok(e: bpflink.LinkError) -> str | None:
    errors = e.errors
    if not errors:
        return "LinkError without an error diagnostic"
    for d in errors:
        text = d.render()
        if not text.startswith("bpflink: error: ") or "Traceback" in text:
            return f"badly formed diagnostic: {text!r}"
    return None


def link_datas(names: list[str], datas: list[bytes]) -> bpflink.LinkResult:
    linker = bpflink.Linker()
    for name, data in zip(names, datas):
        linker.add_bytes(data, name=name)
    return linker.link()


def try_link(names: list[str], datas: list[bytes]) -> tuple[Outcome, bytes | None, bool]:
    """Link in memory; (outcome so far, output bytes if linked, undefined-extern warning)."""
    t0 = time.perf_counter()
    try:
        result = link_datas(names, datas)
    except bpflink.LinkError as e:
        why = _diagnostics_ok(e)
        secs = time.perf_counter() - t0
        if why:
            return Outcome(CRASHED, why, secs), None, False
        return Outcome(REJECTED, e.errors[0].render().splitlines()[0], secs,
                       unattributed=any(not d.file for d in e.errors)), None, False
    except Exception as e:      # noqa: BLE001 - the finding (MemoryError included)
        tb = traceback.extract_tb(e.__traceback__)
        where = "".join(f" <- {os.path.basename(f.filename)}:{f.lineno}({f.name})"
                        for f in reversed(tb[-4:]))
        return Outcome(CRASHED, f"{type(e).__name__}: {e}{where}",
                       time.perf_counter() - t0), None, False
    undefined = any("undefined symbol" in w.message for w in result.warnings)
    return Outcome(LINKED, f"{len(result.data)} bytes", time.perf_counter() - t0), \
        result.data, undefined


def finish(outcome: Outcome, data: bytes | None, undefined: bool) -> Outcome:
    """Read a linked output back; a failure turns the outcome into a crash."""
    if outcome.kind == LINKED and data is not None:
        problems = readback(data, undefined)
        if problems:
            return Outcome(CRASHED, "output does not read back: " + "; ".join(problems),
                           outcome.seconds)
    return outcome


def check_case(names: list[str], datas: list[bytes], *, read_back: bool = True) -> Outcome:
    """The whole property for one input set (link, then read back)."""
    outcome, data, undefined = try_link(names, datas)
    return finish(outcome, data, undefined) if read_back else outcome
