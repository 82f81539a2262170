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
from collections.abc import Iterator

from ..elf.constants import (
    BPF_INSN_SIZE,
    BPF_JMP_CALL,
    BPF_LD_IMM64,
    BPF_PSEUDO_CALL,
    BPF_PSEUDO_FUNC,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple
else:       # typing.NamedTuple's class syntax, without importing typing (start-up)
    from .._namedtuple import NamedTuple

# instruction classes and memory modes (include/uapi/linux/bpf.h, bpf_common.h)
BPF_CLASS_MASK = 0x07
BPF_LDX, BPF_ST, BPF_STX, BPF_ALU64 = 0x01, 0x02, 0x03, 0x07
BPF_MODE_MASK = 0xE0
BPF_MEM, BPF_MEMSX, BPF_ATOMIC = 0x60, 0x80, 0xC0
BPF_FETCH = 0x01
BPF_MOV64_X = 0xBF          # ALU64 | MOV | X: dst = src
BPF_ADD64_K = 0x07          # ALU64 | ADD | K: dst += imm
BPF_REG_FP = 10             # r10, the read-only frame pointer


class Insn(NamedTuple):
    """One decoded instruction (a tuple: tens of thousands are made per link)."""

    offset: int             # byte offset in its section
    code: int
    dst: int
    src: int
    off: int
    imm: int

    @property
    def is_function_call(self) -> bool:
        """A BPF-to-BPF call: ``call`` with ``src_reg = BPF_PSEUDO_CALL``."""
        return self.code == BPF_JMP_CALL and self.src == BPF_PSEUDO_CALL

    @property
    def is_call(self) -> bool:
        """Any ``call`` (helper, kfunc or BPF-to-BPF)."""
        return self.code == BPF_JMP_CALL

    @property
    def is_ld_imm64(self) -> bool:
        return self.code == BPF_LD_IMM64

    @property
    def is_load_of_function_pointer(self) -> bool:
        """``ld_imm64`` with ``src_reg = BPF_PSEUDO_FUNC`` (already marked as one)."""
        return self.code == BPF_LD_IMM64 and self.src == BPF_PSEUDO_FUNC

    @property
    def is_atomic(self) -> bool:
        return self.code & BPF_CLASS_MASK == BPF_STX and self.code & BPF_MODE_MASK == BPF_ATOMIC

    @property
    def memory_base(self) -> int | None:
        """The base register of a memory access (ldx/st/stx/atomic), else None."""
        cls, mode = self.code & BPF_CLASS_MASK, self.code & BPF_MODE_MASK
        if cls == BPF_LDX and mode in (BPF_MEM, BPF_MEMSX):
            return self.src
        if cls == BPF_ST and mode == BPF_MEM:
            return self.dst
        if cls == BPF_STX and mode in (BPF_MEM, BPF_ATOMIC):
            return self.dst
        return None


# decode()'s plain form of an instruction: (offset, code, dst, src, off, imm)
RawInsn = tuple[int, int, int, int, int, int]

_LAYOUT = {False: struct.Struct("<BBhi"), True: struct.Struct(">BBhi")}


def decode(data: bytes | bytearray, start: int, end: int, big_endian: bool) -> Iterator[RawInsn]:
    """The instructions in ``data[start:end]`` (byte offsets, 8-aligned).

    Plain ``(offset, code, dst, src, off, imm)`` tuples, the fields of
    :class:`Insn` (``Insn(*t)`` names them): a link decodes every
    instruction, and only calls and ``ld_imm64`` need the named view.
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


# Opcodes scan() looks at whatever registers they name: those whose mode bits
# read as BPF_ATOMIC (stack_estimate() does), calls and ld_imm64.
_ALWAYS = bytes(1 if c & BPF_MODE_MASK == BPF_ATOMIC or c in (BPF_JMP_CALL, BPF_LD_IMM64)
                else 0 for c in range(256))


# st and stx to memory (mode BPF_MEM): all they do here is reach below dst.
_STORES = frozenset(c for c in range(256) if c & BPF_CLASS_MASK in (BPF_ST, BPF_STX)
                    and c & BPF_MODE_MASK == BPF_MEM)
# ldx from memory: reach below src, overwrite dst.
_LOADS = frozenset(c for c in range(256) if c & BPF_CLASS_MASK == BPF_LDX
                   and c & BPF_MODE_MASK in (BPF_MEM, BPF_MEMSX))


def _naming(regs: frozenset[int], big_endian: bool) -> bytes:
    """Per ``regs`` byte of an instruction: 1 if it names one of ``regs`` as dst or src."""
    out = bytearray(256)
    for b in range(256):
        dst, src = (b >> 4, b & 0xF) if big_endian else (b & 0xF, b >> 4)
        out[b] = dst in regs or src in regs
    return bytes(out)


# _naming() per set of tracked registers: a function tracks a few sets, a link a few dozen.
_NAMING: dict[tuple[frozenset[int], bool], bytes] = {}


def scan(data: bytes | bytearray | memoryview, start: int, end: int,
         big_endian: bool) -> tuple[int, list[RawInsn]]:
    """One pass over a function's code: (:func:`stack_estimate` of it, its calls and ld_imm64s).

    What the call graph needs of every instruction, without a tuple per
    instruction: most instructions name no register that points into the
    stack and are neither calls, ld_imm64 nor atomics, and a table lookup of
    their register byte passes over them.  The rest go through the steps of
    :func:`stack_estimate` (tests/test_graph.py holds the two to the same
    results); calls and ld_imm64 come back as :func:`decode` tuples.
    """
    end = min(end, len(data) - len(data) % BPF_INSN_SIZE)
    found: list[RawInsn] = []
    if end <= start:
        return 0, found
    always = _ALWAYS
    depth = 0
    fp_regs: dict[int, int] = {BPF_REG_FP: 0}      # register -> its offset from r10
    key = (frozenset(fp_regs), big_endian)
    naming = _NAMING.get(key) or _NAMING.setdefault(key, _naming(key[0], big_endian))
    insns = enumerate(_LAYOUT[big_endian].iter_unpack(data[start:end]))
    for i, (code, regs, off, imm) in insns:
        if not naming[regs] and not always[code]:
            continue
        if big_endian:
            dst, src = regs >> 4, regs & 0xF
        else:
            dst, src = regs & 0xF, regs >> 4
        if code == BPF_JMP_CALL or code == BPF_LD_IMM64:
            found.append((start + i * BPF_INSN_SIZE, code, dst, src, off, imm))
            if code == BPF_LD_IMM64:
                next(insns, None)           # its second half
            elif len(fp_regs) == 1 and BPF_REG_FP in fp_regs:
                continue                    # a call with only r10 tracked changes nothing
        elif code in _STORES:               # spills and fills, the common cases, in short
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
                key = (frozenset(fp_regs), big_endian)
                naming = _NAMING.get(key) or _NAMING.setdefault(key, _naming(key[0], big_endian))
            continue
        if dst not in fp_regs and src not in fp_regs and code != BPF_JMP_CALL and \
                code & BPF_MODE_MASK != BPF_ATOMIC:
            continue
        # From here on, stack_estimate()'s loop body, step for step.
        tracked = len(fp_regs)
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
                fp_regs[dst] = fp_regs[src]
            elif dst != BPF_REG_FP:
                fp_regs.pop(dst, None)
        elif code == BPF_ADD64_K and dst in fp_regs and dst != BPF_REG_FP:
            fp_regs[dst] += imm
            if -fp_regs[dst] > depth:
                depth = -fp_regs[dst]
        elif (cls in (0x04, BPF_ALU64, BPF_LDX) or code == BPF_LD_IMM64) and dst != BPF_REG_FP:
            fp_regs.pop(dst, None)          # ALU, ALU64 and loads overwrite dst
        elif cls == BPF_STX and mode == BPF_ATOMIC and imm & BPF_FETCH:
            fp_regs.pop(src, None)          # a fetching atomic writes src (cmpxchg: r0)
            fp_regs.pop(0, None)
        if code == BPF_JMP_CALL and (len(fp_regs) > 1 or BPF_REG_FP not in fp_regs):
            for r in range(6):              # calls clobber r0-r5 (r10 alone: nothing to do)
                fp_regs.pop(r, None)
        if len(fp_regs) != tracked:         # an instruction only adds or only removes
            key = (frozenset(fp_regs), big_endian)
            naming = _NAMING.get(key) or _NAMING.setdefault(key, _naming(key[0], big_endian))
    return -(-depth // 8) * 8, found
