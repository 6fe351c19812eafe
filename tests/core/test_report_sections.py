"""The sections issue 4 adds, as plain data: executive summary, scope and regulatory map,
threat model from the release context, declared training facts, split validity,
subgroups with small cells suppressed, findings register, limitations, conclusion,
sign-off, reproducibility and definitions. Optional result fields are shown when present
and never required."""

from __future__ import annotations

import copy

from audit_core.report.sections.document import build_report
from audit_core.report.sections.elements import Badge, Heading, SignatureLines, Table
from tests.core.report_samples import (  # `results`, the fixture, comes from conftest.py
    all_table_rows,
    strings,
    table_rows,
    with_split_validity,
    with_subgroups,
)


def joined(section) -> str:
    return " ".join(strings(section))


def numbered_actions(section) -> list[str]:
    """The texts of the numbered required actions a section lists."""
    return [row[1] for block in section.blocks if isinstance(block, Table) and block.key_value
            for row in block.rows if str(row[0]).isdigit()]


def test_page_two_sorts_every_result_for_release_and_numbers_each_action_once(results):
    document = build_report(results)
    summary = document.section("summary")

    headings = [b.text for b in summary.blocks if isinstance(b, Heading)]
    assert headings[0] == "Reject: grounds to refuse release as assessed (2)"
    rows = all_table_rows(summary, "Risk")
    assert [(r[1], r[2]) for r in rows] == [
        ("LOSS membership inference", Badge("fail", "FAIL")),
        ("Training-data extraction (k-extractability)", Badge("fail", "FAIL")),
    ]
    assert rows[0][3] == ("Training patients can be told apart from patients the model never saw. "
                          "AUC 0.912 (95% CI 0.899-0.925)")
    # Retrain with DP, deduplicate and keep internal answer membership; extraction adds the
    # output filter; both point at the shared actions by number, listed once.
    assert (rows[0][4], rows[1][4]) == ("1–3", "1–4")
    cover_actions, later = numbered_actions(document.section("cover")), numbered_actions(summary)
    assert [a.split()[0] for a in cover_actions] == ["Retrain", "Deduplicate", "Keep"]
    assert not set(cover_actions) & set(later)  # each action printed once
    assert [a.split()[0] for a in later] == ["Filter", "Re-audit"]
    assert "No result falls under: Evidence against release; Evidence for release; No evidence either way." \
        in strings(summary)


def test_a_passing_audit_is_evidence_for_release_with_what_keeps_it_valid(results):
    results["overall_verdict"] = "pass"
    for probe in results["probes"]:
        probe["verdict"] = "pass"
    document = build_report(results)
    cover = joined(document.section("cover"))

    assert "Decision: Yes, beyond the hospital as assessed" in cover
    assert "Keep the release context as assessed" in cover and "Required actions" not in cover
    rows = all_table_rows(document.section("summary"), "Risk")
    assert {r[2] for r in rows} == {Badge("pass", "PASS")}
    # The badge says PASS; each row shows the figure it rests on, and needs no action.
    assert [r[3] for r in rows] == [p["headline"]["text"][:1].upper() + p["headline"]["text"][1:]
                                    for p in results["probes"]]
    assert all(r[4] == "none" for r in rows)


def test_an_inconclusive_probe_is_no_evidence_and_never_a_pass(results):
    results["probes"][0]["verdict"] = "inconclusive"
    rows = all_table_rows(build_report(results).section("summary"), "Risk")

    loss = next(r for r in rows if r[1] == "LOSS membership inference")
    assert loss[2] == Badge("inconclusive", "INCONCLUSIVE")
    assert loss[3].startswith("Too few patients to resolve the threshold: no evidence either way.")
    headings = [b.text for b in build_report(results).section("summary").blocks if isinstance(b, Heading)]
    assert "No evidence either way (1)" in headings and "Evidence for release (1)" not in headings


def test_the_clause_map_points_every_named_clause_at_a_part_of_the_report(results):
    document = build_report(results)
    rows = table_rows(document.section("regulatory-map"), "Clause")

    for clause in ("HIPAA 45 CFR §164.514(b)(1)", "EDPB Opinion 28/2024", "EU AI Act Art. 10",
                   "EU AI Act Art. 15(5)", "EU AI Act Annex IV 2(g)", "NIST AI 100-2 E2025"):
        assert clause in [row[0] for row in rows]
    assert all(row[2] != "not covered" for row in rows)
    assert dict((r[0], r[2]) for r in rows)["EU AI Act Annex IV 2(g)"] == "Page 1; Sign-off; Appendix A"
    not_run = joined(document.section("limitations"))
    assert "reference-calibrated membership inference" in not_run and "shadow-model attacks" in not_run


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
    rows = all_table_rows(document.section("summary"), "Risk")
    split = next(row for row in rows if row[1] == "Split validity (model-free)")
    assert split[2] == Badge("fail", "INVALID") and "AUC 0.52" in split[3]
    assert "No evidence either way (1)" in joined(document.section("summary"))


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


def test_a_warning_is_evidence_against_release_after_the_grounds_to_reject(results):
    results["probes"][1]["verdict"] = "warn"
    summary = build_report(results).section("summary")
    headings = [b.text for b in summary.blocks if isinstance(b, Heading)]

    assert headings[:2] == ["Reject: grounds to refuse release as assessed (1)", "Evidence against release (1)"]
    rows = all_table_rows(summary, "Risk")
    assert [row[2] for row in rows] == [Badge("fail", "FAIL"), Badge("warn", "WARN")]
    assert rows[1][0] == "Records written out by the model"


def test_limitations_conditions_of_validity_and_sign_off_are_always_there(results):
    document = build_report(results)

    limits = joined(document.section("limitations"))
    assert "Lower bounds:" in limits and "Conditions of validity" in limits
    assert "a release of the weights beyond the context assessed" in limits
    assert "re-audit due 2027-11-29" in joined(document.section("cover"))
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
    assert "reference-calibrated membership" not in joined(document.section("limitations"))


def test_appendices_give_the_rerun_command_hashes_and_formulas(results):
    document = build_report(results)
    appendix = joined(document.section("appendix"))

    assert "mnemoscope run plan.json --out rerun" in appendix
    assert results["datasets"][0]["sha256"] in appendix and "plan.json" in appendix
    terms = [row[0] for row in table_rows(document.section("definitions"), "Term")]
    for term in ("TPR, FPR", "Epsilon lower bound ε_lb", "k-extractability", "Clopper–Pearson interval"):
        assert term in terms
