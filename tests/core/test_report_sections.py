"""The sections issue 4 adds, as plain data: executive summary, scope and regulatory map,
threat model from the release context, declared training facts, split validity,
subgroups with small cells suppressed, findings register, limitations, conclusion,
sign-off, reproducibility and definitions. Optional result fields are shown when present
and never required."""

from __future__ import annotations

import copy

from audit_core.report.document import build_report
from audit_core.report.elements import Badge, SignatureLines
from tests.core.report_samples import (  # `results`, the fixture, comes from conftest.py
    strings,
    table_rows,
    with_split_validity,
    with_subgroups,
)


def joined(section) -> str:
    return " ".join(strings(section))


def test_executive_summary_answers_the_deployment_question_with_key_numbers(results):
    summary = build_report(results).section("summary")
    text = joined(summary)

    assert "Can this model be deployed or shared as assessed?" in text and "No. As assessed" in text
    rows = table_rows(summary, "Probe")
    assert rows[0][1] == "TPR at 1.0% FPR" and rows[0][2] == "41.2% (38.1–44.3%)"
    assert rows[1][1] == "Members reproduced verbatim" and rows[1][2].startswith("11 members, 1.10%")
    assert "differential privacy" in text and "Re-audit after the mitigations" in text

    passing = copy.deepcopy(results)
    passing["overall_verdict"] = "pass"
    for probe in passing["probes"]:
        probe["verdict"] = "pass"
    assert "Yes, within the release context assessed" in joined(build_report(passing).section("summary"))


def test_scope_maps_every_named_clause_to_a_section(results):
    scope = build_report(results).section("scope")
    clauses = [row[0] for row in table_rows(scope, "Clause")]

    for clause in ("HIPAA 45 CFR 164.514(b)(1)", "EDPB Opinion 28/2024", "EU AI Act Art. 10",
                   "EU AI Act Art. 15(5)", "EU AI Act Annex IV 2(g)", "NIST AI 100-2 E2025"):
        assert clause in clauses
    assert all(row[2] != "not covered" for row in table_rows(scope, "Clause"))
    not_run = " ".join(row[0] for row in table_rows(scope, "Attack"))
    assert "Reference-calibrated" in not_run and "Shadow-model" in not_run


def test_the_release_context_sets_the_threat_model_and_tier(results):
    assert "Not stated in the plan" in joined(build_report(results).section("threat-model"))
    results["audit"]["release_context"] = "internal"
    internal = joined(build_report(results).section("threat-model"))
    public = copy.deepcopy(results)
    public["audit"]["release_context"] = "public"
    text = joined(build_report(public).section("threat-model"))

    assert "Internal" in internal and "average risk" in internal
    assert "Public" in text and "maximum risk" in text and "0.05" in text
    assert "Membership inference (privacy attack)" in text  # NIST AI 100-2 name


def test_declared_training_facts_are_marked_declared_not_verified(results):
    results["model"]["declared"] = {"epochs": 3, "differential_privacy": {"epsilon": 8, "unit": "record"}}
    model = build_report(results).section("model")
    rows = table_rows(model, "Fact")

    assert ("Epochs", "3", Badge("inconclusive", "DECLARED")) in rows
    assert any("declared, not verified" in s for s in strings(model))


def test_split_validity_is_shown_when_present_and_its_absence_is_said(results):
    absent = joined(build_report(results).section("model"))
    assert "no model-free split-validity check" in absent

    failing = with_split_validity(results, "fail")
    document = build_report(failing)
    text = joined(document.section("model"))
    assert "AUC 0.52" in text and "Record length: AUC" in text
    findings = table_rows(document.section("findings"), "Id")
    assert any(row[2] == "Split validity (model-free)" for row in findings)


def test_subgroups_suppress_cells_under_eleven_and_flag_significant_groups(results):
    document = build_report(with_subgroups(results))
    rows = table_rows(document.section("subgroups"), "Subgroup")

    female, male, oldest = rows
    assert female[:2] == ("Sex: F", "510 / 498") and female[-1] == Badge("warn", "LEAKS")
    assert "0.930 (0.910–0.950)" in female
    assert male[-1] == ""
    assert oldest[1] == "<11 / <11" and "suppressed" in oldest and "0.990" not in " ".join(map(str, oldest))
    assert oldest[-1] == ""  # a suppressed cell is never flagged
    assert "subgroups" not in [s.key for s in build_report(results).sections]


def test_findings_register_ranks_by_severity_and_counts_affected_patients(results):
    results["probes"][1]["verdict"] = "warn"
    rows = table_rows(build_report(results).section("findings"), "Id")

    assert [row[1] for row in rows] == [Badge("fail", "HIGH"), Badge("warn", "MEDIUM")]
    assert rows[0][4] == "412 training patients"  # 41.2% of 1,000 members at 1% FPR
    assert rows[1][4] == "11 training patients"


def test_limitations_conclusion_and_sign_off_are_always_there(results):
    document = build_report(results)

    assert "Lower bounds only" in joined(document.section("limitations"))
    conclusion = joined(document.section("conclusion"))
    assert "Re-audit due: 2027-11-29" in conclusion and "Releasing the weights" in conclusion
    signers = next(b for b in document.section("sign-off").blocks if isinstance(b, SignatureLines))
    assert [role for role, _ in signers.signers] == ["Auditor", "Privacy officer"]


def test_optional_engine_fields_are_rendered_when_present(results):
    probe = results["probes"][0]
    probe["attack_strength"] = "reference_calibrated"
    probe["metrics"]["membership_advantage"] = 0.61
    probe["metrics"]["membership_advantage_ci"] = [0.58, 0.64]
    document = build_report(results)

    assert "Reference-calibrated" in joined(document.section("threat-model"))  # with the methods
    metrics = dict((row[0], row[1]) for row in table_rows(document.section("appendix"), "Metric"))
    assert metrics["Membership advantage"] == "0.610 (0.580–0.640)"
    assert "Reference-calibrated membership" not in " ".join(
        row[0] for row in table_rows(document.section("scope"), "Attack"))


def test_appendices_give_the_rerun_command_hashes_and_formulas(results):
    document = build_report(results)
    appendix = joined(document.section("appendix"))

    assert "mnemoscope run plan.json --out rerun" in appendix
    assert results["datasets"][0]["sha256"] in appendix and "plan.json" in appendix
    terms = [row[0] for row in table_rows(document.section("definitions"), "Term")]
    for term in ("TPR (true positive rate)", "Membership advantage", "Epsilon lower bound ε_lb",
                 "k-extractability", "Exposure"):
        assert term in terms
