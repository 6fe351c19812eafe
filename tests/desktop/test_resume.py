"""The desktop app offers to resume an interrupted audit found in the output folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from audit_core.checkpoints import CHECKPOINT_FILE, CheckpointRequest
from audit_core.progress import CancelToken
from audit_core.runner import run_audit
from tests.desktop.conftest import wait_idle, wait_ready


def _interrupted(qtbot, window, plan_path: Path, folder: Path) -> None:
    """What the app leaves when it crashes after the first probe: a checkpoint with the
    scores and one probe, for the plan as the app builds it."""
    window.open_plan(plan_path, remember=False)
    wait_ready(qtbot, window)
    cancel = CancelToken()
    run_audit(window.current_plan(), cancel=cancel, checkpoint=CheckpointRequest(folder),
              on_progress=lambda f, m: cancel.cancel() if m.startswith("zlib") else None)
    assert (folder / CHECKPOINT_FILE).is_file()


def _start(window, folder: Path) -> None:
    window.run_page.folder_field.setText(str(folder))
    window.run_page.start_button.click()


def _results(qtbot, window, dialogs):
    wait_idle(qtbot, window)
    assert not dialogs.shown, dialogs.texts()
    qtbot.waitUntil(lambda: window.screens.currentWidget() is window.results_page, timeout=30_000)
    return window.results_page.finished_audit


def test_an_interrupted_audit_is_offered_and_resumed(qtbot, window, dialogs, small_plan: Path,
                                                     tmp_path: Path) -> None:
    folder = tmp_path / "interrupted"
    _interrupted(qtbot, window, small_plan, folder)

    dialogs.answer = QMessageBox.StandardButton.Yes
    _start(window, folder)
    assert len(dialogs.questions) == 1 and "interrupted audit" in dialogs.questions[0]
    assert "3 units of work finished" in dialogs.questions[0]
    finished = _results(qtbot, window, dialogs)
    assert finished.result.resumed == 3 and not finished.result.cancelled
    assert [p.id for p in finished.result.probes][:2] == ["loss", "zlib"]
    assert not (folder / CHECKPOINT_FILE).exists()  # written in full: nothing left to resume
    assert (folder / "run.json").is_file()


def test_declining_discards_the_checkpoint_and_cancel_starts_nothing(qtbot, window, dialogs,
                                                                     small_plan: Path, tmp_path: Path) -> None:
    folder = tmp_path / "interrupted"
    _interrupted(qtbot, window, small_plan, folder)

    dialogs.answer = QMessageBox.StandardButton.Cancel
    _start(window, folder)
    assert not window.controller.busy and (folder / CHECKPOINT_FILE).is_file()

    dialogs.answer = QMessageBox.StandardButton.No
    window.run_page.start_button.click()
    assert window.controller.busy
    assert _results(qtbot, window, dialogs).result.resumed == 0
