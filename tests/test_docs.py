"""The documentation: the MkDocs site builds strictly, the CLI reference matches the
parser, and the code examples in README.md and docs/*.md run.

Examples: a fenced ``python`` block is executed; a fenced ``sh`` block runs in
bash, each of its commands a ``bpflink`` command of the installed console
script.  Both run in a fresh directory holding ``a.o`` and ``b.o`` (the
exc_cross pair: a program and the exception callback it names), ``libfoo.a``
(an ``ar`` archive whose member is ``b.o``) and ``libbar.a`` (the cross_call
pair, which links alongside them).  A block preceded
by a ``<!-- not-tested ... -->`` line is not run; docs/contributing.md
states these rules.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAIR = ROOT / "corpus" / "exc_cross"
RUN_LANGS = {"python": "python", "sh": "sh", "shell": "sh", "bash": "sh"}
NOT_TESTED = "<!-- not-tested"


# -- MkDocs --------------------------------------------------------------------------------

def _mkdocs(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True)


def test_mkdocs_builds_in_strict_mode(tmp_path):
    proc = _mkdocs(ROOT / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    for page in ("index.html", "make/index.html", "cli/index.html", "usage/index.html"):
        assert (tmp_path / "site" / page).is_file(), page
    assert (tmp_path / "site" / "examples" / "make" / "Makefile").is_file()


def test_mkdocs_strict_mode_fails_on_a_broken_link(tmp_path):
    """The check above can fail: the same site with one dead link does not build."""
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    with (tmp_path / "docs" / "index.md").open("a") as f:
        f.write("\nSee [the missing page](missing.md).\n")
    proc = _mkdocs(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode != 0
    assert "missing.md" in proc.stderr


def _nav_pages(nav: list[object]) -> list[str]:
    out: list[str] = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        out += _nav_pages(value) if isinstance(value, list) else [str(value)]
    return out


def test_every_page_is_in_the_nav():
    nav = _nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
    assert sorted(nav) == sorted(p.name for p in DOCS.glob("*.md"))


# -- the generated CLI reference -----------------------------------------------------------

def _gen_cli_reference():
    spec = importlib.util.spec_from_file_location("gen_cli_reference",
                                                  ROOT / "scripts" / "gen_cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_matches_the_parser():
    generated = _gen_cli_reference().render()
    committed = (DOCS / "cli.md").read_text()
    assert committed == generated, (
        "docs/cli.md is stale: the command-line options changed. "
        "Regenerate it with: python scripts/gen_cli_reference.py")


def test_cli_reference_names_every_option():
    """Not a snapshot of itself: each option the parsers define is on the page."""
    from bpflink import cli

    page = (DOCS / "cli.md").read_text()
    for parser in (cli._link_parser(), cli._graph_parser()):
        assert f"## `{parser.prog}`" in page
        for action in parser._actions:
            for option in action.option_strings:
                assert f"`{option}`" in page, option


# -- code examples -------------------------------------------------------------------------

@dataclass(frozen=True)
class Example:
    file: Path
    line: int               # of the opening fence
    lang: str               # "python" or "sh"
    code: str

    @property
    def id(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}"


_FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")


def extract_examples(path: Path) -> list[Example]:
    """The runnable fenced blocks of a Markdown file, minus those marked not-tested."""
    lines = path.read_text().splitlines()
    out: list[Example] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1).lower()
        i += 1
        body: list[str] = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1                                          # the closing fence
        previous = next((ln for ln in reversed(lines[:start]) if ln.strip()), "")
        if lang in RUN_LANGS and not previous.lstrip().startswith(NOT_TESTED):
            out.append(Example(path, start + 1, RUN_LANGS[lang], "\n".join(body) + "\n"))
    return out


EXAMPLES = [ex for f in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
            for ex in extract_examples(f)]


def test_examples_are_found():
    """The collector sees the examples (the parametrized test below is not vacuous)."""
    ids = {ex.id for ex in EXAMPLES}
    assert any(i.startswith("README.md:") for i in ids)
    assert any(ex.lang == "python" for ex in EXAMPLES)
    assert any(ex.lang == "sh" and ex.file.name == "make.md" for ex in EXAMPLES)
    marked = extract_examples(ROOT / "README.md")
    assert all("pip install" not in ex.code for ex in marked), "the install block is marked"


def test_extractor_honours_the_marker(tmp_path):
    md = tmp_path / "x.md"
    md.write_text("```python\nrun = 1\n```\n\n<!-- not-tested: why -->\n```python\nskip\n```\n"
                  "```text\nnot code\n```\n```sh\nbpflink --version\n```\n")
    assert [(ex.lang, ex.code) for ex in extract_examples(md)] == [
        ("python", "run = 1\n"), ("sh", "bpflink --version\n")]


@pytest.fixture
def example_dir(tmp_path, monkeypatch) -> Path:
    for name in ("a.o", "b.o"):
        shutil.copy(PAIR / name, tmp_path / name)
    subprocess.run(["ar", "rcs", "libfoo.a", "b.o"], cwd=tmp_path, check=True)
    # libbar.a: an archive whose members link alongside the pair (the cross_call scenario)
    for name in ("a.o", "b.o"):
        shutil.copy(ROOT / "corpus" / "cross_call" / name, tmp_path / f"call_{name}")
    subprocess.run(["ar", "rcs", "libbar.a", "call_a.o", "call_b.o"], cwd=tmp_path, check=True)
    for name in ("call_a.o", "call_b.o"):
        (tmp_path / name).unlink()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _commands(code: str) -> list[str]:
    """The commands of a shell block: comments and blank lines dropped, continuations joined."""
    joined = re.sub(r"\\\n", " ", code)
    return [ln.strip() for ln in joined.splitlines() if ln.strip() and
            not ln.strip().startswith("#")]


def _script_dir() -> str:
    beside = Path(sys.executable).parent
    if (beside / "bpflink").exists():
        return str(beside)
    found = shutil.which("bpflink")
    if found is None:
        pytest.fail("the bpflink console script is not installed (pip install -e .)")
    return str(Path(found).parent)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda ex: ex.id)
def test_doc_example_runs(example: Example, example_dir: Path):
    if example.lang == "python":
        code = compile(example.code, example.id, "exec")
        exec(code, {"__name__": "__doc_example__"})
        return
    commands = _commands(example.code)
    assert commands, f"{example.id}: an empty shell block"
    for cmd in commands:
        assert shlex.split(cmd)[0] == "bpflink", (
            f"{example.id}: '{cmd}' is not a bpflink command; mark the block with "
            f"'{NOT_TESTED}: reason -->' if it cannot run here")
    env = dict(os.environ, PATH=_script_dir() + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", example.code], cwd=example_dir,
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{example.id}:\n{proc.stdout}\n{proc.stderr}"
