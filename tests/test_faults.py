"""Faults around the output: nothing partial, nothing left behind, nothing overwritten.

Every failing case below checks the same three things (:meth:`Snapshot.assert_clean`):
no partial output (a missing output stays missing, never 0 bytes), no
temporary file left in the output directory, and an existing output untouched
(same bytes, same inode).  The faults: an unwritable directory (chmod 555,
root dropping CAP_DAC_OVERRIDE; and a read-only mount), a full disk (a 16 KiB
tmpfs when root may mount one, and ENOSPC injected into os.write), EIO from
fsync, a failing rename, an input that vanishes between add_file and link, a
FIFO that ends early, /dev/zero and /dev/null as inputs, SIGINT, SIGTERM and
SIGHUP in the middle of the write, and an output that is one of the inputs.

Durability: the file is fsync'd, renamed, and its directory fsync'd, in that
order; temporary names carry the pid and a random part, so parallel links
of one output never collide; a SIGKILLed link's temporary is never reused,
deleted or accepted as an input.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import bpflink
from bpflink import fileio

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
A = CORPUS / "cross_call" / "a.o"
B = CORPUS / "cross_call" / "b.o"
OLD = b"previous output, must survive\n"


def run_cli(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bpflink", *map(str, args)],
                          capture_output=True, text=True, timeout=120, **kw)


class Snapshot:
    """A directory's listing and an output's bytes and inode, to compare after a fault."""

    def __init__(self, out: Path):
        self.out = out
        self.listing = sorted(os.listdir(out.parent))
        self.existed = out.exists()
        if self.existed:
            self.data = out.read_bytes()
            self.inode = out.stat().st_ino

    def assert_clean(self) -> None:
        listing = sorted(os.listdir(self.out.parent))
        leftovers = [n for n in listing if n.endswith(".tmp") or n.startswith(f".{self.out.name}.")]
        assert not leftovers, f"temporary files left behind: {leftovers}"
        assert listing == self.listing, (self.listing, listing)
        if self.existed:
            assert self.out.read_bytes() == self.data, "the existing output was changed"
            assert self.out.stat().st_ino == self.inode, "the existing output was replaced"
        else:
            assert not self.out.exists(), "a failed link left an output behind"


def expected_output() -> bytes:
    return bpflink.link([A, B]).data


@pytest.fixture(params=["no previous output", "previous output"])
def out(request, tmp_path) -> Path:
    path = tmp_path / "out.o"
    if request.param == "previous output":
        path.write_bytes(OLD)
    return path


# -- unwritable directory ---------------------------------------------------------------------

def _without_dac_override() -> None:
    """preexec_fn: root keeps uid 0 but loses the capabilities that ignore file modes."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):                  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:       # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_unwritable_directory(tmp_path):
    """chmod 555 stops only the unprivileged, so as root the child drops CAP_DAC_OVERRIDE."""
    outdir = tmp_path / "ro"
    outdir.mkdir()
    out = outdir / "out.o"
    out.write_bytes(OLD)
    outdir.chmod(0o555)
    try:
        snap = Snapshot(out)
        proc = run_cli(A, B, "-o", out,
                       preexec_fn=_without_dac_override if os.geteuid() == 0 else None)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.startswith(f"bpflink: error: {out}: cannot write output: "
                                      "Permission denied"), proc.stderr
        assert "Traceback" not in proc.stderr
        snap.assert_clean()
    finally:
        outdir.chmod(0o755)


@pytest.fixture
def mount(tmp_path):
    """mount(options) -> a fresh tmpfs directory; skipped where mounting is not allowed."""
    mounted: list[Path] = []

    def make(options: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
        mounted.append(point)
        return point

    yield make
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_read_only_filesystem(mount):
    point = mount("size=64k")
    (point / "out.o").write_bytes(OLD)
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
    out = point / "out.o"
    snap = Snapshot(out)
    proc = run_cli(A, B, "-o", out)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(f"bpflink: error: {out}: cannot write output: "
                                  "Read-only file system"), proc.stderr
    snap.assert_clean()


def test_missing_directory_and_directory_as_output(tmp_path):
    proc = run_cli(A, B, "-o", tmp_path / "no" / "such" / "out.o")
    assert proc.returncode == 1 and "cannot write output: No such file or directory" in \
        proc.stderr, proc.stderr
    (tmp_path / "adir").mkdir()
    proc = run_cli(A, B, "-o", tmp_path / "adir")
    assert proc.returncode == 1 and "cannot write output" in proc.stderr, proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["adir"] and not os.listdir(tmp_path / "adir")


# -- full disk ----------------------------------------------------------------------------------

def test_full_disk_on_a_small_tmpfs(mount):
    """16 KiB of tmpfs holding an old output and a filler: no room for the new output."""
    point = mount("size=16k")
    out = point / "out.o"
    out.write_bytes(OLD)
    with open(point / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(bytes(1024))
        except OSError as e:
            assert e.errno == errno.ENOSPC
    snap = Snapshot(out)
    proc = run_cli(A, B, "-o", out)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(f"bpflink: error: {out}: cannot write output: "
                                  "No space left on device"), proc.stderr
    assert "Traceback" not in proc.stderr
    snap.assert_clean()


@pytest.mark.parametrize("after", [0, 1], ids=["first-write", "second-write"])
def test_enospc_injected_into_write(out, monkeypatch, after):
    real = os.write
    calls = []

    def full(fd, data):
        calls.append(fd)
        if len(calls) > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, bytes(memoryview(data)[:100]))     # a short write first

    snap = Snapshot(out)
    monkeypatch.setattr(os, "write", full)
    with pytest.raises(bpflink.OutputError) as info:
        bpflink.link([A, B], out)
    monkeypatch.undo()
    assert "No space left on device" in str(info.value)
    snap.assert_clean()


def test_eio_from_fsync(out, monkeypatch):
    def broken(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    snap = Snapshot(out)
    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(bpflink.OutputError, match="Input/output error"):
        bpflink.link([A, B], out)
    monkeypatch.undo()
    snap.assert_clean()


# -- inputs that vanish -----------------------------------------------------------------------

def test_input_deleted_between_add_file_and_link(tmp_path, out):
    gone = tmp_path / "gone.o"
    shutil.copy(A, gone)
    linker = bpflink.Linker()
    linker.add_file(gone)
    linker.add_file(B)
    gone.unlink()
    snap = Snapshot(out)
    with pytest.raises(bpflink.InputError) as info:
        linker.link(out)
    assert info.value.errors[0].render() == \
        f"bpflink: error: {gone}: cannot read input: No such file or directory"
    snap.assert_clean()


def test_fifo_that_ends_early(tmp_path, out):
    """A pipe (say, bash process substitution) whose writer dies half-way."""
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    half = A.read_bytes()[: A.stat().st_size // 2]

    def writer():
        with open(fifo, "wb") as fh:
            fh.write(half)

    t = threading.Thread(target=writer)
    t.start()
    snap = Snapshot(out)
    with pytest.raises(bpflink.InputError, match="truncated"):
        bpflink.link([fifo, B], out)
    t.join(10)
    snap.assert_clean()


def test_fifo_with_whole_object_links(tmp_path):
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    t = threading.Thread(target=lambda: fifo.write_bytes(A.read_bytes()))
    t.start()
    assert bpflink.link([fifo, B]).data == expected_output()
    t.join(10)


def test_pipe_of_garbage_in_pieces_is_refused_without_waiting_for_its_end(tmp_path):
    """The first 8 bytes decide (ELF or archive) even when a pipe gives them in
    two writes: the input is not read to its end (the writer never closes it here
    until the link is over)."""
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    done = threading.Event()

    def writer():
        with open(fifo, "wb", buffering=0) as fh:
            fh.write(b"garb")
            time.sleep(0.2)
            fh.write(b"age!more")
            done.wait(12)

    t = threading.Thread(target=writer)
    t.start()
    start = time.monotonic()
    try:
        with pytest.raises(bpflink.InputError, match="not an ELF file"):
            bpflink.link([fifo, B])
        assert time.monotonic() - start < 10
    finally:
        done.set()
        t.join(30)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_endless_or_empty_device_as_input(device, tmp_path):
    """/dev/zero never ends: it was read into memory until MemoryError (a traceback)."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))

    out = tmp_path / "out.o"
    proc = run_cli(device, B, "-o", out, preexec_fn=cap)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(f"bpflink: error: {device}: not an ELF file"), proc.stderr
    assert not out.exists() and sorted(os.listdir(tmp_path)) == []


def test_input_is_a_directory(tmp_path, out):
    snap = Snapshot(out)
    proc = run_cli(tmp_path, B, "-o", out)
    assert proc.returncode == 1 and proc.stderr.startswith(
        f"bpflink: error: {tmp_path}: cannot read input: Is a directory"), proc.stderr
    snap.assert_clean()


# -- large inputs are mapped ------------------------------------------------------------------

def big_copy(src: Path, tmp_path: Path) -> Path:
    """``src`` followed by a mebibyte of zeros: still a valid object (nothing points
    past its section headers), but large enough for fileio.read_whole to map."""
    big = tmp_path / f"big_{src.name}"
    big.write_bytes(src.read_bytes() + bytes(fileio.MAP_MIN))
    return big


def test_large_input_is_mapped_and_links_the_same(tmp_path):
    from bpflink.pipeline import _read_input

    big = big_copy(A, tmp_path)
    assert isinstance(_read_input(str(A)), bytes)
    assert not isinstance(_read_input(str(big)), bytes)        # an mmap
    assert bpflink.link([big, B]).data == expected_output()
    out = tmp_path / "out.o"
    assert run_cli(big, B, "-o", out).returncode == 0
    assert out.read_bytes() == expected_output()


def test_mapped_archive_links_the_same(tmp_path):
    from bpflink.pipeline import _read_input

    lib = tmp_path / "libb.a"
    subprocess.run(["ar", "rcs", lib, big_copy(B, tmp_path)], check=True)
    assert not isinstance(_read_input(str(lib)), bytes)
    assert bpflink.link([A, lib]).data == expected_output()


def test_inputs_are_read_when_they_cannot_be_mapped(tmp_path, monkeypatch):
    """Past the descriptor budget, or where mmap fails, an input is read instead."""
    import mmap

    from bpflink.pipeline import _read_input

    big = big_copy(A, tmp_path)
    monkeypatch.setattr(fileio, "_map_budget", lambda: 0)
    assert isinstance(_read_input(str(big)), bytes)
    assert bpflink.link([big, B]).data == expected_output()
    monkeypatch.undo()

    def no_mmap(*args, **kw):
        raise OSError(errno.ENODEV, "No such device")

    monkeypatch.setattr(mmap, "mmap", no_mmap)
    assert isinstance(_read_input(str(big)), bytes)
    assert bpflink.link([big, B]).data == expected_output()


def test_mapped_input_truncated_during_the_write(tmp_path, out):
    """The output is written from views of the mapped input; truncated under it, the
    kernel's copy fails (EFAULT, not SIGBUS): one error, nothing partial left."""
    big = big_copy(A, tmp_path)
    real_write = os.write
    truncated = []

    def write(fd, data):
        if not truncated:
            truncated.append(True)
            os.truncate(big, 0)
        return real_write(fd, data)

    snap = Snapshot(out)
    linker = bpflink.Linker()
    linker.add_file(big)
    linker.add_file(B)
    os.write = write
    try:
        with pytest.raises(bpflink.OutputError, match="cannot write output: Bad address"):
            linker.link(out)
    finally:
        os.write = real_write
    snap.assert_clean()


# -- signals during the write -----------------------------------------------------------------

SLOW_WRITE = """
import os, sys, time
real = os.write
def slow(fd, data):          # ~10 ms per 64 bytes: the write of a 9 KB object takes > 1 s
    time.sleep(0.01)
    return real(fd, bytes(memoryview(data)[:64]))
os.write = slow
sys.argv = ["bpflink", *sys.argv[1:]]
from bpflink.cli import main_entry
main_entry()
"""


@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"),
                                           (signal.SIGTERM, 128 + signal.SIGTERM, "terminated"),
                                           (signal.SIGHUP, 128 + signal.SIGHUP, "terminated")],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_signal_during_the_write(tmp_path, sig, code, word):
    out = tmp_path / "out.o"
    out.write_bytes(OLD)
    snap = Snapshot(out)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITE, str(A), str(B), "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(n.endswith(".tmp") for n in os.listdir(tmp_path)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the write never started"
        time.sleep(0.005)
    time.sleep(0.1)                       # well inside the write
    tmp = next(n for n in os.listdir(tmp_path) if n.endswith(".tmp"))
    assert 0 < (tmp_path / tmp).stat().st_size < len(expected_output())
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.strip() == f"bpflink: {word}", err
    snap.assert_clean()


def test_signal_free_run_of_the_slow_writer_completes(tmp_path):
    """The slow-write harness itself produces the right output when left alone."""
    out = tmp_path / "out.o"
    proc = subprocess.run([sys.executable, "-c", SLOW_WRITE, str(A), str(B), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_output()
    assert sorted(os.listdir(tmp_path)) == ["out.o"]


# -- the output is an input -------------------------------------------------------------------

@pytest.mark.parametrize("how", ["same path", "relative path", "hard link", "symlink"])
def test_output_that_is_an_input_is_refused(tmp_path, how):
    x = tmp_path / "x.o"
    shutil.copy(A, x)
    target = {"same path": x, "relative path": Path(os.path.relpath(x)),
              "hard link": tmp_path / "hard.o", "symlink": tmp_path / "sym.o"}[how]
    if how == "hard link":
        os.link(x, target)
    elif how == "symlink":
        os.symlink(x, target)
    snap = Snapshot(x)
    proc = run_cli(x, x, "-o", target)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(f"bpflink: error: {x}: the output would overwrite this "
                                  "input"), proc.stderr
    snap.assert_clean()
    assert x.read_bytes() == A.read_bytes()


def test_failed_link_never_leaves_an_empty_output(tmp_path, out):
    bad = tmp_path / "bad.o"
    bad.write_bytes(A.read_bytes()[:100])
    snap = Snapshot(out)
    proc = run_cli(bad, B, "-o", out)
    assert proc.returncode == 1 and proc.stderr.startswith(f"bpflink: error: {bad}: ")
    snap.assert_clean()


def test_successful_write_replaces_atomically_with_umask_permissions(tmp_path):
    out = tmp_path / "out.o"
    out.write_bytes(OLD)
    old_inode = out.stat().st_ino
    proc = run_cli(A, B, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_output()
    assert out.stat().st_ino != old_inode            # renamed over, never rewritten in place
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert sorted(os.listdir(tmp_path)) == ["out.o"]


def test_write_atomic_cleans_up_on_any_exception(tmp_path, monkeypatch):
    """The library helper itself: a failing rename leaves nothing behind."""
    out = tmp_path / "out.o"
    out.write_bytes(OLD)
    snap = Snapshot(out)

    def no_rename(src, dst):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError):
        fileio.write_atomic(str(out), b"new")
    monkeypatch.undo()
    snap.assert_clean()


# -- durability and temporary names -----------------------------------------------------------

BPFLINK = Path(sys.executable).with_name("bpflink")


def test_output_is_fsynced_renamed_then_its_directory_fsynced(tmp_path, monkeypatch):
    """The order that makes a rename durable: fsync(file), rename, fsync(directory)."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(("fsync", kind))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("rename", os.path.basename(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    bpflink.link([A, B], tmp_path / "out.o")
    monkeypatch.undo()
    assert events == [("fsync", "file"), ("rename", "out.o"), ("fsync", "dir")]
    assert (tmp_path / "out.o").read_bytes() == expected_output()


def _wait_for_temporaries(directory: Path, procs: list[subprocess.Popen], count: int) -> list[str]:
    deadline = time.monotonic() + 60
    while True:
        tmps = sorted(n for n in os.listdir(directory) if n.endswith(".tmp"))
        if len(tmps) >= count:
            return tmps
        for p in procs:
            assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "the writes never started"
        time.sleep(0.005)


def test_parallel_links_of_one_output_use_their_own_temporaries(tmp_path):
    """Two slow links into one output at once: each writes its own
    .out.o.bpflink-<pid>-<random>.tmp; both succeed; one whole output remains."""
    out = tmp_path / "out.o"
    procs = [subprocess.Popen([sys.executable, "-c", SLOW_WRITE, str(A), str(B), "-o", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    tmps = _wait_for_temporaries(tmp_path, procs, 2)
    assert sorted(int(n.split(".bpflink-")[1].split("-")[0]) for n in tmps) == \
        sorted(p.pid for p in procs)
    assert all(n.startswith(".out.o.bpflink-") for n in tmps)
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert out.read_bytes() == expected_output()
    assert sorted(os.listdir(tmp_path)) == ["out.o"]


def test_many_parallel_links_through_the_console_script(tmp_path):
    out = tmp_path / "out.o"
    procs = [subprocess.Popen([str(BPFLINK), str(A), str(B), "-o", str(out)],
                              stderr=subprocess.PIPE) for _ in range(8)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert out.read_bytes() == expected_output()
    assert sorted(os.listdir(tmp_path)) == ["out.o"]


def test_sigkilled_link_leaves_a_temporary_never_taken_for_an_output(tmp_path):
    """SIGKILL cannot be caught: the temporary stays.  It is hidden and ends in .tmp
    (no *.o glob or make pattern sees it), the next link neither reuses nor
    deletes it, and bpflink refuses it as an input."""
    out = tmp_path / "out.o"
    out.write_bytes(OLD)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITE, str(A), str(B), "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    [tmp] = _wait_for_temporaries(tmp_path, [proc], 1)
    time.sleep(0.1)
    proc.kill()
    proc.communicate(timeout=60)
    stale = tmp_path / tmp
    assert stale.exists() and out.read_bytes() == OLD
    assert tmp.startswith(f".out.o.bpflink-{proc.pid}-")
    assert [p.name for p in tmp_path.glob("*.o")] == ["out.o"]
    stale_bytes = stale.read_bytes()
    done = subprocess.run([str(BPFLINK), str(A), str(B), "-o", str(out)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == expected_output()
    assert stale.read_bytes() == stale_bytes
    assert sorted(os.listdir(tmp_path)) == sorted(["out.o", tmp])
    refused = subprocess.run([str(BPFLINK), str(stale), str(B), "-o", str(tmp_path / "x.o")],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"bpflink: error: {stale}: a temporary file of a bpflink "
                                     "link that never finished"), refused.stderr
    assert not (tmp_path / "x.o").exists()


def test_long_output_name_gets_a_valid_temporary_name(tmp_path):
    out = tmp_path / ("o" * 250)
    proc = subprocess.run([str(BPFLINK), str(A), str(B), "-o", str(out)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_output()
