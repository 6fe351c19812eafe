"""Help ▸ Validate this installation…: `run_validation` with progress and Cancel, then the
outcome, the failed checks and the certificate (PDF and its folder).

The certificate goes where `mnemoscope validate` writes it (`validation_dir()`, which
honours MNEMOSCOPE_VALIDATION_DIR); Cancel stops at the next batch and writes nothing
(the certificate is written only once every check has run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.open_files import open_path
from desktop.task_dialog import TaskDialog


def validation_work(out_dir: Path | None = None):
    def work(report, cancel):
        from audit_core.run.estimate import describe_duration
        from audit_core.tools.validation import run_validation
        from audit_core.tools.validation.estimate import estimate_validation

        # The time from an estimate of its audits (a few seconds), not a constant: it
        # said "about a minute" and took two (issue 16).
        report(0.0, "estimating how long the validation takes")
        seconds = estimate_validation(cancel=cancel)
        report(0.0, f"estimated time: about {describe_duration(seconds)} on this computer.")
        return run_validation(out_dir, on_progress=report, cancel=cancel)

    return work


def start_validation(parent: QWidget | None, out_dir: Path | None = None) -> TaskDialog:
    """Open the progress dialog and start the run; the caller connects the outcome."""
    dialog = TaskDialog(parent, "Validate this installation",
                        "Checking this installation: the tool's files and dependencies, then "
                        "known-answer audits of two control models (a model that memorized "
                        "planted records, and one that never saw its members).",
                        validation_work(out_dir), "validation",
                        cancel_note="Cancel stops at the next batch; no certificate is written.")
    dialog.start()
    return dialog


def describe(certificate: dict[str, Any]) -> tuple[str, str]:
    """(headline, one line of figures) for a certificate."""
    checks = certificate.get("checks", [])
    passed = certificate.get("outcome") == "passed"
    headline = ("Validation passed: Mnemoscope works as expected on this machine." if passed else
                "Validation FAILED: do not rely on audits from this installation until the "
                "failed checks below are resolved.")
    date = str(certificate.get("date", "")).replace("T", " ").replace("Z", " UTC")
    figures = (f"{certificate.get('passed_checks', 0)} of {len(checks)} checks passed in "
               f"{float(certificate.get('seconds', 0)):.1f} s, on {date}.")
    return headline, figures


class ValidationResultDialog(QDialog):
    def __init__(self, parent: QWidget | None, certificate: dict[str, Any], json_path: Path,
                 pdf_path: Path, certificate_sha256: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("validationResult")
        self.setWindowTitle("Validation result")
        self.setMinimumWidth(560)
        self.pdf_path, self.json_path = Path(pdf_path), Path(json_path)
        self.passed = certificate.get("outcome") == "passed"
        layout = QVBoxLayout(self)
        headline, figures = describe(certificate)
        self.outcome = QLabel(f"<b>{headline}</b>")
        self.outcome.setWordWrap(True)
        self.outcome.setProperty("state", "ok" if self.passed else "error")
        layout.addWidget(self.outcome)
        self.figures = QLabel(figures)
        layout.addWidget(self.figures)
        failed = [c for c in certificate.get("checks", []) if not c.get("passed")]
        self.failed_checks = QListWidget()
        self.failed_checks.setObjectName("failedChecks")
        for check in failed:
            self.failed_checks.addItem(f"{check.get('title', check.get('id'))}: expected "
                                       f"{check.get('expected')}; observed {check.get('observed')}")
        if failed:
            layout.addWidget(QLabel("Failed checks:"))
            self.failed_checks.setWordWrap(True)
            layout.addWidget(self.failed_checks)
        else:
            self.failed_checks.hide()
        digest = f"<br>SHA-256 {certificate_sha256[:16]}…" if certificate_sha256 else ""
        where = QLabel(f"Certificate (PDF and JSON): {self.pdf_path.name}<br>in {self.pdf_path.parent}"
                       f"{digest}")
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(where)
        buttons = QDialogButtonBox()
        self.open_pdf_button = QPushButton("Open certificate (PDF)")
        self.open_folder_button = QPushButton("Show folder")
        buttons.addButton(self.open_pdf_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.open_folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)
        self.open_pdf_button.clicked.connect(self.open_pdf)
        self.open_folder_button.clicked.connect(self.open_folder)
        buttons.rejected.connect(self.reject)
        close.clicked.connect(self.accept)
        layout.addWidget(buttons)

    def open_pdf(self) -> None:
        open_path(self, self.pdf_path, "the validation certificate")

    def open_folder(self) -> None:
        open_path(self, self.pdf_path.parent, "the validation folder")


def latest_validation_line() -> str:
    """For the About box: the latest validation on this machine, or that there was none."""
    from audit_core.run.validation_record import latest_validation

    latest = latest_validation()
    if latest.get("status") != "validated":
        return "This installation has never been validated on this machine (Help ▸ Validate this installation…)."
    date = str(latest.get("date", "")).replace("T", " ").replace("Z", " UTC")
    line = f"Latest validation on this machine: {date}, {str(latest.get('outcome')).upper()}"
    if not latest.get("same_tool_version", True):
        line += f" (of version {latest.get('tool_version')}, not this one)"
    return line + "."
