"""fileio.read_whole counts the live mappings (each holds a file descriptor)
by weak references that leave the count when their mapping dies."""

from __future__ import annotations

from mmap import mmap

from bpflink import fileio


def test_mappings_count_while_alive_and_the_budget_holds(tmp_path, monkeypatch):
    path = tmp_path / "big.o"
    path.write_bytes(bytes(range(256)) * (fileio.MAP_MIN // 256))
    base = len(fileio._mapped)
    monkeypatch.setattr(fileio, "_map_budget", lambda: base + 1)

    def read():
        with open(path, "rb") as fh:
            return fileio.read_whole(fh, fileio.MAP_MIN)

    first = read()
    assert isinstance(first, mmap) and len(fileio._mapped) == base + 1
    second = read()                     # over the budget: read
    assert type(second) is bytes and second == first[:]
    del first                           # its reference leaves the set with it
    assert len(fileio._mapped) == base
    third = read()
    assert isinstance(third, mmap) and third[:] == second
    del third
    assert len(fileio._mapped) == base
