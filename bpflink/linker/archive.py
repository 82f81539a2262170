"""Static archives (``.a``): read their members, and take the ones the link needs.

Format: ``!<arch>\\n``, then members each behind a 60-byte header (name,
mtime, uid, gid, mode, size, ``\\x60\\n``), padded to even offsets.  GNU
``/`` (symbol index) and ``//`` (long names) members are understood and not
linked, and so are BSD ``#1/N`` names (the name leads the member's data) and
``__.SYMDEF`` symbol indexes, as ``llvm-ar --format=bsd`` (or ``darwin``)
writes them.  The archive's own symbol index is not used (``ar`` builds one
only for object formats its BFD knows, and an index can be stale): every
member is read and its symbol table consulted, which also means a member
that is not a BPF object is an error, naming archive and member, whether or
not it would be taken.

Which members are linked (:func:`select_inputs`) follows lld's lazy symbols:

* Inputs are visited in command-line order.  An object's global definitions
  are recorded; each of its undefined references that nothing defines yet
  is remembered as *unresolved*.
* At an archive, each member's global definitions (strong or weak) become
  *lazy*: the first archive, in command-line order, that defines a name
  provides it.  A member is taken as soon as one of its lazy names is
  unresolved -- by an input before the archive or after it (lld, unlike
  GNU ld, needs no ``--start-group``).  A member taken is read like an
  object, so what it references can take further members, from this or
  any archive; this repeats until nothing changes.
* These references never take a member: a weak undefined (``__weak``
  extern: the program copes with its absence), a name some input already
  defines (a weak definition is not replaced by an archive's strong one,
  as in ld), and a kernel extern -- kfuncs and ksyms (``.ksyms``) and
  kconfig values (``.kconfig``).  libbpf resolves those against the running
  kernel at load time; a member that happens to define a function named
  like a kfunc must not be linked in place of the kernel's.
* Between ``--whole-archive`` and ``--no-whole-archive`` every member is
  taken, in archive order, at the archive's place on the command line.

Members taken lazily are linked in the order they were taken, after the
input whose reference took them: depth-first, as lld reads a member the
moment a reference takes it.  An input's definitions count before its
references are followed, so a member never comes in for a name that the
input (or a member taken before) already defines.  :class:`Extraction` records
why, for ``--why-extract`` (lld's format: a ``reference\\textracted\\tsymbol``
header, then one row per member; whole-archive members show the reference
``--whole-archive`` and no symbol).
"""

from __future__ import annotations


from ..btf.types import Kind
from ..elf.constants import SHN_UNDEF, STB_LOCAL, STB_WEAK
from ..elf.reader import InputObject
from ..errors import FormatError

TYPE_CHECKING = False   # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Iterator
    from mmap import mmap

MAGIC = b"!<arch>\n"
KERNEL_EXTERN_SECTIONS = (".ksyms", ".kconfig")
WHOLE_ARCHIVE = "--whole-archive"


def is_archive(data: bytes | mmap) -> bool:
    return data[:len(MAGIC)] == MAGIC        # data may be a mapped file: no startswith


def members(name: str, data: bytes | mmap) -> Iterator[tuple[str, bytes]]:
    """Yield (``archive(member)`` display name, bytes) for every member, in archive order."""
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


# Plain classes, not dataclasses: ``import dataclasses`` and generating the
# methods cost every bpflink process milliseconds at start-up.

class Archive:
    """An archive input: its members, read and validated, in archive order."""

    def __init__(self, name: str, members: list[InputObject], whole: bool = False):
        self.name = name
        self.members = members
        self.whole = whole              # --whole-archive: take every member

    def __repr__(self) -> str:
        return f"Archive(name={self.name!r}, members={self.members!r}, whole={self.whole!r})"


class Extraction:
    """Why a member went into the link: ``reference`` needed ``symbol``, ``member`` had it.

    Immutable in spirit, compared and hashed by value (it was a frozen dataclass).
    """

    __slots__ = ("reference", "member", "symbol")

    def __init__(self, reference: str, member: str, symbol: str):
        self.reference = reference      # an input name, or "--whole-archive"
        self.member = member            # "libfoo.a(x.o)"
        self.symbol = symbol            # "" for --whole-archive

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Extraction)
        return (self.reference, self.member, self.symbol) == \
            (other.reference, other.member, other.symbol)

    def __hash__(self) -> int:
        return hash((self.reference, self.member, self.symbol))

    def __repr__(self) -> str:
        return (f"Extraction(reference={self.reference!r}, member={self.member!r}, "
                f"symbol={self.symbol!r})")


class Selection:
    """The objects to link, in link order, and why each archive member is among them."""

    def __init__(self, objects: list[InputObject] | None = None,
                 extractions: list[Extraction] | None = None):
        self.objects: list[InputObject] = [] if objects is None else objects
        self.extractions: list[Extraction] = [] if extractions is None else extractions


def kernel_extern_names(obj: InputObject) -> set[str]:
    """Names this object declares in ``.ksyms``/``.kconfig``: libbpf binds them to the kernel."""
    types = obj.btf.types
    names: set[str] = set()
    for t in types:
        if t.kind is Kind.DATASEC and t.name in KERNEL_EXTERN_SECTIONS:
            for vtid, _off, _size in t.data:
                if 0 <= vtid < len(types):
                    names.add(types[vtid].name)
    return names


def _definitions(obj: InputObject) -> list[str]:
    return [s.name for s in obj.symbols[1:] if s.bind != STB_LOCAL and s.shndx != SHN_UNDEF]


def select_inputs(items: list[InputObject | Archive]) -> Selection:
    """Objects, and the archive members their references need (module docstring)."""
    sel = Selection()
    defined: set[str] = set()
    unresolved: dict[str, str] = {}     # name -> the first input that needs it
    lazy: dict[str, InputObject] = {}   # name -> the first archive member defining it
    taken: set[int] = set()

    def add(obj: InputObject, why: Extraction | None) -> Iterator[str]:
        """Link ``obj``; its strong references to names not defined yet, lazily."""
        taken.add(id(obj))
        sel.objects.append(obj)
        if why is not None:
            sel.extractions.append(why)
        for name in _definitions(obj):
            defined.add(name)
            unresolved.pop(name, None)
        kernel = kernel_extern_names(obj)
        return (s.name for s in obj.symbols[1:]
                if s.bind not in (STB_LOCAL, STB_WEAK) and s.shndx == SHN_UNDEF and s.name
                and s.name not in kernel)

    def take(obj: InputObject, why: Extraction | None) -> None:
        # Depth-first like lld, which reads a member the moment a reference
        # takes it; an explicit stack, since a chain of members each needing
        # the next is as deep as the archive is long.
        stack = [(obj, add(obj, why))]
        while stack:
            src, refs = stack[-1]
            for name in refs:
                if name in defined:
                    continue
                member = lazy.get(name)
                if member is None:
                    unresolved.setdefault(name, src.name)
                elif id(member) not in taken:
                    why = Extraction(src.name, member.name, name)
                    stack.append((member, add(member, why)))
                    break
            else:
                stack.pop()

    for item in items:
        if not isinstance(item, Archive):
            take(item, None)
            continue
        for member in item.members:
            if item.whole:
                take(member, Extraction(WHOLE_ARCHIVE, member.name, ""))
                continue
            for name in _definitions(member):
                if name in defined or name in lazy:
                    continue
                if name in unresolved:
                    take(member, Extraction(unresolved[name], member.name, name))
                    break
                lazy[name] = member
    return sel


def render_why_extract(extractions: list[Extraction]) -> str:
    """lld's ``--why-extract`` file: a header, then ``reference<TAB>member<TAB>symbol`` rows."""
    lines = ["reference\textracted\tsymbol"]
    lines += [f"{e.reference}\t{e.member}\t{e.symbol}" for e in extractions]
    return "\n".join(lines) + "\n"
