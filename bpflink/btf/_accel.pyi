# The compiled BTF parser and dedup phases (_accel.c): called by bpflink.btf.types.parse
# and bpflink.btf.dedup._Dedup (__init__ and run) only.
from typing import Any

API: int

def dedup_keys(types: list[Any], maps: list[list[int] | None] | None
               ) -> tuple[bytes, list[int], list[tuple[int, ...]]]: ...

def dedup_run(kind_bytes: bytes, sid: list[int], children: list[tuple[int, ...]],
              types: list[Any]) -> tuple[list[int], list[int], bool] | int: ...

def parse_types(type_bytes: bytes | memoryview, strings_by_offset: dict[int, str],
                big_endian: bool, btf_type: type, kinds: tuple[Any, ...]) -> list[Any] | None: ...
