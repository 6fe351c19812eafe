"""The import dialog lists its steps from the start, greyed, and ticks them as the work
passes them (it showed only "Starting…" and an empty list while torch loaded)."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from desktop.model_import import conversion_steps
from desktop.task_dialog import TaskDialog


def _states(dialog: TaskDialog) -> list[tuple[bool, Qt.CheckState]]:
    items = [dialog.steps.item(i) for i in range(dialog.steps.count())]
    return [(bool(item.flags() & Qt.ItemFlag.ItemIsEnabled), item.checkState()) for item in items]


def test_planned_steps_show_at_once_and_are_ticked_as_they_finish(qtbot) -> None:
    gate = threading.Event()

    def work(report, cancel):
        assert gate.wait(60)  # until the test has seen the dialog before any step
        for message in ("loading /models/tiny (gpt2) from local files",
                        "exporting the KV-cache ONNX graph", "checking onnxruntime against torch"):
            report(0.0, message)
        return "converted"

    dialog = TaskDialog(None, "Import a model", "Converting tiny", work, "conversion",
                        determinate=False, planned=conversion_steps())
    qtbot.addWidget(dialog)
    dialog.start()
    unchecked, checked = Qt.CheckState.Unchecked, Qt.CheckState.Checked
    labels = [dialog.steps.item(i).text() for i in range(dialog.steps.count())]
    assert labels == [label for _key, label in conversion_steps()] and len(labels) == 5
    assert _states(dialog) == [(True, unchecked)] + [(False, unchecked)] * 4
    assert dialog.step.text() == "Start torch and transformers…"
    # Every planned step shows whole: the list is as tall as its rows.
    assert dialog.steps.maximumHeight() >= dialog.steps.sizeHintForRow(0) * 5

    with qtbot.waitSignal(dialog.succeeded, timeout=30_000):
        gate.set()
    assert _states(dialog) == [(True, checked), (True, checked), (True, checked),
                               (False, unchecked), (True, checked)]
    assert dialog.steps.item(3).text().endswith("(not needed for this model)")
