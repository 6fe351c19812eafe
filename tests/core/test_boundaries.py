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


def test_the_report_is_built_from_results_only() -> None:
    """DESIGN.md: the report is a function of the result, never of models, data or probes."""
    forbidden = ("audit_core.models", "audit_core.data", "audit_core.probes", "audit_core.run.runner",
                 "audit_core.scoring", "onnxruntime", "pandas", "torch", "PySide6")
    for module, names in _imports(ROOT / "audit_core" / "report").items():
        bad = sorted(n for n in names if n.startswith(forbidden))
        assert not bad, f"{module} imports {bad}"


def test_the_core_never_imports_qt_or_the_desktop_app() -> None:
    for module, names in _imports(ROOT / "audit_core").items():
        bad = sorted(n for n in names if n.startswith(("PySide6", "desktop")))
        assert not bad, f"{module} imports {bad}"
