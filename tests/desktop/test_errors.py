"""Bad input gives a dialog that says what is wrong and what to do; no traceback in the
face of the user; the app stays usable."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audit_core.plan.parsing import load_plan
from audit_core.plan.writing import write_plan
from tests.desktop.conftest import wait_idle, wait_ready

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def _no_traceback(dialogs) -> None:
    for text in dialogs.texts():
        assert "Traceback" not in text and 'File "' not in text


def test_a_corrupt_model_is_explained_and_another_can_be_chosen(qtbot, window, dialogs, model_copy: Path) -> None:
    (model_copy / "model.onnx").write_bytes(b"this is not an ONNX graph" * 10)
    window.new_audit()
    window.model_page.set_model_path(model_copy)
    qtbot.waitUntil(lambda: bool(dialogs.shown), timeout=60_000)
    box = dialogs.shown[0]
    assert box.text() == "<b>This model cannot be used</b>"
    assert "model.onnx is not a valid ONNX model" in box.informativeText()
    assert "Choose another model" in box.informativeText()
    _no_traceback(dialogs)
    assert "cannot use this model" in window.model_page.status.text()
    assert not window.wizard.next_button.isEnabled()

    window.model_page.set_model_path(DEMO / "model")
    qtbot.waitUntil(lambda: window.model_page.info is not None, timeout=60_000)
    assert window.wizard.next_button.isEnabled()
    assert len(dialogs.shown) == 1


def test_a_file_missing_the_mapped_column_is_explained(qtbot, window, dialogs, tmp_path: Path) -> None:
    frame = pd.read_csv(DEMO / "non_members.csv", dtype=str).head(50)
    broken = tmp_path / "non_members_without_codes.csv"
    frame.drop(columns=["codes"]).to_csv(broken, index=False)

    window.new_audit()
    window.model_page.set_model_path(DEMO / "model")
    qtbot.waitUntil(lambda: window.model_page.info is not None, timeout=60_000)
    window.wizard.go(1)
    window.data_page.set_file("members", DEMO / "members.csv")
    qtbot.waitUntil(lambda: window.data_page.previews["members"] is not None, timeout=60_000)
    window.data_page.set_file("non_members", broken)
    qtbot.waitUntil(lambda: bool(dialogs.shown), timeout=60_000)
    info = dialogs.shown[0].informativeText()
    assert "non_members_without_codes.csv has no column 'codes'" in info
    _no_traceback(dialogs)
    # The reason is shown once, on the step; the wizard's bottom bar points at it.
    assert "has no column 'codes'" in window.data_page.mapping_problem.text()
    assert window.wizard.hint.text() == "Fix the column mapping: see the message above."
    assert not window.wizard.next_button.isEnabled()

    window.data_page.set_file("non_members", DEMO / "non_members.csv")
    wait_ready(qtbot, window)
    assert window.wizard.next_button.isEnabled()


def test_an_opened_plan_whose_file_lacks_the_column_fails_at_start_with_a_dialog(
        qtbot, window, dialogs, tmp_path: Path) -> None:
    frame = pd.read_csv(DEMO / "non_members.csv", dtype=str).head(50)
    frame.rename(columns={"codes": "sequence"}).to_csv(tmp_path / "renamed.csv", index=False)
    plan = load_plan(DEMO / "plan.toml")
    from dataclasses import replace

    plan = replace(plan, data=replace(plan.data, non_members=tmp_path / "renamed.csv"))
    write_plan(plan, tmp_path / "plan.toml")

    window.open_plan(tmp_path / "plan.toml")
    wait_ready(qtbot, window)
    window.run_page.folder_field.setText(str(tmp_path / "out"))
    # The Data step already knows; Start sends the user there with the reason.
    window.run_page.start_button.click()
    assert window.wizard.current == 1
    assert "has no column 'codes'" in dialogs.informations[0]

    # Forced past the pages' checks, the core refuses it too, as a dialog.
    window.wizard.go(4, force=True)
    window.controller.start(window.current_plan(), tmp_path / "out")
    window.run_page.show_running(["loss"])
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: bool(dialogs.shown), timeout=60_000)
    assert "renamed.csv has no column 'codes'" in dialogs.shown[-1].informativeText()
    _no_traceback(dialogs)
    assert window.run_page.modes.currentIndex() == 0
    assert window.run_page.start_button.isEnabled() and window.actions["new"].isEnabled()
    assert not (tmp_path / "out" / "report.pdf").exists()


def test_a_plan_with_an_unknown_key_is_refused_with_its_name(qtbot, window, dialogs, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[audit]\ntitel = "typo"\n[model]\npath = "m"\n[data]\nmembers = "a.csv"\nnon_members = "b.csv"\n')
    window.open_plan(bad)
    assert "unknown key 'audit.titel'" in dialogs.shown[0].informativeText()
    assert window.screens.currentWidget() is window.start_page
