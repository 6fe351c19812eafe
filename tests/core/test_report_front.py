"""The report's front pages (issue 14): page 1 read in ten seconds (verdict, decision,
three actions, three numbers, the tool's and the report's status, the full results hash),
citations a reader can look up, and a glossary of every term the report prints."""

from __future__ import annotations

import copy
import dataclasses
import re
import shutil
import subprocess

import pytest

from audit_core.probes import PROBES
from audit_core.probes.selection import threshold_tables
from audit_core.report import write_report
from audit_core.report.sections.document import build_report
from audit_core.report.sections.elements import Table
from audit_core.report.sections.family_terms import THRESHOLD_ANCHORS
from audit_core.settings import describe
from tests.core.report_samples import all_table_rows, strings, table_rows

# Internal notes no reader of the report has (issue 14, defect 10).
INTERNAL = re.compile(r"compliance reference|EHR-FM reference|compliance \d|compliance\.md|"
                      r"ehr-fm-paper|reference \d+\.\d+", re.IGNORECASE)
HASH = re.compile(r"Results SHA-256\s+([0-9a-f]{64})")


def with_reidentification(results: dict) -> dict:
    """A third risk beside membership and extraction, as the demo audit writes it."""
    results = copy.deepcopy(results)
    results["probes"].append({
        "id": "reidentification", "title": "Quasi-identifier re-identification",
        "family": "reidentification", "verdict": "fail",
        "headline": {"label": "Singling-out rate, members minus non-members", "value": 0.215,
                     "text": "54 of 200 generated records single out a member vs 11 a non-member"},
        "metrics": {"generated_records": 200, "singling_out_rate_members": 0.27,
                    "singling_out_rate_members_ci": [0.2098, 0.3372],
                    "singling_out_rate_non_members": 0.055, "n_members": 1000, "n_non_members": 1000},
        "findings": [], "error": None,
    })
    return results


def validated(results: dict) -> dict:
    results = copy.deepcopy(results)
    results["run"] = {"validation": {"status": "validated", "date": "2026-11-20T09:00:00Z",
                                     "outcome": "pass", "same_tool_version": True}}
    return results


def pdf_pages(path, first: int, last: int) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-layout", "-f", str(first), "-l", str(last), str(path), "-"],
                          capture_output=True, text=True, check=True).stdout


def key_values(section) -> dict[str, object]:
    return {row[0]: row[1] for block in section.blocks
            if isinstance(block, Table) and block.key_value for row in block.rows}


# --- page 1 as data ------------------------------------------------------------------


def test_page_one_has_the_decision_three_actions_and_three_plain_numbers(results):
    cover = build_report(with_reidentification(results)).section("cover")
    text = strings(cover)
    rows = key_values(cover)

    assert any(s.startswith("Decision: No. Do not deploy or share") for s in text)
    assert [rows[n].split()[0] for n in ("1", "2", "3")] == ["Retrain", "Deduplicate", "Keep"]
    assert "4" not in rows  # the other actions are on page 2, once
    # Each number is the result's own, formatted as the metrics tables format it.
    assert rows["41.2% (38.1–44.3%)"].startswith("of training patients are picked out by the strongest "
                                                "membership attack (LOSS membership inference) while it "
                                                "wrongly flags 1.0% of patients the model never saw")
    assert rows["11 of 1,000"].startswith("training records are written out word for word")
    assert rows["27.0% (21.0–33.7%)"].startswith("of 200 records the model generated point to one "
                                                "training patient")


def test_page_one_says_whether_the_tool_is_validated_and_the_report_signed_or_approved(results):
    never = key_values(build_report(results).section("cover"))
    assert never["Audit tool"] == "mnemoscope 0.1.0: validation on this machine not recorded."
    assert never["Signature and approval"].startswith("Not signed when issued. Approvals are added "
                                                      "after review with `mnemoscope sign`")

    results["run"] = {"validation": {"status": "never_validated"}}
    assert key_values(build_report(results).section("cover"))["Audit tool"] == (
        "mnemoscope 0.1.0: not validated on this machine (run `mnemoscope validate`).")
    issued = "Signed when issued by X (PAdES), to protect the file as written: this signature is not an approval."
    signed = build_report(validated(results), signature_status=issued)
    ok = key_values(signed.section("cover"))
    assert ok["Audit tool"] == "mnemoscope 0.1.0: validated on this machine on 2026-11-20 09:00:00 UTC, PASS."
    assert ok["Signature and approval"] == issued
    assert not any(issued in s for s in strings(signed.section("sign-off")))  # said once, on page 1


def test_an_incomplete_audit_takes_no_decision(results):
    results["audit"]["outcome"] = "cancelled"
    text = strings(build_report(results).section("cover"))

    assert any(s.startswith("Decision: none. The audit did not finish") for s in text)


# --- page 1 as printed ----------------------------------------------------------------


def test_printed_page_one_carries_everything_and_the_full_hash_once_in_the_front_pages(tmp_path, results):
    path = tmp_path / "report.pdf"
    results = validated(with_reidentification(results))
    write_report(results, path)
    document = build_report(results)
    page_one = pdf_pages(path, 1, 1)
    front = pdf_pages(path, 1, 3)

    assert "Decision: No." in page_one and "Required actions" in page_one
    for figure in ("41.2% (38.1–44.3%)", "11 of 1,000", "27.0% (21.0–33.7%)"):
        assert figure in page_one
    assert "validated on this machine on 2026-11-20" in page_one
    assert "Not signed when issued." in page_one
    assert document.report_id in page_one
    # What `mnemoscope verify` reads: the label and the full 64-hex hash, on one line, on
    # page 1 and nowhere else in the front pages.
    assert HASH.findall(page_one) == HASH.findall(front) == [document.results_digest]
    assert "Sign-off" in front and "What a PASS does not prove" in front


def test_the_front_pages_say_nothing_twice(results):
    document = build_report(with_reidentification(results))
    names = {p["title"] for p in with_reidentification(results)["probes"]}

    def sentences(section):  # text, not the names and hashes that identify what it is about
        return [s for s in strings(section) if len(s) > 40 and " " in s and s not in names]

    front = [s for key in ("cover", "summary", "limitations", "sign-off")
             for s in sentences(document.section(key))]
    body = {s for section in document.sections[4:] for s in sentences(section)}

    assert len(front) == len(set(front)), [s for s in front if front.count(s) > 1]
    assert not set(front) & body


# --- citations (defect 10) ------------------------------------------------------------


def every_family(results: dict) -> dict:
    """A probe of each threshold family, carrying the thresholds and anchors the engine
    declares, as a run writes them into results.json."""
    results = copy.deepcopy(results)
    for family, kind in threshold_tables().items():
        meta = [info.as_dict() for info in describe(kind)]
        results["probes"].append({
            "id": f"probe_{family}", "title": f"A {family} probe", "family": family, "verdict": "pass",
            "thresholds": {m["name"]: m["default"] for m in meta}, "thresholds_meta": meta,
            "metrics": {}, "findings": [], "error": None,
        })
    # A threshold written without its declaration falls back on the report's own anchors.
    results["probes"].append({"id": "legacy", "family": "perturbation", "verdict": "pass", "metrics": {},
                              "thresholds": dict.fromkeys(THRESHOLD_ANCHORS, 1.0), "findings": []})
    return results


def test_no_internal_reference_is_declared_anywhere_a_report_reads_from():
    declared = [value for kind in (*threshold_tables().values(), *(p.config_type for p in PROBES))
                for field in dataclasses.fields(kind) for value in field.metadata.values()
                if isinstance(value, str)]
    declared += [*THRESHOLD_ANCHORS.values(), *(p.citation for p in PROBES)]

    assert declared and not [text for text in declared if INTERNAL.search(text)]


def test_no_built_report_cites_an_internal_note(tmp_path, results):
    results = every_family(results)
    document = build_report(results)
    # Every threshold is printed once, with its source, in appendix A.
    anchors = [row[-1] for row in table_rows_or_empty(document.section("appendix"), "Probes")]

    assert any("HIPAA §164.514(b)(2)" in a for a in anchors)  # the source itself is cited
    assert not [s for s in strings(document) if INTERNAL.search(s)]
    path = tmp_path / "report.pdf"
    write_report(results, path)
    assert not INTERNAL.search(pdf_pages(path, 1, 999))


def table_rows_or_empty(section, header: str) -> list[tuple]:
    try:
        return table_rows(section, header)
    except AssertionError:
        return []


# --- glossary --------------------------------------------------------------------------

# The terms issue 14 lists, how the report prints them, and the glossary entry for each.
LISTED = {
    "AUC": (r"\bAUC\b", "ROC curve, AUC"),
    "TPR/FPR": (r"\bTPR\b|\bFPR\b", "TPR, FPR"),
    "epsilon": (r"[Ee]psilon|ε", "Differential privacy (DP), epsilon ε, δ"),
    "DP": (r"\bDP\b|[Dd]ifferential privacy", "Differential privacy (DP), epsilon ε, δ"),
    "McNemar": (r"McNemar", "McNemar test"),
    "earth mover's distance": (r"[Ee]arth mover|\bEMD\b", "Earth mover's distance"),
    "quasi-identifier": (r"[Qq]uasi-identifier", "Quasi-identifier"),
    "T1-T6": (r"\bT[1-6]\b", "T1–T6"),
    "k-extractability": (r"k-extractability", "k-extractability"),
    "Min-K%": (r"Min-K%", "Min-K% Prob, Min-K%++"),
    "zlib ratio": (r"zlib", "zlib ratio"),
    "reference model": (r"[Rr]eference model|[Rr]eference-calibrated", "Reference model"),
    "BH/q-value": (r"Benjamini|q-value|\bq = ", "Benjamini–Hochberg (BH), q-value"),
    "Clopper-Pearson": (r"Clopper", "Clopper–Pearson interval"),
    "bootstrap": (r"[Bb]ootstrap", "Bootstrap"),
    "suppressed cell": (r"[Ss]uppress|<11", "Suppressed cell"),
}


@pytest.mark.parametrize("variant", ["example", "every family"])
def test_the_glossary_defines_every_listed_term_the_report_uses(results, variant):
    if variant == "every family":
        results = every_family(with_reidentification(results))
        results["probes"][2]["findings"].append("Difference +21.5% (exact McNemar p = 4.5e-09).")
    document = build_report(results)
    glossary = [row[0] for row in table_rows(document.section("definitions"), "Term")]
    text = " ".join(s for section in document.sections if section.key != "definitions"
                    for s in strings(section))

    used = [name for name, (pattern, _) in LISTED.items() if re.search(pattern, text)]
    assert used  # the test would prove nothing on a report that used none of them
    assert [name for name in used if LISTED[name][1] not in glossary] == []
    assert glossary[:2] == ["PASS, WARN, FAIL", "INCONCLUSIVE, NOT ASSESSED"]


def test_a_term_the_report_never_prints_is_left_out_of_the_glossary(results):
    def glossary_and_rest(results):
        document = build_report(results)
        rest = " ".join(s for section in document.sections if section.key != "definitions"
                        for s in strings(section))
        return [row[0] for row in table_rows(document.section("definitions"), "Term")], rest

    glossary, rest = glossary_and_rest(results)
    assert "McNemar" not in rest and "McNemar test" not in glossary
    # A probe with a section of its own (the membership section prints no free findings).
    extraction = next(p for p in results["probes"] if p["id"] == "extraction")
    extraction["findings"].append("Compared by an exact McNemar test.")
    glossary, rest = glossary_and_rest(results)
    assert "McNemar test" in glossary


def test_the_front_fits_three_pages_and_the_glossary_two(tmp_path, results):
    """Page 1, the findings page and the limits with the sign-off, then the glossary of an
    audit that prints nearly every term, each within the page budget of issue 14."""
    path = tmp_path / "report.pdf"
    write_report(every_family(with_reidentification(results)), path)
    pages = pdf_pages(path, 1, 999).split("\f")[:-1]

    def first_page(title: str) -> int:
        return next(number for number, page in enumerate(pages, start=1)
                    if re.search(rf"^\s*{re.escape(title)}\s*$", page, re.MULTILINE))

    assert first_page("Sign-off") <= 3
    # Rows that share a risk print its meaning once, but no row is left without words.
    rows = all_table_rows(build_report(every_family(results)).section("summary"), "Risk")
    assert all(row[3] for row in rows)
    assert len(pages) - first_page("Appendix C. Glossary, definitions and formulas") + 1 <= 2
