"""The linker proper: symbol resolution, layout, BTF merge, relocation."""
