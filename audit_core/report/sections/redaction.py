"""The guards before anything is printed: no record id, no pseudonym key and no
identifier-like free text reaches the document or the results embedded in it.

Record ids (`probes[].extracted[].id`) are patient identifiers: the PDF refers to records
only by their keyed pseudonym (`ref`). The section builders never read `id`, but a
finding sentence, an error message or the plan comes from elsewhere and could quote one,
so every string of the finished document is scrubbed of every id the results name.
Over-redacting a number that happens to equal an id is the safe way to be wrong.

Free text written by probes (findings, errors, headlines, notes) is also masked by
category before use: anything shaped like a URL, an email, an IP address, a phone or
social-security number,
an MRN or record number, a date of birth, a name (titles, "Name:", runs of capitalised
words) or a quoted passage becomes `[URL]`, `[EMAIL]`, `[IP]`, `[PHONE]`, `[MRN]`, `[NAME]`, `[TEXT]`
(compliance.md 4: masked examples, never raw text). The fields a person types for the
report (title, institution, auditor) are left alone: they name staff, not patients.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

from .values import as_list, as_mapping

WITHHELD = "[record id withheld]"

T = TypeVar("T")


# Category masks, applied in order (the most specific first).
_MASKS = (
    (re.compile(r"(?i)\b(?:https?|ftp)://\S+|\bwww\.[\w-]+\.\S+"), "[URL]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[EMAIL]"),
    # Dotted quads and IPv6 written with '::' or eight groups (identifiers/network.py).
    (re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"), "[IP]"),
    (re.compile(r"(?i)(?<![\w:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\w:])"
                r"|(?i:(?<![\w:])(?:[0-9a-f]{1,4}:){1,6}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?(?![\w:]))"),
     "[IP]"),
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), "[SSN]"),
    (re.compile(r"(?<![\w.])(?:\+?\d{1,2}[\s.-])?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b"), "[PHONE]"),
    (re.compile(r"(?i)\b(?:MRN|medical record(?: number)?|record(?: number| no\.?)?|patient id|pid)"
                r"\s*[:#]?\s*[A-Z]*-?\d[\w-]*"), "[MRN]"),
    (re.compile(r"(?i)\b(?:DOB|born|date of birth)\s*[:#]?\s*[\w/.-]+(?:\s\d{1,2},?\s\d{4})?"), "[DATE]"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"), "[DATE]"),
    # Mixed letters and 5+ digits ("P000206", "MRN88412093"): the shape of record ids.
    (re.compile(r"\b[A-Za-z]{1,4}-?\d{5,}\b"), "[ID]"),
    (re.compile(r"(?<![\d.,%])\b\d{7,}\b(?![.,]\d)"), "[ID]"),
    (re.compile(r"(?:\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Patient|Pt|Name)\.?:?\s+)(?:[A-Z][\w'-]+\.?\s?){1,3}"), "[NAME] "),
    (re.compile(r"\b[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?(?:\s+[A-Z]\.)?"
                r"(?:\s+[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?){1,2}\b"), "[NAME]"),
    (re.compile(r"[\"“'‘]([^\"”'’]{12,})[\"”'’]"), "[TEXT]"),
)
# Capitalised runs that are vocabulary, not names: kept when a probe writes them.
_VOCABULARY = frozenset({
    "Clopper Pearson", "Benjamini Hochberg", "Fisher", "Min K", "Not Assessed",
})
# Free-text fields written by probes and the engine, by path.
_PROBE_TEXT = ("findings", "error", "notes")


def scrub_text(text: str) -> str:
    """`text` with identifier-like spans masked by category."""
    for pattern, mask in _MASKS:
        if mask == "[NAME]":
            text = pattern.sub(lambda m: m.group(0) if m.group(0) in _VOCABULARY else mask, text)
        else:
            text = pattern.sub(mask, text)
    return text


def shareable(results: Mapping[str, Any]) -> dict[str, Any]:
    """The results as they may leave the workstation inside the PDF: record ids and the
    pseudonym key dropped, free text from the probes masked, every record id withheld
    wherever else it appears."""
    pattern = _pattern(secrets(results))
    # Known ids first, so they read "[record id withheld]" rather than a category mask.
    # _withhold builds every dict and list anew, the only containers changed below, so
    # `results` is left as it was without a deep copy first (most of this function's time).
    out = _withhold(dict(results), pattern) if pattern else copy.deepcopy(dict(results))
    pseudo = out.get("pseudonymization")
    if isinstance(pseudo, dict):
        pseudo.pop("key", None)
    for probe in as_list(out.get("probes")):
        if not isinstance(probe, dict):
            continue
        for record in (*as_list(probe.get("extracted")), *as_list(probe.get("carriers"))):
            if isinstance(record, dict):
                record.pop("id", None)
        for name in _PROBE_TEXT:
            probe[name] = _scrub_value(probe.get(name))
        headline = probe.get("headline")
        if isinstance(headline, dict):
            headline["text"] = _scrub_value(headline.get("text"))
    out["overall_rationale"] = _scrub_value(out.get("overall_rationale"))
    model = out.get("model")
    if isinstance(model, dict):
        model["notes"] = _scrub_value(model.get("notes"))
    return out


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, list):
        return [_scrub_value(v) for v in value]
    return value


def _withhold(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(WITHHELD, value)
    if isinstance(value, dict):
        return {k: _withhold(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_withhold(v, pattern) for v in value]
    return value


def secrets(results: Mapping[str, Any]) -> frozenset[str]:
    """Everything the PDF must never show: record ids, and the per-audit pseudonym key
    (with it, anyone holding a list of candidate patient ids could tell which of them
    the report's pseudonyms stand for)."""
    key = as_mapping(results.get("pseudonymization")).get("key")
    keys = {str(key).strip()} if isinstance(key, str) and key.strip() else set()
    return record_ids(results) | keys


def record_ids(results: Mapping[str, Any]) -> frozenset[str]:
    ids = set()
    for probe in as_list(results.get("probes")):
        records = (*as_list(as_mapping(probe).get("extracted")), *as_list(as_mapping(probe).get("carriers")))
        for record in records:
            value = as_mapping(record).get("id")
            if value is not None and not isinstance(value, bool) and str(value).strip():
                ids.add(str(value).strip())
    return frozenset(ids)


def redact(document: T, ids: Iterable[str]) -> T:
    """The document with every standalone occurrence of an id (or key) replaced."""
    pattern = _pattern(ids)
    return _walk(document, pattern) if pattern else document


def _pattern(ids: Iterable[str]) -> re.Pattern[str] | None:
    ids = sorted(set(ids), key=len, reverse=True)  # longest first: "P1234" before "P12"
    if not ids:
        return None
    # Standalone: "P000123" in "record P000123." is redacted, but an id "12" does not eat
    # the "12" inside "2026-11-29T12:00" (bounded by letters or digits on either side).
    return re.compile(
        r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(i) for i in ids) + r")(?![A-Za-z0-9])"
    )


def _walk(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, Enum):  # StrEnum members are str; they are styles, not content
        return value
    if isinstance(value, str):
        return pattern.sub(WITHHELD, value)
    if isinstance(value, tuple):
        return tuple(_walk(item, pattern) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _walk(getattr(value, f.name), pattern) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value
