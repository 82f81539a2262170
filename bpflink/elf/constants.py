"""ELF and BPF constants used by the reader, the linker and the writer."""

ELFCLASS64 = 2
ELFDATA2LSB = 1
ELFDATA2MSB = 2
ET_REL = 1
EM_BPF = 247
EV_CURRENT = 1

SHT_NULL = 0
SHT_PROGBITS = 1
SHT_SYMTAB = 2
SHT_STRTAB = 3
SHT_NOBITS = 8
SHT_REL = 9
SHT_LLVM_ADDRSIG = 0x6FFF4C03

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
SHF_COMPRESSED = 0x800
SHF_GNU_RETAIN = 0x200000
# Every flag gABI defines (WRITE ALLOC EXECINSTR MERGE STRINGS INFO_LINK LINK_ORDER
# OS_NONCONFORMING GROUP TLS COMPRESSED) plus SHF_EXCLUDE, which LLVM sets on
# .llvm_addrsig, and SHF_GNU_RETAIN, which clang sets on the section of a
# variable marked __attribute__((retain)) (libbpf links and loads it).  Other
# bits mean the header is corrupt.
SHF_KNOWN = 0x1 | 0x2 | 0x4 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 \
    | SHF_GNU_RETAIN | 0x80000000

SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHN_ABS = 0xFFF1
SHN_COMMON = 0xFFF2
SHN_XINDEX = 0xFFFF

STB_LOCAL = 0
STB_GLOBAL = 1
STB_WEAK = 2

STT_NOTYPE = 0
STT_OBJECT = 1
STT_FUNC = 2
STT_SECTION = 3
STT_FILE = 4

STV_DEFAULT = 0
STV_HIDDEN = 2

R_BPF_NONE = 0
R_BPF_64_64 = 1
R_BPF_64_ABS64 = 2
R_BPF_64_ABS32 = 3
R_BPF_64_32 = 10

RELOC_NAMES = {
    R_BPF_64_64: "R_BPF_64_64",
    R_BPF_64_ABS64: "R_BPF_64_ABS64",
    R_BPF_64_ABS32: "R_BPF_64_ABS32",
    R_BPF_64_32: "R_BPF_64_32",
}

# A data section becomes one array-map value, which the kernel caps at INT_MAX
# bytes (kernel/bpf/arraymap.c); it also keeps every BTF DATASEC size and
# offset well inside 32 bits.
MAX_SECTION_SIZE = 0x7FFFFFFF

EHDR_SIZE = 64
SHDR_SIZE = 64
SYM_SIZE = 24
REL_SIZE = 16

# BPF instruction encoding (include/uapi/linux/bpf.h)
BPF_INSN_SIZE = 8
BPF_JMP_CALL = 0x85          # BPF_JMP | BPF_CALL
BPF_LD_IMM64 = 0x18          # BPF_LD | BPF_DW | BPF_IMM
BPF_PSEUDO_CALL = 1
BPF_PSEUDO_FUNC = 4
BPF_PSEUDO_KFUNC_CALL = 2
