"""The Model step's side inputs: each graph input an EHR model reads beside its ids (token
type, age, time, visit...), with the source it will be fed from in an editable drop-down.

The first choice is the export's side_inputs.json, else a proposal from the input's name
(audit_core.models.side_inputs.side_input_rows) marked "proposed: check it", since a name
is only a hint. What is chosen goes into the plan as [model.inputs]; position_ids is fed
by the tool itself and only shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QLabel, QWidget

from audit_core.plan.side_input_keys import SOURCES

SOURCE_LABELS = {"type": "token type (from the word)", "age_years": "age in years",
                 "time_days": "time in days", "time_weeks": "time in weeks",
                 "time_years": "time in years", "visit": "visit number",
                 "visit_segment": "visit segment (1, 2, 1, 2...)", "position": "position in the record"}
_NONE = "choose a source…"
_BUILT_IN = "fed by the tool"


class SideInputTable(QGroupBox):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Side inputs (read beside the codes)", parent)
        self.grid = QGridLayout(self)
        self.grid.setColumnStretch(2, 1)
        self.combos: dict[str, QComboBox] = {}
        self._rows: list[dict[str, Any]] = []
        self._types_declared = False
        self.setVisible(False)

    def set_rows(self, rows: list[dict[str, Any]], chosen: Mapping[str, str],
                 types_declared: bool) -> None:
        """Show `rows` (side_input_rows); `chosen`: the opened plan's [model.inputs], which
        wins over the file and the proposal."""
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.combos.clear()
        self._rows = rows
        self._types_declared = types_declared
        help_label = QLabel("The model reads these per token. Check each source: a proposal "
                            "comes from the input's name only.")
        help_label.setWordWrap(True)
        help_label.setProperty("role", "help")
        self.grid.addWidget(help_label, 0, 0, 1, 3)
        for line, row in enumerate(rows, start=1):
            name = QLabel(f"{row['name']} ({row['type']})")
            self.grid.addWidget(name, line, 0)
            if row["origin"] == _BUILT_IN:
                self.grid.addWidget(QLabel(SOURCE_LABELS["position"]), line, 1)
                self.grid.addWidget(QLabel(_BUILT_IN), line, 2)
                continue
            combo = QComboBox()
            combo.setAccessibleName(f"Source of the side input {row['name']}")
            combo.addItem(_NONE, None)
            for source in SOURCES:
                combo.addItem(SOURCE_LABELS[source], source)
            source = chosen.get(row["name"], row["source"])
            combo.setCurrentIndex(max(combo.findData(source), 0))
            origin = QLabel(self._origin(row, row["name"] in chosen))
            origin.setProperty("role", "help")
            combo.currentIndexChanged.connect(lambda _i, o=origin: self._edited(o))
            self.combos[row["name"]] = combo
            self.grid.addWidget(combo, line, 1)
            self.grid.addWidget(origin, line, 2)
        self.types_note = QLabel("")
        self.types_note.setWordWrap(True)
        self.types_note.setProperty("role", "help")
        self.grid.addWidget(self.types_note, len(rows) + 1, 0, 1, 3)
        self._update_note()
        self.setVisible(bool(self.combos))  # position_ids alone: nothing to choose

    @staticmethod
    def _origin(row: dict[str, Any], from_plan: bool) -> str:
        if from_plan:
            return "from the plan"
        if row["origin"] == "proposed, check it":
            return "proposed: check it"
        return "from side_inputs.json" if row["source"] else "no proposal"

    def _edited(self, origin: QLabel) -> None:
        origin.setText("chosen")
        self._update_note()
        self.changed.emit()

    def _update_note(self) -> None:
        typed = "type" in self.mapping().values()
        self.types_note.setText("" if not typed or self._types_declared else
                                "Token types need a table of type ids per code head: add "
                                "[model.token_types] to the saved plan (docs/models.md).")
        self.types_note.setVisible(bool(self.types_note.text()))

    def mapping(self) -> dict[str, str]:
        """Graph input -> chosen source (inputs left unchosen are missing)."""
        return {name: combo.currentData() for name, combo in self.combos.items()
                if combo.currentData() is not None}

    def unchosen(self) -> list[str]:
        return [name for name, combo in self.combos.items() if combo.currentData() is None]
