"""Lay out output sections: same-named input sections concatenated at their alignment.

Which input sections are kept (libbpf ``is_ignored_sec``, plus ``.eh_frame``):
code (any executable PROGBITS, ``.text`` included unless empty) and data
(PROGBITS/NOBITS: ``.data*``, ``.rodata*``, ``.bss*``, ``.maps``,
``.struct_ops*``, ``.addr_space.*``, ``license``, ``version``...).  Dropped:
DWARF (``.debug_*``), ``.BTF``/``.BTF.ext`` (rebuilt), ``.eh_frame`` (clang
emits it for BPF unless ``-fno-unwind-tables``; no BPF loader reads it and
libbpf's linker fails on its relocations), ``.llvm_addrsig``, string and
symbol tables (rebuilt) and relocation sections (rewritten).

``license`` and ``version`` are kept once; every input that has one must
have the same bytes.  Output sections appear in order of first appearance
(inputs in command-line order, sections in index order), so the layout is a
pure function of the inputs.
"""

from __future__ import annotations

from ..elf.constants import SHT_NOBITS, SHT_PROGBITS
from ..elf.reader import InputObject, Section, libbpf_skips
from ..errors import Diagnostics
from .model import OutputSection, Piece

DEDUPLICATED = ("license", "version")


def is_dropped(sec: Section) -> bool:
    if sec.type not in (SHT_PROGBITS, SHT_NOBITS) or libbpf_skips(sec.name):
        return True
    name = sec.name
    if name.startswith(".debug") or name in (".BTF", ".BTF.ext", ".eh_frame"):
        return True
    return name == ".text" and sec.size == 0


class Layout:
    """Output sections and, per input section, where it landed."""

    def __init__(self) -> None:
        self.sections: list[OutputSection] = []
        self.by_name: dict[str, OutputSection] = {}
        # (id(obj), src section index) -> Piece; absent for dropped sections
        self.placement: dict[tuple[int, int], Piece] = {}
        # license/version of later inputs: their (identical) twin's piece
        self.aliases: dict[tuple[int, int], Piece] = {}

    def piece(self, obj: InputObject, sec_index: int) -> Piece | None:
        key = (id(obj), sec_index)
        return self.placement.get(key) or self.aliases.get(key)


def lay_out(inputs: list[InputObject], diags: Diagnostics) -> Layout:
    layout = Layout()
    for obj in inputs:
        for sec in obj.sections[1:]:
            if is_dropped(sec):
                continue
            dst = layout.by_name.get(sec.name)
            if dst is None:
                dst = OutputSection(sec.name, sec.type, sec.flags, max(sec.addralign, 1),
                                    sec.entsize)
                layout.by_name[sec.name] = dst
                layout.sections.append(dst)
            elif (dst.type, dst.flags, dst.entsize) != (sec.type, sec.flags, sec.entsize):
                first = dst.pieces[0].obj.name if dst.pieces else "an earlier input"
                diags.error(f"section type or flags differ from the same-named section in "
                            f"{first} (type {dst.type}/{sec.type}, flags 0x{dst.flags:x}/"
                            f"0x{sec.flags:x})", file=obj.name, section=sec.name)
                continue
            elif sec.name in DEDUPLICATED:
                twin = dst.pieces[0]
                if bytes(dst.data[:dst.size]) != sec.data:
                    diags.error(f"'{sec.name}' differs from the one in {twin.obj.name} "
                                f"({_show(sec.data)} vs {_show(bytes(dst.data))}); "
                                "every input must agree", file=obj.name, section=sec.name)
                layout.aliases[(id(obj), sec.index)] = twin
                continue
            align = max(sec.addralign, 1)
            offset = -(-dst.size // align) * align
            dst.align = max(dst.align, align)
            if dst.type != SHT_NOBITS:
                dst.append_view(offset, sec.data)       # copied once, by the writer
            dst.size = offset + sec.size
            piece = Piece(obj, sec, offset, dst)
            dst.pieces.append(piece)
            layout.placement[(id(obj), sec.index)] = piece
    return layout


def _show(data: bytes | memoryview) -> str:
    data = bytes(data)
    text = data.rstrip(b"\0")
    try:
        return '"' + text.decode() + '"'
    except UnicodeDecodeError:
        return data.hex()
