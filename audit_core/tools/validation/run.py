"""`mnemoscope validate`: prove the tool works on this machine, and write the certificate.

Installation checks first (files against the install-time record, dependencies, the
execution provider), then the known-answer audits (`known_answers`: the demo and the
negative control; `family_answers`: each probe family's control), then the JSON and
PDF certificate (`certificate`). Needs no torch: the controls are committed ONNX models.
A check that cannot run (a missing control, a crash) counts as failed, never skipped.
"""

from __future__ import annotations

import platform
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit_core.tools.validation import installation, known_answers
from audit_core.tools.validation.certificate import CERTIFICATE_SCHEMA, validation_dir, write_certificate
from audit_core.tools.validation.family_answers import FAMILY_CONTROLS
from audit_core.version import TOOL_NAME, __version__
from audit_core.work.progress import Cancelled, CancelToken, ProgressCallback, ignore_progress


@dataclass(frozen=True)
class ValidationResult:
    certificate: dict[str, Any]
    json_path: Path
    pdf_path: Path
    certificate_sha256: str

    @property
    def passed(self) -> bool:
        return self.certificate["outcome"] == "passed"


def _audit_with(on_progress: ProgressCallback, cancel: CancelToken, start: float, end: float,
                label: str, providers: list[str | None], runs: int = 1):
    """An `Audit` for known_answers: run_audit on a plan, reporting into [start, end].

    `runs`: how many audits the check group makes; each gets its share of the range, so
    that progress never goes back."""
    done = [0]

    def audit(plan_path: Path) -> dict[str, Any]:
        from audit_core.plan.parsing import load_plan
        from audit_core.run.runner import run_audit

        step = (end - start) / runs
        low = start + step * min(done[0], runs - 1)
        done[0] += 1
        result = run_audit(load_plan(plan_path), cancel=cancel,
                           on_progress=lambda f, m: on_progress(low + step * f, f"{label}: {m}"))
        if result.cancelled:
            raise Cancelled()
        document = result.as_dict()
        providers.append(document["model"].get("execution_provider"))
        return document

    return audit


def _guarded(group: str, title: str, make_checks) -> list[dict[str, Any]]:
    """Run a group of checks; a crash or bad input becomes one failed check, not a traceback."""
    try:
        return make_checks()
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - the certificate must say what broke
        from audit_core.errors import MnemoscopeError

        detail = str(exc) if isinstance(exc, MnemoscopeError) else exc.__class__.__name__
        if isinstance(exc, OSError) and exc.filename:  # a control file missing or unreadable
            detail = f"{exc.strerror or detail}: {exc.filename}"
        return [{"id": f"{group}.ran", "title": title, "expected": "the audit runs",
                 "observed": f"it could not run: {detail}", "passed": False}]


def run_validation(out_dir: Path | None = None, *, on_progress: ProgressCallback = ignore_progress,
                   cancel: CancelToken | None = None,
                   record_path: Path | None = None) -> ValidationResult:
    """Run every check and write the certificate into `out_dir` (default: the per-user folder).

    `record_path`: the installation record to check the files against (default: the one
    written at installation, `installation.RECORD_PATH`).
    """
    record_path = installation.RECORD_PATH if record_path is None else record_path

    cancel = cancel or CancelToken()
    started = datetime.now(UTC)
    clock = time.perf_counter()
    resources = installation.resources_dir()
    checks: list[dict[str, Any]] = []

    on_progress(0.0, "checking the installed files")
    record = installation.read_record(record_path)
    files = installation.check_files(record, record_path=record_path)
    checks.append({"id": "installation.files", "title": "Tool files match the installation record",
                   **{k: files[k] for k in ("expected", "observed", "passed")}})
    dependencies = installation.check_dependencies(record)
    checks.append({"id": "installation.dependencies", "title": "Dependencies",
                   **{k: dependencies[k] for k in ("expected", "observed", "passed")}})

    providers: list[str | None] = []
    demo, negative = resources / "demo", resources / "controls" / "negative"
    on_progress(0.05, "known answers: demo model")
    checks.append(known_answers.control_files(demo, "demo", "Demo"))
    checks += _guarded("demo", "Demo audit", lambda: known_answers.demo_checks(
        demo, _audit_with(on_progress, cancel, 0.05, 0.65, "demo", providers)))
    checks.append(known_answers.control_files(negative, "negative", "Negative control"))
    checks += _guarded("negative", "Negative-control audit", lambda: known_answers.negative_checks(
        negative, _audit_with(on_progress, cancel, 0.65, 0.71, "negative control", providers)))
    checks += _family_checks(resources, on_progress, cancel, providers)
    provider = installation.check_execution_provider(providers[0] if providers else None)
    checks.insert(2, {"id": "installation.execution_provider", "title": "Execution provider",
                      **{k: provider[k] for k in ("expected", "observed", "passed")}})

    on_progress(0.97, "writing the certificate")
    passed = sum(c["passed"] for c in checks)
    certificate = {
        "schema": CERTIFICATE_SCHEMA,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(time.perf_counter() - clock, 2),
        "outcome": "passed" if passed == len(checks) else "failed",
        "passed_checks": passed,
        "machine": {"hostname": platform.node(), "platform": platform.platform(),
                    "machine": platform.machine(), "processor_count": _cpu_count(),
                    "python": sys.version.split()[0]},
        "versions": {"mnemoscope": __version__,
                     **{row["package"]: row["installed"]
                        for row in dependencies["details"]["packages"]}},
        "installation": {"record": record_path.name,
                         "recorded_utc": (record or {}).get("recorded_utc"),
                         "files_checked": len((record or {}).get("files", {})),
                         "files_changed": files["details"].get("changed", []),
                         "files_missing": files["details"].get("missing", []),
                         "files_added": files["details"].get("added", [])},
        "resources": str(resources),
        "checks": checks,
    }
    json_path, pdf_path, digest = write_certificate(
        certificate, validation_dir() if out_dir is None else Path(out_dir))
    on_progress(1.0, "done")
    return ValidationResult(certificate, json_path, pdf_path, digest)


def _family_checks(resources: Path, on_progress: ProgressCallback, cancel: CancelToken,
                   providers: list[str | None]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    start = 0.71
    for control in FAMILY_CONTROLS:
        folder, name = resources / control.where, control.title.lower()
        on_progress(start, f"known answers: {name}")
        if control.manifest:
            checks.append(known_answers.control_files(folder, control.label, control.title))
        audit = _audit_with(on_progress, cancel, start, control.progress_end, name, providers,
                            runs=2)
        checks += _guarded(control.label, f"{control.title} audits",
                           lambda control=control, folder=folder, audit=audit:
                           control.checks(folder, audit))
        start = control.progress_end
    return checks


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1
