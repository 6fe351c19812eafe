"""Page 1: what was audited, the verdict, and who may rely on it (compliance.md 6.1).

A privacy officer may read nothing else, so the cover must stand alone: the overall
verdict and why, each probe's verdict, which model and data files (by hash) it is about,
and the limits of what a PASS means. An audit that did not finish says so here in words,
before anything else can be misread as a complete result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .elements import Align, Code, Heading, Paragraph, Section, Table, TextStyle, VerdictBanner
from .closing import reaudit_date
from .precision import int8_notice, is_int8_screen
from .threat import release_context
from .values import (
    MISSING,
    as_list,
    as_mapping,
    as_text,
    format_utc,
    report_label,
)
from .verdicts import ERROR, MEANINGS, WORDS, probe_verdict, verdict_badge, verdict_value, verdict_word

DEFAULT_TITLE = "Memorization audit"
KICKER = "Mnemoscope · Training-data memorization and privacy audit report"
UNSIGNED = (
    "Not signed when issued. Approvals are added after review with `mnemoscope sign` (see "
    "the sign-off section) and listed by `mnemoscope verify`."
)
COMPLETED = "completed"

DISCLAIMER = (
    "Empirical lower bounds: these results show what the attacks tried here could do. "
    "A PASS does not prove anonymity (EDPB Opinion 28/2024) or de-identification "
    "(HIPAA §164.514).",
    "This report contains no patient data: records are referred to only by keyed "
    "pseudonyms, never by identifier or content.",
)


def audit_outcome(results: Mapping[str, Any]) -> str | None:
    outcome = as_mapping(results.get("audit")).get("outcome")
    return str(outcome).strip().lower() if outcome else None


def is_incomplete(results: Mapping[str, Any]) -> bool:
    # A missing outcome is not evidence of a cut-short run; any stated outcome other than
    # completed (cancelled, failed, interrupted, ...) is.
    outcome = audit_outcome(results)
    return outcome is not None and outcome != COMPLETED


def incomplete_notice(results: Mapping[str, Any]) -> str:
    outcome = audit_outcome(results)
    how = "was cancelled" if outcome == "cancelled" else f"ended with outcome “{outcome}”"
    return (
        f"INCOMPLETE AUDIT: the audit {how} before every planned probe had run. "
        "The verdicts below cover only the probes that finished and must not be read as "
        "the result of a complete audit."
    )


def cover_section(results: Mapping[str, Any], results_digest: str, signature_status: str = UNSIGNED) -> Section:
    audit = as_mapping(results.get("audit"))
    blocks: list = [
        Paragraph(KICKER, TextStyle.KICKER),
        Paragraph(as_text(audit.get("title"), DEFAULT_TITLE), TextStyle.TITLE),
    ]
    if is_incomplete(results):
        blocks.append(Paragraph(incomplete_notice(results), TextStyle.ALERT))
    if is_int8_screen(as_mapping(results.get("model"))):
        blocks.append(Paragraph(int8_notice(), TextStyle.ALERT))
    overall = verdict_value(results.get("overall_verdict"))
    blocks.append(
        VerdictBanner(
            verdict=overall,
            label=verdict_word(overall, results.get("overall_verdict")),
            rationale=as_text(results.get("overall_rationale"), "No rationale was recorded."),
        )
    )
    blocks += [
        Heading("Verdict per probe", 3),
        _probe_table(results),
        Paragraph(_legend(), TextStyle.NOTE),
        Heading("Audit and model", 3),
        _identity_table(results, results_digest, signature_status),
    ]
    blocks += [Paragraph(line, TextStyle.DISCLAIMER) for line in DISCLAIMER]
    return Section(key="cover", title="Summary", blocks=tuple(blocks), show_title=False)


def _probe_table(results: Mapping[str, Any]) -> Table | Paragraph:
    rows = []
    for probe in map(as_mapping, as_list(results.get("probes"))):
        verdict = probe_verdict(probe)
        headline = as_mapping(probe.get("headline")).get("text")
        if verdict == ERROR:
            headline = "Not assessed: the probe stopped with an error (see its section)."
        rows.append(
            (
                as_text(probe.get("title"), as_text(probe.get("id"))),
                verdict_badge(verdict, probe.get("verdict")),
                as_text(headline),
            )
        )
    if not rows:
        return Paragraph("No probe results are recorded in this audit.", TextStyle.ALERT)
    return Table(
        header=("Probe", "Verdict", "Headline result"),
        rows=tuple(rows),
        widths=(0.34, 0.18, 0.48),
        align=(Align.LEFT, Align.CENTER, Align.LEFT),
    )


def _legend() -> str:
    return "; ".join(f"{WORDS[v]}: {meaning}" for v, meaning in MEANINGS.items()) + "."


def _identity_table(results: Mapping[str, Any], results_digest: str, signature_status: str) -> Table:
    audit = as_mapping(results.get("audit"))
    model = as_mapping(results.get("model"))
    tool = as_mapping(results.get("tool"))
    when = audit.get("finished_utc") or audit.get("started_utc")
    rows: list[tuple[str, Any]] = [("Report id", Code(report_label(results)))]
    if audit.get("institution"):
        rows.append(("Institution", as_text(audit.get("institution"))))
    if audit.get("requester"):
        rows.append(("Requested by", as_text(audit.get("requester"))))
    if audit.get("auditor"):
        rows.append(("Auditor", as_text(audit.get("auditor"))))
    if audit.get("intended_use"):
        rows.append(("Intended use", as_text(audit.get("intended_use"))))
    rows += [
        ("Release context", release_context(results).label),
        ("Audit date", format_utc(when)),
        ("Outcome", _outcome(results)),
        ("Model", as_text(model.get("name"))),
        ("Model SHA-256", Code(as_text(model.get("sha256")))),
        ("Audit tool", f"{as_text(tool.get('name'), 'mnemoscope')} {as_text(tool.get('version'), '')}".strip()),
        ("Results SHA-256", Code(results_digest)),
        ("Signature", signature_status),
        ("Re-audit due", reaudit_date(results)),
    ]
    return Table(header=(), rows=tuple(rows), widths=(0.24, 0.76), key_value=True)


def _outcome(results: Mapping[str, Any]) -> str:
    outcome = audit_outcome(results)
    if outcome is None:
        return MISSING
    if is_incomplete(results):
        return f"INCOMPLETE ({outcome})"
    return "Completed"
