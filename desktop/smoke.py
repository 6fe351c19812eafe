"""The frozen bundle's GUI smoke test: start, load the demo, prove the runtime works, quit.

`MNEMOSCOPE_SMOKE_TEST=<report.json> mnemoscope-desktop` (packaging/smoke_test.py runs it
on the offscreen platform after every bundle build) opens the bundled demo plan the way
the Start page's button does, then checks what a hospital's first launch would need:
the plan read by the core, the demo model loaded by onnxruntime with its tokenizer, the
version table of the About box complete (package metadata bundled), and the window
painted. It writes what it found to the report and exits 0 only when every check passed,
so a missing library or data file fails the build rather than a first launch.
"""

from __future__ import annotations

import json
import os
import threading
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

ENV_VAR = "MNEMOSCOPE_SMOKE_TEST"
WATCHDOG_SECONDS = 180  # a modal dialog would block the event loop: fail rather than hang
ESTIMATE_SECONDS = 90


def requested() -> Path | None:
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value) if value else None


def schedule(app: QApplication, window: Any, report: Path) -> None:
    """Run the checks once the event loop has started, then quit with their verdict."""
    watchdog = threading.Timer(WATCHDOG_SECONDS, _hung, args=(report,))
    watchdog.daemon = True
    watchdog.start()

    checks: list[dict[str, Any]] = []
    waited = [0]

    def finish() -> None:
        window.close()  # the window's own shutdown: background reads stopped and waited for
        passed = bool(checks) and all(check["passed"] for check in checks)
        _write(report, {"passed": passed, "checks": checks})
        watchdog.cancel()
        app.exit(0 if passed else 1)

    def await_estimate() -> None:
        # Opening the demo starts the run page's time estimate on a worker thread: it runs
        # the demo model on a sample, so its outcome proves the runtime end to end.
        text = window.run_page.estimate.text()
        if text.startswith("Estimated time") or waited[0] >= ESTIMATE_SECONDS * 5:
            checks.append({"check": "run-time estimate computed on the demo",
                           "passed": text.startswith("Estimated time"), "detail": text})
            finish()
            return
        waited[0] += 1
        QTimer.singleShot(200, await_estimate)

    def run() -> None:
        checks.extend(run_checks(window))
        if window.wizard is None:
            finish()
        else:
            await_estimate()

    QTimer.singleShot(0, run)


def run_checks(window: Any) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []

    def check(name: str, step) -> None:
        try:
            detail = step()
            checks.append({"check": name, "passed": True, "detail": str(detail)})
        except Exception as exc:  # noqa: BLE001 - every failure is a finding of the smoke test
            checks.append({"check": name, "passed": False,
                           "detail": f"{exc.__class__.__name__}: {exc}",
                           "traceback": traceback.format_exc(limit=6)})

    from desktop import main_window

    check("demo plan read by the core", lambda: _load_plan(main_window.DEMO_PLAN))
    check("demo opened in the window", lambda: _open_demo(window))
    check("demo model loaded by onnxruntime", lambda: _load_model(main_window.DEMO_PLAN))
    check("About box versions complete", _about_versions)
    check("window painted", lambda: _paint(window))
    return checks


def _load_plan(path: Path) -> str:
    from audit_core.plan.parsing import load_plan

    plan = load_plan(path)
    return f"{path.name}: {len(plan.probes or ())} probes"


def _open_demo(window: Any) -> str:
    window.open_demo()
    if window.wizard is None:
        raise RuntimeError("the demo did not open (no wizard after open_demo)")
    plan = window.current_plan()  # the pages' plan, checked again by the core
    return f"wizard open, {len(plan.probes or ())} probes on the pages"


def _load_model(plan_path: Path) -> str:
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM

    model = OnnxCausalLM(inspect_model(plan_path.parent / "model"))
    return f"vocabulary {model.vocab_size}, tokenizer matches: {model.info.tokenizer_matches}, {model.provider}"


def _about_versions() -> str:
    from desktop.about import about_text, versions

    about_text()  # renders the whole box text, latest validation line included
    missing = [name for name, value in versions() if value in ("not installed", "")]
    if missing:
        raise RuntimeError(f"no version for {', '.join(missing)} (package metadata not bundled?)")
    return "; ".join(f"{name} {value}" for name, value in versions())


def _paint(window: Any) -> str:
    image = window.grab()
    if image.isNull() or image.width() < 100:
        raise RuntimeError("the window could not be painted")
    return f"{image.width()}x{image.height()}"


def _write(report: Path, document: dict[str, Any]) -> None:
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def _hung(report: Path) -> None:
    _write(report, {"passed": False, "checks": [{"check": "finished in time", "passed": False,
                                                 "detail": f"no result after {WATCHDOG_SECONDS} s "
                                                           "(a dialog waiting for input?)"}]})
    os._exit(4)
