"""Two audits side by side: a table of the overall and per-probe verdicts, the membership
AUCs and members reproduced with their intervals, and what changed in plain words.

Lays out audit_core.results.comparison.AuditComparison only: every text in the table is
the core's (figures formatted as the report prints them); nothing is computed here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from audit_core.results.comparison import AuditComparison, Change, FigureChange, ProbeChange
from desktop.widgets.verdict_badge import verdict_colours

COLUMNS = ["Probe", "First audit", "Second audit", "What changed"]
_CHANGE_INK = {Change.BETTER: "#1E6B35", Change.WORSE: "#B3261E"}


class ComparePage(QWidget):
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        top = QHBoxLayout()
        title = QLabel("Compare two audits")
        title.setProperty("role", "title2")
        top.addWidget(title, 1)
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(self.back_requested)
        top.addWidget(self.back_button)
        layout.addLayout(top)
        self.audits = QLabel("")
        self.audits.setWordWrap(True)
        self.audits.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.audits)
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.PlainText)
        self.warnings.setProperty("state", "error")
        layout.addWidget(self.warnings)
        explain = QLabel("Better or Worse compares the verdicts; for a figure, only when the two 95% "
                         "intervals do not overlap (when they overlap, the audits cannot tell the "
                         "figures apart). Lower is better for both figures.")
        explain.setWordWrap(True)
        explain.setProperty("role", "help")
        layout.addWidget(explain)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Comparison of the two audits")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # One line per row: every text is short, and rows sized before the page is shown
        # came out uneven.
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for index in (1, 2):
            header.setSectionResizeMode(index, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.comparison: AuditComparison | None = None

    def show_comparison(self, comparison: AuditComparison, first_name: str, second_name: str) -> None:
        """`first_name`, `second_name`: how the two audits are told apart (their report ids)."""
        self.comparison = comparison
        self.audits.setText(f"First audit: {comparison.first_title} (report {first_name})\n"
                            f"Second audit: {comparison.second_title} (report {second_name})")
        self.warnings.setText("\n".join(comparison.warnings))
        self.warnings.setVisible(bool(comparison.warnings))
        self.table.setRowCount(0)
        for probe in (comparison.overall, *comparison.probes):
            self._add_probe(probe)
            for figure in probe.figures:
                self._add_figure(figure)

    def rows(self) -> list[list[str]]:
        """The table's texts, row by row (what a person reads; for tests)."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    def _add_probe(self, probe: ProbeChange) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        name = QTableWidgetItem(probe.title)
        bold = QFont(name.font())
        bold.setBold(True)
        name.setFont(bold)
        self.table.setItem(row, 0, name)
        for column, verdict, headline in ((1, probe.first, probe.first_headline),
                                          (2, probe.second, probe.second_headline)):
            word = verdict_colours(verdict.value)[0] if verdict is not None else "not run"
            item = QTableWidgetItem(word)
            item.setFont(bold)
            item.setToolTip(headline)
            self.table.setItem(row, column, item)
        self.table.setItem(row, 3, _change_item(probe.change.value, probe.change, bold))

    def _add_figure(self, figure: FigureChange) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(f"    {figure.label}"))
        self.table.setItem(row, 1, QTableWidgetItem(figure.first))
        self.table.setItem(row, 2, QTableWidgetItem(figure.second))
        overlap = {True: "intervals overlap", False: "intervals do not overlap", None: "no interval"}
        text = f"{figure.change.value} ({overlap[figure.overlap]})"
        self.table.setItem(row, 3, _change_item(text, figure.change, None))


def _change_item(text: str, change: Change, font: QFont | None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if change in _CHANGE_INK:
        item.setForeground(QBrush(QColor(_CHANGE_INK[change])))
    if font is not None:
        item.setFont(font)
    return item
