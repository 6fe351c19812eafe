"""Known answers on the tabular controls: the overfit forest FAILs, the regularised
logistic regression does not; calibrating against a reference classifier sharpens the
attack at low FPR."""

from __future__ import annotations

import pytest

from audit_core.plan import load_plan
from audit_core.runner import run_audit
from audit_core.verdicts import Verdict
from tests.tabular.conftest import tabular_plan

TABULAR_PROBES = ("confidence", "entropy", "modified_entropy")


@pytest.fixture(scope="module")
def forest_result(tabular_controls):
    return run_audit(load_plan(tabular_plan(tabular_controls, "model", "reference",
                                            name="forest.toml")))


@pytest.fixture(scope="module")
def logistic_result(tabular_controls):
    return run_audit(load_plan(tabular_plan(tabular_controls, "logistic", name="logistic.toml")))


def _by_id(result):
    return {p.id: p for p in result.probes}


def test_the_overfit_forest_fails_every_reference_free_attack(forest_result) -> None:
    probes = _by_id(forest_result)
    assert forest_result.overall_verdict is Verdict.FAIL
    assert forest_result.model["kind"] == "tabular_classifier"
    assert forest_result.split_validity["reliable"]  # one population: the split is fair
    for probe_id in TABULAR_PROBES:
        probe = probes[probe_id]
        assert probe.verdict is Verdict.FAIL, probe_id
        assert probe.metrics["auc_ci"][0] > 0.9, probe_id
        assert probe.attack_strength == "reference-free"
        assert probe.metrics["epsilon_lower_bound"] > 1.0


def test_the_reference_calibrated_attack_finds_more_members_at_one_percent_fpr(forest_result) -> None:
    probes = _by_id(forest_result)
    calibrated, plain = probes["calibrated_confidence"], probes["confidence"]
    assert calibrated.attack_strength == "reference-calibrated"
    assert calibrated.verdict is Verdict.FAIL
    # The forest gives many easy non-members full confidence too: on its own the confidence
    # ties them with members; against the reference those records are easy for both models.
    assert calibrated.metrics["tpr_at_1pct_fpr"] > plain.metrics["tpr_at_1pct_fpr"] + 0.1


def test_the_regularised_logistic_regression_does_not_fail(logistic_result) -> None:
    probes = _by_id(logistic_result)
    assert [p.id for p in logistic_result.probes] == list(TABULAR_PROBES)  # no reference: no calibrated probes
    assert logistic_result.overall_verdict is not Verdict.FAIL
    for probe in probes.values():
        low, high = probe.metrics["auc_ci"]
        assert low < 0.5 < high, probe.id
        assert probe.verdict in (Verdict.PASS, Verdict.INCONCLUSIVE)


def test_subgroups_come_from_the_declared_columns(forest_result) -> None:
    rows = _by_id(forest_result)["confidence"].subgroups
    assert {r["column"] for r in rows} == {"age_band", "sex"}  # no rare codes in a table
    shown = [r for r in rows if not r["suppressed"]]
    assert shown and all(r["auc"] > 0.8 for r in shown)
