"""A text field for a folder path that keeps the folder's name in view.

A QLineEdit shows a path too long for it from one end only: the folder's name (its
right end) or the drive and parents (its left end), never both (issue 16: the Run step
showed "…2026-12-07-1030-memorization-audit" with its start cut). While the field does
not have the keyboard focus this one shows the path elided in the middle, both ends
visible, with the whole path in its tooltip; while it is edited it holds the whole path.
`path()` is always the whole path, whatever is on screen.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QResizeEvent
from PySide6.QtWidgets import QLineEdit, QStyle, QStyleOptionFrame, QWidget


class PathField(QLineEdit):
    path_changed = Signal(str)  # the whole path, set or typed (textChanged sees the elided one)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._path = ""
        self.textEdited.connect(self._edited)

    def path(self) -> str:
        return self._path

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name, for callers that set it
        self._path = text
        self.setToolTip(text)
        self._show()
        self.path_changed.emit(text)

    def _edited(self, text: str) -> None:
        self._path = text
        self.setToolTip(text)
        self.path_changed.emit(text)

    def _room(self) -> int:
        """Pixels for text inside the frame and its margins."""
        option = QStyleOptionFrame()
        self.initStyleOption(option)
        inner = self.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, self)
        margins = self.textMargins()
        return max(0, inner.width() - margins.left() - margins.right() - 4)

    def _show(self) -> None:
        shown = self._path if self.hasFocus() else self.fontMetrics().elidedText(
            self._path, Qt.TextElideMode.ElideMiddle, self._room())
        if super().text() != shown:
            blocked = self.blockSignals(True)
            super().setText(shown)
            self.blockSignals(blocked)
        self.setCursorPosition(len(shown) if self.hasFocus() else 0)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's name
        super().focusInEvent(event)
        self._show()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's name
        super().focusOutEvent(event)
        self._show()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._show()
