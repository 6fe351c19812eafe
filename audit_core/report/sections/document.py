"""`build_report`: the audit results in, the report's content out, as plain data.

The report is a function of the results alone (DESIGN.md, "Shape"): no widget state, no
model re-run, no clock. The same results give the same document, which is what lets a
second auditor regenerate the PDF from results.json and compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .appendix import appendix_section
from .attachments import digest
from .closing import TITLE as LIMITS_TITLE
from .closing import limitations_section, signoff_section
from .cover import DEFAULT_TITLE, UNSIGNED, cover_section, is_incomplete
from .definitions import definitions_section
from .elements import ReportDocument, Section
from .membership_page import is_membership, membership_section
from .memorized_spans import has_memorized_spans, memorized_spans_section
from .model_and_data import model_section
from .probe_section import probe_section
from .redaction import redact, secrets, shareable
from .run_facts import with_run_facts
from .scope import regulatory_map_section
from .subgroups import has_subgroups, subgroup_section
from .summary import TITLE as SUMMARY_TITLE
from .summary import summary_section
from .threat import threat_section
from .values import as_list, as_mapping, as_text, report_label
from .verdicts import verdict_value

__all__ = ["ReportDocument", "build_report", "results_digest", "shareable"]

NO_PATIENT_DATA = "Confidential: contains no patient data"
INCOMPLETE = "INCOMPLETE AUDIT"


def build_report(results: Mapping[str, Any], signature_status: str | None = None) -> ReportDocument:
    """The report for `results`. It is built from, and its hash is taken over, the
    shareable form of the results (record ids and the pseudonym key dropped, probe free
    text masked): exactly what the PDF embeds. `signature_status` is the cover's line
    about the digital signature, when the writer is about to sign."""
    results = _plain(results)
    if not isinstance(results, dict):
        raise TypeError(f"results must be a mapping, not {type(results).__name__}")
    withheld = secrets(results)
    results = shareable(results)
    results_hash = results_digest(results)
    results = with_run_facts(results)  # timings, machine, validation: from run.json
    audit = as_mapping(results.get("audit"))
    probes = [as_mapping(p) for p in as_list(results.get("probes"))]
    status = signature_status or UNSIGNED

    # The front pages (1 to 3) say each thing once: page 1 the verdict, decision, first
    # actions, three numbers and the report's status; page 2 every finding and the other
    # actions; page 3 the limits and the sign-off. The body, numbered, holds the evidence.
    keys = ["model", "threat-model", "results"]
    if has_subgroups(results):
        keys.append("subgroups")
    if has_memorized_spans(results):
        keys.append("memorized-spans")
    numbers = {key: index for index, key in enumerate(keys, start=1)}
    # The model and its data share a section, as do the threat model and the methods.
    numbers.update(datasets=numbers["model"], methods=numbers["threat-model"])
    titles = {key: f"Section {number}" for key, number in numbers.items()}
    titles.update({"cover": "Page 1", "summary": SUMMARY_TITLE, "limitations": LIMITS_TITLE,
                   "sign-off": "Sign-off", "appendix": "Appendix A"})

    sections: list[Section] = [
        cover_section(results, results_hash, status),
        summary_section(results),
        limitations_section(results),
        signoff_section(results),  # the signature status is printed once, on page 1
        model_section(results, numbers["model"]),
        threat_section(results, numbers["threat-model"]),
    ]
    sections += result_sections(probes, numbers["results"])
    if "subgroups" in numbers:
        sections.append(subgroup_section(results, numbers["subgroups"]))
    if "memorized-spans" in numbers:
        sections.append(memorized_spans_section(results, numbers["memorized-spans"]))
    sections += [appendix_section(results, results_hash), regulatory_map_section(titles)]
    # The glossary comes last, built from the rest: it defines the terms they print.
    sections.append(definitions_section(sections))

    incomplete = is_incomplete(results)
    footer = (INCOMPLETE, NO_PATIENT_DATA) if incomplete else (NO_PATIENT_DATA,)
    title = as_text(audit.get("title"), DEFAULT_TITLE)
    document = ReportDocument(
        report_id=report_label(results) if audit.get("report_id") or audit.get("id") else "unidentified",
        title=f"{title} (incomplete)" if incomplete else title,
        verdict=verdict_value(results.get("overall_verdict")),
        sections=tuple(sections),
        footer_notes=footer,
        author=as_text(audit.get("institution"), ""),
        subject=f"Memorization audit {report_label(results)}" if audit.get("report_id") or audit.get("id")
        else "Memorization audit",
        results_digest=results_hash,
        keywords=f"mnemoscope results-sha256:{results_hash}",
    )
    return redact(document, withheld)


def result_sections(probes: list[Mapping[str, Any]], number: int) -> list[Section]:
    """The membership attacks together in one section, where they first appear, then one
    section per other probe, numbered "6.1", "6.2", ..."""
    membership = [p for p in probes if is_membership(p)]
    sections: list[Section] = []
    for probe in probes:
        if is_membership(probe) and probe is not membership[0]:
            continue
        label = f"{number}.{len(sections) + 1}"
        sections.append(membership_section(membership, label) if is_membership(probe)
                        else probe_section(probe, label))
    return sections


def results_digest(results: Mapping[str, Any]) -> str:
    """SHA-256 of the results as canonical JSON (sorted keys, compact, UTF-8)."""
    return digest(_plain(results))


def _plain(value: Any) -> Any:
    # Callers may pass a frozen result's mapping views or tuples; JSON and the section
    # builders want plain dicts and lists.
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
