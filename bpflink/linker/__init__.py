"""The linker proper: layout, symbol resolution, BTF merge, relocation, the pipeline.

(Named ``linker``, not ``link``, so it never shadows the ``bpflink.link()`` function.)
"""
