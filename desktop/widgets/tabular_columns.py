"""What a tabular classifier reads from the files: its input columns (features, in the
model's input order) and the outcome column (label).

The first guess: the columns that hold numbers in every record, except the id and the
outcome (a skl2onnx export takes one float input [rows, F], whose name says nothing about
the columns, so the number of them, F, is all the model tells). The list can be reordered
by dragging: the order is the model's input order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from audit_core.data.preview import ColumnSummary

_OUTCOME_NAMES = re.compile(r"label|outcome|target|readmi|mortal|death|died|event|diagnos|class|^y$",
                            re.IGNORECASE)


def guess_label(columns: Sequence[ColumnSummary], id_column: str) -> str:
    """An outcome column: named like one, else the last numeric column with two values."""
    candidates = [c for c in columns if c.name != id_column]
    named = [c for c in candidates if _OUTCOME_NAMES.search(c.name) and 2 <= c.distinct <= 12]
    binary = [c for c in candidates if c.numeric and c.distinct == 2]
    chosen = (named or binary[-1:] or candidates[-1:])
    return chosen[0].name if chosen else ""


def guess_features(columns: Sequence[ColumnSummary], id_column: str, label: str) -> tuple[str, ...]:
    return tuple(c.name for c in columns if c.numeric and c.name not in (id_column, label))


class TabularColumns(QWidget):
    """The list of input columns; `label_combo` is placed by the Data step in its own form
    (beside the record id), so both fit the space a record column takes otherwise."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tabularColumns")
        self.width_: int | None = None
        self._columns: tuple[ColumnSummary, ...] = ()
        self._id = ""
        self.label_combo = QComboBox()
        self.label_combo.setAccessibleName("Outcome (label) column")
        self.label_combo.setMinimumContentsLength(16)  # an outcome name such as readmitted_30d, whole
        self.label_combo.setToolTip("The column the model predicts; its values must be the model's classes.")
        right = QVBoxLayout(self)
        right.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("Model inputs, in the model's input order (drag to reorder):")
        heading.setWordWrap(True)
        right.addWidget(heading)
        self.feature_list = QListWidget()
        self.feature_list.setAccessibleName("Model input columns")
        self.feature_list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.feature_list.setMaximumHeight(96)
        right.addWidget(self.feature_list)
        row = QHBoxLayout()
        self.count = QLabel("")
        self.count.setProperty("role", "help")
        self.numeric_button = QPushButton("Numeric columns")
        self.numeric_button.setAccessibleName("Tick every numeric column except the id and outcome")
        self.numeric_button.clicked.connect(self._tick_numeric)
        row.addWidget(self.count, 1)
        row.addWidget(self.numeric_button)
        right.addLayout(row)
        self.label_combo.currentIndexChanged.connect(self._label_changed)
        self.feature_list.itemChanged.connect(lambda _item: self._changed())
        self.feature_list.model().rowsMoved.connect(lambda *_: self._changed())

    def offer(self, columns: Sequence[ColumnSummary], id_column: str, width: int | None,
              features: Sequence[str] = (), label: str = "") -> None:
        """Fill from the members file; `features`/`label` from an opened plan, else guessed."""
        self._columns, self._id, self.width_ = tuple(columns), id_column, width
        names = [c.name for c in columns]
        label = label or guess_label(columns, id_column)
        if not features:
            features = guess_features(columns, id_column, label)
        self.label_combo.blockSignals(True)
        self.label_combo.clear()
        self.label_combo.addItems(names if label in names or not label else [*names, label])
        self.label_combo.setCurrentText(label)
        self.label_combo.blockSignals(False)
        # The plan's features first, in its (the model's) order; the other columns after.
        ordered = [*features, *(n for n in names if n not in features)]
        self.feature_list.blockSignals(True)
        self.feature_list.clear()
        for name in ordered:
            item = QListWidgetItem(name)
            item.setFlags((item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
                          & ~Qt.ItemFlag.ItemIsDropEnabled)
            item.setCheckState(Qt.CheckState.Checked if name in features else Qt.CheckState.Unchecked)
            self.feature_list.addItem(item)
        self.feature_list.blockSignals(False)
        self._changed()

    def set_id_column(self, id_column: str) -> None:
        self._id = id_column

    def set_width(self, width: int | None) -> None:
        self.width_ = width
        self._changed()

    def features(self) -> tuple[str, ...]:
        items = (self.feature_list.item(i) for i in range(self.feature_list.count()))
        return tuple(item.text() for item in items if item.checkState() == Qt.CheckState.Checked)

    def label(self) -> str:
        return self.label_combo.currentText()

    def set_checked(self, names: Sequence[str]) -> None:
        self.feature_list.blockSignals(True)
        for i in range(self.feature_list.count()):
            item = self.feature_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked)
        self.feature_list.blockSignals(False)
        self._changed()

    def _tick_numeric(self) -> None:
        self.set_checked(guess_features(self._columns, self._id, self.label()))

    def _label_changed(self) -> None:
        # The outcome is never an input too: untick it (the core refuses the overlap).
        label = self.label()
        if label in self.features():
            self.set_checked([f for f in self.features() if f != label])
        else:
            self._changed()

    def _changed(self) -> None:
        chosen = len(self.features())
        takes = f"; the model takes {self.width_}" if self.width_ is not None else ""
        self.count.setText(f"{chosen} ticked{takes}")
        self.changed.emit()
