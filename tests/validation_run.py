"""`mnemoscope validate` run once per session, in a fresh process, as a user runs it: the
demo audit, the negative control and both sides of every family control. Each audit's
result (results.json with run.json under "run") is kept beside the certificate, with the
plan file it came from, so that other tests can check what the report, the CLI and the
desktop print for these very audits, or replay them, without running them again.

The demo's audit is the one `demo_outputs` already ran (`python -m audit_core run
resources/demo/plan.toml`, the same plan and seed): results.json is byte for byte the same
for the same plan, inputs, seed and tool version (AuditResult.as_dict), so validate is fed
that result instead of auditing the demo a second time in the session. Every other audit
runs; the checks, the certificate and the "no torch" assertion are validate's own.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO_PLAN = ROOT / "resources" / "demo" / "plan.toml"

# run_audit is wrapped in the child process only to keep a copy of each result (and to
# hand back the session's demo result for the demo plan): the validation runs unchanged.
_CHILD = """
import json, sys
from pathlib import Path
from audit_core.tools.validation import installation
installation.record_installation(Path({record!r}))
installation.RECORD_PATH = Path({record!r})
import audit_core.run.runner as runner
from tests.validation_run import RecordedAudit
_run_audit, kept = runner.run_audit, Path({kept!r})
demo_plan, demo_outputs = Path({demo_plan!r}).resolve(), Path({demo_outputs!r})
def keeping(plan, **options):
    if plan.source is not None and Path(plan.source).resolve() == demo_plan:
        result = RecordedAudit.from_folder(demo_outputs)
    else:
        result = _run_audit(plan, **options)
    number = len(list(kept.glob('*.json')))
    (kept / f'{{number:02d}}.json').write_text(json.dumps(result.report_dict()))
    (kept / f'{{number:02d}}.plan').write_text(str(Path(plan.source).resolve()) if plan.source else '')
    return result
runner.run_audit = keeping
from audit_core.cli.main import main
code = main(['validate', '--out', {out!r}, '--json', '--quiet'])
loaded = sorted({{m.split('.')[0] for m in sys.modules}} & {{'torch', 'transformers'}})
print(json.dumps({{'code': code, 'loaded': loaded}}))
"""


@dataclass(frozen=True)
class RecordedAudit:
    """A finished audit read back from its files: what `validate` uses of an AuditResult."""

    report: dict[str, Any]  # results.json with run.json under "run"

    @classmethod
    def from_folder(cls, folder: Path) -> RecordedAudit:
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        return cls({**results, "run": run})

    @property
    def cancelled(self) -> bool:
        return self.report["audit"].get("outcome") == "cancelled"

    def as_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps({k: v for k, v in self.report.items() if k != "run"}))

    def report_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.report))


@dataclass(frozen=True)
class ValidationRun:
    done: subprocess.CompletedProcess
    out: Path  # the certificates
    audits: tuple[dict, ...]  # each known-answer audit's results.json with run.json under "run"
    plans: tuple[Path, ...]  # the plan file of each audit, in the same order

    def audit(self, plan: Path) -> dict:
        """The result of the audit of `plan` (a copy: the session's run stays read-only)."""
        where = Path(plan).resolve()
        assert where in self.plans, f"validate did not audit {where}: {self.done.stderr[-2000:]}"
        return copy.deepcopy(self.audits[self.plans.index(where)])

    def replay(self, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
        """Make `run_audit` hand back this run's result for each plan it audited (a copy:
        the session's run stays read-only). Returns the plans replayed, in order."""
        import audit_core.run.runner as runner

        by_plan = dict(zip(self.plans, self.audits))
        replayed: list[Path] = []

        def recorded(plan, *, on_progress=None, cancel=None, checkpoint=None):
            source = Path(plan.source).resolve()
            if on_progress is not None:
                on_progress(1.0, "recorded")
            replayed.append(source)
            return RecordedAudit(by_plan[source])

        monkeypatch.setattr(runner, "run_audit", recorded)
        return replayed


def run_validation_once(folder: Path, demo_outputs: Path) -> ValidationRun:
    record, out, kept = folder / "installed_files.json", folder / "certificates", folder / "audits"
    kept.mkdir()
    code = _CHILD.format(record=str(record), out=str(out), kept=str(kept), demo_plan=str(DEMO_PLAN),
                         demo_outputs=str(demo_outputs))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    audits = tuple(json.loads(path.read_text()) for path in sorted(kept.glob("*.json")))
    plans = tuple(Path(path.read_text()) for path in sorted(kept.glob("*.plan")))
    return ValidationRun(done, out, audits, plans)
