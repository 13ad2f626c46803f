"""The import graph of npctrial: no cycles and layers import only downwards (so every module
can be imported on its own: without a cycle no module can see another half-initialised).

The graph counts every import of an npctrial module: at module level, inside functions, and
under ``if TYPE_CHECKING:`` (a type-only import is still a design dependency; lazy imports that
hide a cycle are what this test exists to catch).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: the Django application has its own test of its module graph (not covered here)
EXCLUDED = ("npctrial.web",)

#: a package may import only packages listed for it (its own modules always)
ALLOWED = {
    "npctrial.errors": set(),
    "npctrial.validation": {"npctrial.errors"},
    "npctrial.frozen": set(),
    "npctrial.fonts": {"npctrial.errors"},
    "npctrial.stats": {"npctrial.errors", "npctrial.validation", "npctrial.frozen"},
    "npctrial.survival": {"npctrial.errors", "npctrial.validation", "npctrial.frozen", "npctrial.fonts"},
}


def _module_names() -> dict[str, Path]:
    out = {}
    for path in (SRC / "npctrial").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _module_names()


def _imports(name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                found.add(full if full in MODULES else module)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def _covered(name: str) -> bool:
    return not any(name == e or name.startswith(e + ".") for e in EXCLUDED)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    graph = {m: {d for d in deps if _covered(d)} for m, deps in GRAPH.items() if _covered(m)}
    assert _cycles(graph) == []


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layers_import_only_downwards(package: str) -> None:
    allowed = ALLOWED[package] | {package}
    for module, deps in GRAPH.items():
        if module == package or module.startswith(package + "."):
            for dep in deps:
                top = next((p for p in allowed if dep == p or dep.startswith(p + ".")), None)
                assert top is not None, f"{module} imports {dep}"
