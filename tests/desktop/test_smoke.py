"""The frozen bundle's GUI smoke test (desktop/smoke.py): it passes on the demo and fails,
with exit code 1, when the demo cannot be loaded (as in a bundle missing its resources)."""

from __future__ import annotations

import json
from pathlib import Path

from desktop import main_window, smoke


def test_checks_pass_on_the_demo(window) -> None:
    checks = smoke.run_checks(window)
    assert [c["check"] for c in checks if not c["passed"]] == []
    names = {c["check"] for c in checks}
    assert {"demo plan read by the core", "demo model loaded by onnxruntime", "window painted"} <= names
    about = next(c for c in checks if c["check"] == "About box versions complete")
    assert "Build (git commit)" in about["detail"] and "onnxruntime" in about["detail"]


def test_missing_demo_fails_with_exit_code_1(qtbot, window, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(main_window, "DEMO_PLAN", tmp_path / "missing" / "plan.toml")
    exits: list[int] = []

    class App:  # stands in for QApplication.exit, which would end the test's event loop
        def exit(self, code: int) -> None:
            exits.append(code)

    report = tmp_path / "smoke.json"
    smoke.schedule(App(), window, report)
    qtbot.waitUntil(lambda: bool(exits), timeout=30_000)
    assert exits == [1]
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["passed"] is False
    failed = {c["check"] for c in document["checks"] if not c["passed"]}
    assert {"demo plan read by the core", "demo opened in the window"} <= failed


def test_requested_reads_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv(smoke.ENV_VAR, raising=False)
    assert smoke.requested() is None
    monkeypatch.setenv(smoke.ENV_VAR, str(tmp_path / "r.json"))
    assert smoke.requested() == tmp_path / "r.json"
