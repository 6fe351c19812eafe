"""The audit report as pure data: what each section says, built from results only."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from audit_core.report.sections.document import build_report, results_digest
from audit_core.report.sections.elements import (
    Badge,
    Figure,
    Paragraph,
    RocChart,
    Table,
    TextStyle,
    VerdictBanner,
)
from audit_core.report.sections.metrics import format_metric, metric_label
from tests.core.report_samples import (  # `results`, the fixture, comes from conftest.py
    REPO,
    all_table_rows,
    cancelled,
    metric_values,
    record_ids,
    record_refs,
    strings,
    table_rows,
    with_errored_probe,
)

# --- the document (pure data) ---------------------------------------------------------


def test_document_has_every_section_of_the_report_specification_in_order(results):
    document = build_report(results)

    assert [s.key for s in document.sections] == [
        "cover",  # page 1: verdict, decision, first actions, three numbers, status
        "summary",  # page 2: findings sorted for release, the other actions
        "limitations",  # page 3: what a PASS does not prove, conditions of validity
        "sign-off",
        "model",
        "threat-model",
        "membership",
        "probe:extraction",
        "appendix",
        "regulatory-map",
        "definitions",
    ]
    assert document.report_id == "MNS-20261129-4F2A9C"
    assert document.verdict == "fail"
    assert document.section("membership").title == "3.1 Membership inference"
    assert document.section("probe:extraction").title == "3.2 Training-data extraction (k-extractability)"


def test_cover_shows_overall_verdict_with_rationale_and_the_decision(results):
    cover = build_report(results).section("cover")

    banner = next(b for b in cover.blocks if isinstance(b, VerdictBanner))
    assert (banner.verdict, banner.label) == ("fail", "FAIL")
    assert banner.rationale == results["overall_rationale"]
    leads = [b.text for b in cover.blocks if isinstance(b, Paragraph) and b.style is TextStyle.LEAD]
    assert leads == ["Decision: No. Do not deploy or share this model beyond the hospital until the "
                     "required actions are done and a new audit passes."]


def test_cover_identifies_model_and_results_by_sha256_and_carries_the_disclaimer(results):
    document = build_report(results)
    cover = document.section("cover")
    text = strings(cover)

    assert results["model"]["sha256"] in text
    for dataset in results["datasets"]:  # the data files: named with the model, hashed in the appendix
        assert dataset["sha256"] in strings(document.section("appendix"))
        assert dataset["file"] in strings(document.section("model"))
    assert document.results_digest in text
    assert any(s.startswith("Not signed when issued") and "mnemoscope sign" in s for s in text)
    assert "Demo General Hospital; requested by Privacy office" in text
    disclaimer = [b.text for b in cover.blocks if isinstance(b, Paragraph) and b.style is TextStyle.DISCLAIMER]
    assert any("does not prove anonymity" in line for line in disclaimer)
    assert any("contains no patient data" in line for line in disclaimer)


def test_membership_attacks_share_one_section_with_their_operating_points_and_roc_curves(results):
    document = build_report(results)
    membership = document.section("membership")
    table = next(b for b in membership.blocks if isinstance(b, Table))

    assert table.header[:5] == ("Attack", "AUC (95% CI)", "TPR at 10% FPR", "TPR at 1% FPR", "TPR at 0.1% FPR")
    (loss,) = table.rows
    assert loss[:5] == ("LOSS", "0.912 (0.899–0.925)", "—", "41.2% (38.1–44.3%)", "not resolvable")
    assert loss[-1] == Badge("fail", "FAIL")
    assert "n = 1,000 / 1,000" in table.caption
    chart = next(c for b in membership.blocks if isinstance(b, Figure) for c in b.charts if isinstance(c, RocChart))
    assert [s.label for s in chart.series] == ["LOSS"]
    assert chart.series[0].fpr == (0.0, 0.001, 0.01, 0.1, 0.5, 1.0)


def test_settings_and_thresholds_are_printed_once_in_the_appendix(results):
    document = build_report(results)
    appendix = document.section("appendix")

    thresholds = {row[1].split("`")[1] for row in table_rows(appendix, "Probes")}  # the key in code type
    assert thresholds == set(results["probes"][0]["thresholds"]) | set(results["probes"][1]["thresholds"])
    settings = dict((row[0], row[1].text) for row in table_rows(appendix, "Probe"))
    assert settings["Training-data extraction (k-extractability)"] == (
        "prefix_tokens = 24;  suffix_tokens = 16;  batch_size = 64")
    for key in ("probe:extraction", "membership"):  # no longer repeated per probe
        text = strings(document.section(key))
        assert "prefix_tokens" not in text and "warn_auc_lower" not in text


def test_extraction_metrics_read_as_rates_counts_and_p_value(results):
    metrics = metric_values(build_report(results).section("probe:extraction"))

    assert metrics["Extraction rate, members"] == ("1.10% (0.55–1.96%)", "1,000")
    assert metrics["Extraction rate, non-members"] == ("0.00% (0.00–0.37%)", "1,000")
    assert metrics["Members extracted"] == ("11", "")
    assert metrics["p-value"][0] == "4.0e-4"


def test_an_unknown_metric_is_listed_with_its_interval(results):
    results["probes"][0]["metrics"].update({"score_gap_members": 0.1234, "score_gap_members_ci": [0.05, 0.2]})

    rows = dict((row[0], row[1]) for row in table_rows(build_report(results).section("appendix"), "Metric"))

    assert rows["Score gap, members"] == "0.123 (0.050–0.200)"
    assert not any(label.endswith(" ci") or "Ci" in label for label in rows)


@pytest.mark.parametrize(
    ("name", "value", "interval", "shown"),
    [
        ("auc", 0.5, [0.45123, 0.55], "0.500 (0.451–0.550)"),
        ("tpr_at_1pct_fpr", 0.0004, None, "0.040%"),
        ("p_value", 0.0312, None, "0.031"),
        ("p_value", 2.5e-12, None, "2.5e-12"),
        ("epsilon_lower_bound", 2.3149, [1.5, 3.0], "2.31 (1.50–3.00)"),
        ("tpr_at_0.1pct_fpr", None, None, "not resolvable"),
        ("some_new_thing", None, None, "not computed"),
        ("flags", {"a": 1}, None, '{"a": 1}'),
    ],
)
def test_metric_formatting(name, value, interval, shown):
    assert format_metric(name, value, interval) == shown


def test_metric_labels_come_from_keys_when_unknown():
    assert metric_label("tpr_at_0.1pct_fpr") == "TPR at 0.1% FPR"
    assert metric_label("exposure_non_members") == "Exposure, non-members"


def test_extracted_records_are_listed_by_ref_and_never_by_id(results):
    document = build_report(results)
    text = strings(document)

    for ref in record_refs(results):
        assert any(ref in s for s in text)
    for record_id in record_ids(results):
        assert not any(record_id in s for s in text)


def test_a_record_id_quoted_by_the_engine_is_withheld(results):
    results["probes"][1]["findings"].append("Record P000123 was reproduced; see also P000456.")
    results["overall_rationale"] += " Worst record: P000456."

    text = strings(build_report(results))

    assert not any("P000123" in s or "P000456" in s for s in text)
    assert "Record [record id withheld] was reproduced; see also [record id withheld]." in text


def test_urls_and_ip_addresses_quoted_in_probe_text_are_masked(results):
    """The identifier detector reports portal URLs and addresses from audit trails; a
    finding that quoted one must not carry it into the PDF."""
    results["probes"][1]["findings"].append(
        "Generated https://portal.example.org/patient/SYN0042 and 192.0.2.14 and 2001:db8::17; "
        "AUC 0.967 (0.959-0.973).")

    text = strings(build_report(results))

    assert not any("example.org" in s or "192.0.2.14" in s or "2001:db8" in s for s in text)
    assert "Generated [URL] and [IP] and [IP]; AUC 0.967 (0.959-0.973)." in text


def test_the_pseudonym_key_is_never_printed(results):
    key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    results["pseudonymization"] = {"method": "HMAC-SHA256, key drawn per audit", "key": key}
    results["plan"]["echo"] = key  # even where the engine would never put it

    text = strings(build_report(results))

    assert not any(key in s for s in text)
    assert any(s.startswith("HMAC-SHA256, key drawn per audit: records are named by keyed pseudonym")
               and "the key is kept with the results and never printed" in s for s in text)


def test_the_list_of_extracted_records_is_capped(results):
    results["probes"][1]["extracted"] = [
        {"role": "members", "id": f"P{i:06d}", "ref": f"R-{i:08X}"} for i in range(120)
    ]
    extraction = build_report(results).section("probe:extraction")
    text = strings(extraction)

    assert any("R-00000031" in s for s in text) and not any("R-00000032" in s for s in text)  # 0x00..0x31
    assert any("70 more not listed" in s for s in text)


def test_a_cancelled_audit_says_incomplete_on_the_cover_and_every_page(results):
    document = build_report(cancelled(results))
    cover = document.section("cover")

    alerts = [b.text for b in cover.blocks if isinstance(b, Paragraph) and b.style is TextStyle.ALERT]
    assert len(alerts) == 1 and alerts[0].startswith("INCOMPLETE AUDIT") and "cancelled" in alerts[0]
    assert "INCOMPLETE AUDIT" in document.footer_notes
    assert "(incomplete)" in document.title


def test_a_completed_audit_is_not_called_incomplete(results):
    document = build_report(results)
    assert not any("INCOMPLETE" in s for s in strings(document))
    assert document.footer_notes == ("Confidential: contains no patient data",)


def test_an_errored_probe_is_not_assessed_and_shows_its_error(results):
    document = build_report(with_errored_probe(results))
    section = document.section("probe:phi_leak")

    rows = [row for row in all_table_rows(document.section("summary"), "Risk")
            if row[1] == "PHI in generated text"]
    assert rows and rows[0][2] == Badge("error", "NOT ASSESSED")
    assert rows[0][3] == "Stopped with an error: no evidence either way."
    assert any(s.startswith("Not assessed") and "invalid dimensions" in s for s in strings(section))
    assert not any(isinstance(b, Table) and b.header and b.header[0] == "Metric" for b in section.blocks)


def test_results_with_almost_nothing_still_give_a_document():
    document = build_report({"probes": [{"id": "loss"}], "audit": {"outcome": None}})

    assert "probe:loss" in [s.key for s in document.sections]
    assert document.section("limitations").blocks  # always printed
    assert document.report_id == "unidentified"
    banner = next(b for b in document.section("cover").blocks if isinstance(b, VerdictBanner))
    assert banner.label == "NO VERDICT"


def test_the_report_is_a_function_of_the_results(results):
    assert build_report(results) == build_report(copy.deepcopy(results))
    assert results_digest(results) == results_digest(json.loads(json.dumps(results)))
    changed = copy.deepcopy(results)
    changed["probes"][0]["metrics"]["auc"] = 0.913
    assert results_digest(changed) != results_digest(results)


def test_the_document_layer_and_the_package_import_without_reportlab():
    code = (
        "import sys, audit_core.report, audit_core.report.sections.document; "
        "assert 'reportlab' not in sys.modules, sorted(m for m in sys.modules if 'reportlab' in m)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
