"""The import layers the code keeps: no new import cycle between atwu's packages, and no
Streamlit inside atwu/ (drawing lives in app.py and pages/).

A *package* here is the name after ``atwu.``: a subpackage (``atwu.runs``) or a top-level module
(``atwu.io``, ``atwu.benchmark``). Every import statement counts, those inside functions too: a
lazy import is still a dependency, it only moves the moment it is paid.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

ATWU = Path(__file__).resolve().parents[1] / "atwu"

KNOWN_CYCLES: dict[frozenset[str], str] = {
    # Each entry is a loop that exists today and is to be removed (issue 28); then delete it here.
    # Imports may still change inside a listed loop; a loop among other packages, or one that
    # pulls in another package, fails test_no_new_package_cycle.
    frozenset({"benchmark", "data", "evaluate", "interop"}): (
        "data/tofu.py and data/rwku.py write benchmark directories through benchmark.py, and "
        "data/tofu.py installs retain references with interop/open_unlearning.py"
    ),
    frozenset({"analysis", "viz"}): (
        "analysis/report_figures.py takes its colours from viz/frontier_figures.py; "
        "viz/tradeoff_figures.py takes pareto_front from analysis/tradeoff.py"
    ),
}

Graph = Mapping[str, Mapping[str, list[str]]]
"""importing package -> imported package -> the files (relative to atwu/) that import it"""


def module_name(path: Path) -> str:
    parts = path.relative_to(ATWU.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(tree: ast.Module, module: str, is_package: bool) -> Iterable[str]:
    """Absolute names of everything ``module`` imports (relative imports resolved)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: None if is_package else -1]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield name
            # `from atwu import io` names the module io, not the package atwu
            yield from (f"{name}.{alias.name}" for alias in node.names)


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "atwu" else None


@functools.cache
def imports_by_module() -> dict[Path, frozenset[str]]:
    """Every module file under atwu/ and the absolute names it imports (parsed once)."""
    found = {}
    for path in sorted(ATWU.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found[path] = frozenset(
            imported_modules(tree, module_name(path), path.name == "__init__.py")
        )
    return found


def package_graph() -> Graph:
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path, names in imports_by_module().items():
        source = package_of(module_name(path))
        if source is None:  # atwu/__init__.py
            continue
        for name in sorted(names):
            target = package_of(name)
            if target is not None and target != source and target_exists(target):
                files = graph[source][target]
                rel = str(path.relative_to(ATWU))
                if rel not in files:
                    files.append(rel)
    return graph


def target_exists(package: str) -> bool:
    # `from atwu import errors` yields atwu.errors (a module); a name that is no module of atwu
    # (e.g. `from atwu import __version__`) is no dependency on a package
    return (ATWU / package).is_dir() or (ATWU / f"{package}.py").is_file()


def cycles(graph: Mapping[str, Iterable[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one package (Tarjan): each is a set of
    packages that reach one another through imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    nodes = set(graph) | {n for targets in graph.values() for n in targets}
    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def describe(loop: frozenset[str], graph: Graph) -> str:
    lines = [f"import cycle among atwu.{{{', '.join(sorted(loop))}}}:"]
    for source in sorted(loop):
        for target, files in sorted(graph.get(source, {}).items()):
            if target in loop:
                lines.append(f"  {source} -> {target}: {', '.join(files)}")
    return "\n".join(lines)


def test_the_cycle_finder_finds_loops_and_nothing_else():
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": ["e"], "e": [], "f": ["f"]}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]
    assert cycles({"a": ["b"], "b": []}) == []


def test_imports_are_found_absolute_relative_and_inside_functions():
    source = "import atwu.io\nfrom . import read\nfrom ..data import format\n"
    source += "def f():\n    from atwu.viz import tokens\n"
    names = set(imported_modules(ast.parse(source), "atwu.runs.write", is_package=False))
    assert {"atwu.io", "atwu.runs.read", "atwu.data.format", "atwu.viz.tokens"} <= names
    names = set(imported_modules(ast.parse("from . import read"), "atwu.runs", is_package=True))
    assert "atwu.runs.read" in names


def test_no_new_package_cycle():
    graph = package_graph()
    new = [loop for loop in cycles(graph) if not any(loop <= known for known in KNOWN_CYCLES)]
    assert not new, (
        "a new import cycle between atwu's packages; import the lower layer from the higher "
        "one only (docs/ARCHITECTURE.md):\n" + "\n".join(describe(loop, graph) for loop in new)
    )


def test_each_known_cycle_is_still_there():
    # a loop that was removed (or shrank) must leave KNOWN_CYCLES, so that it cannot come back
    today = set(cycles(package_graph()))
    gone = [sorted(known) for known in KNOWN_CYCLES if known not in today]
    assert not gone, f"these cycles changed or are gone; update KNOWN_CYCLES: {gone}"


def test_no_module_under_atwu_imports_streamlit():
    offenders = [
        str(path.relative_to(ATWU.parent))
        for path, names in imports_by_module().items()
        if any(name.split(".")[0] == "streamlit" for name in names)
    ]
    assert not offenders, f"atwu/ must stay free of Streamlit (draw in pages/): {offenders}"
