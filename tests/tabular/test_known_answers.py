"""Known answers on the tabular controls: the overfit forest FAILs, the regularised
logistic regression does not; calibrating against a reference classifier sharpens the
attack at low FPR."""

from __future__ import annotations

import pytest

from audit_core.plan.parsing import load_plan
from audit_core.results.verdicts import Verdict
from audit_core.run.runner import run_audit
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


@pytest.mark.parametrize("probe_id", ["confidence", "entropy", "modified_entropy",
                                      "calibrated_confidence", "calibrated_entropy",
                                      "calibrated_modified_entropy"])
def test_tabular_probes_keep_the_conformance_promises(tabular_outputs, probe_id) -> None:
    from audit_core.probes import PROBES_BY_ID
    from tests.probes.kind_conformance import check_probe

    probe = PROBES_BY_ID[probe_id]
    assert probe.needs.applies_to("tabular_classifier") and not probe.needs.applies_to("causal_lm")
    check_probe(probe, tabular_outputs)


@pytest.fixture(scope="module")
def tabular_outputs(tabular_controls):
    """A context factory over the first 150 members and non-members of the controls, with
    the forest's and the reference's probabilities."""
    import dataclasses

    import numpy as np

    from audit_core.data.cohort import Role
    from audit_core.data.tabular_loading import load_tabular_cohort
    from audit_core.families.membership import MembershipThresholds
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_tabular import OnnxTabularClassifier
    from audit_core.passes.tabular_signals import TabularOutputs
    from audit_core.plan.parsing import load_plan
    from audit_core.probes.base import ProbeContext

    columns = load_plan(tabular_plan(tabular_controls, "model", "reference", name="c.toml")).data.columns
    forest = OnnxTabularClassifier(inspect_model(tabular_controls.forest))
    reference = OnnxTabularClassifier(inspect_model(tabular_controls.reference))
    cohorts, probabilities, reference_probabilities, labels = {}, {}, {}, {}
    for role, path in ((Role.MEMBERS, tabular_controls.members),
                       (Role.NON_MEMBERS, tabular_controls.non_members)):
        cohort, records = load_tabular_cohort(path, role, columns)
        keep = 150
        cohorts[role] = dataclasses.replace(
            cohort, ids=cohort.ids[:keep],
            subgroups={k: v[:keep] for k, v in cohort.subgroups.items()})
        probabilities[role] = forest.probabilities(records.features[:keep])
        reference_probabilities[role] = reference.probabilities(records.features[:keep])
        labels[role] = forest.class_indices(records.labels[:keep], path.name, columns.label)
    outputs = TabularOutputs(probabilities, labels, forest.classes, reference_probabilities)

    def make(progress, seed=1):
        return ProbeContext(cohorts=cohorts, token_ids={}, model=forest,
                            thresholds=MembershipThresholds(), rng=np.random.default_rng(seed),
                            progress=progress, columns=columns, outputs=outputs)
    return make


def test_a_shifted_split_trips_the_split_check_on_the_feature_columns(tabular_controls,
                                                                       tmp_path) -> None:
    """Non-members from an older, sicker clinic: the files alone tell the sets apart, so the
    logistic regression's membership verdicts are marked unreliable (INCONCLUSIVE)."""
    import pandas as pd

    shifted = pd.read_csv(tabular_controls.non_members)
    shifted["age"] = shifted["age"] + 12
    shifted["creatinine"] = (shifted["creatinine"] * 1.4).round(2)
    shifted.to_csv(tmp_path / "non_members.csv", index=False)
    (tmp_path / "members.csv").symlink_to(tabular_controls.members)
    (tmp_path / "logistic").symlink_to(tabular_controls.logistic.parent)
    from audit_core.tools.controls.tabular_example import example_plan

    plan = tmp_path / "plan.toml"
    plan.write_text(example_plan("logistic", None))
    result = run_audit(load_plan(plan))
    split = result.split_validity
    assert not split["reliable"] and split["auc"] > 0.6
    telling = [f["feature"] for f in split["feature_aucs"][:2]]
    assert set(telling) == {"feature column 'age'", "feature column 'creatinine'"}
    for probe in result.probes:
        assert probe.verdict is Verdict.INCONCLUSIVE and not probe.reliable
