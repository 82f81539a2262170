"""The linker proper: layout, symbol resolution, BTF merge, relocation; the linked model.

The pipeline that runs these phases and then the call graph lives above both
packages, in :mod:`bpflink.pipeline`, so imports run one way.

(Named ``linker``, not ``link``, so it never shadows the ``bpflink.link()`` function.)
"""
