"""The library entry points and the command line: results, exit codes, file safety."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bpflink
from bpflink import InputError, LinkError, Linker, OutputError
from bpflink.cli import main as cli_main

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CROSS = [CORPUS / "cross_call" / "a.o", CORPUS / "cross_call" / "b.o"]


def test_link_returns_object_and_graph(tmp_path):
    out = tmp_path / "out.o"
    result = bpflink.link(CROSS, out)
    assert result.output == str(out)
    assert out.read_bytes() == result.data
    assert result.data[:4] == b"\x7fELF"
    assert result.callgraph.number_of_nodes() > 0


def test_link_in_memory_from_bytes_matches_files(tmp_path):
    from_files = bpflink.link(CROSS).data
    linker = Linker()
    for p in CROSS:
        linker.add_bytes(p.read_bytes(), name=p.name)
    assert linker.link().data == from_files
    assert list(tmp_path.iterdir()) == []


def test_relinking_an_output_is_a_fixed_point(tmp_path):
    once = bpflink.link(CROSS, tmp_path / "once.o").data
    twice = bpflink.link([tmp_path / "once.o"]).data
    assert twice == once


def test_bad_input_raises_link_error_naming_the_file(tmp_path):
    bogus = tmp_path / "bogus.o"
    bogus.write_text("not an object\n")
    with pytest.raises(InputError) as exc:
        bpflink.link([CROSS[0], bogus])
    (diag,) = exc.value.errors
    assert diag.file == str(bogus) and "not an ELF file" in diag.message


def test_every_bad_input_is_reported_at_once(tmp_path):
    a, b = tmp_path / "a.o", tmp_path / "b.o"
    a.write_bytes(b"")
    b.write_bytes(CROSS[0].read_bytes()[:100])
    with pytest.raises(LinkError) as exc:
        bpflink.link([a, b])
    assert [d.file for d in exc.value.errors] == [str(a), str(b)]


def test_output_naming_an_input_is_refused_before_anything_is_written(tmp_path):
    x = tmp_path / "x.o"
    shutil.copy(CROSS[0], x)
    before = x.read_bytes()
    with pytest.raises(OutputError):
        bpflink.link([x, x], x)
    assert x.read_bytes() == before


def test_failed_link_leaves_existing_output_untouched(tmp_path, capsys):
    out = tmp_path / "out.o"
    out.write_bytes(b"previous build")
    dup = CORPUS / "err_dup_strong"
    assert cli_main([str(dup / "a.o"), str(dup / "b.o"), "-o", str(out)]) == 1
    assert out.read_bytes() == b"previous build"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.o"]
    assert "duplicate symbol" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["a.o"], ["-o", "out.o"], ["--bogus", "a.o", "-o", "x"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(argv)
    assert exc.value.code == 2
    assert "bpflink: error:" in capsys.readouterr().err


def test_cli_same_input_and_output_exits_1_and_keeps_the_file(tmp_path):
    x = tmp_path / "x.o"
    shutil.copy(CROSS[0], x)
    before = x.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "bpflink", str(x), str(x), "-o", str(x)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"bpflink: error: {x}: ")
    assert "Traceback" not in proc.stderr
    assert x.read_bytes() == before


def test_console_script_and_module_agree(tmp_path):
    exe = shutil.which("bpflink") or str(Path(sys.executable).with_name("bpflink"))
    assert os.path.exists(exe), "the bpflink console script is not installed in this venv"
    a, b = tmp_path / "a.o", tmp_path / "b.o"
    subprocess.run([exe, *map(str, CROSS), "-o", str(a)], check=True)
    subprocess.run([sys.executable, "-m", "bpflink", *map(str, CROSS), "-o", str(b)], check=True)
    assert a.read_bytes() == b.read_bytes()


def test_output_file_mode_follows_umask(tmp_path):
    out = tmp_path / "out.o"
    old = os.umask(0o022)
    try:
        bpflink.link(CROSS, out)
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


def test_unresolved_extern_warns_and_still_links(tmp_path, capsys):
    # cross_call's a.o alone calls a function that only b.o defines
    rc = cli_main([str(CROSS[0]), "-o", str(tmp_path / "out.o")])
    err = capsys.readouterr().err
    assert rc == 0
    assert "bpflink: warning:" in err and "undefined symbol" in err


def test_archive_members_link_like_the_objects(tmp_path):
    ar = shutil.which("ar")
    if ar is None:
        pytest.skip("ar (binutils) is not installed")
    lib = tmp_path / "libcross.a"
    for p in CROSS:
        shutil.copy(p, tmp_path / p.name)
    subprocess.run([ar, "rcD", str(lib), "a.o", "b.o"], cwd=tmp_path, check=True)
    assert _whole(lib) == bpflink.link(CROSS).data


def _whole(lib: Path) -> bytes:
    """Link every member of ``lib`` (an archive alone gives nothing otherwise)."""
    linker = Linker()
    linker.add_file(lib, whole_archive=True)
    return linker.link().data


def _bsd_archive(members: list[tuple[str, bytes]]) -> bytes:
    """An archive as ``llvm-ar --format=bsd`` writes it: a ``__.SYMDEF`` index
    first, every name in a ``#1/N`` header and NUL-padded ahead of its data."""
    out = bytearray(b"!<arch>\n")
    for name, data in [("__.SYMDEF", b"\0" * 8), *members]:
        raw = name.encode() + b"\0" * (-len(name) % 8 or 8)
        body = raw + data
        out += (f"{'#1/' + str(len(raw)):<16}{0:<12}{0:<6}{0:<6}{644:<8}{len(body):<10}"
                .encode() + b"`\n")
        out += body + b"\n" * (len(body) & 1)
    return bytes(out)


def test_bsd_archive_members_link_like_the_objects(tmp_path):
    lib = tmp_path / "libcross.a"
    lib.write_bytes(_bsd_archive([(p.name, p.read_bytes()) for p in CROSS]))
    assert _whole(lib) == bpflink.link(CROSS).data


def test_identical_licenses_collapse_to_one_section_and_symbol():
    from bpflink.elf.reader import read_object

    sc = CORPUS / "license_twice"
    out = read_object(bpflink.link([sc / "a.o", sc / "b.o"]).data, "out.o")
    assert [s.name for s in out.sections].count("license") == 1
    assert out.section("license").data == b"GPL\0"
    assert [s.name for s in out.symbols].count("LICENSE") == 1


def test_same_named_sections_must_agree_in_type_and_flags(tmp_path, capsys):
    """Two '.text' sections, one of them writable: refused, naming both inputs."""
    from tests.test_reader_errors import Elf

    b = Elf((CORPUS / "cross_call" / "b.o").read_bytes())
    b.set_shdr(".text", 2, b.shdr(b.index(".text"))[2] | 0x1)      # SHF_WRITE
    bad = tmp_path / "b.o"
    bad.write_bytes(bytes(b.data))
    rc = cli_main([str(CROSS[0]), str(bad), "-o", str(tmp_path / "out.o")])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith(f"bpflink: error: {bad}: section .text: section type or flags differ "
                          f"from the same-named section in {CROSS[0]}"), err
    assert not (tmp_path / "out.o").exists()


def test_partial_link_may_skip_graph_checks(tmp_path, capsys):
    """exc_cross's a.o names a callback only b.o defines: a warning alone (an error with
    --fatal-warnings), silent when the link is declared partial; the final link then
    checks the tag."""
    exc = CORPUS / "exc_cross"
    part = tmp_path / "part.o"
    assert cli_main([str(exc / "a.o"), "--fatal-warnings", "-o", str(part)]) == 1
    assert "error: " in capsys.readouterr().err and not part.exists()
    assert cli_main([str(exc / "a.o"), "-o", str(part)]) == 0
    assert "warning: " in capsys.readouterr().err and part.exists()
    assert cli_main([str(exc / "a.o"), "--no-graph-checks", "-o", str(part)]) == 0
    assert capsys.readouterr().err == ""
    assert cli_main([str(part), str(exc / "b.o"), "-o", str(tmp_path / "final.o")]) == 0
