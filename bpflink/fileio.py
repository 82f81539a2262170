"""Writing the output atomically.

The object is written to a temporary file in the output's directory and
renamed over the output only when complete, so a failed or interrupted link
(error, full disk, SIGINT) leaves no partial file and an existing output
untouched.  The temporary file is removed on every failure path.
"""

from __future__ import annotations

import os
import tempfile


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def write_atomic(path: str, data: bytes | list) -> None:
    """Write ``data`` (bytes, or a list of buffers written in order) to ``path`` atomically."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        try:
            for part in [data] if isinstance(data, (bytes, bytearray, memoryview)) else data:
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
