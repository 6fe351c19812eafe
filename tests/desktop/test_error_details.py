"""An error's "Show details" says the cause in words, never a traceback; the technical
record goes to the log file, without exception messages (they may quote a record), and
the dialog names that file."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from audit_core.errors import ModelError
from desktop.error_dialog import error_box

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"
RECORD = "Jane Q Patient 1957"  # stands for a record value an exception might quote


def _fail_deep() -> None:
    raise ValueError(f"could not convert string to float: '{RECORD}'")


def _traceback_free(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text and RECORD not in text


def test_an_unexpected_error_names_what_failed_and_the_log_file(qtbot, log_folder: Path) -> None:
    try:
        _fail_deep()
    except ValueError as exc:
        box = error_box(None, "This model cannot be used", exc, traceback.format_exc())
    qtbot.addWidget(box)
    details = box.detailedText()
    _traceback_free(details)
    _traceback_free(box.informativeText())
    assert "What failed: This model cannot be used" in details
    assert "unexpected ValueError in" in details and "test_error_details.py" in details
    log_file = log_folder / "mnemoscope.log"
    assert str(log_file) in details
    logged = log_file.read_text(encoding="utf-8")
    assert 'File "' in logged and "_fail_deep" in logged and "ValueError" in logged
    assert RECORD not in logged  # the exception's message may quote patient data


def test_a_core_error_shows_its_message_as_the_cause(qtbot) -> None:
    try:
        try:
            _fail_deep()
        except ValueError as inner:
            raise ModelError("model.onnx is not a valid ONNX model") from inner
    except ModelError as exc:
        box = error_box(None, "This model cannot be used", exc, traceback.format_exc())
    qtbot.addWidget(box)
    details = box.detailedText()
    _traceback_free(details)
    assert details.startswith("Cause: model.onnx is not a valid ONNX model")
    assert "model error (ModelError)" in details
    assert "raised after a ValueError in" in details and "_fail_deep" in details


def test_the_model_step_shows_no_traceback_for_an_unexpected_error(
        qtbot, window, dialogs, monkeypatch: pytest.MonkeyPatch, log_folder: Path) -> None:
    import desktop.pages.model_page as model_page

    def broken(path, context):
        raise RuntimeError(f"unexpected state for {RECORD}")

    monkeypatch.setattr(model_page, "_inspect", broken)
    window.new_audit()
    window.model_page.set_model_path(DEMO / "model")
    qtbot.waitUntil(lambda: bool(dialogs.shown), timeout=60_000)
    box = dialogs.shown[0]
    _traceback_free(box.detailedText())
    assert "RuntimeError" in box.detailedText()
    assert str(log_folder / "mnemoscope.log") in box.detailedText()
    assert "broken" in (log_folder / "mnemoscope.log").read_text(encoding="utf-8")
