"""The Probes step on clinical notes: the code tests (T1 trajectory, T5 perturbation) are
greyed out with the reason before anything runs, left out of the plan, and offered again
when the records are codes (probes/applicability.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from tests.desktop.conftest import wait_ready

NOTES = Path(__file__).resolve().parents[2] / "resources" / "controls" / "notes"
CODE_TESTS = ("trajectory", "perturbation")


def test_code_tests_are_greyed_out_with_the_reason_for_notes(qtbot, window) -> None:
    window.start_page.new_button.click()
    wizard = window.wizard
    window.model_page.set_model_path(NOTES / "model")
    qtbot.waitUntil(lambda: window.model_page.info is not None, timeout=60_000)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    data = window.data_page
    data.set_file("members", NOTES / "members.csv")
    data.set_file("non_members", NOTES / "non_members.csv")
    wait_ready(qtbot, window)
    data.kind_combo.setCurrentIndex(data.kind_combo.findData("text"))
    assert data.mapping()[2] == "text"
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    boxes = window.probes_page.boxes
    for probe_id in CODE_TESTS:
        assert not boxes[probe_id].isEnabled()
        assert boxes[probe_id].reason.text() == ("Does not apply to these records: it reads "
                                                 "sequences of medical codes, and these records "
                                                 "are free text.")
    selected = window.probes_page.selected()
    assert not set(CODE_TESTS) & set(selected)
    assert {"sensitive_attributes", "vulnerable_subgroups"} <= set(selected)
    assert window.probes_page.problem() == ""
    data.kind_combo.setCurrentIndex(data.kind_combo.findData("codes"))  # codes again: offered
    assert all(boxes[p].isEnabled() and not boxes[p].reason.text() for p in CODE_TESTS)
