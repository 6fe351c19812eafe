"""Errors as dialogs: what is wrong and what to do in the face of the user, the technical
details one click away, never a traceback up front.

Messages from the core (MnemoscopeError) already name the file or setting at fault and
never quote a record; an unexpected error gets a plain apology and its details.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QGridLayout, QMessageBox, QSizePolicy, QSpacerItem, QWidget

from audit_core.errors import DataError, MnemoscopeError, ModelError, PlanError
from audit_core.results.output_folder import OutputFolderError
from audit_core.work.checkpoints import CheckpointError

log = logging.getLogger(__name__)

_ADVICE = {
    # Before PlanError, which it is: the folder, not a setting of the plan, is what to change.
    OutputFolderError: "Choose another output folder on the Run step, or move the files named "
                       "above away from this one.",
    ModelError: "Choose another model folder or .onnx file, or ask whoever exported the model.",
    DataError: "Choose another file, or change the column mapping on the Data step.",
    PlanError: "Correct the setting named above and try again.",
}
# The core's checkpoint messages advise the CLI's --resume/--restart; here the advice names
# what the app shows: the Run step's start button and the resume question it asks.
_START = "Start the audit"
_CHECKPOINT_ADVICE = {
    CheckpointError.FOUND: f"Press \u201c{_START}\u201d again: Mnemoscope asks whether to resume "
                           "the interrupted audit or start over.",
    CheckpointError.DIFFERENT: f"To start over, press \u201c{_START}\u201d again and answer No "
                               "when asked whether to resume: the interrupted audit's work is "
                               "discarded. To keep that work, choose another output folder.",
    CheckpointError.DAMAGED: f"Press \u201c{_START}\u201d again: the damaged checkpoint is "
                             "discarded and the audit starts over.",
}


def explain(error: BaseException) -> tuple[str, str]:
    """(what is wrong, what to do) in plain words."""
    if isinstance(error, CheckpointError):
        return error.problem + ".", _CHECKPOINT_ADVICE.get(error.situation, _ADVICE[PlanError])
    if isinstance(error, MnemoscopeError):
        advice = next((text for kind, text in _ADVICE.items() if isinstance(error, kind)),
                      "Correct the input named above and try again.")
        return str(error), advice
    if isinstance(error, PermissionError):
        return ("Mnemoscope is not allowed to write to that folder.",
                "Choose a folder you can write to, for example in your documents.")
    if isinstance(error, OSError):
        return (f"A file could not be read or written ({error.__class__.__name__}).",
                "Check that the disk is not full and the folder still exists, then try again.")
    return ("Something went wrong inside Mnemoscope.",
            "Your files were not changed. Try again; if it happens again, send the details "
            "below to your support contact (they hold no patient data).")


def show_error(parent: QWidget | None, title: str, error: BaseException, details: str = "") -> QMessageBox:
    """Show the error dialog (modal) and return it once closed."""
    log.warning("%s: %s", title, error.__class__.__name__)
    box = error_box(parent, title, error, details)
    box.exec()
    return box


def error_box(parent: QWidget | None, title: str, error: BaseException, details: str = "") -> QMessageBox:
    problem, advice = explain(error)
    box = QMessageBox(parent)
    box.setObjectName("errorDialog")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(f"<b>{title}</b>")
    box.setInformativeText(f"{_escape(problem)}<br><br>{_escape(advice)}")
    technical = error.problem if isinstance(error, CheckpointError) else error  # no CLI options
    box.setDetailedText(f"{error.__class__.__name__}: {technical}\n\n{details}".strip())
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    # QMessageBox sizes itself to its text; a wider box keeps a file name on one line.
    grid = box.layout()
    if isinstance(grid, QGridLayout):
        grid.addItem(QSpacerItem(460, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding),
                     grid.rowCount(), 0, 1, grid.columnCount())
    return box


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
