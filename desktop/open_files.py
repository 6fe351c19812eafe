"""Open a result file or folder with the system's program for it, and say so when that
fails.

QDesktopServices.openUrl returns False when the system has no program for the file (a
workstation without a PDF viewer, a locked-down desktop without a file manager); the user
then still needs the file, so the dialog shows its path in a field they can select, with
a Copy button, instead of the silence a plain openUrl call leaves.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

_WIDEST_FIELD = 820  # pixels: the dialog then stays within a 1100-pixel-wide window


def open_path(parent: QWidget, path: Path, what: str) -> bool:
    """Open `path` (`what` names it for a person: "the PDF report"); True when the system
    took it, else a dialog with the path to copy (not blocking: opened window-modal)."""
    path = Path(path)
    if path.exists() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return True
    PathDialog(parent, path, what).open()
    return False


class PathDialog(QDialog):
    """Why `path` did not open, and the path itself, selectable and one click to copy."""

    def __init__(self, parent: QWidget | None, path: Path, what: str) -> None:
        super().__init__(parent)
        self.setObjectName("pathNotOpened")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"{what[:1].upper()}{what[1:]} could not be opened")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        if path.exists():
            reason = (f"This computer has no program set up to open {what}, or the program "
                      "refused it. It is saved here; copy the path and open it another way "
                      "(for example from a file manager or another program):")
        else:
            reason = (f"{what[:1].upper()}{what[1:]} is no longer where the audit saved it: it "
                      "was moved or deleted. It was saved here:")
        self.message = QLabel(reason)
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        self.path_field = QLineEdit(str(path))
        self.path_field.setReadOnly(True)  # read-only still selects and copies
        self.path_field.setAccessibleName(f"Path of {what}")
        # Wide enough for the whole path up to a width that still fits a small screen (measured
        # in the style sheet's font, hence the polish); a longer one shows its end, the file's
        # name, and Copy takes it whole.
        self.path_field.ensurePolished()
        advance = self.path_field.fontMetrics().horizontalAdvance(str(path)) + 24
        self.path_field.setMinimumWidth(min(advance, _WIDEST_FIELD))
        self.path_field.setCursorPosition(len(str(path)) if advance > _WIDEST_FIELD else 0)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setAccessibleName("Copy the path")
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.path_field, 1)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.path_field.text())
        self.copy_button.setText("Copied")
