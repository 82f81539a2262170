"""The package's imports run one way: pipeline -> linker, graph -> model, btf, elf.

A cycle between the linker and the call graph is how 0.1 was built; this
pins the layering that replaced it (docs/design.md, "What lives where").
"""

import ast
import pathlib

PKG = pathlib.Path(__file__).resolve().parent.parent / "bpflink"


def _imports(path: pathlib.Path) -> set[str]:
    """Absolute names of the bpflink modules one file imports (relative imports resolved)."""
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("bpflink")}


def _package_imports(sub: str) -> set[str]:
    out: set[str] = set()
    for path in (PKG / sub).rglob("*.py"):
        out |= _imports(path)
    return out


def test_linker_imports_neither_graph_nor_pipeline():
    bad = {m for m in _package_imports("linker")
           if m.startswith(("bpflink.graph", "bpflink.pipeline"))}
    assert not bad, bad


def test_graph_does_not_import_the_pipeline():
    bad = {m for m in _package_imports("graph") if m.startswith("bpflink.pipeline")}
    assert not bad, bad


def test_formats_import_nothing_above_them():
    for sub in ("elf", "btf"):
        bad = {m for m in _package_imports(sub)
               if m.startswith(("bpflink.graph", "bpflink.pipeline", "bpflink.linker"))}
        assert not bad, (sub, bad)
