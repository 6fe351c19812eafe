"""`mnemoscope validate` run once per session, in a fresh process, as a user runs it: the
demo audit, the negative control and both sides of every family control. Each audit's
result (results.json with run.json under "run") is kept beside the certificate, so that
other tests can check what the report, the CLI and the desktop print for these very
audits without running them again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# run_audit is wrapped in the child process only to keep a copy of each result: the
# validation itself runs unchanged.
_CHILD = """
import json, sys
from pathlib import Path
from audit_core.tools.validation import installation
installation.record_installation(Path({record!r}))
installation.RECORD_PATH = Path({record!r})
import audit_core.run.runner as runner
_run_audit, kept = runner.run_audit, Path({kept!r})
def keeping(plan, **options):
    result = _run_audit(plan, **options)
    number = len(list(kept.glob('*.json')))
    (kept / f'{{number:02d}}.json').write_text(json.dumps(result.report_dict()))
    return result
runner.run_audit = keeping
from audit_core.cli.main import main
code = main(['validate', '--out', {out!r}, '--json', '--quiet'])
loaded = sorted({{m.split('.')[0] for m in sys.modules}} & {{'torch', 'transformers'}})
print(json.dumps({{'code': code, 'loaded': loaded}}))
"""


@dataclass(frozen=True)
class ValidationRun:
    done: subprocess.CompletedProcess
    out: Path  # the certificates
    audits: tuple[dict, ...]  # each known-answer audit's results.json with run.json under "run"


@pytest.fixture(scope="session")
def validation_run(tmp_path_factory: pytest.TempPathFactory) -> ValidationRun:
    folder = tmp_path_factory.mktemp("validate")
    record, out, kept = folder / "installed_files.json", folder / "certificates", folder / "audits"
    kept.mkdir()
    code = _CHILD.format(record=str(record), out=str(out), kept=str(kept))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    audits = tuple(json.loads(path.read_text()) for path in sorted(kept.glob("*.json")))
    return ValidationRun(done, out, audits)
