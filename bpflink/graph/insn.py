"""Decoding the few BPF instructions the call graph needs, in either byte order.

An instruction is 8 bytes: ``code u8, regs u8, off s16, imm s32``.  ``off``
and ``imm`` are in the object's byte order; the two 4-bit register fields
swap places in big-endian objects (``dst:src`` in the high:low nibbles there,
``src:dst`` in little-endian ones; ``struct bpf_insn`` declares them as
bitfields, whose order follows the byte order).

``ld_imm64`` spans two instruction slots; :func:`decode` yields it once and
skips its second half.
"""

from __future__ import annotations

import struct
import sys
from bisect import bisect_left
from itertools import accumulate, repeat

from ..btf import types as _btf_types
from ..elf.constants import (
    BPF_INSN_SIZE,
    BPF_JMP_CALL,
    BPF_LD_IMM64,
    BPF_PSEUDO_CALL,
    BPF_PSEUDO_FUNC,
)

TYPE_CHECKING = False   # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

# instruction classes and memory modes (include/uapi/linux/bpf.h, bpf_common.h)
BPF_CLASS_MASK = 0x07
BPF_LDX, BPF_ST, BPF_STX, BPF_ALU64 = 0x01, 0x02, 0x03, 0x07
BPF_MODE_MASK = 0xE0
BPF_MEM, BPF_MEMSX, BPF_ATOMIC = 0x60, 0x80, 0xC0
BPF_FETCH = 0x01
BPF_MOV64_X = 0xBF          # ALU64 | MOV | X: dst = src
BPF_ADD64_K = 0x07          # ALU64 | ADD | K: dst += imm
BPF_REG_FP = 10             # r10, the read-only frame pointer


# decode()'s plain form of an instruction: (offset, code, dst, src, off, imm)
RawInsn = tuple[int, int, int, int, int, int]

_LAYOUT = {False: struct.Struct("<BBhi"), True: struct.Struct(">BBhi")}


def decode(data: bytes | bytearray, start: int, end: int, big_endian: bool) -> Iterator[RawInsn]:
    """The instructions in ``data[start:end]`` (byte offsets, 8-aligned).

    Plain ``(offset, code, dst, src, off, imm)`` tuples (``offset``: the byte
    offset in ``data``), unpacked where they are read: no class to build at
    start-up, and none to make per instruction.
    """
    end = min(end, len(data) - len(data) % BPF_INSN_SIZE)
    if end <= start:
        return
    pos = start
    skip = False
    for code, regs, off, imm in _LAYOUT[big_endian].iter_unpack(data[start:end]):
        if skip:                # the second half of an ld_imm64
            skip = False
        else:
            if big_endian:
                yield (pos, code, regs >> 4, regs & 0xF, off, imm)
            else:
                yield (pos, code, regs & 0xF, regs >> 4, off, imm)
            skip = code == BPF_LD_IMM64
        pos += BPF_INSN_SIZE


def stack_estimate(insns: Iterator[RawInsn] | list[RawInsn]) -> int:
    """Bytes of stack a function uses, from its r10-relative accesses, rounded up to 8.

    The deepest byte any ``ldx``/``st``/``stx``/atomic reaches below r10, also
    through a register set from ``rX = r10; rX += K`` (how clang passes a
    stack buffer to a helper or callee).  Straight-line tracking only, so it
    is an estimate: the verifier counts what its path walk actually touches.
    """
    depth = 0
    fp_regs: dict[int, int] = {BPF_REG_FP: 0}      # register -> its offset from r10
    for _pos, code, dst, src, off, imm in insns:
        # Most instructions touch no register that points into the stack, and
        # then only a call (clobbers r0-r5) or a fetching atomic (writes r0)
        # can change what we track: skip the rest cheaply.
        if dst not in fp_regs and src not in fp_regs and code != BPF_JMP_CALL and \
                code & BPF_MODE_MASK != BPF_ATOMIC:
            continue
        cls, mode = code & BPF_CLASS_MASK, code & BPF_MODE_MASK
        # the base register of a memory access (ldx / st / stx / atomic), if any
        if cls == BPF_LDX:
            base = src if mode in (BPF_MEM, BPF_MEMSX) else None
        elif cls == BPF_ST:
            base = dst if mode == BPF_MEM else None
        elif cls == BPF_STX:
            base = dst if mode in (BPF_MEM, BPF_ATOMIC) else None
        else:
            base = None
        if base is not None and base in fp_regs:
            depth = max(depth, -(fp_regs[base] + off))
        if code == BPF_MOV64_X:
            if src in fp_regs:
                fp_regs[dst] = fp_regs[src]
            elif dst != BPF_REG_FP:
                fp_regs.pop(dst, None)
        elif code == BPF_ADD64_K and dst in fp_regs and dst != BPF_REG_FP:
            fp_regs[dst] += imm
            depth = max(depth, -fp_regs[dst])
        elif (cls in (0x04, BPF_ALU64, BPF_LDX) or code == BPF_LD_IMM64) and dst != BPF_REG_FP:
            fp_regs.pop(dst, None)          # ALU, ALU64 and loads overwrite dst
        elif cls == BPF_STX and mode == BPF_ATOMIC and imm & BPF_FETCH:
            fp_regs.pop(src, None)          # a fetching atomic writes src (cmpxchg: r0)
            fp_regs.pop(0, None)
        if code == BPF_JMP_CALL:
            for r in range(6):              # calls clobber r0-r5
                fp_regs.pop(r, None)
    return -(-depth // 8) * 8


def _int(column: bytes, table: bytes) -> int:
    """``column.translate(table)``, a 0/1 column, as one int (byte k = instruction k), so
    that ``|`` and ``&`` combine columns at C speed."""
    return int.from_bytes(column.translate(table), "little")


def _marks(values: Iterable[int]) -> bytes:
    """A ``bytes.translate`` table: 1 for each of ``values``, 0 for every other byte.

    The tables below are made so, from the few bytes they mark, or with
    ``translate`` and big-int arithmetic: a generator over all 256 bytes per
    table cost every bpflink process a million instructions at import.
    """
    table = bytearray(256)
    for v in values:
        table[v] = 1
    return bytes(table)


# Opcodes whose mode bits read as BPF_ATOMIC (0xC0-0xDF): stack_estimate() looks at
# them whatever registers they name.
_ATOMIC_LIKE = _marks(range(BPF_ATOMIC, BPF_ATOMIC + 0x20))
_IS_CALL = _marks([BPF_JMP_CALL])
_IS_LD_IMM64 = _marks([BPF_LD_IMM64])
_NONZERO = b"\x00" + b"\x01" * 255

# The size bits of a load or store opcode: W, H, B, DW.
_SIZES = (0x00, 0x08, 0x10, 0x18)
# st and stx to memory (mode BPF_MEM): all they do here is reach below dst.
_STORES = frozenset(BPF_MEM | size | cls for size in _SIZES for cls in (BPF_ST, BPF_STX))
# ldx from memory: reach below src, overwrite dst.
_LOADS = frozenset(mode | size | BPF_LDX for size in _SIZES for mode in (BPF_MEM, BPF_MEMSX))
_IS_STORE = _marks(_STORES)
_IS_LOAD = _marks(_LOADS)
_IS_MOV64_X = _marks([BPF_MOV64_X])


_LOW = bytes(range(16)) * 16                   # a register byte's low nibble
_HIGH = b"".join(bytes((h,)) * 16 for h in range(16))
# Per byte order, each ``regs`` byte's dst and src register numbers.
_DST = {False: _LOW, True: _HIGH}
_SRC = {False: _HIGH, True: _LOW}


def _naming(regs: frozenset[int], big_endian: bool) -> bytes:
    """Per ``regs`` byte of an instruction: 1 if it names one of ``regs`` as dst or src."""
    table = _marks(regs)
    return (_int(_DST[big_endian], table) | _int(_SRC[big_endian], table)).to_bytes(256, "little")


# _naming() per set of tracked registers: a function tracks a few sets, a link a few dozen.
_NAMING: dict[tuple[frozenset[int], bool], bytes] = {}
# Per byte order: dst is r10 (a store's base), src is r10 (a load's base), rX = r10 copies.
_IS_FP = _marks([BPF_REG_FP])
_DST_FP = {be: _DST[be].translate(_IS_FP) for be in (False, True)}
_SRC_FP = {be: _SRC[be].translate(_IS_FP) for be in (False, True)}
_COPIES_FP = {be: (_int(_SRC_FP[be], _NONZERO) & ~_int(_DST_FP[be], _NONZERO)
                   ).to_bytes(256, "little") for be in (False, True)}
# Per byte order: src_reg is BPF_PSEUDO_CALL, src_reg is BPF_PSEUDO_FUNC.
_SRC_PSEUDO_CALL = {be: _SRC[be].translate(_marks([BPF_PSEUDO_CALL])) for be in (False, True)}
_SRC_PSEUDO_FUNC = {be: _SRC[be].translate(_marks([BPF_PSEUDO_FUNC])) for be in (False, True)}


def _bits(*tables: bytes) -> bytes:
    """A ``bytes.translate`` table: bit ``b`` of each byte from the 0/1 table ``tables[b]``."""
    return sum(int.from_bytes(t, "little") << b for b, t in enumerate(tables)
               ).to_bytes(256, "little")


# The bits of _CODE_BITS (an opcode's classes) and _REG_BITS (a register byte's).
_C_ATOMIC_LIKE, _C_MOV64_X, _C_CALL, _C_STORE, _C_LOAD, _C_LD_IMM64, _C_NONZERO = range(7)
_CODE_BITS = _bits(_ATOMIC_LIKE, _IS_MOV64_X, _IS_CALL, _IS_STORE, _IS_LOAD, _IS_LD_IMM64,
                   _NONZERO)
_R_DST_FP, _R_SRC_FP, _R_COPIES_FP, _R_PSEUDO_CALL, _R_PSEUDO_FUNC = range(5)
_REG_BITS = {be: _bits(_DST_FP[be], _SRC_FP[be], _COPIES_FP[be], _SRC_PSEUDO_CALL[be],
                       _SRC_PSEUDO_FUNC[be]) for be in (False, True)}


def _indices(flags: bytes) -> list[int]:
    """The indices of the 1 bytes of a 0/1 column, without a Python step per byte: the
    lengths of the runs between them, summed up (``split``, ``map`` and ``accumulate``
    run in C)."""
    return list(accumulate(map((1).__add__, map(len, flags.split(b"\x01"))), initial=-1))[1:-1]


def is_code_reference(code: int, src: int) -> bool:
    """Whether an instruction is a reference into code without a relocation: a call
    with ``src_reg = BPF_PSEUDO_CALL`` or an ld_imm64 with ``src_reg = BPF_PSEUDO_FUNC``."""
    return (code == BPF_JMP_CALL and src == BPF_PSEUDO_CALL) or \
        (code == BPF_LD_IMM64 and src == BPF_PSEUDO_FUNC)


class _Phase:
    """The columns of a code section's instructions at byte offsets ``phase + 8k``."""

    __slots__ = ("count", "regs", "always", "r10_flags", "reach", "dirty", "wanted_at",
                 "wanted", "flags", "with_r10")

    def __init__(self, data: bytes | bytearray | memoryview, phase: int, big_endian: bool,
                 relocated: list[int]):
        count = self.count = (len(data) - phase) // BPF_INSN_SIZE
        stop = phase + count * BPF_INSN_SIZE
        codes = bytes(data[phase:stop:BPF_INSN_SIZE])
        regs = self.regs = bytes(data[phase + 1:stop:BPF_INSN_SIZE])
        # Every opcode and register-byte class at once, one bit each (_CODE_BITS,
        # _REG_BITS) in one big int per column: bit ``b`` of instruction ``k``'s class
        # is bit ``8k + b``, and ``(column >> b) & ones`` is that class's 0/1 column.
        ones = int.from_bytes(b"\x01" * count, "little")
        c = int.from_bytes(codes.translate(_CODE_BITS), "little")
        r = int.from_bytes(regs.translate(_REG_BITS[big_endian]), "little")
        # While r10 alone points into the stack (at offset 0), only atomics and copies
        # of r10 matter one by one: every other instruction naming r10 is a load or
        # store through it (counted in bulk) or changes nothing scan() tracks, and a
        # call or ld_imm64 overwrites registers that are not tracked.
        r10_flags = ((c >> _C_ATOMIC_LIKE) | (c >> _C_MOV64_X) & (r >> _R_COPIES_FP)) & ones
        self.r10_flags = r10_flags.to_bytes(count, "little")
        # ... while other registers do too, calls as well (they clobber r0-r5).
        self.always = r10_flags | (c >> _C_CALL) & ones
        # ldx through r10 and st/stx to r10: each reaches -off.  ``reach`` is
        # that off, 0 for every other instruction.
        access = ((c >> _C_STORE) & (r >> _R_DST_FP)
                  | (c >> _C_LOAD) & (r >> _R_SRC_FP)) & ones
        # Each byte of ``off`` masked on its own (``access * 0xFF``: 0xFF per access,
        # no carries), then the two interleaved.
        ff = access * 0xFF
        # The two bytes of each off go where the host's int16 has them.
        low, high = (3, 2) if big_endian else (2, 3)
        if sys.byteorder == "big":
            low, high = high, low
        offs = bytearray(2 * count)
        offs[0::2] = (int.from_bytes(data[phase + low:stop:BPF_INSN_SIZE], "little") & ff
                      ).to_bytes(count, "little")
        offs[1::2] = (int.from_bytes(data[phase + high:stop:BPF_INSN_SIZE], "little") & ff
                      ).to_bytes(count, "little")
        self.reach = memoryview(offs).cast("h")
        # An ld_imm64 whose second half has a nonzero opcode: a function that holds
        # both halves goes through the reference definition.  Clang's second halves
        # are all zero but for ``imm``, and an instruction with opcode 0 does nothing
        # stack_estimate() tracks: the columns may treat them as instructions.  So in
        # the other functions every call and ld_imm64 opcode starts an instruction.
        dirty = (c >> _C_LD_IMM64) & (c >> (8 + _C_NONZERO)) & ones
        self.dirty = _indices(dirty.to_bytes(count, "little")) if dirty else []
        # The calls and ld_imm64s scan() returns, decoded at once (map() runs the
        # unpacking in C): the pc-relative references into code, and those at a
        # relocated offset.  Helper calls and map loads, most of them, are left out.
        wanted = ((c >> _C_CALL) & (r >> _R_PSEUDO_CALL)
                  | (c >> _C_LD_IMM64) & (r >> _R_PSEUDO_FUNC)) & ones
        if relocated:
            marks = bytearray(count)
            for off in relocated:
                if off % BPF_INSN_SIZE == phase and off < stop:
                    marks[off // BPF_INSN_SIZE] = 1
            wanted |= ((c >> _C_CALL) | (c >> _C_LD_IMM64)) & int.from_bytes(marks, "little")
        at = self.wanted_at = _indices(wanted.to_bytes(count, "little")) if wanted else []
        positions = [phase + k * BPF_INSN_SIZE for k in at]
        dst_of, src_of = _DST[big_endian], _SRC[big_endian]
        self.wanted: list[RawInsn] = [
            (pos, code, dst_of[rb], src_of[rb], off, imm) for pos, (code, rb, off, imm)
            in zip(positions, map(_LAYOUT[big_endian].unpack_from, repeat(data), positions))]
        self.flags: dict[frozenset[int], bytes] = {}
        self.with_r10: list[bytes | None] = [None] * 16

    def naming_with_r10(self, reg: int, big_endian: bool) -> bytes:
        """:meth:`naming` of r10 and ``reg``, kept by register number (the common case:
        no set to build)."""
        flags = self.with_r10[reg] = self.naming(frozenset((BPF_REG_FP, reg)), big_endian)
        return flags

    def naming(self, tracked: frozenset[int], big_endian: bool) -> bytes:
        """Per instruction: 1 if scan() must look at it while ``tracked`` point into the
        stack (r10 and others; r10's own loads and stores are counted in bulk)."""
        flags = self.flags.get(tracked)
        if flags is None:
            key = (tracked, big_endian)
            table = _NAMING.get(key) or _NAMING.setdefault(
                key, _naming(tracked - {BPF_REG_FP}, big_endian))
            flags = self.flags[tracked] = (self.always | _int(self.regs, table)
                                           ).to_bytes(self.count, "little")
        return flags


class CodeScanner:
    """:func:`scan` over the functions of one code section, sharing its per-instruction columns.

    The columns (opcode and register-byte classes, ``off``) are made once
    per section with ``bytes.translate`` and big-int arithmetic, at C speed,
    and so are the section's references into code, so that a function's
    loop runs only over the few instructions that matter for its stack,
    found with ``bytes.find``: atomics and copies of r10, plus, while
    another register points into the stack, calls and whatever names one.
    Loads and stores through r10 itself, most of a function's stack
    accesses, are counted in bulk: the deepest is one ``min`` of their
    ``off``.  A function where r10 itself changes or stops being tracked, or
    where an ld_imm64's second half is not clang's (see ``_Phase.dirty``),
    goes through the reference definition.

    ``relocated``: the byte offsets of the section's relocations that may
    point into code; the calls and ld_imm64s there are returned too.
    """

    __slots__ = ("data", "big_endian", "relocated", "_phases")

    def __init__(self, data: bytes | bytearray | memoryview, big_endian: bool,
                 relocated: list[int] | None = None):
        self.data = data
        self.big_endian = big_endian
        self.relocated = relocated or []
        self._phases: dict[int, _Phase] = {}

    def scan(self, start: int, end: int) -> tuple[int, list[RawInsn]]:
        """:func:`scan` of ``data[start:end]``."""
        return self.scan_all([(start, end)])[0]

    def scan_all(self, ranges: list[tuple[int, int]]) -> list[tuple[int, list[RawInsn]]]:
        """:func:`scan` of each ``(start, end)``: one call for a section's functions.

        Where the compiled module is built, its ``scan_code`` does it: the
        reference definition (:func:`_reference`) in C, one pass over each
        function.  It leaves what it does not take (a part-instruction, an
        offset that is not a plain int) to the loop below.
        """
        data, big_endian, relocated = self.data, self.big_endian, self.relocated
        accel = _btf_types._accel
        if accel is not None:
            fast: list[tuple[int, list[RawInsn]]] | None = accel.scan_code(
                data, big_endian, relocated, ranges)
            if fast is not None:
                return fast
        limit = len(data) - len(data) % BPF_INSN_SIZE
        unpack = _LAYOUT[big_endian].unpack_from
        dst_of, src_of = _DST[big_endian], _SRC[big_endian]
        phases = self._phases
        out: list[tuple[int, list[RawInsn]]] = []
        for start, end in ranges:
            if end > limit:
                end = limit
            if end <= start:
                out.append((0, []))
                continue
            if (end - start) % BPF_INSN_SIZE:
                out.append(_reference(data, start, end, big_endian, relocated))
                continue
            phase = start % BPF_INSN_SIZE
            cols = phases.get(phase)
            if cols is None:
                cols = phases[phase] = _Phase(data, phase, big_endian, relocated)
            i = start // BPF_INSN_SIZE
            stop = end // BPF_INSN_SIZE
            dirty = cols.dirty
            if dirty:
                k = bisect_left(dirty, i)
                if k < len(dirty) and dirty[k] < stop - 1:
                    out.append(_reference(data, start, end, big_endian, relocated))
                    continue
            at = cols.wanted_at
            wanted = cols.wanted[bisect_left(at, i):bisect_left(at, stop)] if at else []
            least = min(cols.reach[i:stop])
            depth = -least if least < 0 else 0
            flags = first = cols.r10_flags
            fp_regs: dict[int, int] = {BPF_REG_FP: 0}      # register -> its offset from r10
            while True:
                i = flags.find(1, i, stop)
                if i < 0:
                    break
                code, regs, off, imm = unpack(data, phase + i * BPF_INSN_SIZE)
                i += 1
                dst = dst_of[regs]
                src = src_of[regs]
                before = len(fp_regs)
                if code == BPF_MOV64_X and before == 1:
                    # rX = r10 with only r10 tracked (``flags`` is r10_flags: src is r10,
                    # dst is not).  Clang follows it with rX += K, the address of a
                    # stack buffer: both in one step, as stack_estimate() takes them.
                    pos = phase + i * BPF_INSN_SIZE
                    if i < stop and data[pos] == BPF_ADD64_K and dst_of[data[pos + 1]] == dst:
                        offset = unpack(data, pos)[3]
                        if -offset > depth:
                            depth = -offset
                        i += 1
                    else:
                        offset = 0
                    flags = cols.with_r10[dst] or cols.naming_with_r10(dst, big_endian)
                    if dst <= 5:
                        # ... and passes it to a helper or callee: when the next
                        # instruction that matters is that call, it clobbers rX.
                        k = flags.find(1, i, stop)
                        if k >= 0 and data[phase + k * BPF_INSN_SIZE] == BPF_JMP_CALL:
                            i = k + 1
                            flags = first
                            continue
                    fp_regs = {BPF_REG_FP: 0, dst: offset}
                    continue
                if code == BPF_JMP_CALL:
                    # All a call does to what is tracked: it clobbers r0-r5.
                    fp_regs = {r: o for r, o in fp_regs.items() if r > 5}
                elif code in _STORES:           # spills and fills, the common cases, in short
                    if dst in fp_regs:
                        reach = -(fp_regs[dst] + off)
                        if reach > depth:
                            depth = reach
                    continue
                elif code in _LOADS:
                    if src in fp_regs:
                        reach = -(fp_regs[src] + off)
                        if reach > depth:
                            depth = reach
                    if dst in fp_regs and dst != BPF_REG_FP:
                        del fp_regs[dst]            # the load overwrites it
                elif dst not in fp_regs and src not in fp_regs and \
                        code & BPF_MODE_MASK != BPF_ATOMIC:
                    continue
                else:
                    # stack_estimate()'s loop body, step for step (calls are done).
                    cls, mode = code & BPF_CLASS_MASK, code & BPF_MODE_MASK
                    if cls == BPF_LDX:
                        base = src if mode in (BPF_MEM, BPF_MEMSX) else None
                    elif cls == BPF_ST:
                        base = dst if mode == BPF_MEM else None
                    elif cls == BPF_STX:
                        base = dst if mode in (BPF_MEM, BPF_ATOMIC) else None
                    else:
                        base = None
                    if base is not None and base in fp_regs:
                        reach = -(fp_regs[base] + off)
                        if reach > depth:
                            depth = reach
                    if code == BPF_MOV64_X:
                        if src in fp_regs:
                            if dst == BPF_REG_FP and fp_regs[src]:
                                depth = -1              # r10 moved
                                break
                            fp_regs[dst] = fp_regs[src]
                        elif dst != BPF_REG_FP:
                            fp_regs.pop(dst, None)
                    elif code == BPF_ADD64_K and dst in fp_regs and dst != BPF_REG_FP:
                        fp_regs[dst] += imm
                        if -fp_regs[dst] > depth:
                            depth = -fp_regs[dst]
                    elif (cls in (0x04, BPF_ALU64, BPF_LDX) or code == BPF_LD_IMM64) and \
                            dst != BPF_REG_FP:
                        fp_regs.pop(dst, None)          # ALU, ALU64 and loads overwrite dst
                    elif cls == BPF_STX and mode == BPF_ATOMIC and imm & BPF_FETCH:
                        fp_regs.pop(src, None)          # a fetching atomic writes src (cmpxchg: r0)
                        fp_regs.pop(0, None)
                if len(fp_regs) != before:          # an instruction only adds or only removes
                    if BPF_REG_FP not in fp_regs:
                        depth = -1                  # r10 overwritten
                        break
                    flags = (first if len(fp_regs) == 1
                             else cols.naming(frozenset(fp_regs), big_endian))
            out.append(_reference(data, start, end, big_endian, relocated) if depth < 0
                       else (-(-depth // 8) * 8, wanted))
        return out


def _reference(data: bytes | bytearray | memoryview, start: int, end: int, big_endian: bool,
               relocated: list[int] | None = None) -> tuple[int, list[RawInsn]]:
    """:func:`scan` by its definition: :func:`stack_estimate` of :func:`decode`, and the
    calls and ld_imm64s of :func:`decode` that are references into code or sit at an
    offset in ``relocated``."""
    insns = list(decode(bytes(data), start, end, big_endian))
    at = set(relocated or ())
    return stack_estimate(insns), [
        t for t in insns if is_code_reference(t[1], t[3])
        or (t[1] in (BPF_JMP_CALL, BPF_LD_IMM64) and t[0] in at)]


def scan(data: bytes | bytearray | memoryview, start: int, end: int, big_endian: bool,
         relocated: list[int] | None = None) -> tuple[int, list[RawInsn]]:
    """One function's code: (:func:`stack_estimate` of it, the calls and ld_imm64s that
    may make an edge: references into code, and those at an offset in ``relocated``).

    The same as :func:`_reference` (tests/test_graph.py holds the two to it),
    without a tuple per instruction; :class:`CodeScanner` shares the work of
    a section's functions.
    """
    return CodeScanner(data, big_endian, relocated).scan(start, end)
