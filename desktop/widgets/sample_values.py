"""The first records of a file, masked until the user asks to see them.

Sample values are patient data: they are shown only on demand, masked again whenever the
page is left, and never logged.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from audit_core.data.preview import TablePreview

MASK = "••••••"


class SampleValues(QGroupBox):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.preview: TablePreview | None = None
        layout = QVBoxLayout(self)
        reveal_row = QHBoxLayout()
        self.note = QLabel("Values are hidden: patient data.")
        self.note.setProperty("role", "help")
        self.reveal_button = QPushButton("Show values")
        self.reveal_button.setCheckable(True)
        self.reveal_button.setAccessibleName("Show or hide the sample values")
        self.reveal_button.toggled.connect(self._reveal)
        reveal_row.addWidget(self.note, 1)
        reveal_row.addWidget(self.reveal_button)
        layout.addLayout(reveal_row)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(120)
        layout.addWidget(self.table)

    def show_preview(self, preview: TablePreview) -> None:
        self.preview = preview
        self.table.clear()
        self.table.setColumnCount(len(preview.names))
        self.table.setRowCount(len(preview.samples))
        self.table.setHorizontalHeaderLabels(list(preview.names))
        self._fill()

    def mask(self) -> None:
        self.reveal_button.setChecked(False)

    def _fill(self) -> None:
        if self.preview is None:
            return
        revealed = self.reveal_button.isChecked()
        for row, values in enumerate(self.preview.samples):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value if revealed else MASK))

    def _reveal(self, revealed: bool) -> None:
        self.reveal_button.setText("Hide values" if revealed else "Show values")
        self.note.setText("Values shown: hide them before you leave the screen."
                          if revealed else "Values are hidden: patient data.")
        self._fill()
