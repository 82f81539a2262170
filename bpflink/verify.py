"""``--verify``: load a linked object into the running kernel through libbpf.

A link can be correct and still carry a program the kernel verifier refuses
(an unchecked packet read, a loop it cannot bound).  ``--verify`` loads the
written output the way a loader does — ``bpf_object__open`` then
``bpf_object__load``: every program that loads by default, i.e. libbpf's
autoload set (programs in ``SEC("?...")`` sections are not loaded), with
their maps — and reports what the kernel said, then closes it all again.
Nothing stays in the kernel: map pinning is switched off before the load so
verifying never touches ``/sys/fs/bpf``.

Which program failed, and where it came from.  libbpf stops at the first
program the kernel refuses; each program gets its own log buffer (anonymous
memory, committed only when the kernel writes to it), so the refused one is
the program whose buffer holds a log.  It is then left out (autoload off) and
the object loaded again, until the rest loads: every refused program is
reported, each with its own log, under the same program naming as the
call-graph diagnostics (input file, section, program name).  libbpf does not
know the input file; bpflink does (the call graph records each function's
origin), and passes it in as ``origins``.

What the kernel said decides the outcome:

* the load succeeds: ``VERIFIED``;
* a program fails with a verifier log (``EACCES``, ``EINVAL``, ``E2BIG``, or
  ``ENOSPC`` when the log outgrew its buffer): ``REFUSED``, with the log —
  its last lines carry the source lines from the BTF line info;
* the check cannot be made here: ``UNAVAILABLE``, with the reason — no
  libbpf; ``EPERM`` before any program (libbpf's first probe load or a map:
  no ``CAP_BPF``/``CAP_SYS_ADMIN``); for one program, a program type this
  kernel lacks (``libbpf_probe_bpf_prog_type`` says 0 — e.g. ``fentry`` where
  tracing programs fail with ``EPERM`` even for root), ``EPERM`` for that
  program alone, a feature the kernel lacks (``ENOTSUPP``/``EOPNOTSUPP``,
  e.g. ``fentry`` without BPF trampolines), or an attach target it does not
  have (``ESRCH``, ``fentry/no_such_function``).  A
  program the kernel cannot check is left out like a refused one, so the rest
  are still verified.

libbpf is used through ctypes, found in this order (the first that loads):

1. ``$BPFLINK_LIBBPF``, a path to ``libbpf.so`` — when set, only that one;
2. the copy inside the ``pylibbpf`` wheel (libbpf 1.6), preferred to the
   system's because a newer libbpf knows newer program types and kernel
   features;
3. the system's ``libbpf.so.1`` (Debian/Ubuntu ``libbpf1``, Fedora
   ``libbpf``).

Neither is needed to link: this module is imported only for ``--verify``.

API::

    report = verify("out.o")                      # or bytes; origins={(section, name): file}
    report.outcome                                # Outcome.VERIFIED / REFUSED / UNAVAILABLE
    report.programs                               # [ProgramVerdict], libbpf's program order
    report.diagnostics(require=False)             # what the CLI prints
    bpflink.link([...], "out.o").verify()         # the same, with origins filled in
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import glob
import importlib.util
import mmap
import os
import platform
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Self

from .errors import Diagnostic, error, warning

__all__ = ["LIBBPF_ENV", "Outcome", "ProgramVerdict", "VerifyReport", "find_libbpf", "verify"]

LIBBPF_ENV = "BPFLINK_LIBBPF"
_SONAME = "libbpf.so.1"

# Per-program log buffer.  Anonymous mmap without swap reservation: pages are
# committed only when the kernel writes, and only a refused program's load
# writes a log (libbpf loads at log level 0 and retries at level 1 into this
# buffer on failure).  Since Linux 6.4 the log rotates and a full buffer keeps
# the tail, the lines that matter; older kernels keep the head.
LOG_SIZE = 1 << 20
_MAP_FLAGS = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_NORESERVE", 0)

# How many of the log's last lines the CLI prints (all of them with -v).
LOG_TAIL_LINES = 15

ENOTSUPP = 524          # the kernel's internal "not supported", seen by user space as is

_HINT_INSTALL = ("install libbpf (apt-get install libbpf1, dnf install libbpf) or the "
                 "pylibbpf wheel (pip install pylibbpf), or point $BPFLINK_LIBBPF at a "
                 "libbpf.so")


class Outcome(Enum):
    VERIFIED = "verified"           # every program that loads by default loaded
    REFUSED = "refused"             # the kernel refused at least one program
    UNAVAILABLE = "unavailable"     # the kernel could not be asked (see VerifyReport.reason)


@dataclass(frozen=True)
class ProgramVerdict:
    """What the kernel said about one program of the object."""

    name: str
    section: str
    file: str | None                # the input it came from, when known
    autoload: bool                  # False: a SEC("?...") program, not loaded
    status: str                     # "verified", "refused", "unavailable", "not loaded", "unknown"
    errno: int = 0                  # the load's errno, when it failed
    log: str = ""                   # the verifier log, when refused
    reason: str = ""                # why, for "unavailable" and "unknown"


@dataclass
class VerifyReport:
    """The result of :func:`verify`."""

    outcome: Outcome
    target: str                     # the object verified: a path, or the name given
    programs: list[ProgramVerdict] = field(default_factory=list)
    libbpf: str = ""                # "libbpf v1.6" when one was found
    libbpf_path: str = ""           # the shared object it came from
    reason: str = ""                # UNAVAILABLE: why; REFUSED: a failure no program owns
    hint: str = ""                  # UNAVAILABLE: how to make it possible
    messages: str = ""              # libbpf's own messages (warnings) during the loads

    @property
    def ok(self) -> bool:
        """True unless the kernel refused something (UNAVAILABLE is not a failure)."""
        return self.outcome is not Outcome.REFUSED

    @property
    def refused(self) -> list[ProgramVerdict]:
        return [p for p in self.programs if p.status == "refused"]

    def diagnostics(self, require: bool = False, tail: int | None = LOG_TAIL_LINES
                    ) -> list[Diagnostic]:
        """The report as diagnostics: an error per refused program (the verifier log's
        last ``tail`` lines, all of them for None, as ``>>>`` notes); a warning — an
        error with ``require`` — when the kernel could not check the object or some
        of its programs."""
        out: list[Diagnostic] = []
        for p in self.refused:
            lines = p.log.rstrip("\n").splitlines()
            shown = lines if tail is None or len(lines) <= tail else lines[-tail:]
            what = (f"the last {len(shown)} lines of its verifier log" if len(shown) < len(lines)
                    else "its verifier log" if lines else "no verifier log")
            code = errno.errorcode.get(p.errno, f"errno {p.errno}")
            out.append(error(f"the kernel verifier refused this program ({code}); {what}:"
                             if lines else
                             f"the kernel refused this program ({_strerror(p.errno)}); {what}",
                             file=p.file or self.target, section=p.section, symbol=p.name,
                             notes=shown))
        severity = error if require else warning
        if self.outcome is Outcome.REFUSED and not self.refused:
            notes = self.messages.rstrip("\n").splitlines()[-LOG_TAIL_LINES:]
            out.append(error(f"libbpf could not load the output: {self.reason}",
                             file=self.target, notes=notes))
        elif self.outcome is Outcome.UNAVAILABLE:
            out.append(severity(f"cannot verify in the kernel: {self.reason}", file=self.target,
                                hint=self.hint or None))
        for p in self.programs:
            if p.status == "unavailable" and self.outcome is not Outcome.UNAVAILABLE:
                out.append(severity(f"cannot verify this program here: {p.reason}",
                                    file=p.file or self.target, section=p.section,
                                    symbol=p.name))
        return out


# -- finding and binding libbpf ------------------------------------------------------------

def _wheel_libbpf() -> str | None:
    """The libbpf inside the pylibbpf wheel (its extension module exports libbpf's C API)."""
    spec = importlib.util.find_spec("pylibbpf")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(glob.glob(os.path.join(location, "pylibbpf*.so")))
        if found:
            return found[0]
    return None


def _system_libbpf() -> str | None:
    return ctypes.util.find_library("bpf")


def _candidates() -> Iterator[str]:
    forced = os.environ.get(LIBBPF_ENV)
    if forced:
        yield forced
        return
    seen = set()
    # Lazily: find_library runs ldconfig, which the wheel's copy makes unnecessary.
    # The bare soname is the dynamic loader's own search, the last resort.
    for find in (_wheel_libbpf, _system_libbpf, lambda: _SONAME):
        found = find()
        if found and found not in seen:
            seen.add(found)
            yield found


def find_libbpf() -> list[str]:
    """Candidate libbpf shared objects, in the order they are tried."""
    return list(_candidates())


class _BpfObjectOpenOpts(ctypes.Structure):
    """The head of ``struct bpf_object_open_opts``; ``sz`` tells libbpf how much we pass."""

    _fields_ = [("sz", ctypes.c_size_t), ("object_name", ctypes.c_char_p)]


# int (*libbpf_print_fn_t)(enum libbpf_print_level, const char *, va_list).  On
# x86_64 a va_list argument is a pointer to a 24-byte __va_list_tag; copying
# those bytes is what va_copy does there, so it can be formatted twice (size,
# then text) by libc's vsnprintf.
_PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
_X86_64_VA_LIST_SIZE = 24
_LIBBPF_WARN = 0


class _Libbpf:
    """libbpf's functions with their ctypes signatures (libbpf >= 1.0)."""

    def __init__(self, path: str) -> None:
        self.path = path
        lib = ctypes.CDLL(path, use_errno=True)    # libbpf >= 1.0 returns NULL + errno
        vp, cp, i, sz = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t

        def bind(name: str, restype: Any, *argtypes: Any) -> Any:
            fn = getattr(lib, name)         # AttributeError: too old a libbpf
            fn.restype, fn.argtypes = restype, list(argtypes)
            return fn

        self.version = bind("libbpf_version_string", cp)
        self.set_print = bind("libbpf_set_print", vp, vp)
        self.get_error = bind("libbpf_get_error", ctypes.c_long, vp)
        self.open_file = bind("bpf_object__open_file", vp, cp, vp)
        self.open_mem = bind("bpf_object__open_mem", vp, vp, sz, vp)
        self.load = bind("bpf_object__load", i, vp)
        self.close = bind("bpf_object__close", None, vp)
        self.next_program = bind("bpf_object__next_program", vp, vp, vp)
        self.next_map = bind("bpf_object__next_map", vp, vp, vp)
        self.map_set_pin_path = bind("bpf_map__set_pin_path", i, vp, cp)
        self.prog_name = bind("bpf_program__name", cp, vp)
        self.prog_section = bind("bpf_program__section_name", cp, vp)
        self.prog_type = bind("bpf_program__type", i, vp)
        self.prog_autoload = bind("bpf_program__autoload", ctypes.c_bool, vp)
        self.prog_set_autoload = bind("bpf_program__set_autoload", i, vp, ctypes.c_bool)
        self.prog_set_log_buf = bind("bpf_program__set_log_buf", i, vp, vp, sz)
        self.probe_prog_type = bind("libbpf_probe_bpf_prog_type", i, i, vp)
        self.prog_type_str = bind("libbpf_bpf_prog_type_str", cp, i)
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        self.vsnprintf = libc.vsnprintf
        self.vsnprintf.restype, self.vsnprintf.argtypes = i, [vp, sz, cp, vp]

    def describe(self) -> str:
        return f"libbpf {self.version().decode()}"


_loaded: dict[str, _Libbpf] = {}
_lock = threading.Lock()           # libbpf_set_print is process-global


def _open_libbpf() -> tuple[_Libbpf | None, str]:
    """The first candidate that loads, or None and why none did."""
    tried = []
    for path in _candidates():
        if path in _loaded:
            return _loaded[path], ""
        try:
            lib = _Libbpf(path)
        except OSError as e:
            tried.append(f"{path}: {e}")
            continue
        except AttributeError as e:
            tried.append(f"{path}: too old, libbpf 1.0 or later is needed ({e})")
            continue
        _loaded[path] = lib
        return lib, ""
    forced = os.environ.get(LIBBPF_ENV)
    if forced:
        return None, f"no libbpf: ${LIBBPF_ENV}={forced} does not load ({tried[0]})"
    return None, ("no libbpf found (tried the pylibbpf wheel and the system's libbpf.so.1"
                  + (f": {'; '.join(tried)}" if tried else "") + ")")


class _Messages:
    """Collects libbpf's warnings while installed, instead of letting them reach stderr."""

    def __init__(self, lib: _Libbpf) -> None:
        self._lib = lib
        self.lines: list[str] = []
        self._callback = _PRINT_FN(self._print)     # kept alive while libbpf holds it

    def _format(self, fmt: bytes, ap: int | None) -> str:
        if platform.machine() not in ("x86_64", "AMD64") or ap is None:
            return fmt.decode(errors="replace")     # a va_list cannot be read portably
        size = _X86_64_VA_LIST_SIZE
        copy = ctypes.create_string_buffer(ctypes.string_at(ap, size), size)
        n = self._lib.vsnprintf(None, 0, fmt, ctypes.addressof(copy))
        if n < 0:
            return fmt.decode(errors="replace")
        buf = ctypes.create_string_buffer(n + 1)
        copy = ctypes.create_string_buffer(ctypes.string_at(ap, size), size)
        self._lib.vsnprintf(buf, n + 1, fmt, ctypes.addressof(copy))
        return buf.value.decode(errors="replace")

    def _print(self, level: int, fmt: bytes, ap: int | None) -> int:
        if level == _LIBBPF_WARN:
            try:
                self.lines.append(self._format(fmt, ap))
            except Exception as e:  # noqa: BLE001 -- never let an exception cross into C
                self.lines.append(f"<libbpf message not formatted: {e}>")
        return 0

    def __enter__(self) -> Self:
        self._previous = self._lib.set_print(ctypes.cast(self._callback, ctypes.c_void_p))
        return self

    def __exit__(self, *exc: object) -> None:
        self._lib.set_print(self._previous)

    def text(self) -> str:
        return "".join(self.lines)


# -- verifying -----------------------------------------------------------------------------

# enum libbpf_errno: libbpf's own codes above the kernel's (libbpf_strerror is not
# exported by every build, the wheel's included).
_LIBBPF_ERRNO = {4000: "something wrong in libelf", 4001: "BPF object format invalid",
                 4002: "'version' section incorrect or lost", 4003: "endian mismatch",
                 4004: "internal error in libbpf", 4005: "relocation failed",
                 4006: "load program failed for unknown reason",
                 4007: "kernel verifier blocks program loading", 4008: "program too big",
                 4009: "incorrect kernel version",
                 4010: "kernel doesn't support this program type"}


def _strerror(err: int) -> str:
    if not err:
        return "no error code"
    if err in _LIBBPF_ERRNO:
        return f"libbpf error {err}: {_LIBBPF_ERRNO[err]}"
    # 95 is both ENOTSUP and EOPNOTSUPP; the kernel says EOPNOTSUPP.
    name = ("EOPNOTSUPP" if err == errno.EOPNOTSUPP else errno.errorcode.get(err)
            or ("ENOTSUPP" if err == ENOTSUPP else f"errno {err}"))
    text = "operation not supported" if err == ENOTSUPP else os.strerror(err)
    return f"{name}: {text}"


def _capabilities() -> str:
    """Why this process may lack BPF rights, for the EPERM message."""
    try:
        with open("/proc/self/status") as f:
            caps = next((int(line.split()[1], 16) for line in f if line.startswith("CapEff:")),
                        None)
    except OSError:
        caps = None
    have = [] if caps is None else [n for n, bit in (("CAP_BPF", 39), ("CAP_SYS_ADMIN", 21))
                                    if caps >> bit & 1]
    who = f"uid {os.geteuid()}"
    if caps is None:
        return who
    return f"{who} has {' and '.join(have)}" if have else f"{who} has neither CAP_BPF nor " \
        "CAP_SYS_ADMIN"


@dataclass
class _Program:
    name: str
    section: str
    type: int
    autoload: bool


def _open(lib: _Libbpf, obj: str | bytes, name: str) -> tuple[int, str]:
    """bpf_object__open_*; (handle, "") or (0, why not)."""
    if isinstance(obj, bytes):
        opts = _BpfObjectOpenOpts(ctypes.sizeof(_BpfObjectOpenOpts), name.encode())
        buf = ctypes.create_string_buffer(obj, len(obj))
        handle = lib.open_mem(buf, len(obj), ctypes.byref(opts))
    else:
        handle = lib.open_file(os.fsencode(obj), None)
    if not handle:
        return 0, _strerror(ctypes.get_errno() or errno.EINVAL)
    err = lib.get_error(handle)
    if err:
        return 0, _strerror(-int(err))
    return handle, ""


def _programs(lib: _Libbpf, handle: int) -> list[tuple[int, _Program]]:
    out = []
    prog = lib.next_program(handle, None)
    while prog:
        out.append((prog, _Program(lib.prog_name(prog).decode(), lib.prog_section(prog).decode(),
                                   lib.prog_type(prog), bool(lib.prog_autoload(prog)))))
        prog = lib.next_program(handle, prog)
    return out


def _unpin_maps(lib: _Libbpf, handle: int) -> None:
    """No pinning: a map with ``pinning = LIBBPF_PIN_BY_NAME`` would otherwise be pinned
    under /sys/fs/bpf (or reuse what is pinned there) by the load."""
    m = lib.next_map(handle, None)
    while m:
        lib.map_set_pin_path(m, None)
        m = lib.next_map(handle, m)


def _log_text(buf: mmap.mmap) -> str:
    end = buf.find(b"\0")
    return buf[:end if end >= 0 else len(buf)].decode(errors="replace")


def _load_once(lib: _Libbpf, obj: str | bytes, name: str, skip: set[int]
               ) -> tuple[int, int | None, str, list[_Program]]:
    """Open, leave the programs numbered ``skip`` out, load, close.

    Programs are numbered in libbpf's order (section, then offset), the same
    on every open.  Returns (0 or -errno, the number of the program whose log
    buffer holds a log or None, that log, the object's programs).
    """
    handle, why = _open(lib, obj, name)
    if not handle:
        raise _OpenFailed(why)
    buffers: list[tuple[int, mmap.mmap]] = []
    try:
        progs = _programs(lib, handle)
        for i, (prog, p) in enumerate(progs):
            if i in skip:
                lib.prog_set_autoload(prog, False)
            elif p.autoload:
                buf = mmap.mmap(-1, LOG_SIZE, flags=_MAP_FLAGS)
                # The address stays valid while the mapping is open; the ctypes
                # view is dropped at once so the mapping can be closed later.
                address = ctypes.addressof(ctypes.c_char.from_buffer(buf))
                lib.prog_set_log_buf(prog, address, LOG_SIZE)
                buffers.append((i, buf))
        _unpin_maps(lib, handle)
        ret = lib.load(handle)
        failed, log = None, ""
        if ret:
            for i, buf in buffers:
                if buf[0]:
                    failed, log = i, _log_text(buf)
                    break
        return ret, failed, log, [p for _prog, p in progs]
    finally:
        lib.close(handle)
        for _i, buf in buffers:
            buf.close()


class _OpenFailed(Exception):
    pass


def _failed_by_message(messages: list[str], candidates: dict[int, str]) -> int | None:
    """The program libbpf's last ``prog 'NAME': ...`` warning names, among ``candidates``
    (number -> name; the first of that name).

    Used when no log buffer holds a log: the kernel refused before verifying
    (an attach target, a missing program type, EPERM) or libbpf stopped first.
    """
    for line in reversed(messages):
        for i, c in candidates.items():
            if f"prog '{c}':" in line:
                return i
    return None


Origins = Mapping[tuple[str, str], "str | Sequence[str]"]


def verify(obj: str | os.PathLike[str] | bytes, *, origins: Origins | None = None,
           name: str | None = None) -> VerifyReport:
    """Load ``obj`` (a path, or the object's bytes) through libbpf and report.

    ``origins`` maps (section, program name) to the input file the program
    came from — or to the files, in output order, when static programs of
    several inputs share a section and a name; :meth:`bpflink.LinkResult.verify`
    fills it in.  ``name`` names the object in the report (default: the path,
    or ``"<memory>"``).  Never raises for what libbpf or the kernel say: the
    report holds it.
    """
    data: str | bytes = obj if isinstance(obj, bytes) else os.fspath(obj)
    target = name or (data if isinstance(data, str) else "<memory>")
    lib, why = _open_libbpf()
    if lib is None:
        return VerifyReport(Outcome.UNAVAILABLE, target, reason=why, hint=_HINT_INSTALL)
    obj_name = os.path.splitext(os.path.basename(target))[0] or "bpflink"
    report = VerifyReport(Outcome.VERIFIED, target, libbpf=lib.describe(),
                          libbpf_path=lib.path)
    verdicts: dict[int, tuple[str, int, str]] = {}      # number -> (status, errno, log/reason)
    programs: list[_Program] = []
    with _lock:
        catcher = _Messages(lib)
        with catcher:
            while True:
                first = len(catcher.lines)
                try:
                    ret, failed, log, programs = _load_once(lib, data, obj_name, set(verdicts))
                except _OpenFailed as e:
                    report.outcome, report.reason = Outcome.REFUSED, f"opening it failed: {e}"
                    break
                if ret == 0:
                    break
                err = -ret
                if failed is None:
                    loading = {i: p.name for i, p in enumerate(programs)
                               if p.autoload and i not in verdicts}
                    failed = _failed_by_message(catcher.lines[first:], loading)
                if failed is None and err == errno.EPERM:
                    # Before any program: libbpf's probe load or a map was refused.
                    report.outcome = Outcome.UNAVAILABLE
                    report.reason = ("the kernel does not permit loading BPF programs "
                                     f"({_capabilities()})")
                    report.hint = ("run as root, or grant CAP_BPF (with CAP_PERFMON and "
                                   "CAP_NET_ADMIN for tracing and networking programs)")
                    break
                if failed is None:
                    report.outcome, report.reason = Outcome.REFUSED, _strerror(err)
                    break
                reason = _unverifiable(lib, programs[failed], err, log)
                if reason is not None:
                    verdicts[failed] = ("unavailable", err, reason)
                else:
                    verdicts[failed] = ("refused", err, log or "".join(catcher.lines[first:]))
    report.messages = catcher.text()
    files = _origin_files(programs, origins or {})
    for i, p in enumerate(programs):
        status, err, text = verdicts.get(i, ("", 0, ""))
        if not status:
            status = ("not loaded" if not p.autoload else
                      "verified" if report.outcome is Outcome.VERIFIED else "unknown")
        report.programs.append(ProgramVerdict(
            p.name, p.section, files[i], p.autoload, status, err,
            log=text if status == "refused" else "",
            reason=(text if status == "unavailable" else
                    f"not reached: the load stopped first ({report.reason})"
                    if status == "unknown" else "")))
    if report.outcome is Outcome.VERIFIED and report.refused:
        report.outcome = Outcome.REFUSED
    loaded = [v for v in report.programs if v.autoload]
    if report.outcome is Outcome.VERIFIED and loaded and all(v.status == "unavailable"
                                                              for v in loaded):
        report.outcome = Outcome.UNAVAILABLE
        report.reason = "; ".join(f"{v.name}: {v.reason}" for v in report.programs
                                  if v.status == "unavailable")
    return report


def _unverifiable(lib: _Libbpf, p: _Program, err: int, log: str) -> str | None:
    """Why this kernel cannot check the program that failed with ``err``, or None: the
    kernel looked at it and refused it."""
    kind = (lib.prog_type_str(p.type) or b"unknown").decode()
    if lib.probe_prog_type(p.type, None) == 0:
        # libbpf loads a trivial program of the type: the kernel has no such
        # type, or does not let anyone load it here (tracing: EPERM even for root).
        return (f"this kernel lacks program type {kind} (libbpf's probe of it fails; "
                f"the load: {_strerror(err)})")
    if err == errno.EPERM and not log:
        return f"the kernel does not permit loading this {kind} program (EPERM; {_capabilities()})"
    if err == errno.ESRCH and not log:
        # libbpf looks a tracing program's attach target (fentry/foo) up in this
        # kernel's BTF before loading; another kernel may have it.
        return f"this kernel has no attach target for this {kind} program ({_strerror(err)})"
    if err in (ENOTSUPP, errno.EOPNOTSUPP):
        return f"this kernel does not support what this {kind} program needs ({_strerror(err)})"
    return None


def _origin_files(programs: list[_Program], origins: Origins) -> list[str | None]:
    """The input file of each program: the k-th program of a (section, name) takes the
    k-th file listed for it (libbpf orders programs by section, then offset)."""
    seen: dict[tuple[str, str], int] = {}
    out: list[str | None] = []
    for p in programs:
        key = (p.section, p.name)
        k = seen.get(key, 0)
        seen[key] = k + 1
        files = origins.get(key)
        if isinstance(files, str):
            out.append(files)
        elif files is not None and k < len(files):
            out.append(files[k])
        else:
            out.append(None)
    return out
