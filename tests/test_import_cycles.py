"""No import cycles at all between the modules of audit_core and desktop.

import-linter's acyclic_siblings contract (pyproject.toml, `make test`) forbids cycles
between the sibling modules of each package; a cycle that passes through a package's
__init__ (audit_core/__init__.py's lazy `run_audit` reaches the runner; a module that
imported the package root for its version closed a cycle that way) is not between
siblings. This test looks at the whole module graph, lazy imports inside functions
included, and ignores only the imports that contract lists as pending.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pending_imports() -> set[tuple[str, str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "no-import-cycles")
    pairs = (line.split("->") for line in contract.get("ignore_imports", []))
    return {(importer.strip(), imported.strip()) for importer, imported in pairs}


def import_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected sets of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    cycles.append(sorted(members))
    return cycles


def test_cycle_finder_finds_a_cycle_through_a_package_root() -> None:
    edges = {"pkg": {"pkg.run"}, "pkg.run": {"pkg.result"}, "pkg.result": {"pkg"}, "pkg.leaf": set()}
    assert import_cycles(edges) == [["pkg", "pkg.result", "pkg.run"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back() -> None:
    try:
        import grimp
    except ImportError:  # the dev extra installs it (with import-linter)
        raise AssertionError("grimp is not installed: install the dev extra (pip install -e '.[dev]')") from None
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph("audit_core", "desktop", cache_dir=None)
    pending = _pending_imports()
    edges = {module: {imported for imported in graph.find_modules_directly_imported_by(module)
                      if (module, imported) not in pending}
             for module in graph.modules}
    assert import_cycles(edges) == []
