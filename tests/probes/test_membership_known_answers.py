"""Known answers for issue 6: the split check, the reference-calibrated attacks and the
per-subgroup figures, each on control data whose truth is known by construction."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from audit_core.data.cohort import Role
from audit_core.data.loading import load_cohort
from audit_core.data.split_validity import check_split
from audit_core.errors import PlanError
from audit_core.plan.parsing import ColumnMapping, load_plan
from audit_core.results.verdicts import Verdict
from audit_core.run.runner import run_audit
from audit_core.tools.controls.cohort import PatientRecord, generate_cohort
from audit_core.tools.controls.demo import split_population, write_cohort_csv
from tests.conftest import write_plan

COLUMNS = ColumnMapping(id="patient_id", sequence="codes", kind="codes", subgroups=("age_band", "sex"))

# A later period codes the same conditions differently: more specific successors of common
# codes, and COVID-19 (U07.1, in ICD-10-CM since 2020) where a cold used to be coded.
LATER_CODING = {"E11.9": "E11.65", "I10": "I11.9", "J06.9": "U07.1", "E78.5": "E78.2"}


def later_period(records: list[PatientRecord]) -> list[PatientRecord]:
    return [dataclasses.replace(r, codes=" ".join(LATER_CODING.get(c, c) for c in r.codes.split()))
            for r in records]


def _cohorts(tmp_path: Path, members: list[PatientRecord], non_members: list[PatientRecord]):
    paths = tmp_path / "members.csv", tmp_path / "non_members.csv"
    write_cohort_csv(paths[0], members)
    write_cohort_csv(paths[1], non_members)
    return {Role.MEMBERS: load_cohort(paths[0], Role.MEMBERS, COLUMNS),
            Role.NON_MEMBERS: load_cohort(paths[1], Role.NON_MEMBERS, COLUMNS)}, paths


def test_split_check_passes_a_random_split_and_trips_on_a_later_period(tmp_path: Path) -> None:
    population = generate_cohort(600, seed=61, id_prefix="P")
    members, same_period = split_population(population, 300, seed=62)
    fair, _ = _cohorts(tmp_path, members, same_period)
    good = check_split(fair, "codes", max_auc=0.6, folds=5, rng=np.random.default_rng(1))
    assert good.reliable and good.auc <= 0.6 and good.auc_ci[0] <= 0.5 <= good.auc_ci[1] + 0.02

    later = later_period(generate_cohort(300, seed=63, id_prefix="L"))
    shifted, _ = _cohorts(tmp_path, members, later)
    bad = check_split(shifted, "codes", max_auc=0.6, folds=5, rng=np.random.default_rng(1))
    assert not bad.reliable and bad.auc_ci[0] > 0.7
    assert bad.feature_aucs[0][0] == "which codes occur"  # the telling feature is named
    assert "INCONCLUSIVE" in bad.explanation and "which codes occur" in bad.explanation


def test_demo_split_is_valid(demo_dir: Path) -> None:
    cohorts = {role: load_cohort(demo_dir / f"{role.value}.csv", role, COLUMNS) for role in Role}
    check = check_split(cohorts, "codes", max_auc=0.6, folds=5, rng=np.random.default_rng(7))
    assert check.reliable and check.auc < 0.55 and check.auc_ci[0] < 0.5


@pytest.mark.slow
def test_shifted_split_marks_every_membership_verdict_unreliable(tmp_path: Path, tiny_negative,
                                                                 tiny_cohorts) -> None:
    """A model that saw neither file 'tells them apart' on a time shift; the check says so."""
    later = later_period(generate_cohort(300, seed=63, id_prefix="L"))
    _, (members, non_members) = _cohorts(tmp_path, tiny_cohorts.members, later)
    probes = "[probes.loss]\n[probes.min_k_plus_plus]\n[probes.rmia]\n"
    plan = write_plan(tmp_path, model=tiny_negative.model_dir, members=members,
                      non_members=non_members, probes=probes)
    result = run_audit(load_plan(plan))
    split = result.as_dict()["split_validity"]
    assert split["reliable"] is False and split["auc"] > 0.6
    for probe in result.probes:
        assert probe.verdict is Verdict.INCONCLUSIVE and probe.reliable is False, probe.id
        assert probe.findings[0].startswith("Unreliable: the split check")
        assert probe.as_dict()["verdict_if_split_valid"] in ("pass", "warn", "fail", "inconclusive")


@pytest.mark.slow
def test_reference_calibrated_attacks_beat_loss_at_low_fpr(tmp_path: Path, tiny_positive,
                                                           tiny_negative) -> None:
    """The memorizing control against a reference trained on other patients (same tokenizer)."""
    cohorts = tiny_positive.cohorts
    members, non_members = tmp_path / "members.csv", tmp_path / "non_members.csv"
    write_cohort_csv(members, cohorts.members)
    write_cohort_csv(non_members, cohorts.non_members)
    plan = write_plan(tmp_path, model=tiny_positive.export.out_dir, members=members,
                      non_members=non_members, probes="[probes.loss]\n[probes.lira]\n[probes.rmia]\n",
                      extra="")
    text = plan.read_text().replace("batch_size = 32", f'batch_size = 32\nreference = "{tiny_negative.model_dir}"')
    plan.write_text(text)
    result = run_audit(load_plan(plan))
    by_id = {p.id: p for p in result.probes}
    loss, lira, rmia = by_id["loss"], by_id["lira"], by_id["rmia"]
    assert loss.attack_strength == "reference-free"
    assert lira.attack_strength == rmia.attack_strength == "reference-calibrated"
    assert result.model["reference"]["sha256"] != result.model["sha256"]
    tpr = {p.id: p.metrics["tpr_at_1pct_fpr"] for p in (loss, lira, rmia)}
    assert tpr["lira"] > tpr["loss"] and tpr["rmia"] > tpr["loss"], tpr
    assert lira.metrics["auc"] >= loss.metrics["auc"] - 0.01


def test_reference_probe_without_a_reference_is_refused(small_plan: Path) -> None:
    small_plan.write_text(small_plan.read_text() + "\n[probes.lira]\n")
    with pytest.raises(PlanError, match="needs a reference model"):
        run_audit(load_plan(small_plan))


def test_reference_with_another_tokenizer_is_refused(small_plan: Path, model_copy: Path) -> None:
    import json

    from audit_core.errors import ModelError

    tokenizer = json.loads((model_copy / "tokenizer.json").read_text())
    vocab = tokenizer["model"]["vocab"]
    first, second = sorted(vocab, key=vocab.get)[5:7]
    vocab[first], vocab[second] = vocab[second], vocab[first]  # two codes swap ids
    (model_copy / "tokenizer.json").write_text(json.dumps(tokenizer))
    text = small_plan.read_text().replace("batch_size = 32", f'batch_size = 32\nreference = "{model_copy}"')
    small_plan.write_text(text)
    with pytest.raises(ModelError, match="different tokenizer"):
        run_audit(load_plan(small_plan))


def test_runner_overrides_membership_but_not_extraction_on_a_shifted_split(tmp_path: Path,
                                                                           demo_dir: Path) -> None:
    """Demo members against later-period non-members: membership cannot be credited to the
    model (INCONCLUSIVE, with the verdict it would have had); extraction is not a contrast of
    the two files' make-up and keeps its verdict."""
    import pandas as pd

    members = pd.read_csv(demo_dir / "members.csv", dtype=str).head(200)
    later = pd.read_csv(demo_dir / "non_members.csv", dtype=str).head(200)
    later["codes"] = [" ".join(LATER_CODING.get(c, c) for c in s.split()) for s in later["codes"]]
    paths = tmp_path / "members.csv", tmp_path / "non_members.csv"
    members.to_csv(paths[0], index=False)
    later.to_csv(paths[1], index=False)
    probes = "[probes.loss]\n[probes.extraction]\nprefix_tokens = 24\nsuffix_tokens = 16\n"
    plan = write_plan(tmp_path, model=demo_dir / "model", members=paths[0], non_members=paths[1],
                      probes=probes)
    result = run_audit(load_plan(plan))
    document = result.as_dict()
    assert document["split_validity"]["reliable"] is False
    loss, extraction = result.probes
    assert loss.verdict is Verdict.INCONCLUSIVE and loss.verdict_if_split_valid is Verdict.FAIL
    assert document["probes"][0]["verdict_if_split_valid"] == "fail"
    assert "reliable" not in document["probes"][1]
    # and a plan may move the threshold, like every other one
    plan.write_text(plan.read_text() + "\n[thresholds.split_validity]\nmax_auc = 1.0\n")
    relaxed = run_audit(load_plan(plan))
    assert relaxed.split_validity["reliable"] is True and relaxed.probes[0].verdict is Verdict.FAIL
    assert relaxed.probes[1].verdict is extraction.verdict
