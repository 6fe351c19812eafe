"""The app audits tabular classifiers and encoders too: each kind gets the Data step its
model reads (feature and outcome columns for a classifier, a record column for an
encoder), only the probes for its kind, an estimate, and a plan the CLI reruns to the
same results.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from audit_core.cli.main import main
from audit_core.plan.parsing import load_plan
from audit_core.probes import PROBES
from tests.desktop.conftest import AUDIT_TIMEOUT_MS, wait_ready

ROOT = Path(__file__).resolve().parents[2]
TABULAR = ROOT / "resources" / "examples" / "tabular"
DEMO = ROOT / "resources" / "demo"


def _next(qtbot, wizard) -> None:
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)


def _visible_probes(window) -> list[str]:
    return [pid for pid, box in window.probes_page.boxes.items() if not box.isHidden()]


def _choose_tabular(qtbot, window, reference: bool = True) -> None:
    window.start_page.new_button.click()
    window.model_page.set_model_path(TABULAR / "model")
    if reference:
        window.model_page.set_reference(TABULAR / "reference")
    qtbot.waitUntil(lambda: window.model_page.info is not None, timeout=60_000)
    _next(qtbot, window.wizard)
    window.data_page.set_file("members", TABULAR / "members.csv")
    window.data_page.set_file("non_members", TABULAR / "non_members.csv")
    wait_ready(qtbot, window)


def test_tabular_audit_from_start_to_pdf_and_back_through_the_cli(qtbot, window, dialogs,
                                                                    tmp_path: Path, capsys) -> None:
    _choose_tabular(qtbot, window)
    facts = window.model_page.fact_labels
    assert facts["kind"].text().startswith("Tabular classifier")
    assert facts["inputs"].text() == "15 features per record"
    assert window.model_page.status.text() == "This model can be audited."

    # The Data step shows what a classifier reads: id, inputs (the example's own 15, in
    # order: every numeric column but the id and the outcome), outcome, subgroups.
    data, example = window.data_page, load_plan(TABULAR / "plan.toml")
    assert data.tabular.isVisible()
    assert not data.sequence_combo.isVisible() and not data.kind_combo.isVisible()
    assert data.id_combo.currentText() == "patient_id"
    assert data.tabular.features() == example.data.columns.features
    assert data.tabular.label() == "readmitted_30d"
    assert data.mapping()[3] == ("age_band", "sex")
    assert data.problem() == ""
    _next(qtbot, window.wizard)

    # Only the tabular probes are listed; with the reference, the calibrated ones too.
    tabular_probes = [p.id for p in PROBES if p.needs.applies_to("tabular_classifier")]
    assert len(tabular_probes) == 6 and "loss" not in tabular_probes
    assert _visible_probes(window) == tabular_probes
    assert list(window.probes_page.selected()) == tabular_probes
    _next(qtbot, window.wizard)
    window.details_page.title.setText("Tabular desktop audit")
    _next(qtbot, window.wizard)
    assert window.wizard.current == 4
    # A tabular audit takes seconds: the estimate is timed, not refused.
    qtbot.waitUntil(lambda: "Estimated time" in window.run_page.estimate.text(), timeout=60_000)
    assert "s on this computer" in window.run_page.estimate.text()
    window.run_page.folder_field.setText(str(tmp_path / "app"))
    qtbot.mouseClick(window.run_page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.screens.currentWidget() is window.results_page, timeout=AUDIT_TIMEOUT_MS)

    results = window.results_page
    assert results.banner_badge.text() == "FAIL"  # the example forest memorized its members
    assert [c.probe.id for c in results.probe_cards()] == tabular_probes
    finished = results.finished_audit
    assert finished.files["report"].read_bytes().startswith(b"%PDF")
    assert finished.files["report"].stat().st_size > 10_000
    assert not results.grab().isNull()

    # Save plan: a plan file with the classifier's columns, which the app opens to the same
    # fields and the CLI runs to the same results.json, byte for byte.
    dialogs.save_path = tmp_path / "saved.toml"
    window.save_plan()  # File > Save plan: the setup that just ran
    saved = load_plan(dialogs.save_path)
    columns = saved.data.columns
    assert (columns.id, columns.features, columns.label, columns.subgroups) == (
        "patient_id", example.data.columns.features, "readmitted_30d", ("age_band", "sex"))
    assert saved.model.reference.resolve() == (TABULAR / "reference").resolve()
    assert list(saved.probes) == tabular_probes

    window.open_plan(dialogs.save_path)
    wait_ready(qtbot, window)
    qtbot.waitUntil(lambda: window.data_page.tabular.isVisibleTo(window.data_page), timeout=10_000)
    data = window.data_page
    assert (data.id_combo.currentText(), data.tabular.features(), data.tabular.label(),
            data.mapping()[3]) == ("patient_id", columns.features, "readmitted_30d", ("age_band", "sex"))
    assert list(window.probes_page.selected()) == tabular_probes
    assert window.wizard.store().to_plan().as_dict() == saved.as_dict()

    assert main(["run", str(dialogs.save_path), "--out", str(tmp_path / "cli"), "--quiet"]) in (0, 1)
    capsys.readouterr()
    assert (tmp_path / "cli" / "results.json").read_bytes() == finished.files["results"].read_bytes()
    assert not dialogs.shown


def test_a_feature_count_other_than_the_models_is_refused_before_the_run(qtbot, window, dialogs) -> None:
    _choose_tabular(qtbot, window, reference=False)
    data = window.data_page
    features = data.tabular.features()
    data.tabular.set_checked(features[:-1])
    problem = data.problem()
    assert "do not fit the model" in problem
    assert "lists 14 columns" in problem and "takes 15 inputs per record" in problem
    assert not window.wizard.next_button.isEnabled()
    # The step shows the reason in full above; the bottom bar points at it, not repeats it.
    assert data.mapping_problem.text() == problem
    assert window.wizard.hint.text() == "Fix the column mapping: see the message above."
    # Start from the Run step is refused with the same words, and nothing runs.
    window.wizard.go(4, force=True)
    window.start_audit()
    assert not window.controller.busy and window.wizard.current == 1
    assert dialogs.informations == [problem]
    # "Tick the numeric columns" restores the guess: every numeric column but id and outcome.
    data.tabular.numeric_button.click()
    assert data.tabular.features() == features and data.problem() == ""

    # The right count but a text column among the inputs: the core's reading of the files
    # (the estimate reads them as the run does) says so on the Run step, before Start.
    data.tabular.set_checked([*features[:-1], "sex"])
    assert data.problem() == ""
    dialogs.informations.clear()
    window.wizard.go(4, force=True)
    qtbot.waitUntil(lambda: "Not ready to run" in window.run_page.estimate.text(), timeout=60_000)
    text = window.run_page.estimate.text()
    assert "feature column 'sex'" in text and "non-numeric" in text and "members.csv" in text


def _tiny_encoder(folder: Path) -> Path:
    """An encoder export: token ids -> an embedding row per token (mean-pooled by the
    adapter), with the demo's code tokenizer. Untrained: it only has to be one."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True)
    shutil.copy(DEMO / "model" / "tokenizer.json", folder / "tokenizer.json")
    vocab = json.loads((DEMO / "model" / "config.json").read_text())["vocab_size"]
    table = np.random.default_rng(0).normal(size=(vocab, 8)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"])], "encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", 8])],
        [numpy_helper.from_array(table, "table")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              str(folder / "model.onnx"))
    (folder / "config.json").write_text(json.dumps({"max_position_embeddings": 512}))
    return folder


def test_an_encoder_goes_through_the_record_data_step(qtbot, window, dialogs, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    model = _tiny_encoder(tmp_path / "encoder")
    window.start_page.new_button.click()
    window.model_page.set_model_path(model)
    qtbot.waitUntil(lambda: window.model_page.info is not None, timeout=60_000)
    assert window.model_page.info.kind == "encoder"
    assert window.model_page.fact_labels["kind"].text().startswith("Text/code encoder")
    assert not window.model_page.reference_box.isVisible()  # the core refuses one for encoders
    _next(qtbot, window.wizard)
    data = window.data_page
    data.set_file("members", DEMO / "members.csv")
    data.set_file("non_members", DEMO / "non_members.csv")
    wait_ready(qtbot, window)
    assert data.sequence_combo.isVisible() and not data.tabular.isVisible()
    assert data.mapping() == ("patient_id", "codes", "codes", ("age_band", "sex"))
    _next(qtbot, window.wizard)
    assert _visible_probes(window) == [p.id for p in PROBES if p.needs.applies_to("encoder")]
    assert list(window.probes_page.selected()) == ["embedding_distance"]
    window.wizard.go(4)
    assert window.wizard.current == 4
    qtbot.waitUntil(lambda: "Estimated time" in window.run_page.estimate.text(), timeout=60_000)
    plan = window.current_plan()
    assert plan.data.columns.sequence == "codes" and not plan.data.columns.features
    assert plan.model.reference is None
    window.run_page.folder_field.setText(str(tmp_path / "out"))
    qtbot.mouseClick(window.run_page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.screens.currentWidget() is window.results_page, timeout=AUDIT_TIMEOUT_MS)
    cards = window.results_page.probe_cards()
    assert [c.probe.id for c in cards] == ["embedding_distance"]
    # An untrained encoder never saw the members: no memorization to find.
    assert cards[0].badge.text() in ("PASS", "INCONCLUSIVE", "WARN")
    assert window.results_page.finished_audit.files["report"].stat().st_size > 10_000
    assert not dialogs.shown
