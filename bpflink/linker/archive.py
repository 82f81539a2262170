"""Static archives (``.a``): an archive expands to its members, in archive order.

Format: ``!<arch>\\n``, then members each behind a 60-byte header (name,
mtime, uid, gid, mode, size, ``\\x60\\n``), padded to even offsets.  GNU
``/`` (symbol index) and ``//`` (long names) members are understood and not
linked, and so are BSD ``#1/N`` names (the name leads the member's data) and
``__.SYMDEF`` symbol indexes, as ``llvm-ar --format=bsd`` (or ``darwin``)
writes them.  Unlike ``ld``, every member is linked: BPF links are small and
libbpf's linker has no archive semantics to match.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import FormatError

MAGIC = b"!<arch>\n"


def expand(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """Yield (display name, bytes) for a plain object or every member of an archive."""
    if not data.startswith(MAGIC):
        yield name, data
        return
    pos = len(MAGIC)
    longnames = b""
    while pos < len(data):
        if pos + 60 > len(data):
            raise FormatError(f"truncated archive member header at offset {pos}")
        hdr = data[pos:pos + 60]
        if hdr[58:60] != b"`\n":
            raise FormatError(f"bad archive member header at offset {pos}")
        raw_name = hdr[:16].decode("ascii", "replace").rstrip()
        try:
            size = int(hdr[48:58].decode("ascii").strip() or "0")
        except ValueError:
            raise FormatError(f"bad archive member size at offset {pos}") from None
        body_start = pos + 60
        if body_start + size > len(data):
            raise FormatError(f"archive member at offset {pos} runs past the end of the file")
        body = data[body_start:body_start + size]
        pos = body_start + size + (size & 1)
        if raw_name in ("/", "/SYM64/"):
            continue
        if raw_name == "//":
            longnames = body
            continue
        if raw_name.startswith("/") and raw_name[1:].isdigit():
            off = int(raw_name[1:])
            end = longnames.find(b"/\n", off)
            if off >= len(longnames) or end < 0:
                raise FormatError(f"archive long name offset {off} is out of range")
            member = longnames[off:end].decode("utf-8", "replace")
        elif raw_name.startswith("#1/") and raw_name[3:].isdigit():
            # BSD (llvm-ar --format=bsd/darwin): the name leads the member's data
            n = int(raw_name[3:])
            if n > size:
                raise FormatError(f"archive member name at offset {pos} is longer than "
                                  "its member")
            member = body[:n].rstrip(b"\0").decode("utf-8", "replace")
            body = body[n:]
        else:
            member = raw_name.rstrip("/")
        if member.startswith("__.SYMDEF"):      # BSD symbol index ("__.SYMDEF SORTED"...)
            continue
        yield f"{name}({member})", body
