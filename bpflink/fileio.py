"""Writing the output atomically and durably.

The object is written to a temporary file in the output's directory,
fsync'd, renamed over the output only when complete, and the directory is
fsync'd so the rename itself survives a crash (the sequence ext4's and
XFS's authors ask of applications).  A failed or interrupted link (error,
full disk, SIGINT, SIGTERM) leaves no partial file and an existing output
untouched; the temporary file is removed on every failure path.

Temporary names are ``.<output>.bpflink-<pid>-<random>.tmp``: created with
``O_EXCL`` (as ``tempfile.mkstemp`` does), unique per process and per call, so
parallel links into one directory (``make -j``), even of the same output,
never write the same file.  A link killed by SIGKILL cannot clean up; what
it leaves is a hidden ``.tmp`` file that no ``*.o`` glob or make pattern
matches, that a later link neither reuses nor deletes (its pid may be
alive on another host sharing the directory), and that bpflink refuses as
an input (:func:`is_temporary`), so it is never mistaken for an output.

An output under ``/dev`` or ``/proc`` (``-o /dev/null``, ``--map
/dev/stderr``: a symlink to whatever fd 2 is) or one that exists and is
neither a regular file nor a directory (a FIFO) is opened and written,
never replaced.  Any other symlink is replaced by the output, as ld and lld
do.

Inputs of 64 KiB or more are mapped rather than read (:func:`read_whole`).
"""

from __future__ import annotations

import errno
import os
import stat
from _weakref import ref    # weakref's reference type: the weakref module costs every link

TYPE_CHECKING = False   # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from mmap import mmap
    from typing import IO

TMP_MARK = ".bpflink-"
_TMP_NAME = r"^\..*\.bpflink-\d+-[^.]+\.tmp$"


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def is_temporary(path: str) -> bool:
    """Whether ``path`` is named like one of bpflink's temporary output files."""
    name = os.path.basename(path)
    if TMP_MARK not in name:    # every match holds the mark: most links never import re
        return False
    import re
    return bool(re.match(_TMP_NAME, name))


def writes_in_place(path: str) -> bool:
    """Whether ``path`` is written to in place rather than replaced (module docstring)."""
    if os.path.abspath(path).startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


MAP_MIN = 64 << 10             # smaller inputs are read: mapping would gain little
# Live mappings (each holds an fd), as weakref.WeakSet keeps them: a weak
# reference to each, which removes itself from the set when its mapping dies.
_mapped: set[ref[mmap]] = set()


def read_whole(fh: IO[bytes], size: int) -> bytes | mmap:
    """The whole of regular file ``fh`` (``size`` bytes by ``fstat``): mapped, or read.

    A larger input (kernel types, a BPF arena or a big .rodata: hundreds of
    kilobytes to megabytes per object) is mapped read-only, as libbpf's
    linker maps its inputs (``ELF_C_READ_MMAP``) and lld its: reading it
    would copy it into fresh memory, whose page faults cost more than the link
    moving its data sections does (16-20 ms for 22 MB here, 8 ms for 6 MB of
    kernel types, against under 1 ms mapped).  The reader copies what it
    parses out of the mapping (headers, tables, code, BTF); data sections stay
    views of it until the output is written from them (by ``write``, so the
    kernel copies straight from the input's page cache).

    A mapping sees the file as it is, not as it was when opened: an input
    rewritten in place during the link (not replaced by a rename, as
    compilers and ``make`` do) may lend the output its new data, and one
    truncated while the reader parses it ends the process with SIGBUS, as it
    would libbpf's linker.  Python's mmap keeps a duplicate of the file
    descriptor open per mapping, so at most a quarter of the process's
    descriptor limit are mapped at a time; inputs beyond that, the small
    ones, and any file the system will not map, are read.
    """
    if size >= MAP_MIN and len(_mapped) < _map_budget():
        import mmap as mmap_mod

        try:
            m = mmap_mod.mmap(fh.fileno(), 0, flags=mmap_mod.MAP_PRIVATE |
                              getattr(mmap_mod, "MAP_POPULATE", 0), prot=mmap_mod.PROT_READ)
        except (OSError, ValueError):
            pass                # EMFILE, ENOMEM, a file system without mmap: read it
        else:
            _mapped.add(ref(m, _mapped.discard))
            return m
    fh.seek(0)
    data = fh.read()
    assert data is not None     # a regular file never would block
    return data


def _map_budget() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX") // 4
    except (OSError, ValueError):
        return 64


def write_atomic(path: str, data: bytes | list[bytes | bytearray | memoryview]) -> None:
    """Write ``data`` (bytes, or a list of buffers written in order) to ``path`` atomically."""
    parts = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
    if writes_in_place(path):
        # /dev/null, /dev/stderr, a FIFO: written to, never replaced (renaming
        # over /dev/null or the /dev/stderr symlink, as root, would replace them)
        with open(path, "wb") as fh:
            fh.writelines(parts)
        return
    directory = os.path.dirname(os.path.abspath(path))
    # NAME_MAX is 255 bytes: a long output name is shortened in the temporary one
    base = os.path.basename(path)[:100]
    fd, tmp = _make_temporary(directory, f".{base}{TMP_MARK}{os.getpid()}-", ".tmp")
    try:
        try:
            for part in parts:
                view = memoryview(part)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_directory(directory)


def _make_temporary(directory: str, prefix: str, suffix: str) -> tuple[int, str]:
    """Create ``directory/prefix<random>suffix`` as ``tempfile.mkstemp`` does: O_EXCL,
    mode 0600, a fresh random part on a clash; (fd, path).

    Not tempfile itself: importing it (with shutil and random) cost every
    link more than a small link's own work.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | \
        getattr(os, "O_CLOEXEC", 0)
    for _ in range(os.TMP_MAX):
        path = os.path.join(directory, prefix + os.urandom(6).hex() + suffix)
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", directory)


def fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable.  Filesystems that cannot (EINVAL) are let be."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)
