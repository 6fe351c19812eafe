"""File ▸ Import a model… and Help ▸ Validate this installation…: the core calls run on a
worker with a progress dialog; success shows the figures, failure the error dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from desktop.model_import import AUDIT_BUTTON

# A whole `validate` (twelve known-answer audits) takes minutes on a loaded machine, and a
# conversion tens of seconds: the wait allows for load, a hang still fails the test.
CONVERT_TIMEOUT_MS = 480_000


@pytest.fixture()
def validation_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Certificates in tmp_path, and an installation record of the files as they are now
    (the committed record may lag the working tree; the files check is the core's test)."""
    from audit_core.tools.validation import installation

    folder = tmp_path / "validations"
    monkeypatch.setenv("MNEMOSCOPE_VALIDATION_DIR", str(folder))
    record = tmp_path / "installed_files.json"
    installation.record_installation(record)
    monkeypatch.setattr(installation, "RECORD_PATH", record)
    return folder


def _folders(monkeypatch: pytest.MonkeyPatch, *answers: Path) -> None:
    queue = [str(a) for a in answers]
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: queue.pop(0) if queue else ""))


def test_validate_runs_to_a_passed_certificate_and_about_cites_it(
        qtbot, window, dialogs, validation_dir: Path, validation_run,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's whole validation on its worker: the installation checks run here, the
    known-answer audits are the session's `validate` run's results, replayed (that they
    pass when run is tests/validation/test_validate.py's test; this one is the app's)."""
    from desktop.about import about_text

    replayed = validation_run.replay(monkeypatch)
    assert "never been validated" in about_text()
    window.actions["validate"].trigger()
    progress = window.tool_task
    assert progress.isVisible() and progress.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: window.validation_result is not None, timeout=CONVERT_TIMEOUT_MS)
    result = window.validation_result
    assert result.isVisible() and result.passed
    assert result.outcome.text().startswith("<b>Validation passed")
    assert " checks passed in " in result.figures.text()
    n, _, m = result.figures.text().split(" checks")[0].split()[:3]
    assert n == m and int(m) >= 10
    assert result.failed_checks.count() == 0 and not progress.isVisible()
    assert result.pdf_path.parent == validation_dir and result.pdf_path.is_file()
    result.open_pdf_button.click()
    result.open_folder_button.click()
    assert dialogs.opened == [str(result.pdf_path), str(validation_dir)]
    assert "Latest validation on this machine" in about_text() and "PASSED" in about_text()
    assert not dialogs.shown
    assert replayed == list(validation_run.plans)  # every known-answer audit, in validate's order


def test_validation_cancel_closes_and_writes_nothing(qtbot, window, validation_dir: Path) -> None:
    window.validate_installation()
    progress = window.tool_task
    progress.cancel_button.click()
    assert not progress.isVisible()
    qtbot.waitUntil(lambda: not progress.running, timeout=CONVERT_TIMEOUT_MS)
    assert window.validation_result is None
    assert not list(validation_dir.glob("*.pdf"))


def test_failed_checks_are_listed(qtbot, tmp_path: Path) -> None:
    from desktop.validation_dialog import ValidationResultDialog

    certificate = {"outcome": "failed", "passed_checks": 1, "seconds": 3.2,
                   "date": "2026-11-29T14:00:00Z",
                   "checks": [{"id": "a", "title": "Dependencies", "expected": "x", "observed": "x",
                               "passed": True},
                              {"id": "b", "title": "Tool files", "expected": "142 identical",
                               "observed": "3 changed", "passed": False}]}
    dialog = ValidationResultDialog(None, certificate, tmp_path / "c.json", tmp_path / "c.pdf")
    qtbot.addWidget(dialog)
    assert "FAILED" in dialog.outcome.text()
    assert dialog.figures.text().startswith("1 of 2 checks passed in 3.2 s")
    assert dialog.failed_checks.count() == 1
    assert "Tool files: expected 142 identical; observed 3 changed" == dialog.failed_checks.item(0).text()


@pytest.fixture(scope="module")
def gpt2_source(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from audit_core.tools.controls.tokenizer import build_tokenizer
    from tests.conversion.test_convert import _save_source

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=build_tokenizer().get_vocab_size(), n_positions=64,
                                       n_embd=32, n_layer=2, n_head=2, bos_token_id=2,
                                       eos_token_id=3, pad_token_id=0))
    return _save_source(model, tmp_path_factory.mktemp("hf") / "tiny-gpt2")


def test_import_converts_and_audit_this_model_prefills_the_model_step(
        qtbot, window, dialogs, monkeypatch: pytest.MonkeyPatch, gpt2_source: Path,
        tmp_path: Path) -> None:
    def exec_(box: QMessageBox) -> int:  # press "Audit this model" on the result box
        dialogs.shown.append(box)
        for button in box.buttons():
            if button.text() == AUDIT_BUTTON:
                button.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    out = tmp_path / "converted"
    _folders(monkeypatch, gpt2_source, out)
    window.actions["import"].trigger()
    progress = window.tool_task
    assert progress.isVisible()
    assert progress.steps.count() == 5  # listed at once, before torch has even started
    qtbot.waitUntil(lambda: bool(dialogs.shown), timeout=CONVERT_TIMEOUT_MS)
    box = dialogs.shown[0]
    assert box.objectName() == "conversionResult"
    assert "max |Δlogit|" in box.informativeText() and "identical for" in box.informativeText()
    assert progress.steps.count() >= 2 and not progress.isVisible()
    assert (out / "model.onnx").is_file()
    assert window.wizard is not None and window.screens.currentWidget() is window.wizard
    assert window.model_page.path == out
    qtbot.waitUntil(lambda: window.model_page.info is not None, timeout=60_000)
    assert window.model_page.problem() == ""
    # One parameter count: the import's result and the Model step agree (53,152 vs 52,544
    # before: the ONNX graph shares this untrained model's equal LayerNorm tensors).
    shown = window.model_page.fact_labels["parameters"].text()
    assert shown == "53,152" and f"{shown} parameters" in box.informativeText()


def test_pickled_weights_give_the_error_dialog(qtbot, window, dialogs,
                                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    source = tmp_path / "pickled"
    source.mkdir()
    (source / "config.json").write_text('{"model_type": "gpt2"}')
    (source / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    (source / "tokenizer.json").write_text("{}")
    _folders(monkeypatch, source, tmp_path / "out")
    window.import_model()
    qtbot.waitUntil(lambda: bool(dialogs.shown), timeout=CONVERT_TIMEOUT_MS)
    box = dialogs.shown[0]
    assert box.objectName() == "errorDialog"
    assert box.text() == "<b>The model could not be imported</b>"
    assert "pickled weights (pytorch_model.bin)" in box.informativeText()
    assert "Traceback" not in box.informativeText()
    assert not (tmp_path / "out").exists() and window.wizard is None


def test_choosing_no_folder_does_nothing(window, monkeypatch: pytest.MonkeyPatch) -> None:
    _folders(monkeypatch)
    window.import_model()
    assert window.tool_task is None
