"""pytest glue shared by every test module.

- Puts the repository root on ``sys.path`` so tests can ``import
  tests.kernel`` / ``tests.scenarios`` however pytest was started.
- ``@pytest.mark.kernel`` and the ``kernel`` fixture: skip when objects cannot
  be loaded here (not root, no BPF, no pylibbpf), but **fail** instead when
  ``BPFLINK_REQUIRE_KERNEL=1`` so CI cannot go green by skipping.
- ``bpftool`` fixture: path of the reference linker, same skip/fail rule with
  ``BPFLINK_REQUIRE_BPFTOOL=1``.
- ``corpus_scenarios`` fixture: every parsed corpus scenario.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.kernel import LoadedObject, kernel_available  # noqa: E402
from tests.scenarios import Scenario, load_scenarios  # noqa: E402

REQUIRE_KERNEL_ENV = "BPFLINK_REQUIRE_KERNEL"
REQUIRE_BPFTOOL_ENV = "BPFLINK_REQUIRE_BPFTOOL"


def _required(env: str) -> bool:
    return os.environ.get(env, "").strip() not in ("", "0")


def skip_or_fail(reason: str, require_env: str) -> None:
    """Skip with ``reason``, or fail if ``require_env`` says it is required."""
    if _required(require_env):
        pytest.fail(f"{reason} (required because {require_env}=1)", pytrace=False)
    pytest.skip(reason)


@functools.cache
def _kernel_status() -> tuple[bool, str]:
    return kernel_available()


def require_kernel() -> None:
    ok, reason = _kernel_status()
    if not ok:
        skip_or_fail(f"no usable BPF kernel: {reason}", REQUIRE_KERNEL_ENV)


@functools.cache
def _bpftool_status() -> tuple[Path | None, str]:
    found = shutil.which("bpftool") or next(
        (p for p in ("/usr/sbin/bpftool", "/sbin/bpftool") if os.access(p, os.X_OK)), None
    )
    if found is None:
        return None, "bpftool not found (Debian package: bpftool)"
    # Debian's /usr/sbin/bpftool is a wrapper that fails when no build for the
    # running kernel is installed; only a working binary counts.
    proc = subprocess.run([found, "version"], capture_output=True, text=True)
    if proc.returncode != 0:
        return None, f"{found} does not run: {(proc.stderr or proc.stdout).strip()}"
    return Path(found), proc.stdout.splitlines()[0] if proc.stdout else found


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("kernel") is not None:
        require_kernel()


class KernelSession:
    """What the ``kernel`` fixture gives a test: loads that close at teardown."""

    def __init__(self) -> None:
        self._loaded: list[LoadedObject] = []

    def load(self, path: str | os.PathLike[str], only=None) -> LoadedObject:
        obj = LoadedObject(path, only=only)
        self._loaded.append(obj)
        return obj

    def close(self) -> None:
        while self._loaded:
            self._loaded.pop().close()


@pytest.fixture
def kernel() -> Iterator[KernelSession]:
    """Skip (or fail under BPFLINK_REQUIRE_KERNEL=1) without a BPF kernel."""
    require_kernel()
    session = KernelSession()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="session")
def bpftool() -> Path:
    """Path of a working bpftool; skip (or fail under BPFLINK_REQUIRE_BPFTOOL=1)."""
    path, reason = _bpftool_status()
    if path is None:
        skip_or_fail(reason, REQUIRE_BPFTOOL_ENV)
    assert path is not None
    return path


@pytest.fixture(scope="session")
def corpus_scenarios() -> list[Scenario]:
    return load_scenarios()
