"""One source for every number (issue 14): the check that reads printed numbers back
(tests/printed_numbers.py) and the report's figures it guards. The same check runs on the
PDF and CLI summary of every audit `mnemoscope validate` runs
(tests/validation/test_printed_numbers.py) and on the desktop results page
(tests/desktop/test_flow.py)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from audit_core.report import write_report
from audit_core.report.sections.document import build_report
from audit_core.report.sections.metrics import metric_rows
from tests.core.report_samples import strings, table_rows
from tests.printed_numbers import (
    assert_printed_from,
    printable,
    report_headings,
    report_labels,
    unexplained,
)
from tests.printed_tokens import figures_in, pdf_text


def _reidentification() -> dict:
    """A re-identification probe as the engine writes it: rates over 200 generated records."""
    return {
        "id": "reidentification", "title": "Quasi-identifier re-identification",
        "family": "reidentification", "verdict": "fail",
        "headline": {"label": "Singling-out rate", "value": 0.215,
                     "text": "54 of 200 generated records single out a member vs 11 a non-member"},
        "metrics": {
            "generated_records": 200, "records_singling_out_members": 54,
            "records_singling_out_non_members": 11,
            "singling_out_rate_members": 0.27, "singling_out_rate_members_ci": [0.21, 0.337],
            "singling_out_rate_members_n": 200,
            "rate_difference": 0.215, "rate_difference_ci": [0.14, 0.29], "rate_difference_n": 200,
            "n_members": 1000, "n_non_members": 1000,
            "initial_risk_members_unique": 0.883, "initial_risk_members_unique_n": 1000,
        },
        "findings": ["Of 200 records generated without a prompt, 54 single out exactly one member "
                     "and 11 exactly one non-member: difference +21.5% (95% paired bootstrap "
                     "+14.0% to +29.0%)."],
        "thresholds": {}, "settings": {"generated": 200},
    }


def _strata(results: dict) -> dict:
    """The demo's age bands as the engine now writes them (issue 14, defect 2)."""
    results = copy.deepcopy(results)
    results["probes"][0]["thresholds"]["min_cell"] = 11
    results["probes"][0]["subgroups"] = [
        {"column": "age_band", "value": "AGE_18_29", "n_members": 300, "n_non_members": 310,
         "suppressed": False, "hidden_counts": {}, "auc": 0.93, "auc_ci": [0.91, 0.95],
         "q_value": 0.002, "significant": True},
        {"column": "age_band", "value": "AGE_80_89", "n_members": 51, "n_non_members": None,
         "suppressed": True, "hidden_counts": {"n_non_members": "complement"}, "auc": None,
         "q_value": None, "significant": False},
        {"column": "age_band", "value": "AGE_90_PLUS", "n_members": 23, "n_non_members": None,
         "suppressed": True, "hidden_counts": {"n_non_members": "small"}, "auc": None,
         "q_value": None, "significant": False},
    ]
    results["probes"][1]["subgroups"] = copy.deepcopy(results["probes"][0]["subgroups"])
    return results


# --- reading numbers --------------------------------------------------------------------

def test_every_kind_of_number_is_read_and_non_figures_are_not() -> None:
    text = ("AUC 0.967 (0.959–0.973), n 1,000 / 1,000; 55.0% (51.9–58.1%); p = 4.5e-9; "
            "gap -0.198 (95% CI -0.297 to -0.096); AGE_90_PLUS 23 / <11; 12.4 bits\n"
            "Page 3 of 43 · 2026-12-06 19:17:48 UTC · HIPAA §164.514 · Regulation (EU) "
            "2024/1689 · SHA-256 a7e3e733500a5b1c… · T2 and T6 · AGE_80_89 · ICD-10")
    read = [(t.kind, t.text) for t in figures_in(text)]
    assert read == [
        ("scalar", "0.967"), ("interval", "0.959–0.973"), ("pair", "1,000 / 1,000"),
        ("scalar", "55.0%"), ("interval", "51.9–58.1%"), ("scalar", "4.5e-9"),
        ("scalar", "-0.198"), ("interval", "-0.297 to -0.096"), ("pair", "23 / <11"),
        ("scalar", "12.4"),
    ]


def test_a_number_split_over_two_lines_is_read_whole_and_a_heading_number_is_not_a_figure() -> None:
    assert [t.text for t in figures_in("6.2 zlib-ratio\n51.9–\n58.1%", ["6.2 zlib-ratio membership"])] \
        == ["51.9–58.1%"]


def test_the_check_catches_the_misprints_of_issue_14_and_passes_the_right_figures(results) -> None:
    """Defects 2-4 as they were printed on the demo report, against what the result holds."""
    results = _strata(results)
    results["probes"].append(_reidentification())
    allowed = printable(results)
    wrong = {
        "Generated records 20000.0%": "20000.0%",  # defect 3: a count as a percentage
        "Smallest resolvable FPR 0.30% with 1,000 non-members": "0.30%",  # defect 4
        "AGE_80_89 <11 / <11": "<11 / <11",  # defect 2: 51 and a withheld count, not small
        "AGE_90_PLUS <11 / <11": "<11 / <11",  # 23 is not small either
        "the interval reaches 33.7%": "33.7%",  # a bound is not a value of its own
        "AUC 0.9670": "0.9670",  # nothing in the result
        "n 1,000 / 200": "1,000 / 200",  # a pair from two places
    }
    for line, token in wrong.items():
        assert [m.token for m in unexplained(line, allowed)] == [token], line
    right = ["Generated records 200", "Singling out rate, members 27.0% (21.0–33.7%) 200",
             "Smallest resolvable FPR 1.0% with 1,000 non-members", "AGE_80_89 51 / ≥11",
             "AGE_90_PLUS 23 / <11", "AGE_18_29 300 / 310 0.930 (0.910–0.950)",
             "difference +21.5% (95% paired bootstrap +14.0% to +29.0%)"]
    for line in right:
        assert unexplained(line, allowed) == [], line


def test_the_check_fails_with_the_offending_number_and_its_line(results) -> None:
    text = "Key figures\nGenerated records 20000.0%\nAUC 0.912"
    try:
        assert_printed_from(text, results, where="a test page")
    except AssertionError as error:
        assert "'20000.0%' in: Generated records 20000.0%" in str(error)
    else:
        raise AssertionError("a misprint passed")


# --- the figures it guards, in the report ----------------------------------------------

def test_a_count_is_never_a_percentage_and_a_rate_names_its_own_denominator() -> None:
    """Defect 3: "Generated records 20000.0%" and n 1,000 / 1,000 for rates computed on 200
    generated records."""
    rows = {label: (value, n) for label, value, n in metric_rows(_reidentification()["metrics"])}
    assert rows["Generated records"] == ("200", "")
    assert rows["Singling out rate, members"] == ("27.0% (21.0–33.7%)", "200")
    assert rows["Rate difference"] == ("21.5% (14.0–29.0%)", "200")
    assert rows["Initial risk members unique"] == ("0.883", "1,000")
    assert not any(label.endswith(" n") for label in rows)  # denominators sit in their row


def test_the_smallest_resolvable_fpr_is_the_engines_wherever_the_report_states_it(results) -> None:
    """Defect 4: 0.30% in the key figures (computed while printing), 1.0% in the metrics."""
    metrics = results["probes"][0]["metrics"]
    metrics.update({"powered": False, "tpr_at_0.1pct_fpr": 0.2, "tpr_at_0.1pct_fpr_ci": [0.18, 0.23]})
    text = " ".join(strings(build_report(results)))
    stated = re.findall(r"(?:[Rr]esolvable FPR|FPR these cohorts resolve)\D{0,40}?(\d[\d.]*%)", text)
    assert stated and set(stated) == {"1.0%"}, stated  # the engine's 0.01, formatted once
    assert "0.30%" not in text


def test_subgroup_counts_are_labelled_by_what_the_engine_hid_and_the_rule_is_said_once(results) -> None:
    """Defect 2: AGE_80_89 (51 / 64) and AGE_90_PLUS (23 / 10) both printed "<11 / <11"."""
    document = build_report(_strata(results))
    rows = {row[0]: row for row in table_rows(document.section("subgroups"), "Subgroup")}
    assert rows["Age band: AGE_18_29"][1] == "300 / 310"
    assert rows["Age band: AGE_80_89"][1] == "51 / ≥11" and "suppressed" in rows["Age band: AGE_80_89"]
    assert rows["Age band: AGE_90_PLUS"][1] == "23 / <11"
    assert " ".join(strings(document)).count("Small-cell rule") == 1  # two attacks, one rule
    # A count hidden without a reason (results written before the engine gave one) is not
    # claimed to be small.
    old = _strata(results)
    for probe in old["probes"][:2]:
        for group in probe["subgroups"]:
            group.pop("hidden_counts")
    rows = {row[0]: row for row in table_rows(build_report(old).section("subgroups"), "Subgroup")}
    assert rows["Age band: AGE_80_89"][1] == "51 / not shown"
    assert rows["Age band: AGE_90_PLUS"][1] == "23 / not shown"


def test_every_number_a_report_prints_comes_from_its_results(results, tmp_path) -> None:
    results = _strata(results)
    results["probes"].append(_reidentification())
    # As the engine writes it now: the membership table has a column for TPR at 10% FPR.
    results["probes"][0]["metrics"].update({"tpr_at_10pct_fpr": 0.7, "tpr_at_10pct_fpr_ci": [0.67, 0.73]})
    path = tmp_path / "report.pdf"
    write_report(results, path)
    assert_printed_from(pdf_text(path), results, where="the example report", at_least=100,
                        headings=report_headings(results), labels=report_labels(results))


def test_every_number_the_demo_report_prints_comes_from_its_results(demo_outputs: Path) -> None:
    """The very report.pdf `make demo` writes (the session's demo run), against its own
    results.json and run.json."""
    results = json.loads((demo_outputs / "results.json").read_text())
    run = json.loads((demo_outputs / "run.json").read_text())
    report = {**results, "run": run}
    assert_printed_from(pdf_text(demo_outputs / "report.pdf"), results, run,
                        where="the report `make demo` writes", at_least=300,
                        headings=report_headings(report), labels=report_labels(report))
