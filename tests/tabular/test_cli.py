"""The CLI on tabular files: inspect names the kind, run writes the three files, and every
bad tabular input ends with a message naming the file and column, and exit code 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from audit_core.cli.main import main
from audit_core.tools.controls.tabular_cohort import FEATURES, LABEL
from audit_core.tools.controls.tabular_example import example_plan


@pytest.fixture()
def small_tabular(tmp_path: Path, tabular_controls) -> Path:
    """200 members and 200 non-members of the controls, with links to their models."""
    for name, source in (("members.csv", tabular_controls.members),
                         ("non_members.csv", tabular_controls.non_members)):
        pd.read_csv(source, dtype=str).head(200).to_csv(tmp_path / name, index=False)
    for model in ("model", "reference", "logistic"):
        (tmp_path / model).symlink_to(tabular_controls.folder / model)
    return tmp_path


def _plan(folder: Path, text: str | None = None) -> Path:
    path = folder / "plan.toml"
    path.write_text(text or example_plan("model", "reference"), encoding="utf-8")
    return path


def test_inspect_names_the_kind_for_zipmap_and_tensor_outputs(tabular_controls, capsys) -> None:
    for model, output in (("model", "seq(map)"), ("logistic", "float32")):
        assert main(["inspect", str(tabular_controls.folder / model), "--json"]) == 0
        details = json.loads(capsys.readouterr().out)
        assert details["kind"] == "tabular_classifier"
        assert details["inputs"][0]["shape"][1] == len(FEATURES)
        assert any(o["type"] == output for o in details["outputs"])
        assert details["probes_offered"] == ["confidence", "entropy", "modified_entropy",
                                             "calibrated_confidence", "calibrated_entropy",
                                             "calibrated_modified_entropy"]
    assert main(["inspect", str(tabular_controls.folder / "model")]) == 0
    assert "Kind:        tabular classifier" in capsys.readouterr().out


def test_probes_lists_what_the_model_can_do(tabular_controls, demo_dir, capsys) -> None:
    assert main(["probes", "--json", "--model", str(tabular_controls.folder / "model")]) == 0
    listed = [p["id"] for p in json.loads(capsys.readouterr().out)["probes"]]
    assert "loss" not in listed and "modified_entropy" in listed
    assert main(["probes", "--json", "--model", str(demo_dir / "model")]) == 0
    listed = [p["id"] for p in json.loads(capsys.readouterr().out)["probes"]]
    assert "loss" in listed and "modified_entropy" not in listed


def test_run_writes_report_results_and_records(small_tabular: Path, capsys) -> None:
    out = small_tabular / "out"
    assert main(["run", str(_plan(small_tabular)), "--out", str(out), "--quiet"]) == 0
    assert "Overall verdict: FAIL" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert results["model"]["kind"] == "tabular_classifier"
    assert results["model"]["classes"] == ["0", "1"]
    assert results["plan"]["data"]["columns"]["features"] == list(FEATURES)
    assert results["plan"]["data"]["columns"]["label"] == LABEL
    assert results["split_validity"]["features"][0] == "feature column 'age'"
    ids = [p["id"] for p in results["probes"]]
    assert ids == ["confidence", "entropy", "modified_entropy", "calibrated_confidence",
                   "calibrated_entropy", "calibrated_modified_entropy"]
    with open(out / "records.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 400 and set(ids) <= set(rows[0])
    assert all(row["modified_entropy"] for row in rows)
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


def _broken(folder: Path, change) -> None:
    frame = pd.read_csv(folder / "members.csv", dtype=str)
    change(frame)
    frame.to_csv(folder / "members.csv", index=False)


def _set(column: str, rows: list[int], value: str):
    def change(frame):
        frame.loc[rows, column] = value
    return change


@pytest.mark.parametrize(("change", "plan_text", "expected"), [
    (lambda f: f.pop("creatinine"), None,
     "members.csv has no feature column 'creatinine'"),
    (_set("hba1c", [3, 8], "high"), None,
     "members.csv: feature column 'hba1c' has 2 non-numeric values (records 4, 9)"),
    (_set("sodium", [5], ""), None, "feature column 'sodium' has 1 missing values"),
    (_set("bmi", [0], "NaN"), None, "feature column 'bmi' has 1 missing values (NaN or empty"),
    (_set(LABEL, [2], "2"), None, "that is not one of the model's classes (0, 1; record 3)"),
    (None, example_plan("model", None).replace('"copd", ', ""),
     "lists 14 columns but model.onnx takes 15 inputs"),
    (None, example_plan("model", None).replace(f'label = "{LABEL}"\n', ""),
     "name the outcome column in 'data.columns.label'"),
    (None, example_plan("logistic", "model").replace('"copd", ', '"copd", "unknown", '),
     "lists 16 columns but model.onnx takes 15 inputs"),
], ids=["missing-column", "non-numeric", "empty", "nan", "unknown-label", "width", "no-label",
        "extra-column"])
def test_bad_tabular_input_exits_2_with_a_clear_message(small_tabular: Path, capsys, change,
                                                        plan_text, expected) -> None:
    if change is not None:
        _broken(small_tabular, change)
    code = main(["run", str(_plan(small_tabular, plan_text)), "--out",
                 str(small_tabular / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and expected in err, err
    assert "Traceback" not in err and not (small_tabular / "out" / "report.pdf").exists()
