"""Results ▸ Sign report…: the approval step after review, as `mnemoscope sign` does it.

The dialog only collects what the approver types (certificate file, its password, name
and role, decision, conditions); the signing itself is `sign_off.approve_report`, the CLI's
function, run off the GUI thread by the main window (opening a PKCS#12 file and checking
the report take a second or two). The password stays in memory for that one call only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from audit_core.report.pdf.approval import Decision

DECISIONS = (("Approved", Decision.APPROVED), ("Approved with conditions", Decision.APPROVED_WITH_CONDITIONS),
             ("Rejected", Decision.REJECTED))


@dataclass(frozen=True)
class SignRequest:
    report: Path
    certificate: Path
    password: bytes | None = field(repr=False)
    approver: str
    decision: str
    conditions: str


class SignDialog(QDialog):
    def __init__(self, report: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signDialog")
        self.setWindowTitle("Sign report")
        self.setMinimumWidth(520)
        self.report = report
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Record your decision on this report, after reading it, with your digital "
            "certificate. The signature covers the whole file and names you, your decision "
            "and the date; \u201cmnemoscope verify\u201d and any PDF signature checker show it. Each "
            "approver (for example the privacy officer, then the data protection officer) "
            "signs in turn.")
        intro.setWordWrap(True)
        intro.setProperty("role", "help")
        layout.addWidget(intro)
        form = QFormLayout()
        self.certificate = QLineEdit()
        self.certificate.setPlaceholderText("PKCS#12 file (.p12, .pfx)")
        self.certificate.setAccessibleName("Certificate file")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_certificate)
        row = QHBoxLayout()
        row.addWidget(self.certificate, 1)
        row.addWidget(browse)
        form.addRow("Certificate:", row)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Certificate password")
        form.addRow("Password:", self.password)
        self.approver = QLineEdit()
        self.approver.setPlaceholderText("Name, role (e.g. Jane Roe, Data Protection Officer)")
        self.approver.setAccessibleName("Approver name and role")
        form.addRow("Approver:", self.approver)
        self.decision = QComboBox()
        self.decision.setAccessibleName("Decision")
        for label, value in DECISIONS:
            self.decision.addItem(label, value.value)
        form.addRow("Decision:", self.decision)
        self.conditions = QLineEdit()
        self.conditions.setPlaceholderText("The conditions of the approval")
        self.conditions.setAccessibleName("Conditions")
        form.addRow("Conditions:", self.conditions)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.sign_button = self.buttons.addButton("Sign", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for edit in (self.certificate, self.approver, self.conditions):
            edit.textChanged.connect(self._update)
        self.decision.currentIndexChanged.connect(self._update)
        self._update()

    def _choose_certificate(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose your certificate", "",
                                              "PKCS#12 certificates (*.p12 *.pfx);;All files (*)")
        if path:
            self.certificate.setText(path)

    def _update(self) -> None:
        conditional = self.decision.currentData() == Decision.APPROVED_WITH_CONDITIONS.value
        self.conditions.setEnabled(conditional)
        ready = bool(self.certificate.text().strip() and self.approver.text().strip()
                     and (self.conditions.text().strip() or not conditional))
        self.sign_button.setEnabled(ready)

    def request(self) -> SignRequest:
        conditional = self.decision.currentData() == Decision.APPROVED_WITH_CONDITIONS.value
        return SignRequest(
            report=self.report, certificate=Path(self.certificate.text().strip()),
            password=self.password.text().encode("utf-8") or None,
            approver=self.approver.text(), decision=str(self.decision.currentData()),
            conditions=self.conditions.text() if conditional else "")


def open_sign_dialog(window, report: Path) -> SignDialog:
    """Opens the dialog (window-modal, without a nested event loop); on Sign, signs in the
    background through the window's controller and says how it went on the results page."""
    dialog = SignDialog(report, window)
    dialog.accepted.connect(lambda: _sign(window, dialog.request()))
    dialog.open()
    return dialog


def _sign(window, request: SignRequest) -> None:
    from audit_core.errors import MnemoscopeError
    from desktop.error_dialog import show_error

    page = window.results_page
    page.sign_button.setEnabled(False)

    def signed(approval) -> None:
        page.sign_button.setEnabled(True)
        page.saved_note.setText(f"{request.report.name} signed by {approval.approver}: "
                                f"{approval.describe()}. Anyone can check it with \u201cmnemoscope "
                                f"verify {request.report.name}\u201d or a PDF signature checker.")

    def failed(exc: Exception, details: str) -> None:
        page.sign_button.setEnabled(True)
        show_error(window, "The report was not signed", exc,
                   "" if isinstance(exc, MnemoscopeError) else details)

    window.controller.submit("sign", sign_work(request), signed, failed)


def sign_work(request: SignRequest):
    """The background call: the CLI's own function; returns the approval recorded."""
    def work():
        from audit_core.report.pdf.approval import make_approval
        from audit_core.report.pdf.sign_off import approve_report
        from audit_core.report.pdf.signing import ReportSigner

        approval = make_approval(request.approver, request.decision, request.conditions)
        approve_report(request.report, ReportSigner(request.certificate, request.password), approval)
        return approval

    return work
