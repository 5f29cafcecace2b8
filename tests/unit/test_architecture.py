"""The package tree is the architecture: imports run one way, and the library never needs its tests.

The import graph is built from the source with :mod:`ast`, counting every import: at module level,
under ``TYPE_CHECKING`` and inside functions. ``from package import name`` is an edge to the
submodule ``package.name`` when there is one, otherwise to the package's ``__init__``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "prestoha"
#: Most files stay under 400 lines; none may pass this.
MAX_LINES = 450
#: The package root holds the public API and little else.
MAX_ROOT_FILES = 12


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _imported(module: str, path: Path, node: ast.AST, known: dict[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        package = module.split(".")
        if path.name != "__init__.py":
            package.pop()
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    for alias in node.names:
        yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base


def _nearest(name: str, known: dict[str, Path]) -> str | None:
    while name not in known:
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return name


def import_graph() -> dict[str, set[str]]:
    """Each module of ``prestoha`` and the ``prestoha`` modules it imports, anywhere in it."""
    known = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in _imported(module, path, node, known):
                    target = _nearest(name, known) if name.startswith("prestoha") else None
                    if target is not None and target != module:
                        targets.add(target)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    # the real graph must see imports under TYPE_CHECKING and inside functions
    graph = import_graph()
    assert graph, "no modules found under prestoha/"
    assert all(module.startswith("prestoha") for module in graph)


def test_no_import_cycle_anywhere() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_library_never_imports_its_testing_tools() -> None:
    offenders = {
        module: sorted(t for t in targets if t.startswith("prestoha.testing"))
        for module, targets in import_graph().items()
        if not module.startswith("prestoha.testing")
    }
    offenders = {module: targets for module, targets in offenders.items() if targets}
    assert not offenders, f"the library imports prestoha.testing: {offenders}"


def test_private_names_stay_inside_their_package() -> None:
    """``prestoha.a._b`` may be imported only from inside ``prestoha.a`` (tests aside)."""
    leaks = []
    for module, targets in import_graph().items():
        for target in targets:
            parts = target.split(".")
            private = [i for i, part in enumerate(parts) if part.startswith("_") and i > 0]
            if not private or parts[private[0]] == "__main__":
                continue
            owner = ".".join(parts[: private[0]])
            if not (module == owner or module.startswith(owner + ".")):
                leaks.append(f"{module} -> {target}")
    assert not leaks, "private modules used outside their package: " + ", ".join(sorted(leaks))


def test_the_root_holds_the_public_api_only() -> None:
    files = sorted(path.name for path in ROOT.glob("*.py"))
    assert len(files) <= MAX_ROOT_FILES, files


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_the_size_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it along a seam"
