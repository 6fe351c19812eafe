"""The New audit flow: a visible list of steps, the current step, Back and Next."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.pages.step_page import StepPage
from desktop.plan_draft import PlanDraft


class Wizard(QWidget):
    step_entered = Signal(int)

    def __init__(self, pages: list[StepPage], draft: PlanDraft, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pages = pages
        self.draft = draft
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.steps = QListWidget()
        self.steps.setObjectName("steps")
        self.steps.setAccessibleName("Steps")
        self.steps.setFixedWidth(190)
        for number, page in enumerate(pages, start=1):
            self.steps.addItem(f"{number}.  {page.step_title}")
        self.steps.currentRowChanged.connect(self._step_clicked)
        layout.addWidget(self.steps)
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        for page in pages:
            self.stack.addWidget(page)
            page.changed.connect(self._recheck)
        right.addWidget(self.stack, 1)
        bar = QHBoxLayout()
        bar.setContentsMargins(24, 8, 24, 16)
        self.back_button = QPushButton("&Back")
        self.back_button.clicked.connect(lambda: self.go(self.current - 1))
        self.hint = QLabel("")
        self.hint.setProperty("role", "help")
        self.hint.setWordWrap(True)  # a long reason (a column mapping's) wraps, never cut at the left
        self.hint.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.next_button = QPushButton("&Next")
        self.next_button.setObjectName("primary")
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(lambda: self.go(self.current + 1))
        bar.addWidget(self.back_button)
        bar.addStretch(1)
        bar.addWidget(self.hint, 3)
        bar.addWidget(self.next_button)
        right.addLayout(bar)
        layout.addLayout(right, 1)
        self.current = 0
        self.locked = False
        for page in pages:
            page.load(draft)
        self._show(0)

    def page(self, kind: type) -> StepPage:
        return next(p for p in self.pages if isinstance(p, kind))

    def store(self) -> PlanDraft:
        for page in self.pages:
            page.store(self.draft)
        return self.draft

    def first_problem(self, before: int) -> tuple[int, str]:
        for index, page in enumerate(self.pages[:before]):
            problem = page.problem()
            if problem:
                return index, problem
        return -1, ""

    def go(self, index: int, force: bool = False) -> None:
        """Move to step `index`; forward only as far as the steps before it are complete
        (unless `force`: an opened plan goes straight to review while its files are read)."""
        if self.locked or not 0 <= index < len(self.pages):
            return
        if index > self.current and not force:
            blocked, _problem = self.first_problem(index)
            if blocked >= 0:
                index = blocked
        self.pages[self.current].store(self.draft)
        self._show(index)

    def _show(self, index: int) -> None:
        self.current = index
        self.stack.setCurrentIndex(index)
        self.steps.blockSignals(True)
        self.steps.setCurrentRow(index)
        self.steps.blockSignals(False)
        self._recheck()
        self.step_entered.emit(index)

    def _step_clicked(self, row: int) -> None:
        if row != self.current:
            self.go(row)

    def set_locked(self, locked: bool) -> None:
        """While an audit runs the setup cannot change."""
        self.locked = locked
        self.steps.setEnabled(not locked)
        self._recheck()

    def _recheck(self) -> None:
        last = self.current == len(self.pages) - 1
        problem = self.pages[self.current].problem()
        self.back_button.setEnabled(self.current > 0 and not self.locked)
        self.next_button.setVisible(not last)
        self.next_button.setEnabled(not problem and not self.locked)
        self.hint.setText(self.pages[self.current].hint())
        for row in range(self.steps.count()):
            reachable = row <= self.current or self.first_problem(row)[0] < 0
            item = self.steps.item(row)
            flags = item.flags()
            item.setFlags(flags | Qt.ItemFlag.ItemIsEnabled if reachable else flags & ~Qt.ItemFlag.ItemIsEnabled)
