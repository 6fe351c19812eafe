"""The desktop app offers to resume an interrupted audit found in the output folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from audit_core.run.runner import run_audit
from audit_core.work.checkpoints import CHECKPOINT_FILE, CheckpointRequest
from audit_core.work.progress import CancelToken
from tests.desktop.conftest import wait_idle, wait_ready


def _interrupted(qtbot, window, plan_path: Path, folder: Path, other_seed: bool = False) -> None:
    """What the app leaves when it crashes after the first probe: a checkpoint with the
    scores and one probe, for the plan as the app builds it (with another seed: the
    checkpoint of a different audit)."""
    window.open_plan(plan_path, remember=False)
    wait_ready(qtbot, window)
    cancel = CancelToken()
    plan = window.current_plan()
    if other_seed:
        plan = replace(plan, audit=replace(plan.audit, seed=plan.audit.seed + 1))
    run_audit(plan, cancel=cancel, checkpoint=CheckpointRequest(folder),
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


def test_a_checkpoint_of_another_audit_is_explained_in_the_apps_words(qtbot, window, dialogs,
                                                                     small_plan: Path, tmp_path: Path) -> None:
    folder = tmp_path / "interrupted"
    _interrupted(qtbot, window, small_plan, folder, other_seed=True)

    dialogs.answer = QMessageBox.StandardButton.Yes  # resume: refused, the plan differs
    _start(window, folder)
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: bool(dialogs.shown), timeout=5_000)
    assert len(dialogs.shown) == 1
    box = dialogs.shown[0]
    shown = f"{box.text()}\n{box.informativeText()}\n{box.detailedText()}"
    assert "belongs to a different audit (the plan changed" in shown
    assert "--restart" not in shown and "--resume" not in shown, shown  # the CLI's options
    assert "\u201cStart the audit\u201d again and answer No" in box.informativeText()
    assert window.run_page.start_button.text() == "Start the audit"  # the button it names
    assert (folder / CHECKPOINT_FILE).is_file()  # refused, not overwritten

    dialogs.shown.clear()  # doing what the dialog says starts over
    dialogs.answer = QMessageBox.StandardButton.No
    window.run_page.start_button.click()
    assert _results(qtbot, window, dialogs).result.resumed == 0


def test_every_checkpoint_refusal_keeps_the_cli_options_in_the_core_and_not_in_the_app(tmp_path: Path) -> None:
    from audit_core.run.fingerprint import Fingerprint
    from audit_core.work.checkpoints import CheckpointError, describe_checkpoint
    from desktop.error_dialog import explain

    folder = tmp_path / "out"
    CheckpointRequest(folder).open(Fingerprint({"plan": "a"})).close()
    refusals = []
    for attempt in (lambda: CheckpointRequest(folder).open(Fingerprint({"plan": "a"})),
                    lambda: CheckpointRequest(folder, resume=True).open(Fingerprint({"plan": "b"}))):
        try:
            attempt()
        except CheckpointError as exc:
            refusals.append(exc)
    CheckpointRequest(folder).discard()
    (folder / CHECKPOINT_FILE).write_bytes(b"not a database" * 100)
    try:
        describe_checkpoint(folder)
    except CheckpointError as exc:
        refusals.append(exc)

    assert [e.situation for e in refusals] == ["found", "different", "damaged"]
    for error in refusals:
        assert "--restart" in str(error)  # what `mnemoscope run` prints
        problem, advice = explain(error)
        assert "--" not in problem + advice, (problem, advice)
        assert "\u201cStart the audit\u201d" in advice
