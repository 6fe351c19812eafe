"""Results ▸ Sign report… (issue 14, defect 8): the approval step in the app, calling the
same core function as `mnemoscope sign`, off the GUI thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from audit_core.plan.parsing import load_plan
from audit_core.report.pdf.verification import verify_report
from audit_core.results.outputs import write_outputs
from audit_core.run.runner import run_audit
from audit_core.work.progress import CancelToken
from desktop.audit_controller import FinishedAudit
from tests.core.report_samples import make_pkcs12

pytest.importorskip("pyhanko")


def show(window, result, folder: Path) -> FinishedAudit:
    files = write_outputs(result, folder)
    finished = FinishedAudit(result=result, folder=folder, files={**files, "plan": folder / "plan.toml"})
    window.results_page.show_result(finished)
    window.screens.setCurrentWidget(window.results_page)
    return finished


def test_sign_report_records_who_approved_what(qtbot, window, dialogs, small_plan: Path, tmp_path: Path) -> None:
    finished = show(window, run_audit(load_plan(small_plan)), tmp_path / "audit")
    certificate = tmp_path / "dpo.p12"
    make_pkcs12(certificate, b"pw")
    page = window.results_page
    assert page.sign_button.isEnabled()
    assert finished.report_id in page.banner_text.text()

    qtbot.mouseClick(page.sign_button, Qt.MouseButton.LeftButton)
    dialog = window.sign_dialog
    assert dialog is not None and dialog.isVisible() and not dialog.sign_button.isEnabled()
    dialog.certificate.setText(str(certificate))
    dialog.password.setText("pw")
    dialog.approver.setText("Jane Roe, Data Protection Officer")
    dialog.decision.setCurrentIndex(dialog.decision.findData("approved-with-conditions"))
    assert not dialog.sign_button.isEnabled()  # the conditions are still missing
    dialog.conditions.setText("Internal research use only")
    assert dialog.sign_button.isEnabled()
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: "signed by Jane Roe" in page.saved_note.text(), timeout=60_000)
    assert page.sign_button.isEnabled() and not dialogs.shown
    outcome = verify_report(finished.files["report"])
    assert outcome.ok, outcome.lines
    assert [(a.approver, a.decision.value, a.conditions) for a in outcome.approvals] == [
        ("Jane Roe, Data Protection Officer", "approved-with-conditions", "Internal research use only")]


def test_a_wrong_password_is_explained_and_the_report_left_alone(qtbot, window, dialogs, small_plan: Path,
                                                                tmp_path: Path) -> None:
    finished = show(window, run_audit(load_plan(small_plan)), tmp_path / "audit")
    before = finished.files["report"].read_bytes()
    certificate = tmp_path / "dpo.p12"
    make_pkcs12(certificate, b"right")

    window.results_page.sign_button.click()
    dialog = window.sign_dialog
    dialog.certificate.setText(str(certificate))
    dialog.password.setText("wrong")
    dialog.approver.setText("Jane Roe, DPO")
    dialog.sign_button.click()

    qtbot.waitUntil(lambda: bool(dialogs.shown), timeout=60_000)
    assert "cannot open the certificate" in dialogs.texts()[0]
    assert finished.files["report"].read_bytes() == before


def test_an_incomplete_audit_cannot_be_signed_off(qtbot, window, small_plan: Path, tmp_path: Path) -> None:
    cancel = CancelToken()
    partial = run_audit(load_plan(small_plan), cancel=cancel,
                        on_progress=lambda f, m: cancel.cancel() if m.startswith("zlib") else None)
    show(window, partial, tmp_path / "audit")
    assert not window.results_page.sign_button.isEnabled()
