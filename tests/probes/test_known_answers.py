"""Known answers through the whole engine: models that memorize on purpose are flagged
with their planted records named; a model that never saw the members is not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_core.fingerprint import file_sha256
from audit_core.plan.parsing import load_plan
from audit_core.results.verdicts import Verdict
from audit_core.run.runner import run_audit
from audit_core.tools.controls.demo import write_cohort_csv
from tests.conftest import write_plan

MEMBERSHIP = ("loss", "zlib", "min_k", "min_k_plus_plus")


def _audit(tmp_path: Path, model_dir: Path, cohorts, prefix: int = 24, suffix: int = 16):
    members, non_members = tmp_path / "members.csv", tmp_path / "non_members.csv"
    write_cohort_csv(members, cohorts.members)
    write_cohort_csv(non_members, cohorts.non_members)
    probes = ("[probes.loss]\n[probes.zlib]\n[probes.min_k]\n[probes.min_k_plus_plus]\n"
              f"[probes.extraction]\nprefix_tokens = {prefix}\nsuffix_tokens = {suffix}\n")
    plan = write_plan(tmp_path, model=model_dir, members=members, non_members=non_members, probes=probes)
    return run_audit(load_plan(plan))


def test_demo_model_fails_and_names_exactly_its_planted_records(demo_outputs: Path,
                                                                ground_truth: dict) -> None:
    """Read from the session's `make demo` run (tests/conftest.py demo_outputs), not a second
    audit of the same plan: results.json is what the CLI, the desktop and the report read."""
    result = json.loads((demo_outputs / "results.json").read_text(encoding="utf-8"))
    assert result["overall_verdict"] == Verdict.FAIL
    by_id = {p["id"]: p for p in result["probes"]}
    extraction = by_id["extraction"]
    assert extraction["verdict"] == Verdict.FAIL
    assert {e["id"] for e in extraction["extracted"]} == set(ground_truth["planted_ids"])
    assert {e["role"] for e in extraction["extracted"]} == {"members"}
    for probe_id in MEMBERSHIP:
        metrics = by_id[probe_id]["metrics"]
        assert by_id[probe_id]["verdict"] == Verdict.FAIL, probe_id
        assert metrics["auc_ci"][0] > 0.75, probe_id
        assert metrics["tpr_at_1pct_fpr"] > 0.05, probe_id  # 5x the false-positive rate
    # issue 6: a valid split, figures judged on held-out halves, and every stratum assessed
    assert result["split_validity"]["reliable"] is True and result["split_validity"]["auc"] < 0.55
    for probe_id in MEMBERSHIP:
        probe = by_id[probe_id]
        assert probe["reliable"] and probe["attack_strength"] == "reference-free"
        assert probe["metrics"]["held_out_fpr"] < 0.03 and probe["metrics"]["epsilon_lower_bound"] > 1.0
        shown = [s for s in probe["subgroups"] if not s["suppressed"]]
        assert {s["column"] for s in shown} == {"age_band", "sex", "rare_codes"}
        assert all(s["significant"] for s in shown), probe_id
    # the PDF refers to them only by pseudonym
    assert all(e["ref"].startswith("R-") and e["id"] not in e["ref"] for e in extraction["extracted"])


@pytest.mark.slow
def test_tiny_memorizing_control_fails_with_its_planted_records(tmp_path: Path, tiny_positive) -> None:
    result = _audit(tmp_path, tiny_positive.export.out_dir, tiny_positive.cohorts, prefix=12, suffix=10)
    assert result.overall_verdict is Verdict.FAIL
    extraction = {p.id: p for p in result.probes}["extraction"]
    # Three planted records against none of 300 non-members is not significant on its own
    # (one-sided Fisher p ~ 0.12), so extraction warns; membership carries the FAIL.
    assert extraction.verdict in (Verdict.WARN, Verdict.FAIL)
    assert set(tiny_positive.cohorts.planted_ids) <= {e["id"] for e in extraction.extracted}


def test_negative_control_gets_no_fail_and_chance_level_intervals(validation_run, demo_dir: Path) -> None:
    """The demo's 1,000 members and 1,000 non-members against a model that saw neither: the
    committed negative control's audit (resources/controls/negative/plan.toml, the probes of
    `write_plan` with min_k's k = 0.2), which `validate` runs; its session run is read, not a
    second audit of the same 2,000 records."""
    negative = demo_dir.parent / "controls" / "negative"
    result = validation_run.audit(negative / "plan.toml")
    # The demo's own files, all 1,000 + 1,000 records.
    assert {(d["role"], d["sha256"], d["records"]) for d in result["datasets"]} == {
        (role, file_sha256(demo_dir / f"{role}.csv"), 1000) for role in ("members", "non_members")}
    assert result["overall_verdict"] != Verdict.FAIL
    assert {p["id"] for p in result["probes"]} == {*MEMBERSHIP, "extraction"}
    for probe in result["probes"]:
        assert probe["verdict"] not in (Verdict.FAIL, Verdict.ERROR), probe["id"]
        if probe["id"] in MEMBERSHIP:
            low, high = probe["metrics"]["auc_ci"]
            assert low <= 0.5 <= high, (probe["id"], low, high)
            assert probe["metrics"]["epsilon_lower_bound"] <= 1.0
    extraction = {p["id"]: p for p in result["probes"]}["extraction"]
    assert extraction["metrics"]["extracted_members"] == 0
