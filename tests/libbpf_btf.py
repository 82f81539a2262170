"""libbpf's own BTF deduplication, for differential tests of bpflink's.

A ctypes binding of four libbpf 1.6 calls from the shared library inside the
``pylibbpf`` wheel (see ``tests/kernel.py``)::

    libbpf_dedup(raw: bytes) -> tuple[int, bytes]   # btf__type_cnt and raw BTF after btf__dedup
    available() -> tuple[bool, str]
"""

from __future__ import annotations

import ctypes
import functools

from tests.kernel import find_libbpf_path


@functools.cache
def _lib() -> ctypes.CDLL | None:
    path = find_libbpf_path()
    if path is None:
        return None
    lib = ctypes.CDLL(path)
    vp, u32 = ctypes.c_void_p, ctypes.c_uint32
    for name, res, args in (("btf__new", vp, [ctypes.c_char_p, u32]),
                            ("btf__dedup", ctypes.c_int, [vp, vp]),
                            ("btf__type_cnt", u32, [vp]),
                            ("btf__raw_data", vp, [vp, ctypes.POINTER(u32)]),
                            ("btf__free", None, [vp]),
                            ("libbpf_get_error", ctypes.c_long, [vp])):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


def available() -> tuple[bool, str]:
    if _lib() is None:
        return False, "pylibbpf (which carries libbpf) is not installed"
    return True, ""


def libbpf_dedup(raw: bytes) -> tuple[int, bytes]:
    """Load raw ``.BTF`` bytes with btf__new, run btf__dedup(btf, NULL).

    Returns btf__type_cnt (types plus void) and the deduplicated raw BTF.
    """
    lib = _lib()
    if lib is None:
        raise RuntimeError(available()[1])
    btf = lib.btf__new(raw, len(raw))
    if not btf or lib.libbpf_get_error(btf):
        raise ValueError("libbpf rejected the BTF (btf__new failed)")
    try:
        err = lib.btf__dedup(btf, None)
        if err:
            raise ValueError(f"btf__dedup failed: {err}")
        size = ctypes.c_uint32()
        data = lib.btf__raw_data(btf, ctypes.byref(size))
        return lib.btf__type_cnt(btf), ctypes.string_at(data, size.value)
    finally:
        lib.btf__free(btf)
