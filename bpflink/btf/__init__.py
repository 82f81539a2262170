"""BTF and BTF.ext: parse, encode, merge and deduplicate."""

from .types import Btf, BtfType, Kind
from .ext import BtfExt

__all__ = ["Btf", "BtfType", "Kind", "BtfExt"]
