"""Packaging: the sdist and wheel build, pass ``twine check``, and the wheel works alone.

The wheel is installed into a fresh virtual environment and run from an
empty directory, so nothing of the source tree can stand in for a file the
wheel forgot.  The installed ``bpflink`` must print the package's version and
link a corpus pair to the same bytes as the source tree does.

Also here: the version has one source (``bpflink.__version__``, read by
setuptools as the ``version`` attribute), so ``--version``, the installed
metadata and the module agree.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

import bpflink
from bpflink.btf import types as btf_types

ROOT = Path(__file__).resolve().parent.parent
PAIR = [ROOT / "corpus" / "exc_cross" / "a.o", ROOT / "corpus" / "exc_cross" / "b.o"]


def _clean_env() -> dict[str, str]:
    """The environment without anything that would put the source tree on sys.path."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=_clean_env() | env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_version_has_one_source():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project, "pyproject.toml must not repeat the version"
    assert "version" in project["dynamic"]
    assert importlib.metadata.version("bpflink") == bpflink.__version__
    proc = subprocess.run([sys.executable, "-m", "bpflink", "--version"],
                          capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == f"bpflink {bpflink.__version__}"


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """``python -m build``: the sdist, then the wheel built from the unpacked sdist."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out)
    sdists, wheels = list(out.glob("*.tar.gz")), list(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    return {"sdist": sdists[0], "wheel": wheels[0]}


@pytest.mark.slow
def test_twine_check_passes(dists):
    proc = _run([sys.executable, "-m", "twine", "check", "--strict",
                 str(dists["sdist"]), str(dists["wheel"])], cwd=dists["wheel"].parent)
    assert proc.stdout.count("PASSED") == 2, proc.stdout


@pytest.mark.slow
def test_wheel_holds_the_package_and_nothing_else(dists):
    with zipfile.ZipFile(dists["wheel"]) as z:
        names = z.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = z.read(meta).decode()
    assert f"bpflink-{bpflink.__version__}.dist-info/METADATA" == meta
    assert f"Version: {bpflink.__version__}\n" in metadata
    assert "bpflink/py.typed" in names                   # PEP 561: the package is typed
    assert "bpflink/graph/digraph.py" in names
    # The compiled BTF parser, where this machine can build it (CI requires it)
    if os.environ.get("BPFLINK_REQUIRE_ACCEL") or btf_types._accel is not None:
        assert any(n.startswith("bpflink/_accel.") and n.endswith(".so") for n in names)
    tops = {n.split("/")[0] for n in names}
    assert tops == {"bpflink", f"bpflink-{bpflink.__version__}.dist-info"}, tops


@pytest.mark.slow
def test_sdist_is_a_source_release(dists):
    """Enough to run the suite and build the docs: tests, corpus objects, docs."""
    with tarfile.open(dists["sdist"]) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for needed in ("pyproject.toml", "README.md", "CHANGELOG.md", "mkdocs.yml", "tox.ini",
                   "bpflink/py.typed", "setup.py", "bpflink/_accel.c", "tests/conftest.py", "tests/kernel.py",
                   "corpus/build.py", "corpus/exc_cross/a.c", "corpus/exc_cross/a.o",
                   "docs/index.md", "docs/examples/make/Makefile",
                   "scripts/gen_cli_reference.py"):
        assert needed in names, needed
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


@pytest.mark.slow
def test_installed_wheel_works_without_the_source_tree(dists, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    py, exe = venv / "bin" / "python", venv / "bin" / "bpflink"
    _run([str(py), "-m", "pip", "install", "-q", str(dists["wheel"])], cwd=tmp_path)

    work = tmp_path / "work"             # no source tree here or above the venv's sys.path
    work.mkdir()
    where = _run([str(py), "-c", "import bpflink; print(bpflink.__file__)"], cwd=work).stdout
    assert Path(where.strip()).is_relative_to(venv), where

    version = _run([str(exe), "--version"], cwd=work).stdout.strip()
    assert version == f"bpflink {bpflink.__version__}"
    meta = _run([str(py), "-c", "import importlib.metadata as m; print(m.version('bpflink'))"],
                cwd=work).stdout.strip()
    assert meta == bpflink.__version__
    if btf_types._accel is not None:     # built here: the installed bpflink uses it too
        used = _run([str(py), "-c", "from bpflink.btf import types; print(types._accel)"],
                    cwd=work).stdout
        assert "_accel" in used and str(venv) in used, used

    for src in PAIR:
        (work / src.name).write_bytes(src.read_bytes())
    _run([str(exe), "a.o", "b.o", "-o", "out.o"], cwd=work)
    # The installed linker is the same code as this tree: same inputs, same bytes.
    assert (work / "out.o").read_bytes() == bpflink.link(PAIR).data


@pytest.mark.slow
def test_without_a_compiler_the_wheel_is_pure_python_and_links_alike(dists, tmp_path):
    """The compiled module is optional: a wheel built from the sdist where the C
    compiler fails (``CC=false``) holds no extension, and the bpflink it installs
    runs the Python twins and writes the same bytes."""
    out = tmp_path / "dist"
    proc = _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out),
                 str(dists["sdist"])], cwd=tmp_path, CC="false")
    assert 'building extension "bpflink._accel" failed' in proc.stdout + proc.stderr
    wheel, = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        assert not [n for n in z.namelist() if n.endswith(".so")]
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    used = _run([str(py), "-c", "from bpflink.btf import types; print(types._accel)"],
                cwd=work).stdout
    assert used.strip() == "None", used
    for src in PAIR:
        (work / src.name).write_bytes(src.read_bytes())
    _run([str(venv / "bin" / "bpflink"), "a.o", "b.o", "-o", "out.o"], cwd=work)
    assert (work / "out.o").read_bytes() == bpflink.link(PAIR).data
