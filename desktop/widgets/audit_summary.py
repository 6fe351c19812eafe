"""The results screen at a glance: the decision in one sentence, the first required actions
and a tile per probe (its name and verdict) that jumps to the probe's card.

The decision and the actions are the PDF's page 1 (`at_a_glance` in
audit_core/report/sections/cover.py), derived from the same results document: this widget
only lays them out, so that the screen and the report cannot say different things.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from audit_core.report.sections.cover import at_a_glance
from audit_core.report.sections.values import as_list, as_mapping, as_text
from audit_core.report.sections.verdicts import probe_verdict
from desktop.widgets.term_tips import SKIP, explain, explain_terms
from desktop.widgets.verdict_badge import VerdictBadge

TILE_WIDTH = 290  # a tile holds a two-line probe title and its badge
STYLE = """
QFrame#tile { background: #FFFFFF; border: 1px solid #D9DEE4; border-radius: 6px; }
QFrame#tile:hover { border-color: #0B4F8A; }
QFrame#tile:focus { border: 2px solid #F6C344; }
"""


class ProbeTile(QFrame):
    """One probe: its display title and verdict badge; a click (or Enter) shows its card."""

    chosen = Signal(str)  # the probe's id

    def __init__(self, probe: Mapping[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tile")
        self.probe_id = as_text(probe.get("id"))
        self.title = as_text(probe.get("title"), self.probe_id)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName(f"{self.title}: show its card")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 8, 6)
        self.name = QLabel(self.title)
        self.name.setWordWrap(True)
        self.name.setProperty(SKIP, True)  # hovering the name shows the tile's own tooltip
        layout.addWidget(self.name, 1)
        self.badge = VerdictBadge(probe_verdict(probe))
        layout.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignVCenter)
        headline = as_text(as_mapping(probe.get("headline")).get("text"), "")
        said = f"{self.title}: {headline}" if headline else self.title
        self.setToolTip(explain(said, lead=f"{said}. Click to see its card."))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt)
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.chosen.emit(self.probe_id)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.chosen.emit(self.probe_id)
            return
        super().keyPressEvent(event)


class AuditSummary(QWidget):
    """Page 1 on screen. `show_results` takes the results document (AuditResult.as_dict())."""

    probe_chosen = Signal(str)  # a tile was clicked: the probe's id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        self.decision = QLabel("")
        self.decision.setProperty("role", "lead")
        self.decision.setWordWrap(True)
        self.decision.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.decision)
        self.actions_heading = QLabel("")
        self.actions_heading.setProperty("role", "heading")
        self.actions_heading.setWordWrap(True)
        layout.addWidget(self.actions_heading)
        self.actions_box = QVBoxLayout()
        self.actions_box.setSpacing(2)
        layout.addLayout(self.actions_box)
        self.action_labels: list[QLabel] = []
        tiles_heading = QLabel("Probes: click one to see its result")
        tiles_heading.setProperty("role", "heading")
        layout.addSpacing(6)
        layout.addWidget(tiles_heading)
        self.grid = QGridLayout()
        self.grid.setSpacing(8)
        layout.addLayout(self.grid)
        self.tiles: list[ProbeTile] = []
        self._columns = 0
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def show_results(self, results: Mapping[str, Any]) -> None:
        glance = at_a_glance(results)
        self.decision.setText(glance.decision)
        heading = glance.actions_heading
        if glance.all_actions > len(glance.actions):
            heading += (f" ({len(glance.actions)} of {glance.all_actions}; the others are on "
                        "page 2 of the report)")
        self.actions_heading.setText(heading)
        self.actions_heading.setVisible(bool(glance.actions))
        for label in self.action_labels:
            _discard(label, self.actions_box)
        self.action_labels = []
        for number, text in enumerate(glance.actions, start=1):
            label = QLabel(f"{number}. {text}")
            label.setWordWrap(True)
            self.actions_box.addWidget(label)
            self.action_labels.append(label)
        for tile in self.tiles:
            _discard(tile, self.grid)
        self.tiles = [ProbeTile(probe) for probe in map(as_mapping, as_list(results.get("probes")))]
        for tile in self.tiles:
            tile.chosen.connect(self.probe_chosen)
        self._place_tiles()
        explain_terms(self)  # AUC, epsilon, DP…: the glossary's words in each tooltip

    def _place_tiles(self) -> None:
        # As many columns as fit the width: three at the default window size, five at 1600.
        columns = max(1, self.width() // TILE_WIDTH) if self.width() > 0 else 3
        for tile in self.tiles:
            self.grid.removeWidget(tile)
        for index, tile in enumerate(self.tiles):
            self.grid.addWidget(tile, index // columns, index % columns)
        for column in range(self.grid.columnCount()):
            self.grid.setColumnStretch(column, 1 if column < columns else 0)
        self._columns = columns

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(event)
        if self.tiles and max(1, self.width() // TILE_WIDTH) != self._columns:
            self._place_tiles()


def _discard(widget: QWidget, layout: QLayout) -> None:
    # Out of its layout and out of sight now: deleteLater waits for the event loop, and
    # until then the widget would still take its place (the next audit's summary is shown
    # at once).
    layout.removeWidget(widget)
    widget.hide()
    widget.deleteLater()
