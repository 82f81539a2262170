"""BTF deduplication (placeholder until the dedup work lands: identity)."""

from __future__ import annotations

from .ext import BtfExt
from .types import Btf


def dedup(btf: Btf) -> tuple[Btf, list[int]]:
    return btf, list(range(len(btf.types)))


def remap_ext(ext: BtfExt, id_map: list[int]) -> None:
    for table in (ext.func_info, ext.core_relo):
        for recs in table.values():
            for r in recs:
                r[1] = id_map[r[1]]
