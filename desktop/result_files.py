"""The audit's output folder, seen from the app: whether to resume the interrupted audit
it holds before a run, and saving a finished audit's files elsewhere after one."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from audit_core.errors import MnemoscopeError
from audit_core.run.output_folder import OutputFolderError
from desktop.audit_controller import FinishedAudit
from desktop.error_dialog import show_error
from desktop.open_files import open_path
from desktop.settings import AppSettings

EXPORTS = {"report": ("report.pdf", "PDF report (*.pdf)"), "results": ("results.json", "JSON (*.json)"),
           "records": ("records.csv", "CSV (*.csv)")}


def ask_resume(parent: QWidget, folder: Path) -> bool | None:
    """True: resume the interrupted audit in `folder`; False: start afresh; None: don't start."""
    from audit_core.work.checkpoints import CheckpointRequest, describe_checkpoint

    try:
        found = describe_checkpoint(folder)
    except OutputFolderError:  # another program's file: never removed; Start's check says so
        return False
    except MnemoscopeError:  # damaged: nothing in it can be trusted, say so and start afresh
        found = None
        QMessageBox.information(parent, "Starting afresh", "The output folder held a damaged "
                                "checkpoint of an interrupted audit; it will be replaced.")
        CheckpointRequest(folder).discard()
    if found is None:
        return False
    answer = QMessageBox.question(
        parent, "Resume the interrupted audit?",
        f"{folder} holds an interrupted audit: {found.units} units of work finished (last "
        f"saved {found.saved_utc} UTC).\n\nYes: resume it and reuse that work (only if the "
        "plan, model and data files are unchanged).\nNo: discard it and start again.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        | QMessageBox.StandardButton.Cancel)
    if answer == QMessageBox.StandardButton.Cancel:
        return None
    if answer != QMessageBox.StandardButton.Yes:
        CheckpointRequest(folder).discard()
    return answer == QMessageBox.StandardButton.Yes


def export_result(window, finished: FinishedAudit, kind: str, settings: AppSettings) -> Path | None:
    """Save one of the finished audit's files (report, results, records) where the user
    chooses; `window` shows the dialogs and the status message."""
    name, pattern = EXPORTS[kind]
    suggested = settings.last_folder("export") / name
    path, _ = QFileDialog.getSaveFileName(window, f"Save {name}", str(suggested), pattern)
    if not path:
        return None
    target = Path(path)
    try:  # copied under a temporary name and renamed: never a half-written file there
        from audit_core.results.atomic import write_atomic

        write_atomic(target, finished.files[kind].read_bytes())
    except OSError as exc:
        show_error(window, f"{name} could not be saved", exc)
        return None
    settings.set_last_folder("export", target)
    window.statusBar().showMessage(f"Saved {target}", 10_000)
    if kind == "report" and QMessageBox.question(
            window, "Report saved", f"The report was saved as {target.name}. Open it now?") \
            == QMessageBox.StandardButton.Yes:
        open_path(window, target, "the PDF report")
    return target
