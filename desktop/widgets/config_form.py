"""A settings form generated from a config dataclass's `param()` metadata.

Labels, help, ranges, units and defaults all come from `audit_core.settings.describe`, so
a new probe gets its form without any GUI code (DESIGN.md: probes declare themselves).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from audit_core.settings import FieldInfo, describe

_INT_LIMIT = 2_147_483_647  # QSpinBox holds a C int


def decimals_for(info: FieldInfo) -> int:
    """Enough decimals to show the default and the minimum exactly (at most 6)."""
    needed = 2
    for value in (info.default, info.min):
        if isinstance(value, (int, float)) and value and math.isfinite(value):
            text = f"{abs(float(value)):.6f}".rstrip("0")
            needed = max(needed, len(text.split(".")[1]) if "." in text else 0)
    return min(needed, 6)


class ConfigForm(QWidget):
    changed = Signal()

    def __init__(self, config_type: type, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config_type = config_type
        self.fields = describe(config_type)
        self.editors: dict[str, QWidget] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for info in self.fields:
            editor = self._editor(info)
            editor.setObjectName(f"setting_{info.name}")
            editor.setToolTip(info.help or info.label)
            editor.setAccessibleName(info.label)
            self.editors[info.name] = editor
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(1)
            editor.setMaximumWidth(180)
            column.addWidget(editor)
            if info.help:
                help_label = QLabel(info.help)
                help_label.setWordWrap(True)
                help_label.setProperty("role", "help")
                column.addWidget(help_label)
            label = QLabel(info.label + ":")
            label.setBuddy(editor)
            label.setWordWrap(True)
            label.setMinimumWidth(200)
            layout.addRow(label, cell)
        self.set_values({})

    def _editor(self, info: FieldInfo) -> QWidget:
        if info.type is bool:
            box = QCheckBox()
            box.toggled.connect(self.changed)
            return box
        if info.type is int:
            spin = QSpinBox()
            spin.setRange(int(info.min) if info.min is not None else -_INT_LIMIT,
                          min(int(info.max), _INT_LIMIT) if info.max is not None else _INT_LIMIT)
            spin.setGroupSeparatorShown(True)
            if info.unit:
                spin.setSuffix(f" {info.unit}")
            spin.valueChanged.connect(self.changed)
            spin.setMinimumWidth(110)
            return spin
        if info.type is float:
            spin = QDoubleSpinBox()
            spin.setDecimals(decimals_for(info))
            spin.setRange(info.min if info.min is not None else -1e12,
                          info.max if info.max is not None else 1e12)
            step = 10 ** -min(spin.decimals(), 2)
            spin.setSingleStep(step)
            if info.unit:
                spin.setSuffix(f" {info.unit}")
            spin.valueChanged.connect(self.changed)
            spin.setMinimumWidth(110)
            return spin
        line = QLineEdit()
        line.textChanged.connect(self.changed)
        return line

    def values(self) -> dict[str, Any]:
        """Every field's current value, typed as the config expects."""
        out: dict[str, Any] = {}
        for info in self.fields:
            editor = self.editors[info.name]
            if isinstance(editor, QCheckBox):
                out[info.name] = editor.isChecked()
            elif isinstance(editor, QSpinBox):
                out[info.name] = int(editor.value())
            elif isinstance(editor, QDoubleSpinBox):
                out[info.name] = round(float(editor.value()), editor.decimals())
            else:
                out[info.name] = editor.text()
        return out

    def changed_values(self) -> dict[str, Any]:
        """Only the values that differ from the defaults (what a plan file needs to say)."""
        return {k: v for k, v in self.values().items()
                if v != next(f.default for f in self.fields if f.name == k)}

    def set_values(self, values: dict[str, Any]) -> None:
        """Show `values`, and the default for every field not in it."""
        for info in self.fields:
            value = values.get(info.name, info.default)
            editor = self.editors[info.name]
            editor.blockSignals(True)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                editor.setValue(value)
            else:
                editor.setText(str(value))
            editor.blockSignals(False)
        self.changed.emit()

    def build(self) -> Any:
        return self.config_type(**self.values())
