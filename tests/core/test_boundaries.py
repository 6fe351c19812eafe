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
        "from audit_core.cli import main\n"
        f"code = main(['run', {str(small_plan)!r}, '--out', {str(tmp_path / 'out')!r}, '--quiet'])\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'transformers', 'PySide6'})\n"
        "print(json.dumps({'code': code, 'loaded': loaded}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": []}
