"""The plan file: the README's format is accepted, and every mistake is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_core.errors import PlanError
from audit_core.plan.parsing import load_plan, plan_from_dict
from audit_core.run.runner import resolve_probes, resolve_thresholds

MINIMAL = {"model": {"path": "model"}, "data": {"members": "m.csv", "non_members": "n.csv"}}


def _plan(**overrides):
    raw = json.loads(json.dumps(MINIMAL))
    for key, value in overrides.items():
        raw[key] = value
    return plan_from_dict(raw)


def test_demo_plan_loads_with_paths_relative_to_the_file(demo_dir: Path) -> None:
    plan = load_plan(demo_dir / "plan.toml")
    assert plan.model.path == demo_dir / "model"
    assert plan.data.members == demo_dir / "members.csv"
    assert plan.data.columns.kind == "codes"
    assert [p.id for p, _ in resolve_probes(plan)] == ["loss", "zlib", "min_k", "min_k_plus_plus", "extraction",
                                                       "trajectory", "sensitive_attributes", "reidentification",
                                                       "perturbation", "vulnerable_subgroups"]
    assert resolve_thresholds(plan)["membership"].fail_epsilon == 1.0


def test_without_probes_table_the_standard_suite_runs() -> None:
    from audit_core.probes import PROBES

    # every probe except those that need a reference model, which this plan does not name,
    # those for other model kinds than the default (a causal language model), those that
    # need a canary manifest, and notes-only probes when the records are not text
    plan = _plan()
    assert [p.id for p, _ in resolve_probes(plan)] == [
        p.id for p in PROBES if not p.needs.reference and p.needs.applies_to("causal_lm")
        and not p.needs.canaries and (plan.data.columns.kind == "text" or not p.needs.text_records)]
    assert [p.id for p, _ in resolve_probes(_plan(), "tabular_classifier")] == [
        "confidence", "entropy", "modified_entropy"]


def test_as_dict_round_trips() -> None:
    plan = _plan(probes={"min_k": {"k": 0.1}}, thresholds={"membership": {"primary_fpr": 0.05}})
    again = plan_from_dict(plan.as_dict())
    assert again.as_dict() == plan.as_dict()


@pytest.mark.parametrize("raw, key", [
    ({**MINIMAL, "modle": {}}, "modle"),
    ({**MINIMAL, "model": {"path": "m", "batchsize": 3}}, "model.batchsize"),
    ({**MINIMAL, "data": {**MINIMAL["data"], "columns": {"txt": "x"}}}, "data.columns.txt"),
])
def test_unknown_keys_are_refused_by_name(raw: dict, key: str) -> None:
    with pytest.raises(PlanError, match=f"unknown key '{key}'"):
        plan_from_dict(raw)


def test_unknown_probe_and_probe_setting_are_refused_by_name() -> None:
    with pytest.raises(PlanError, match="unknown probe 'probes.minimum_k'"):
        resolve_probes(_plan(probes={"minimum_k": {}}))
    with pytest.raises(PlanError, match="unknown key 'probes.min_k.kk'"):
        resolve_probes(_plan(probes={"min_k": {"kk": 0.1}}))
    with pytest.raises(PlanError, match="unknown key 'thresholds.membership.warn_auc'"):
        resolve_thresholds(_plan(thresholds={"membership": {"warn_auc": 0.6}}))
    with pytest.raises(PlanError, match="unknown key 'thresholds.memberships'"):
        resolve_thresholds(_plan(thresholds={"memberships": {}}))


@pytest.mark.parametrize("probes, message", [
    ({"min_k": {"k": 1.5}}, r"'probes.min_k.k' must be at most 1"),
    ({"min_k": {"k": 0}}, r"'probes.min_k.k' must be at least 0.01"),
    ({"min_k": {"k": "a lot"}}, r"'probes.min_k.k' must be a number"),
    ({"extraction": {"prefix_tokens": -3}}, r"'probes.extraction.prefix_tokens' must be at least 1"),
    ({"extraction": {"suffix_tokens": 2.5}}, r"'probes.extraction.suffix_tokens' must be an integer"),
])
def test_bad_probe_values_are_refused_by_name(probes: dict, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        resolve_probes(_plan(probes=probes))


def test_bad_model_and_data_values_are_refused_by_name() -> None:
    with pytest.raises(PlanError, match="'model.batch_size'"):
        plan_from_dict({**MINIMAL, "model": {"path": "m", "batch_size": 0}})
    with pytest.raises(PlanError, match="'data.columns.kind'"):
        plan_from_dict({**MINIMAL, "data": {**MINIMAL["data"], "columns": {"kind": "images"}}})
    with pytest.raises(PlanError, match="missing key 'data.non_members'"):
        plan_from_dict({"model": {"path": "m"}, "data": {"members": "m.csv"}})
    with pytest.raises(PlanError, match=r"missing table \[model\]"):
        plan_from_dict({"data": MINIMAL["data"]})
    with pytest.raises(PlanError, match="fail_auc_lower"):
        resolve_thresholds(_plan(thresholds={"membership": {"warn_auc_lower": 0.8, "fail_auc_lower": 0.6}}))


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[model\npath = 1")
    with pytest.raises(PlanError, match="broken.toml is not valid TOML"):
        load_plan(path)


def test_json_plans_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(MINIMAL))
    assert load_plan(path).model.path == tmp_path / "model"


def test_report_details_reference_model_and_declared_facts() -> None:
    plan = plan_from_dict({**MINIMAL,
                           "audit": {"auditor": "J. Doe", "intended_use": "triage", "release_context": "public"},
                           "model": {"path": "m", "reference": "ref", "declared": {"epochs": 3, "dp": False}}},
                          base=Path("/plans"))
    assert plan.audit.release_context == "public" and plan.audit.auditor == "J. Doe"
    assert plan.model.reference == Path("/plans/ref") and plan.model.declared == {"epochs": 3, "dp": False}
    assert plan_from_dict(plan.as_dict()).as_dict() == plan.as_dict()
    with pytest.raises(PlanError, match="'audit.release_context' must be one of internal, partners, public"):
        plan_from_dict({**MINIMAL, "audit": {"release_context": "everyone"}})
    with pytest.raises(PlanError, match="'model.declared.data'"):
        plan_from_dict({**MINIMAL, "model": {"path": "m", "declared": {"data": ["a"]}}})
