# The compiled twins (_accel.c): called by bpflink.btf.types.parse,
# bpflink.btf.dedup._Dedup (__init__ and run) and bpflink.graph.insn.CodeScanner only.
from typing import Any

API: int

def dedup_keys(types: list[Any], maps: list[list[int] | None] | None
               ) -> tuple[bytes, list[int], list[tuple[int, ...]]]: ...

def dedup_run(kind_bytes: bytes, sid: list[int], children: list[tuple[int, ...]],
              types: list[Any]) -> tuple[list[int], list[int], bool] | int: ...

def parse_types(type_bytes: bytes | memoryview, strings_by_offset: dict[int, str],
                big_endian: bool, btf_type: type, kinds: tuple[Any, ...]) -> list[Any] | None: ...

def scan_code(data: bytes | bytearray | memoryview, big_endian: bool, relocated: list[int],
              ranges: list[tuple[int, int]]
              ) -> list[tuple[int, list[tuple[int, int, int, int, int, int]]]] | None: ...
