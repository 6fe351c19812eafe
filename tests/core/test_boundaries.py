"""Architecture rules a grep cannot prove: the audit path needs neither torch nor Qt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_audit_core_is_light() -> None:
    code = "import sys, audit_core; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('onnxruntime', 'pandas', 'reportlab', 'torch', 'PySide6')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_full_audit_loads_no_torch_transformers_or_qt(tmp_path: Path, small_plan: Path) -> None:
    code = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from audit_core.cli.main import main\n"
        f"code = main(['run', {str(small_plan)!r}, '--out', {str(tmp_path / 'out')!r}, '--quiet'])\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'transformers', 'PySide6'})\n"
        "print(json.dumps({'code': code, 'loaded': loaded}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": []}


def _imports(package: Path) -> dict[str, set[str]]:
    """Absolute names each file imports, anywhere in it (function-level imports too)."""
    import ast

    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def _module_graph() -> dict[str, set[str]]:
    """audit_core's modules -> the audit_core modules each imports (relative imports resolved,
    `from pkg import module` counted as the module), with every package whose __init__ runs
    on the way. Function-level imports count, except in a package's __init__: those are its
    lazy entry points (audit_core.run_audit, report.write_report), loaded only when called,
    not when a module of the package is imported."""
    import ast

    def nodes(tree: ast.AST, lazy_too: bool):
        for node in ast.iter_child_nodes(tree):
            if lazy_too or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield node
                yield from nodes(node, lazy_too)

    files = {}
    for path in (ROOT / "audit_core").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def known(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in nodes(ast.parse(path.read_text(encoding="utf-8")), path.name != "__init__.py"):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets.add(base)
                targets.update(f"{base}.{alias.name}" for alias in node.names)
        edges = set()
        for target in targets:
            name = known(target)
            while name:  # importing a.b.c runs a.b's __init__ too
                edges.add(name)
                name = known(name.rpartition(".")[0])
        graph[module] = edges - {module}
    return graph


def _reached(graph: dict[str, set[str]], prefix: str, forbidden: tuple[str, ...]) -> list[str]:
    """The import chains by which modules under `prefix` reach a `forbidden` module."""
    came_from: dict[str, str | None] = {m: None for m in graph if m.startswith(prefix)}
    queue = list(came_from)
    while queue:
        module = queue.pop()
        for target in sorted(graph[module]):
            if target not in came_from:
                came_from[target] = module
                queue.append(target)
    chains = []
    for module in sorted(m for m in came_from if any(m == f or m.startswith(f + ".") for f in forbidden)):
        chain = [module]
        while came_from[chain[-1]] is not None:
            chain.append(came_from[chain[-1]])  # type: ignore[arg-type]
        chains.append(" <- ".join(chain))
    return chains


def test_the_report_is_built_from_results_only() -> None:
    """DESIGN.md: the report is a function of the result, never of models, data or probes;
    checked through the whole import chain (it once reached the runner through
    verification -> results.outputs -> output_folder -> run.checkpoints)."""
    forbidden = ("onnxruntime", "pandas", "torch", "PySide6")
    for module, names in _imports(ROOT / "audit_core" / "report").items():
        bad = sorted(n for n in names if n.startswith(forbidden))
        assert not bad, f"{module} imports {bad}"
    stages = tuple(f"audit_core.{name}" for name in (
        "run", "kinds", "passes", "data", "models", "probes", "plan", "tools", "cli"))
    # The family registry the report words its findings from declares its thresholds with
    # plan.params (label, help, range: no parsing, no files); that module is allowed.
    declarations = ("audit_core.plan <-", "audit_core.plan.params <-")
    chains = _reached(_module_graph(), "audit_core.report", stages)
    assert [c for c in chains if not c.startswith(declarations)] == []


def test_units_of_work_reach_nothing_of_the_pipeline() -> None:
    """audit_core.work (progress, cancel, the checkpoint, resumable) is what every layer
    uses, the models and the passes included: were it to reach the run, the results or a
    model kind (as run/checkpoints.py did, through the output folder's and the probe
    result's modules), every layer would sit in one cycle again."""
    # The package itself (its __init__ loads the runner lazily) and what it imports eagerly.
    allowed = {"audit_core", "audit_core.version", "audit_core.errors"}
    reached = _reached(_module_graph(), "audit_core.work", ("audit_core",))
    assert [c for c in reached if c.split(" <- ")[0] not in allowed
            and not c.startswith("audit_core.work")] == []


def test_the_report_content_never_reaches_the_pdf_writer() -> None:
    """report/sections is plain data from the result: the app draws from it without
    reportlab, and the content is tested without drawing."""
    graph = _module_graph()
    assert _reached(graph, "audit_core.report.sections", ("audit_core.report.pdf",)) == []
    for module, names in _imports(ROOT / "audit_core" / "report" / "sections").items():
        bad = sorted(n for n in names if n.split(".")[0] in ("reportlab", "pikepdf", "pyhanko"))
        assert not bad, f"{module} imports {bad}"


def test_reportlab_and_pikepdf_are_imported_only_under_report_pdf() -> None:
    pdf_writer = str(Path("audit_core", "report", "pdf")) + os.sep
    for package in ("audit_core", "desktop"):
        for module, names in _imports(ROOT / package).items():
            bad = sorted(n for n in names if n.split(".")[0] in ("reportlab", "pikepdf", "pyhanko"))
            assert not bad or module.startswith(pdf_writer), f"{module} imports {bad}"


def test_the_core_never_imports_qt_or_the_desktop_app() -> None:
    for module, names in _imports(ROOT / "audit_core").items():
        bad = sorted(n for n in names if n.startswith(("PySide6", "desktop")))
        assert not bad, f"{module} imports {bad}"
