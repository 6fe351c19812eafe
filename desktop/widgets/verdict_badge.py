"""A verdict as a coloured word: the word carries the meaning, the colour only helps."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

# (label, text colour, background): dark on light, readable in greyscale too.
STYLES = {
    "fail": ("FAIL", "#FFFFFF", "#B3261E"),
    "warn": ("WARN", "#4A3000", "#F6C344"),
    "pass": ("PASS", "#FFFFFF", "#1E6B35"),
    "inconclusive": ("INCONCLUSIVE", "#FFFFFF", "#5F6B7A"),
    "error": ("NOT ASSESSED", "#1A1A1A", "#D9DEE4"),
}

MEANINGS = {
    "fail": "Memorization found",
    "warn": "Signs of memorization",
    "pass": "No memorization detected",
    "inconclusive": "Not enough evidence either way",
    "error": "Could not be assessed",
}


def verdict_colours(verdict: str) -> tuple[str, str, str]:
    return STYLES.get(verdict, STYLES["inconclusive"])


class VerdictBadge(QLabel):
    def __init__(self, verdict: str, parent: QWidget | None = None, large: bool = False) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.set_verdict(verdict, large)

    def set_verdict(self, verdict: str, large: bool = False) -> None:
        label, ink, fill = verdict_colours(verdict)
        self.verdict = verdict
        self.setText(label)
        self.setAccessibleName(f"Verdict: {label}")
        size = "15pt" if large else "9pt"
        pad = "6px 14px" if large else "2px 8px"
        self.setStyleSheet(f"QLabel {{ color: {ink}; background: {fill}; border-radius: 4px; "
                           f"font-weight: bold; font-size: {size}; padding: {pad}; }}")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
