"""No import cycles among the project's packages: every import of a project module counts, at module level or
inside a function (moving an import into a function hides a cycle, it does not remove it)."""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("apps", "ml")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _targets(module: str, path: Path, node: ast.AST, modules: dict) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if node.level:
        parts = base.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1])
        target = f"{base}.{node.module}" if node.module else base
    else:
        target = node.module or ""
    return [f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target for alias in node.names]


def import_graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(module, path, node, modules):
                while target and target not in modules and "." in target:
                    target = target.rpartition(".")[0]
                if target in modules and target != module:
                    graph.add_edge(module, target)
    return graph


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    # apps.analyses.apps imports the registry inside ``ready``; the registry imports every kind.
    assert graph.has_edge("apps.analyses.apps", "apps.analyses.registry")
    assert graph.has_edge("apps.analyses.registry", "apps.analyses.kinds.coordination")
    assert graph.number_of_nodes() > 100


def test_there_is_no_import_cycle():
    cycles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert cycles == [], "import cycles: " + " | ".join(", ".join(c) for c in cycles)
