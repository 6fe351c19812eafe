"""The base model as the reference (issue 17): a model fine-tuned from a public base is
audited against that base (`reference_role = "base"`), with no shadow training.

Known answers (tests/conftest.py `tiny_finetuned`): the base fine-tuned on the members
memorizes them (FAIL), the base fine-tuned the same way on other patients never saw them
(no FAIL, intervals that cover chance). The role travels to results.json beside the
reference's SHA-256 and is worded in the PDF wherever the reference is named.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from audit_core.passes.token_scores import TokenScores
from audit_core.plan.parsing import load_plan
from audit_core.probes.ez_mia import EzMia, EzMiaConfig, error_zone_score
from audit_core.probes.wbc import WINDOW_SIZES, window_score
from audit_core.results.verdicts import Verdict
from audit_core.run.outputs import write_outputs
from audit_core.run.runner import run_audit
from audit_core.tools.controls.demo import write_cohort_csv
from tests.conftest import write_plan
from tests.printed_tokens import normalized, pdf_text

CALIBRATED = ("rmia", "lira", "ez_mia", "wbc")
BASE_WORDS = "the public base model this model was fine-tuned from"


def _plan(folder: Path, model: Path, base: Path, cohorts) -> Path:
    members, non_members = folder / "members.csv", folder / "non_members.csv"
    write_cohort_csv(members, cohorts.members)
    write_cohort_csv(non_members, cohorts.non_members)
    plan = write_plan(folder, model=model, members=members, non_members=non_members,
                      probes="".join(f"[probes.{p}]\n" for p in ("loss", *CALIBRATED)))
    plan.write_text(plan.read_text().replace(
        "batch_size = 32", f'batch_size = 32\nreference = "{base}"\nreference_role = "base"'))
    return plan


@pytest.fixture(scope="module")
def finetuned_run(tmp_path_factory, tiny_finetuned):
    folder = tmp_path_factory.mktemp("finetuned-audit")
    plan = _plan(folder, tiny_finetuned.finetuned, tiny_finetuned.base, tiny_finetuned.cohorts)
    result = run_audit(load_plan(plan))
    write_outputs(result, folder / "out")
    return result, folder / "out"


@pytest.mark.slow
def test_fine_tuned_on_the_members_fails_against_its_base(finetuned_run) -> None:
    result, _ = finetuned_run
    by_id = {p.id: p for p in result.probes}
    for probe_id in CALIBRATED:
        probe = by_id[probe_id]
        assert probe.attack_strength == "reference-calibrated", probe_id
        assert probe.verdict == Verdict.FAIL, (probe_id, probe.metrics["auc"])
        assert probe.metrics["auc_ci"][0] > 0.75, probe_id
    # Against its base, the fine-tuning's gain is what is left: EZ-MIA finds more at 1% FPR
    # than the loss of the fine-tuned model alone.
    assert by_id["ez_mia"].metrics["tpr_at_1pct_fpr"] > by_id["loss"].metrics["tpr_at_1pct_fpr"]


@pytest.mark.slow
def test_fine_tuned_on_other_patients_does_not_fail_against_its_base(tmp_path: Path, tiny_finetuned) -> None:
    plan = _plan(tmp_path, tiny_finetuned.counterpart, tiny_finetuned.base, tiny_finetuned.cohorts)
    result = run_audit(load_plan(plan))
    write_outputs(result, tmp_path / "out")  # its results.json: the counterpart's figures
    for probe in result.probes:
        assert probe.verdict != Verdict.FAIL, probe.id
        low, high = probe.metrics["auc_ci"]
        assert low < 0.5 < high or abs(probe.metrics["auc"] - 0.5) < 0.1, (probe.id, probe.metrics["auc"])


@pytest.mark.slow
def test_results_json_keeps_the_role_beside_the_reference_sha256(finetuned_run) -> None:
    _, out = finetuned_run
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    reference = results["model"]["reference"]
    assert reference["role"] == "base" and len(reference["sha256"]) == 64
    assert reference["sha256"] != results["model"]["sha256"]
    assert results["plan"]["model"]["reference_role"] == "base"


@pytest.mark.slow
def test_the_report_says_the_base_model_calibrated_the_attacks(finetuned_run) -> None:
    _, out = finetuned_run
    text = " ".join(normalized(pdf_text(out / "report.pdf")).split())  # table cells wrap
    # The model table, the methods table (the strength class) and the appendix's hashes.
    assert "Reference model" in text and "Reference SHA-256" in text
    assert text.count(BASE_WORDS) >= 2
    assert f"compared with {BASE_WORDS}" in text
    assert "Base model: model.onnx" in text
    assert "a model trained without the members" not in text


def _scores(rows: list[list[float]], tops: list[list[float]] | None = None) -> TokenScores:
    arrays = tuple(np.array(r) for r in rows)
    return TokenScores(logprobs=arrays, means=arrays, stds=arrays, windows=np.ones(len(rows)),
                       tops=tuple(np.array(t) for t in tops) if tops is not None else ())


def test_error_zone_score_weighs_only_the_positions_the_model_got_wrong() -> None:
    config = EzMiaConfig()
    # Positions 2 and 3 are errors (true token below the top); 1 is right, 0 is left out.
    target = np.array([-5.0, -0.1, -2.0, -3.0])
    top = np.array([-0.1, -0.1, -0.5, -0.5])
    reference = np.array([-9.0, -9.0, -3.0, -2.5])  # +1.0 at one error, -0.5 at the other
    assert error_zone_score(target, top, reference, config) == pytest.approx(np.log(1.0 / 0.5))
    # Too few errors: no evidence either way.
    assert error_zone_score(target[:3], top[:3], reference[:3], config) == 0.0
    # Every error moved up: the most member-like, not the authors' 0.
    assert error_zone_score(target, top, reference - 5, config) > 10
    probe = EzMia()
    with pytest.raises(ValueError, match="rerun without --resume"):
        probe.reduce(config, _scores([list(target)]), _scores([list(reference)]))
    got = probe.reduce(config, _scores([list(target)], [list(top)]), _scores([list(reference)]))
    assert got.shape == (1,) and got[0] == pytest.approx(np.log(2.0))


def test_window_score_is_the_share_of_windows_the_reference_loses() -> None:
    target = np.array([-1.0, -1.0, -1.0, -1.0])
    assert window_score(target, target - 1, WINDOW_SIZES) == 1.0  # target surer everywhere
    assert window_score(target, target + 1, WINDOW_SIZES) == 0.0
    # One token far surer, three a little less sure: single tokens split 1/4, pairs 1/3...
    mixed = window_score(np.array([0.0, -1.0, -1.0, -1.0]), np.full(4, -0.9), (1, 2))
    assert mixed == pytest.approx((1 / 4 + 1 / 3) / 2)
