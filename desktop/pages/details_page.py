"""Step 4, Report details: who audits what, for which use, and who may hold the model."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QWidget

from desktop.pages.step_page import StepPage
from desktop.plan_draft import PlanDraft
from desktop.settings import AppSettings

RELEASE_CONTEXTS = (
    ("internal", "Internal: the model stays inside the hospital"),
    ("partners", "Partners: shared with named partners under agreement"),
    ("public", "Public: anyone may download or query the model"),
)


class DetailsPage(StepPage):
    step_title = "Report details"

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.add_lead("These appear on the report's cover. Only the title is required.")
        form = QFormLayout()
        self.title = QLineEdit()
        self.title.setPlaceholderText("Memorization audit of …")
        self.institution = QLineEdit()
        self.requester = QLineEdit()
        self.requester.setPlaceholderText("e.g. Privacy office")
        self.auditor = QLineEdit()
        self.intended_use = QPlainTextEdit()
        self.intended_use.setPlaceholderText("What the model is meant to do, and for whom")
        self.intended_use.setTabChangesFocus(True)
        self.intended_use.setFixedHeight(64)
        self.release = QComboBox()
        for value, label in RELEASE_CONTEXTS:
            self.release.addItem(label, value)
        form.addRow("Report title:", self.title)
        form.addRow("Institution:", self.institution)
        form.addRow("Requested by:", self.requester)
        form.addRow("Auditor:", self.auditor)
        form.addRow("Intended use:", self.intended_use)
        form.addRow("Release context:", self.release)
        self.layout_.addLayout(form)
        note = QLabel("The release context says who could attack the model: weights that leave the "
                      "hospital face a stronger adversary, and the report states it.")
        note.setWordWrap(True)
        note.setProperty("role", "help")
        self.layout_.addWidget(note)
        self.layout_.addStretch(1)
        self.title.textChanged.connect(self.changed)

    def load(self, draft: PlanDraft) -> None:
        audit = draft.audit
        self.title.setText(audit.get("title", ""))
        self.institution.setText(audit.get("institution") or self.settings.report_detail("institution"))
        self.requester.setText(audit.get("requester", ""))
        self.auditor.setText(audit.get("auditor") or self.settings.report_detail("auditor"))
        self.intended_use.setPlainText(audit.get("intended_use", ""))
        self.release.setCurrentIndex(max(0, self.release.findData(audit.get("release_context", "internal"))))

    def store(self, draft: PlanDraft) -> None:
        draft.audit.update({"title": self.title.text().strip(), "institution": self.institution.text().strip(),
                            "requester": self.requester.text().strip(), "auditor": self.auditor.text().strip(),
                            "intended_use": self.intended_use.toPlainText().strip(),
                            "release_context": self.release.currentData()})
        for key in ("institution", "auditor"):
            if draft.audit[key]:
                self.settings.set_report_detail(key, draft.audit[key])

    def problem(self) -> str:
        return "" if self.title.text().strip() else "Give the report a title."
