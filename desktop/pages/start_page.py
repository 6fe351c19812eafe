"""The first screen: New audit, Open plan, Try the demo, what an audit needs (a link to
Help ▸ What do I need before I start?), the recent audits (finished, cancelled or
interrupted, from their folders) and the recent plans."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.audit_folders import AuditEntry, Status
from desktop.help_dialogs import NEEDS_TITLE, show_needs
from desktop.widgets.verdict_badge import verdict_colours

PATH_ROLE = Qt.ItemDataRole.UserRole
AUDIT_COLUMNS = ["Date", "Title", "Model", "Verdict", "Status"]
# The verdict word in the list, in its badge's colour (the word carries the meaning).
_VERDICT_INK = {"fail": "#B3261E", "warn": "#7A5200", "pass": "#1E6B35"}


class StartPage(QWidget):
    new_requested = Signal()
    open_requested = Signal()
    demo_requested = Signal()
    recent_requested = Signal(Path)
    audit_requested = Signal(object)  # AuditEntry: open its results, or offer to resume it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        column = QVBoxLayout()
        column.setSpacing(12)
        outer.addLayout(column, 3)
        outer.addStretch(1)
        column.addStretch(1)
        title = QLabel("Mnemoscope")
        title.setProperty("role", "title")
        column.addWidget(title)
        lead = QLabel("Has this model memorized our patients? Audit a clinical language model "
                      "against the records it was trained on, on this computer, and get the "
                      "evidence as a PDF report.")
        lead.setWordWrap(True)
        lead.setProperty("role", "lead")
        column.addWidget(lead)

        buttons = QHBoxLayout()
        self.new_button = QPushButton("New audit")
        self.new_button.setObjectName("primary")
        self.open_button = QPushButton("Open plan…")
        self.demo_button = QPushButton("Try the demo audit")
        for button, signal in ((self.new_button, self.new_requested),
                               (self.open_button, self.open_requested),
                               (self.demo_button, self.demo_requested)):
            button.setMinimumHeight(40)
            button.clicked.connect(signal)
            buttons.addWidget(button)
        column.addLayout(buttons)
        demo_note = QLabel("The demo audits a small model trained on synthetic records to "
                           "memorize on purpose: expect a FAIL.")
        demo_note.setProperty("role", "help")
        demo_note.setWordWrap(True)
        column.addWidget(demo_note)
        # Before New audit: what to have ready (the model folder, the two patient files).
        self.needs_button = QPushButton(NEEDS_TITLE)
        self.needs_button.setObjectName("before_you_start")
        self.needs_button.setFlat(True)
        self.needs_button.setStyleSheet("QPushButton { color: #0B4F8A; text-decoration: underline; "
                                        "text-align: left; padding: 2px 0; }")
        self.needs_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.needs_button.clicked.connect(lambda: show_needs(self.window()))
        column.addWidget(self.needs_button, 0, Qt.AlignmentFlag.AlignLeft)

        audits_title = QLabel("Recent audits")
        audits_title.setProperty("role", "heading")
        column.addSpacing(12)
        column.addWidget(audits_title)
        self.audits = QTreeWidget()
        self.audits.setAccessibleName("Recent audits")
        self.audits.setHeaderLabels(AUDIT_COLUMNS)
        self.audits.setRootIsDecorated(False)
        self.audits.setUniformRowHeights(True)
        self.audits.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.audits.setToolTip("Double-click (or Enter) to show an audit's results, or to resume "
                               "an interrupted one")
        header = self.audits.header()
        header.setStretchLastSection(False)
        for index in range(len(AUDIT_COLUMNS)):
            header.setSectionResizeMode(index, QHeaderView.ResizeMode.Stretch if index == 1
                                        else QHeaderView.ResizeMode.ResizeToContents)
        self.audits.itemActivated.connect(lambda item, _column: self.audit_requested.emit(item.data(0, PATH_ROLE)))
        column.addWidget(self.audits)
        self.no_audits = QLabel("None yet. Each audit you run or open is listed here, with how it ended.")
        self.no_audits.setProperty("role", "help")
        self.no_audits.setWordWrap(True)
        column.addWidget(self.no_audits)

        self.recent_title = QLabel("Recent plans")
        self.recent_title.setProperty("role", "heading")
        column.addWidget(self.recent_title)
        self.recent = QListWidget()
        self.recent.setAccessibleName("Recent plans")
        self.recent.setMaximumHeight(180)
        self.recent.itemActivated.connect(lambda item: self.recent_requested.emit(item.data(PATH_ROLE)))
        column.addWidget(self.recent)
        self.no_recent = QLabel("None yet. An audit's plan is saved with its results and listed here.")
        self.no_recent.setProperty("role", "help")
        column.addWidget(self.no_recent)
        column.addStretch(2)
        offline = QLabel("Runs entirely on this computer and makes no network connections.")
        offline.setProperty("role", "help")
        column.addWidget(offline)

    def set_recent(self, plans: list[Path]) -> None:
        self.recent.clear()
        for path in plans:
            item = QListWidgetItem(_describe(path))
            item.setToolTip(str(path))
            item.setData(PATH_ROLE, path)
            self.recent.addItem(item)
        self.recent.setMaximumHeight(min(180, 12 + 26 * max(1, len(plans))))
        self.recent.setVisible(bool(plans))
        self.no_recent.setVisible(False)  # the audits' note says what is listed
        self.recent_title.setVisible(bool(plans))

    def set_audits(self, entries: list[AuditEntry]) -> None:
        self.audits.clear()
        for entry in entries:
            verdict = verdict_colours(entry.verdict)[0] if entry.verdict else ""
            item = QTreeWidgetItem([entry.date, entry.title, entry.model, verdict, entry.status.value])
            item.setData(0, PATH_ROLE, entry)
            item.setToolTip(1, f"{entry.title}\n{entry.folder}")
            if entry.verdict:
                item.setForeground(3, QBrush(QColor(_VERDICT_INK.get(entry.verdict, "#1A1A1A"))))
            if entry.status is Status.INTERRUPTED:
                item.setToolTip(4, "The app stopped before this audit finished: open it to resume")
            self.audits.addTopLevelItem(item)
        rows = max(1, len(entries))
        height = self.audits.header().sizeHint().height() + 4 + rows * self.audits.sizeHintForRow(0) \
            if entries else 0
        self.audits.setFixedHeight(min(220, height) if entries else 0)
        self.audits.setVisible(bool(entries))
        self.no_audits.setVisible(not entries)


def _describe(path: Path) -> str:
    """The audit's title and where its plan is, without reading any patient file."""
    from audit_core.errors import MnemoscopeError
    from audit_core.plan.parsing import load_plan

    place = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
    try:
        title = load_plan(path).audit.title
    except MnemoscopeError:
        return place
    return f"{title}  —  {place}"
