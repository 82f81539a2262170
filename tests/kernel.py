"""Load BPF objects into the running kernel and test-run their programs.

This is the kernel side of the corpus tests: a linked object is only correct
if the kernel accepts it and its programs compute what the scenario says.  It
is a thin ctypes layer over the libbpf 1.6 shared library that ships inside
the ``pylibbpf`` wheel (the wheel's Python API is not used; its extension
module exports libbpf's C API, which is what we need).

Public API::

    kernel_available() -> tuple[bool, str]
    libbpf_version() -> str
    class LoadError(Exception): message, log
    class RunError(Exception)
    class LoadedObject:            # context manager: opens + loads on __init__
                                   # (only=[names]: load just those programs)
        path, name
        programs() -> list[str]
        program_type(prog_name) -> int
        run(prog_name, data=None, repeat=1) -> int
        maps() -> list[str]
        lookup(map_name, key) -> bytes | None
        read_global(section, symbol) -> bytes
        close()

Everything here runs in-process; libbpf's print callback is process-global, so
loads are serialised with a lock while the callback collects their log.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import glob
import importlib.util
import os
import platform
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

__all__ = [
    "LoadError",
    "LoadedObject",
    "RunError",
    "kernel_available",
    "libbpf_version",
    "BPF_PROG_TYPE_SOCKET_FILTER",
    "BPF_PROG_TYPE_SCHED_CLS",
    "BPF_PROG_TYPE_SCHED_ACT",
    "BPF_PROG_TYPE_XDP",
    "BPF_PROG_TYPE_SYSCALL",
    "DEFAULT_PACKET",
]

# enum bpf_prog_type values (UAPI, stable)
BPF_PROG_TYPE_SOCKET_FILTER = 1
BPF_PROG_TYPE_SCHED_CLS = 3
BPF_PROG_TYPE_SCHED_ACT = 4
BPF_PROG_TYPE_XDP = 6
BPF_PROG_TYPE_SYSCALL = 31

# enum bpf_map_type values whose lookups return one value per possible CPU
_PERCPU_MAP_TYPES = {5, 6, 10}  # PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH

# Program types that BPF_PROG_TEST_RUN feeds a packet to.  A zero-filled
# 64-byte frame is long enough for every one of them (they need at least an
# Ethernet header) and makes skb->len == 64, which scenarios may rely on.
_PACKET_PROG_TYPES = {
    BPF_PROG_TYPE_SOCKET_FILTER,
    BPF_PROG_TYPE_SCHED_CLS,
    BPF_PROG_TYPE_SCHED_ACT,
    BPF_PROG_TYPE_XDP,
}
DEFAULT_PACKET = bytes(64)

# libbpf print levels (enum libbpf_print_level)
_LIBBPF_WARN, _LIBBPF_INFO, _LIBBPF_DEBUG = 0, 1, 2


class LoadError(Exception):
    """libbpf could not open or load an object.

    ``message`` says what failed; ``log`` is everything libbpf printed during
    the attempt, including the kernel verifier log when a program was
    rejected.
    """

    def __init__(self, message: str, log: str) -> None:
        super().__init__(f"{message}\n{log}" if log else message)
        self.message = message
        self.log = log


class RunError(Exception):
    """BPF_PROG_TEST_RUN or a map operation failed."""


# --------------------------------------------------------------------------
# locating and binding libbpf


class _TestRunOpts(ctypes.Structure):
    """struct bpf_test_run_opts from libbpf/bpf.h (libbpf >= 1.0 layout)."""

    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("data_in", ctypes.c_void_p),
        ("data_out", ctypes.c_void_p),
        ("data_size_in", ctypes.c_uint32),
        ("data_size_out", ctypes.c_uint32),
        ("ctx_in", ctypes.c_void_p),
        ("ctx_out", ctypes.c_void_p),
        ("ctx_size_in", ctypes.c_uint32),
        ("ctx_size_out", ctypes.c_uint32),
        ("retval", ctypes.c_uint32),
        ("repeat", ctypes.c_int),
        ("duration", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("cpu", ctypes.c_uint32),
        ("batch_size", ctypes.c_uint32),
    ]


# int (*libbpf_print_fn_t)(enum libbpf_print_level, const char *, va_list).
# On x86_64 a va_list argument decays to a pointer to its one-element
# __va_list_tag array, so it can be taken as a plain pointer and handed to
# vsnprintf.
_PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)

# sizeof(__va_list_tag) on x86_64: {u32 gp_offset; u32 fp_offset;
# void *overflow_arg_area; void *reg_save_area}.  Copying these bytes is what
# va_copy does there, which lets us size the output before formatting it.
_X86_64_VA_LIST_SIZE = 24


def find_libbpf_path() -> str | None:
    """The libbpf 1.6 shared object inside the pylibbpf wheel, or None."""
    spec = importlib.util.find_spec("pylibbpf")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(glob.glob(os.path.join(location, "pylibbpf*.so")))
        if found:
            return found[0]
    return None


class _Lib:
    """Lazily bound libbpf + libc functions with their ctypes signatures."""

    if TYPE_CHECKING:
        # The libbpf functions are bound by name in __init__; to the type
        # checker they are untyped ctypes callables.
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, path: str) -> None:
        self.path = path
        lib = ctypes.CDLL(path)
        self.lib = lib
        vp, cp, i, u32, sz = (
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_uint32,
            ctypes.c_size_t,
        )

        def bind(name: str, restype: object, *argtypes: object) -> None:
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = list(argtypes)
            setattr(self, name, fn)

        bind("libbpf_version_string", cp)
        bind("libbpf_set_print", vp, vp)
        bind("libbpf_get_error", ctypes.c_long, vp)
        bind("libbpf_num_possible_cpus", i)
        bind("bpf_object__open_file", vp, cp, vp)
        bind("bpf_object__load", i, vp)
        bind("bpf_object__close", None, vp)
        bind("bpf_object__name", cp, vp)
        bind("bpf_object__next_program", vp, vp, vp)
        bind("bpf_object__find_program_by_name", vp, vp, cp)
        bind("bpf_object__next_map", vp, vp, vp)
        bind("bpf_object__find_map_by_name", vp, vp, cp)
        bind("bpf_program__name", cp, vp)
        bind("bpf_program__fd", i, vp)
        bind("bpf_program__type", i, vp)
        bind("bpf_program__set_autoload", i, vp, ctypes.c_bool)
        bind("bpf_map__name", cp, vp)
        bind("bpf_map__fd", i, vp)
        bind("bpf_map__type", i, vp)
        bind("bpf_map__key_size", u32, vp)
        bind("bpf_map__value_size", u32, vp)
        bind("bpf_map_lookup_elem", i, i, vp, vp)
        bind("bpf_prog_test_run_opts", i, i, ctypes.POINTER(_TestRunOpts))

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.vsnprintf = libc.vsnprintf
        self.vsnprintf.restype = i
        self.vsnprintf.argtypes = [vp, sz, cp, vp]


_lib: _Lib | None = None
_lib_lock = threading.Lock()


def _get_lib() -> _Lib:
    global _lib
    with _lib_lock:
        if _lib is None:
            path = find_libbpf_path()
            if path is None:
                raise ImportError("pylibbpf is not installed (its extension module carries libbpf)")
            _lib = _Lib(path)
        return _lib


def libbpf_version() -> str:
    """Version of the libbpf used for loading, e.g. ``"v1.6"``."""
    return str(_get_lib().libbpf_version_string().decode())


# --------------------------------------------------------------------------
# capturing libbpf's log


class _LogCapture:
    """Collects libbpf print output while installed (one load at a time)."""

    _lock = threading.Lock()  # libbpf_set_print is process-global

    def __init__(self, lib: _Lib) -> None:
        self._lib = lib
        self.lines: list[tuple[int, str]] = []
        # Keep the ctypes callback object alive while libbpf holds it.
        self._callback = _PRINT_FN(self._print)

    def _format(self, fmt: bytes, ap: int | None) -> str:
        if platform.machine() not in ("x86_64", "AMD64") or ap is None:
            # Formatting a va_list portably from Python is not possible; the
            # unformatted format string is still better than nothing.
            return fmt.decode(errors="replace")
        lib = self._lib
        # vsnprintf consumes the va_list, so format from copies: first to
        # learn the length, then for real.
        ap_copy = ctypes.create_string_buffer(ctypes.string_at(ap, _X86_64_VA_LIST_SIZE), _X86_64_VA_LIST_SIZE)
        n = lib.vsnprintf(None, 0, fmt, ctypes.addressof(ap_copy))
        if n < 0:
            return fmt.decode(errors="replace")
        buf = ctypes.create_string_buffer(n + 1)
        ap_copy = ctypes.create_string_buffer(ctypes.string_at(ap, _X86_64_VA_LIST_SIZE), _X86_64_VA_LIST_SIZE)
        lib.vsnprintf(buf, n + 1, fmt, ctypes.addressof(ap_copy))
        return buf.value.decode(errors="replace")

    def _print(self, level: int, fmt: bytes, ap: int | None) -> int:
        try:
            self.lines.append((level, self._format(fmt, ap)))
        except Exception as e:  # never let an exception cross into C
            self.lines.append((level, f"<log formatting failed: {e}>"))
        return 0

    def __enter__(self) -> _LogCapture:
        self._lock.acquire()
        self._previous = self._lib.libbpf_set_print(ctypes.cast(self._callback, ctypes.c_void_p))
        return self

    def __exit__(self, *exc: object) -> None:
        self._lib.libbpf_set_print(self._previous)
        self._lock.release()

    def text(self, max_level: int = _LIBBPF_DEBUG) -> str:
        return "".join(msg for level, msg in self.lines if level <= max_level)


# --------------------------------------------------------------------------
# availability


def kernel_available() -> tuple[bool, str]:
    """Whether objects can be loaded and test-run here; the reason if not."""
    if os.geteuid() != 0:
        return False, "not running as root (BPF_PROG_LOAD and BPF_PROG_TEST_RUN need CAP_BPF/CAP_SYS_ADMIN)"
    try:
        lib = _get_lib()
    except (ImportError, OSError) as e:
        return False, f"libbpf unavailable: {e}"
    # The cheapest real bpf() call that needs BPF support: create a tiny
    # array map through the raw syscall wrapper libbpf exports.
    bpf_map_create = lib.lib.bpf_map_create
    bpf_map_create.restype = ctypes.c_int
    bpf_map_create.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.c_void_p,
    ]
    fd = bpf_map_create(2, b"bpflink_probe", 4, 4, 1, None)  # BPF_MAP_TYPE_ARRAY
    if fd < 0:
        return False, f"bpf() does not work here: {os.strerror(-fd)}"
    os.close(fd)
    return True, f"root, bpf() works, libbpf {libbpf_version()}"


# --------------------------------------------------------------------------
# loaded objects


# libbpf's own error codes (enum libbpf_errno); libbpf_strerror() is not
# exported by the pylibbpf build, so the texts are repeated here.
_LIBBPF_ERRNO = {
    4000: "something wrong in libelf",
    4001: "BPF object format invalid",
    4002: "'version' section incorrect or lost",
    4003: "endian mismatch",
    4004: "internal error in libbpf",
    4005: "relocation failed",
    4006: "load program failed for unknown reason",
    4007: "kernel verifier blocks program loading",
    4008: "program too big",
    4009: "incorrect kernel version",
    4010: "kernel doesn't support this program type",
}


def _err_str(err: int) -> str:
    code = abs(err)
    return f"{_LIBBPF_ERRNO.get(code) or os.strerror(code)} (errno {code})"


class LoadedObject:
    """A BPF object file opened and loaded by libbpf.

    ``LoadedObject(path)`` loads every program and map of the object (raising
    :class:`LoadError` if libbpf or the verifier refuses); use it as a
    context manager, or call :meth:`close`, to release the kernel objects.
    """

    def __init__(self, path: str | os.PathLike[str], only: Iterable[str] | None = None) -> None:
        self._obj: int | None = None  # set first: __del__ may run if we raise
        self.path = Path(path)
        self._lib = _get_lib()
        self._symbols: dict[tuple[str, str], list[tuple[int, int]]] | None = None
        lib = self._lib
        with _LogCapture(lib) as capture:
            obj = lib.bpf_object__open_file(os.fsencode(self.path), None)
            err = lib.libbpf_get_error(obj) if obj else -errno.ENOENT
            if not obj or err:
                raise LoadError(f"{self.path}: open failed: {_err_str(int(err))}", capture.text())
            if only is not None:
                self._autoload_only(lib, obj, set(only))
            ret = lib.bpf_object__load(obj)
            if ret:
                lib.bpf_object__close(obj)
                raise LoadError(f"{self.path}: load failed: {_err_str(ret)}", capture.text())
        self._obj = obj
        self.log = capture.text()
        self.name = lib.bpf_object__name(obj).decode()

    def _autoload_only(self, lib: _Lib, obj: int, names: set[str]) -> None:
        """Load just ``names`` (as the selftests' loader does, one program at a time):
        autoload on for them, also in ``?`` sections, off for every other program."""
        prog = lib.bpf_object__next_program(obj, None)
        while prog:
            name = lib.bpf_program__name(prog).decode()
            lib.bpf_program__set_autoload(prog, name in names)
            names.discard(name)
            prog = lib.bpf_object__next_program(obj, prog)
        if names:
            lib.bpf_object__close(obj)
            raise LoadError(f"{self.path}: no program {sorted(names)} to load", "")

    # context management -----------------------------------------------------

    def close(self) -> None:
        if self._obj is not None:
            self._lib.bpf_object__close(self._obj)
            self._obj = None

    def __enter__(self) -> LoadedObject:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def _handle(self) -> int:
        if self._obj is None:
            raise ValueError(f"{self.path}: object is closed")
        return self._obj

    # programs ----------------------------------------------------------------

    def _iter_programs(self) -> Iterator[int]:
        prog = self._lib.bpf_object__next_program(self._handle(), None)
        while prog:
            yield prog
            prog = self._lib.bpf_object__next_program(self._handle(), prog)

    def programs(self) -> list[str]:
        """Names of the object's entry-point programs, in ELF order."""
        return [self._lib.bpf_program__name(p).decode() for p in self._iter_programs()]

    def _program(self, name: str) -> int:
        prog = self._lib.bpf_object__find_program_by_name(self._handle(), name.encode())
        if not prog:
            raise KeyError(f"{self.path}: no program {name!r} (have {self.programs()})")
        return int(prog)

    def program_type(self, name: str) -> int:
        """The program's ``enum bpf_prog_type`` value."""
        return int(self._lib.bpf_program__type(self._program(name)))

    def run(self, prog_name: str, data: bytes | None = None, repeat: int = 1) -> int:
        """Test-run a program ``repeat`` times; return the last run's retval.

        Packet programs (tc, xdp, socket filter) get ``data``, or a zero-filled
        64-byte frame when ``data`` is None; other types (syscall, ...) get no
        data unless ``data`` is given.  Each repetition is a separate
        BPF_PROG_TEST_RUN, because syscall programs reject the kernel's own
        repeat count and counters must see every run anyway.
        """
        if repeat < 1:
            raise ValueError("repeat must be >= 1")
        prog = self._program(prog_name)
        fd = self._lib.bpf_program__fd(prog)
        if fd < 0:
            raise RunError(f"{self.path}: program {prog_name!r} is not loaded")
        if data is None and self._lib.bpf_program__type(prog) in _PACKET_PROG_TYPES:
            data = DEFAULT_PACKET
        retval = 0
        for _ in range(repeat):
            opts = _TestRunOpts()
            opts.sz = ctypes.sizeof(_TestRunOpts)
            data_in = None
            data_out = None
            if data is not None:
                data_in = ctypes.create_string_buffer(data, len(data))
                # Room for programs that grow the packet; the kernel truncates
                # (with ENOSPC) only if data_out is smaller than the result.
                data_out = ctypes.create_string_buffer(len(data) + 4096)
                opts.data_in = ctypes.addressof(data_in)
                opts.data_size_in = len(data)
                opts.data_out = ctypes.addressof(data_out)
                opts.data_size_out = len(data_out)
            ret = self._lib.bpf_prog_test_run_opts(fd, ctypes.byref(opts))
            if ret < 0:
                raise RunError(f"{self.path}: test run of {prog_name!r} failed: {os.strerror(-ret)}")
            retval = int(opts.retval)
        return retval

    # maps --------------------------------------------------------------------

    def _iter_maps(self) -> Iterator[int]:
        m = self._lib.bpf_object__next_map(self._handle(), None)
        while m:
            yield m
            m = self._lib.bpf_object__next_map(self._handle(), m)

    def maps(self) -> list[str]:
        """libbpf's names of all maps, internal ones (``out.bss``...) included."""
        return [self._lib.bpf_map__name(m).decode() for m in self._iter_maps()]

    def _map(self, name: str) -> int:
        # find_map_by_name matches a map's name and, for internal maps, the
        # ELF section it came from (".bss", ".data.custom", ...).
        m = self._lib.bpf_object__find_map_by_name(self._handle(), name.encode())
        if m:
            return int(m)
        raise KeyError(f"{self.path}: no map {name!r} (have {self.maps()})")

    def lookup(self, map_name: str, key: int | bytes) -> bytes | None:
        """Look ``key`` up in a map; None if absent.

        An int key is encoded little-endian in the map's key size.  Per-CPU
        maps return all CPUs' values concatenated, each padded to 8 bytes as
        the kernel does.
        """
        lib = self._lib
        m = self._map(map_name)
        key_size = lib.bpf_map__key_size(m)
        value_size = lib.bpf_map__value_size(m)
        if isinstance(key, int):
            key_bytes = key.to_bytes(key_size, "little", signed=key < 0)
        else:
            key_bytes = bytes(key)
        if len(key_bytes) != key_size:
            raise ValueError(f"map {map_name!r} has {key_size}-byte keys, got {len(key_bytes)}")
        if lib.bpf_map__type(m) in _PERCPU_MAP_TYPES:
            value_size = ((value_size + 7) // 8 * 8) * lib.libbpf_num_possible_cpus()
        key_buf = ctypes.create_string_buffer(key_bytes, key_size)
        value_buf = ctypes.create_string_buffer(value_size)
        ret = lib.bpf_map_lookup_elem(lib.bpf_map__fd(m), key_buf, value_buf)
        if ret < 0:
            if -ret == errno.ENOENT:
                return None
            raise RunError(f"{self.path}: lookup in {map_name!r} failed: {os.strerror(-ret)}")
        return value_buf.raw

    def _elf_symbols(self) -> dict[tuple[str, str], list[tuple[int, int]]]:
        """(section name, symbol name) -> [(offset, size)] from the ELF symtab."""
        if self._symbols is None:
            table: dict[tuple[str, str], list[tuple[int, int]]] = {}
            with self.path.open("rb") as f:
                elf = ELFFile(f)
                symtab = elf.get_section_by_name(".symtab")
                if isinstance(symtab, SymbolTableSection):
                    for sym in symtab.iter_symbols():
                        shndx = sym["st_shndx"]
                        if not isinstance(shndx, int) or shndx == 0 or not sym.name:
                            continue
                        if sym["st_info"]["type"] not in ("STT_OBJECT", "STT_NOTYPE"):
                            continue
                        section = elf.get_section(shndx).name
                        table.setdefault((section, sym.name), []).append((sym["st_value"], sym["st_size"]))
            self._symbols = table
        return self._symbols

    def read_global(self, section: str, symbol: str) -> bytes:
        """Current bytes of a global variable living in a data section.

        ``section`` is the ELF section (``.bss``, ``.data``, ``.rodata``,
        ``.data.custom``...), ``symbol`` the variable; its offset and size
        come from the object's ELF symbol table and its bytes from the
        section's internal map (lookup of key 0).
        """
        places = self._elf_symbols().get((section, symbol), [])
        if not places:
            raise KeyError(f"{self.path}: no symbol {symbol!r} in section {section!r}")
        if len(places) > 1:
            raise KeyError(f"{self.path}: symbol {symbol!r} is ambiguous in {section!r} ({len(places)} definitions)")
        offset, size = places[0]
        value = self.lookup(section, 0)
        if value is None:
            raise RunError(f"{self.path}: internal map for {section!r} has no element 0")
        if offset + size > len(value):
            raise RunError(f"{self.path}: {symbol!r} at {offset}+{size} lies outside {section!r} ({len(value)} bytes)")
        return value[offset : offset + size]
