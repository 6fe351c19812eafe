"""The run-time estimate of a tabular audit: timed on the audit's own work (it used to load
the model as a language model and fail), and refusing what the run refuses, in its words."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from audit_core.errors import DataError, PlanError
from audit_core.plan.parsing import load_plan
from audit_core.run.estimate import estimate_run

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "tabular" / "plan.toml"


def _with_features(plan, features):
    columns = dataclasses.replace(plan.data.columns, features=tuple(features))
    return dataclasses.replace(plan, data=dataclasses.replace(plan.data, columns=columns))


def test_a_tabular_estimate_counts_the_rows_and_takes_the_probes_into_account() -> None:
    plan = load_plan(EXAMPLE)
    estimate = estimate_run(plan, calibration=False)
    assert (estimate.records, estimate.tokens, estimate.sampled_records) == (1000, 0, 1000)
    # Six probes at 0.3 s each beyond the shared work: more than the probes' share alone.
    assert estimate.seconds > 6 * 0.3
    # A workstation calibration (of language models) is not used for a classifier.
    assert estimate_run(plan, calibration={"reference": {"parameters": 1}}).source == "sample"


def test_the_estimate_refuses_what_the_run_refuses() -> None:
    plan = load_plan(EXAMPLE)
    features = plan.data.columns.features
    with pytest.raises(PlanError, match="lists 14 columns but model.onnx takes 15 inputs"):
        estimate_run(_with_features(plan, features[:-1]), calibration=False)
    with pytest.raises(DataError, match="feature column 'sex' has 500 non-numeric values"):
        estimate_run(_with_features(plan, [*features[:-1], "sex"]), calibration=False)


def test_the_cli_states_a_tabular_estimate_in_records_not_tokens(tmp_path: Path, monkeypatch, capsys) -> None:
    import json

    from audit_core.cli.main import main

    config = tmp_path / "config"
    config.mkdir()
    (config / "calibration.json").write_text(json.dumps(
        {"format": "mnemoscope-calibration/1", "created_utc": "2026-11-29T00:00:00Z",
         "reference": {"parameters": 1_000_000}, "scoring_tokens_per_s": 1000.0,
         "generation": {"batch_16_tokens_per_s": 100.0}}))
    monkeypatch.setenv("MNEMOSCOPE_CONFIG_DIR", str(config))
    assert main(["run", str(EXAMPLE), "--out", str(tmp_path / "out")]) == 0
    line = next(x for x in capsys.readouterr().err.splitlines() if "estimated time" in x)
    assert "(1,000 records; timed on 1,000 records)" in line and "tokens" not in line
