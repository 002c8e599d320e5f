"""The packages import downward only, and no two modules import each other.

app (cdk.json) -> stacks -> constructs -> tunestack_runtime (the contract and the functions' code);
the command line and the simulator are their own subpackages that read a cloud assembly and run
the runtime, never the app, the stacks or the constructs. Every import counts, including those
inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: What each layer may import besides itself, by module prefix.
ALLOWED = {
    "tunestack_runtime": (),
    "tunestack.constructs": ("tunestack_runtime",),
    "tunestack.stacks": ("tunestack.constructs", "tunestack_runtime"),
    "tunestack.app": ("tunestack.stacks", "tunestack.constructs", "tunestack_runtime"),
    "tunestack.simulator": ("tunestack_runtime",),
    "tunestack.cli": ("tunestack.simulator", "tunestack_runtime"),
}


def _modules() -> dict[str, Path]:
    modules = {}
    for package in ("tunestack", "tunestack_runtime"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules ``path`` imports (``from a import b`` counts as ``a.b`` where that is a
    module); imports only a type checker reads (under ``if TYPE_CHECKING:``) run nothing."""
    found = set()
    tree = ast.parse(path.read_text())
    typing_only = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for child in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from package import module`` imports the module; ``from module import name`` the module.
            names = [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


MODULES = _modules()
GRAPH = {module: _imports(path, MODULES) - {module} for module, path in MODULES.items()}


def _layer(module: str) -> str | None:
    return next((layer for layer in ALLOWED if module == layer or module.startswith(f"{layer}.")), None)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_what_lies_below_it(layer: str) -> None:
    upward = []
    for module, imported in sorted(GRAPH.items()):
        if _layer(module) != layer:
            continue
        for name in sorted(imported):
            below = _layer(name)
            if below not in (layer, *ALLOWED[layer]) and name != "tunestack":
                upward.append(f"{module} imports {name}")
    assert upward == []


def test_no_modules_import_each_other() -> None:
    """Strongly connected components of the import graph (Tarjan's algorithm): each must be one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for name in GRAPH[module]:
            if name not in index:
                visit(name)
                low[module] = min(low[module], low[name])
            elif name in stack:
                low[module] = min(low[module], index[name])
        if low[module] == index[module]:
            component = []
            while True:
                name = stack.pop()
                component.append(name)
                if name == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert cycles == []


def test_the_package_root_loads_no_cdk() -> None:
    """``import tunestack`` (and so the command line) starts without the CDK library; the
    constructs load when ``TeamPlatform`` is first asked for."""
    assert not {name for name in GRAPH["tunestack"] if name.startswith("tunestack.")}


def test_the_function_code_needs_nothing_but_itself() -> None:
    """The Lambda asset holds tunestack_runtime alone, so nothing in it may import tunestack."""
    assert not [
        m
        for m, imported in GRAPH.items()
        if m.startswith("tunestack_runtime") and "tunestack" in {i.split(".")[0] for i in imported}
    ]
