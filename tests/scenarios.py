"""Read the link scenarios of ``corpus/`` into typed records.

Each ``corpus/<name>/scenario.toml`` describes one link: its inputs (and other
orders that must behave alike), what the loaded result must compute, or the
error the linker must report.  The format is documented in
``corpus/README.md``; this module parses it strictly (unknown keys are errors,
so a typo cannot silently drop an expectation).

Public API::

    CORPUS_DIR: Path
    load_scenarios(root=CORPUS_DIR) -> list[Scenario]      # sorted by name
    load_scenario(path) -> Scenario                         # a folder or its scenario.toml
    check_loaded(obj, scenario) -> list[str]                # run + compare; [] means all matched
    check_refused(path, scenario) -> list[str]              # [refuse.*] programs, each loaded alone
    error_matches(stderr, scenario) -> list[str]            # [error] substrings missing from stderr
    bpftool_link(bpftool, inputs, output) -> CompletedProcess[str]
    scenario_params(predicate=None) -> list[pytest.param]   # for @pytest.mark.parametrize
    class ScenarioError(ValueError)
    @dataclass Scenario, ProgramRun
"""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet

    from tests.kernel import LoadedObject

__all__ = [
    "CORPUS_DIR",
    "ProgramRun",
    "Scenario",
    "ScenarioError",
    "bpftool_link",
    "check_loaded",
    "check_refused",
    "error_matches",
    "scenario_params",
    "load_scenario",
    "load_scenarios",
]

CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"

_TOP_KEYS = {
    "description",
    "inputs",
    "orders",
    "bpftool",
    "big_endian",
    "may_refuse_map",
    "run",
    "globals",
    "maps",
    "error",
    "warning",
    "refuse",
    "tag_rules",
}


class ScenarioError(ValueError):
    """A scenario.toml that does not follow the corpus format."""


@dataclass(frozen=True)
class ProgramRun:
    """One ``[run.<program>]`` table: test-run ``repeat`` times, expect ``retval``."""

    program: str
    retval: int
    repeat: int = 1


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path  # the scenario folder
    description: str
    inputs: tuple[Path, ...]  # absolute, in link order
    orders: tuple[tuple[Path, ...], ...] = ()  # extra orders, absolute
    bpftool: str = "same"  # "same" or "skip:<reason>"
    big_endian: bool = False
    may_refuse_map: str | None = None  # a map this kernel may refuse to create (an arena)
    runs: tuple[ProgramRun, ...] = ()
    globals: dict[tuple[str, str], int] = field(default_factory=dict)  # (section, symbol) -> value
    maps: dict[str, dict[int, int]] = field(default_factory=dict)  # map -> key -> value
    error: tuple[str, ...] | None = None  # stderr substrings (case-insensitive); None = must link
    warning: tuple[str, ...] = ()  # substrings of stderr for a successful link
    # program -> substrings of libbpf's log (verifier log included) when that
    # program alone is loaded and refused; the link still succeeds
    refuse: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # decl-tag rules the link declares on the command line (--tag-rule SPEC); a
    # pyproject.toml in the scenario folder declares more (links run in the folder)
    tag_rules: tuple[str, ...] = ()

    @property
    def all_orders(self) -> tuple[tuple[Path, ...], ...]:
        """``inputs`` followed by every extra order."""
        return (self.inputs, *self.orders)

    @property
    def expects_error(self) -> bool:
        return self.error is not None

    @property
    def bpftool_skip_reason(self) -> str | None:
        """Why bpftool's link cannot serve as a reference, or None if it can."""
        if self.bpftool.startswith("skip:"):
            return self.bpftool[len("skip:") :].strip()
        return None

    @property
    def load_only(self) -> list[str] | None:
        """Programs to load for the runs: all (None), or just the good ones when some
        programs are meant to be refused (they sit in ordinary sections too)."""
        return [r.program for r in self.runs] if self.refuse else None

    @property
    def loadable(self) -> bool:
        """Whether a successful link of this scenario should be loaded and run.

        A scenario with ``may_refuse_map`` is not: tests/test_mapdef.py checks it
        with libbpf's open, and loads and runs it where the kernel creates the map.
        """
        return not self.expects_error and not self.big_endian and not self.may_refuse_map

    def __str__(self) -> str:
        return self.name


def _require(cond: bool, where: Path, msg: str) -> None:
    if not cond:
        raise ScenarioError(f"{where}: {msg}")


def _str_list(value: Any, where: Path, key: str) -> tuple[str, ...]:
    _require(
        isinstance(value, list) and all(isinstance(v, str) for v in value),
        where,
        f"{key} must be a list of strings",
    )
    return tuple(value)


def _inputs(value: Any, folder: Path, where: Path, key: str) -> tuple[Path, ...]:
    names = _str_list(value, where, key)
    _require(len(names) > 0, where, f"{key} must not be empty")
    paths = tuple((folder / n).resolve() for n in names)
    for n, p in zip(names, paths, strict=True):
        _require(p.is_file(), where, f"{key}: {n} does not exist")
    return paths


def _int_table(value: Any, where: Path, key: str) -> dict[str, int]:
    _require(isinstance(value, dict), where, f"[{key}] must be a table")
    for k, v in value.items():
        _require(isinstance(v, int) and not isinstance(v, bool), where, f"{key}.{k} must be an integer")
    return dict(value)


def _substrings(value: Any, where: Path, key: str) -> tuple[str, ...]:
    _require(isinstance(value, dict) and set(value) == {"contains"}, where, f"[{key}] must hold only 'contains'")
    subs = _str_list(value["contains"], where, f"{key}.contains")
    _require(len(subs) > 0, where, f"{key}.contains must not be empty")
    return subs


def load_scenario(path: str | Path) -> Scenario:
    """Parse one scenario; ``path`` is its folder or its ``scenario.toml``."""
    path = Path(path)
    toml_path = path if path.name == "scenario.toml" else path / "scenario.toml"
    folder = toml_path.parent.resolve()
    with toml_path.open("rb") as f:
        data = tomllib.load(f)

    unknown = set(data) - _TOP_KEYS
    _require(not unknown, toml_path, f"unknown keys {sorted(unknown)}")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ScenarioError(f"{toml_path}: description is required")
    _require("inputs" in data, toml_path, "inputs is required")
    inputs = _inputs(data["inputs"], folder, toml_path, "inputs")

    orders_raw = data.get("orders", [])
    _require(isinstance(orders_raw, list), toml_path, "orders must be a list of lists")
    orders = tuple(_inputs(o, folder, toml_path, "orders[]") for o in orders_raw)

    bpftool = data.get("bpftool", "same")
    _require(
        isinstance(bpftool, str) and (bpftool == "same" or (bpftool.startswith("skip:") and bpftool[5:].strip() != "")),
        toml_path,
        'bpftool must be "same" or "skip:<reason>"',
    )
    big_endian = data.get("big_endian", False)
    _require(isinstance(big_endian, bool), toml_path, "big_endian must be a boolean")
    may_refuse_map = data.get("may_refuse_map")
    _require(may_refuse_map is None or (isinstance(may_refuse_map, str) and may_refuse_map != ""),
             toml_path, "may_refuse_map must name a map")

    runs: list[ProgramRun] = []
    run_raw = data.get("run", {})
    _require(isinstance(run_raw, dict), toml_path, "[run] must be a table of tables")
    for prog, spec in run_raw.items():
        _require(isinstance(spec, dict), toml_path, f"[run.{prog}] must be a table")
        extra = set(spec) - {"retval", "repeat"}
        _require(not extra, toml_path, f"[run.{prog}]: unknown keys {sorted(extra)}")
        _require(isinstance(spec.get("retval"), int), toml_path, f"[run.{prog}]: retval (int) is required")
        repeat = spec.get("repeat", 1)
        _require(isinstance(repeat, int) and repeat >= 1, toml_path, f"[run.{prog}]: repeat must be >= 1")
        runs.append(ProgramRun(prog, spec["retval"], repeat))

    globals_: dict[tuple[str, str], int] = {}
    for key, value in _int_table(data.get("globals", {}), toml_path, "globals").items():
        section, sep, symbol = key.rpartition(":")
        _require(bool(sep and section and symbol), toml_path, f"globals key {key!r} must be '<section>:<symbol>'")
        globals_[(section, symbol)] = value

    maps: dict[str, dict[int, int]] = {}
    maps_raw = data.get("maps", {})
    _require(isinstance(maps_raw, dict), toml_path, "[maps] must be a table of tables")
    for map_name, entries in maps_raw.items():
        table = _int_table(entries, toml_path, f"maps.{map_name}")
        try:
            maps[map_name] = {int(k, 0): v for k, v in table.items()}
        except ValueError as e:
            raise ScenarioError(f"{toml_path}: [maps.{map_name}] keys must be integers: {e}") from None

    error = _substrings(data["error"], toml_path, "error") if "error" in data else None
    warning = _substrings(data["warning"], toml_path, "warning") if "warning" in data else ()

    tag_rules = _str_list(data.get("tag_rules", []), toml_path, "tag_rules")
    refuse: dict[str, tuple[str, ...]] = {}
    refuse_raw = data.get("refuse", {})
    _require(isinstance(refuse_raw, dict), toml_path, "[refuse] must be a table of tables")
    for prog, spec in refuse_raw.items():
        refuse[prog] = _substrings(spec, toml_path, f"refuse.{prog}")
        _require(prog not in {r.program for r in runs}, toml_path, f"{prog} is both run and refused")

    if error is not None:
        _require(not runs and not globals_ and not maps and not refuse, toml_path,
                 "an [error] scenario cannot have run/globals/maps/refuse")
        _require(not warning, toml_path, "an [error] scenario cannot have [warning]")
    elif big_endian:
        _require(not runs and not globals_ and not maps, toml_path, "big-endian scenarios are never loaded")
    else:
        _require(bool(runs or refuse), toml_path,
                 "a scenario that links must have at least one [run.<program>] or [refuse.<program>]")

    return Scenario(
        name=folder.name,
        path=folder,
        description=description.strip(),
        inputs=inputs,
        orders=orders,
        bpftool=bpftool,
        big_endian=big_endian,
        may_refuse_map=may_refuse_map,
        runs=tuple(runs),
        globals=globals_,
        maps=maps,
        error=error,
        warning=warning,
        refuse=refuse,
        tag_rules=tag_rules,
    )


def load_scenarios(root: str | Path = CORPUS_DIR) -> list[Scenario]:
    """Every scenario under ``root``, sorted by name."""
    return [load_scenario(p) for p in sorted(Path(root).glob("*/scenario.toml"))]


def check_loaded(obj: LoadedObject, scenario: Scenario) -> list[str]:
    """Run a loaded link of ``scenario`` and compare it with the expectations.

    Programs run in the order of their ``[run.*]`` tables; globals and maps
    are read after all runs.  Returns one line per mismatch (empty when the
    object behaves as the scenario says).
    """
    problems: list[str] = []
    for run in scenario.runs:
        got = obj.run(run.program, repeat=run.repeat)
        if got != run.retval:
            problems.append(f"run.{run.program}: retval {got}, expected {run.retval}")
    for (section, symbol), want in scenario.globals.items():
        raw = obj.read_global(section, symbol)
        got = int.from_bytes(raw, "little")
        if got != want:
            problems.append(f"globals {section}:{symbol}: {got}, expected {want}")
    for map_name, entries in scenario.maps.items():
        for key, want in entries.items():
            value = obj.lookup(map_name, key)
            if value is None:
                problems.append(f"maps.{map_name}[{key}]: missing, expected {want}")
                continue
            got = int.from_bytes(value, "little")
            if got != want:
                problems.append(f"maps.{map_name}[{key}]: {got}, expected {want}")
    return problems


def check_refused(path: Path, scenario: Scenario) -> list[str]:
    """Load each ``[refuse.*]`` program of ``path`` alone (the selftests' way) and check
    that libbpf or the verifier refuses it with the expected log text."""
    from tests.kernel import LoadedObject, LoadError

    problems: list[str] = []
    for prog, wanted in scenario.refuse.items():
        try:
            LoadedObject(path, only=[prog]).close()
        except LoadError as e:
            missing = [w for w in wanted if w not in e.log]
            if missing:
                problems.append(f"refuse.{prog}: log lacks {missing}:\n{e.log[-2000:]}")
            continue
        problems.append(f"refuse.{prog}: loaded, expected a refusal")
    return problems


def error_matches(stderr: str, scenario: Scenario) -> list[str]:
    """The ``[error]`` substrings that ``stderr`` lacks (case-insensitive)."""
    if scenario.error is None:
        raise ValueError(f"{scenario.name} is not an error scenario")
    text = stderr.lower()
    return [s for s in scenario.error if s.lower() not in text]


def bpftool_link(bpftool: str | Path, inputs: Sequence[Path], output: Path) -> subprocess.CompletedProcess[str]:
    """Link ``inputs`` with the reference linker (``bpftool gen object``)."""
    return subprocess.run(
        [str(bpftool), "gen", "object", str(output), *map(str, inputs)],
        capture_output=True,
        text=True,
    )


def scenario_params(
    predicate: Callable[[Scenario], bool] | None = None,
    root: str | Path = CORPUS_DIR,
) -> list[ParameterSet]:
    """Scenarios (optionally filtered) as pytest params with readable ids."""
    import pytest

    return [pytest.param(s, id=s.name) for s in load_scenarios(root) if predicate is None or predicate(s)]
