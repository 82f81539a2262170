"""Reading and writing BPF ELF objects (ELF64, ET_REL, EM_BPF, either byte order)."""
