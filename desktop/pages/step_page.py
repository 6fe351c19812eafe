"""What every step of the New audit flow offers the main window."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.plan_draft import PlanDraft


class StepPage(QWidget):
    """A step edits part of the draft; `changed` tells the window to recheck Next."""

    changed = Signal()
    step_title = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(24, 16, 24, 16)
        self.layout_.setSpacing(10)
        heading = QLabel(self.step_title)
        heading.setProperty("role", "title2")
        self.layout_.addWidget(heading)

    def add_lead(self, text: str) -> QLabel:
        lead = QLabel(text)
        lead.setWordWrap(True)
        lead.setProperty("role", "lead")
        self.layout_.addWidget(lead)
        return lead

    def load(self, draft: PlanDraft) -> None:
        """Show the draft's values."""

    def store(self, draft: PlanDraft) -> None:
        """Write this step's values into the draft."""

    def problem(self) -> str:
        """Why the user cannot go on yet ('' when the step is complete)."""
        return ""

    def hint(self) -> str:
        """What the wizard's bottom bar says: the problem, unless the step already shows it
        in full (then a pointer, so the same sentence is not printed twice)."""
        return self.problem()
