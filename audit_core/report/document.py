"""`build_report`: the audit results in, the report's content out, as plain data.

The report is a function of the results alone (DESIGN.md, "Shape"): no widget state, no
model re-run, no clock. The same results give the same document, which is what lets a
second auditor regenerate the PDF from results.json and compare.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .appendix import appendix_section
from .cover import DEFAULT_TITLE, cover_section, is_incomplete
from .elements import ReportDocument, Section
from .model_and_data import model_and_data_section
from .probe_section import probe_section
from .redaction import redact, secrets
from .values import as_list, as_mapping, as_text
from .verdicts import verdict_value

__all__ = ["ReportDocument", "build_report", "results_digest"]

NO_PATIENT_DATA = "Contains no patient data"
INCOMPLETE = "INCOMPLETE AUDIT"


def build_report(results: Mapping[str, Any]) -> ReportDocument:
    results = _plain(results)
    if not isinstance(results, dict):
        raise TypeError(f"results must be a mapping, not {type(results).__name__}")
    digest = results_digest(results)
    audit = as_mapping(results.get("audit"))
    probes = [as_mapping(p) for p in as_list(results.get("probes"))]

    sections: list[Section] = [cover_section(results, digest)]
    sections += [probe_section(probe, number) for number, probe in enumerate(probes, start=1)]
    sections.append(model_and_data_section(results, len(probes) + 1))
    sections.append(appendix_section(results, digest))

    incomplete = is_incomplete(results)
    footer = (INCOMPLETE, NO_PATIENT_DATA) if incomplete else (NO_PATIENT_DATA,)
    title = as_text(audit.get("title"), DEFAULT_TITLE)
    document = ReportDocument(
        report_id=as_text(audit.get("id"), "unidentified"),
        title=f"{title} (incomplete)" if incomplete else title,
        verdict=verdict_value(results.get("overall_verdict")),
        sections=tuple(sections),
        footer_notes=footer,
        author=as_text(audit.get("institution"), ""),
        subject=f"Memorization audit {as_text(audit.get('id'), '')}".strip(),
    )
    return redact(document, secrets(results))


def results_digest(results: Mapping[str, Any]) -> str:
    """SHA-256 of the results as canonical JSON (sorted keys, compact, UTF-8)."""
    canonical = json.dumps(
        _plain(results), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    # Callers may pass a frozen result's mapping views or tuples; JSON and the section
    # builders want plain dicts and lists.
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
