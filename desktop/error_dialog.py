"""Errors as dialogs: what is wrong and what to do in the face of the user, the technical
details one click away in words, never a traceback.

Messages from the core (MnemoscopeError) already name the file or setting at fault and
never quote a record; an unexpected error gets a plain apology, and its details say what
failed, where in the program, and where the log file with the technical record is
(desktop/log_file.py: the traceback goes there, without exception messages).
"""

from __future__ import annotations

import logging
import re
import traceback
from pathlib import Path

from PySide6.QtWidgets import QGridLayout, QMessageBox, QSizePolicy, QSpacerItem, QWidget

from audit_core.errors import DataError, MnemoscopeError, ModelError, PlanError
from audit_core.run.output_folder import OutputFolderError
from audit_core.work.checkpoints import CheckpointError
from desktop.log_file import log_failure

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
            "Your files were not changed. Try again; if it happens again, send the log file "
            "named in the details to your support contact (it holds no patient data).")


def show_error(parent: QWidget | None, title: str, error: BaseException, details: str = "") -> QMessageBox:
    """Show the error dialog (modal) and return it once closed. `details`, the formatted
    traceback the background tasks pass, is not shown: see error_box."""
    box = error_box(parent, title, error, details)
    box.exec()
    return box


def error_box(parent: QWidget | None, title: str, error: BaseException, details: str = "") -> QMessageBox:
    """The dialog for `error`. A traceback (`details`, or the error's own) never reaches the
    screen: a person reads the cause in words; the log file keeps the frames for support."""
    del details  # kept in the signature for the callers; the log file takes the error's own
    problem, advice = explain(error)
    box = QMessageBox(parent)
    box.setObjectName("errorDialog")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(f"<b>{title}</b>")
    box.setInformativeText(f"{_escape(problem)}<br><br>{_escape(advice)}")
    box.setDetailedText(details_text(title, error))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    # QMessageBox sizes itself to its text; a wider box keeps a file name on one line.
    grid = box.layout()
    if isinstance(grid, QGridLayout):
        grid.addItem(QSpacerItem(460, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding),
                     grid.rowCount(), 0, 1, grid.columnCount())
    return box


def details_text(title: str, error: BaseException) -> str:
    """What "Show details" shows: the cause in words and where the log file is. Also
    writes the failure to the log file (once per dialog)."""
    if isinstance(error, MnemoscopeError):
        log.warning("%s: %s", title, error.__class__.__name__)
        technical = error.problem if isinstance(error, CheckpointError) else str(error)  # no CLI options
        cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        because = (f" It was raised after a {type(cause).__name__} in {_where(cause)}."
                   if cause is not None else "")
        return f"Cause: {technical}\n\nKind of problem: {_kind(error)}.{because}"
    path = log_failure(title, error)
    kept = (f"The technical record (no patient data) is in the log file:\n{path}" if path is not None
            else "No log file could be written (the app's data folder is not writable).")
    return (f"What failed: {title.rstrip('.')}: Mnemoscope met an unexpected "
            f"{type(error).__name__} in {_where(error)}.\n\n{kept}")


def _kind(error: BaseException) -> str:
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(error).__name__).lower()
    return f"{words} ({type(error).__name__})"


def _where(error: BaseException) -> str:
    """The innermost place in Mnemoscope's own code the error passed through."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if {"audit_core", "desktop"} & set(Path(f.filename).parts)]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return "an unknown place"
    parts = Path(frame.filename).parts
    start = max((i for i, p in enumerate(parts) if p in ("audit_core", "desktop")), default=len(parts) - 1)
    return f"{'/'.join(parts[start:])}, line {frame.lineno} ({frame.name})"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
