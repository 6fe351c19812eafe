"""resources/examples/meds: the EHRMamba-style model (Mamba2, side inputs) audited straight
from its MEDS root FAILs and names exactly its planted subjects in records.csv; the
counterpart that never saw the members extracts no one; and the engine scores a record
as the training did (the side inputs it feeds are the ones the model was trained on)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from audit_core.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "meds"


def _planted() -> list[str]:
    truth = json.loads((EXAMPLE / "ground_truth.json").read_text())
    return sorted(str(p["subject_id"]) for p in truth["planted"])


def test_example_plan_fails_and_names_the_planted_subjects(tmp_path: Path) -> None:
    assert main(["run", str(EXAMPLE / "plan.toml"), "--out", str(tmp_path)]) == 0  # a finding is not an error
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["overall_verdict"] == "fail"
    with (tmp_path / "records.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    extracted = sorted(r["id"] for r in rows if r["extraction"] == "1")
    assert extracted == _planted()
    assert all(r["role"] == "members" for r in rows if r["id"] in extracted)
    # The engine's per-record loss is the one the control measured in torch at build time.
    truth = json.loads((EXAMPLE / "ground_truth.json").read_text())
    by_id = {r["id"]: -float(r["loss"]) for r in rows if r["role"] == "members"}
    measured = truth["mean_token_loss"]["planted_members"]
    assert [round(by_id[i], 2) for i in _planted()] == pytest.approx(measured, abs=0.01)


def test_counterpart_that_never_saw_the_members_extracts_no_one(validation_run) -> None:
    # `validate` audits this very plan: its result is read from the session's run.
    results = validation_run.audit(EXAMPLE / "validation_negative.toml")
    assert results["overall_verdict"] != "fail"
    extraction = next(p for p in results["probes"] if p["id"] == "extraction")
    assert extraction["metrics"]["extracted_members"] == 0 and not extraction["extracted"]
