"""Whether a probe applies to the audited records (medical codes or free text), decided from
the plan before any file is read, with the reason the user is shown.

A probe that compares or varies codes (T1's code futures, T5's age, time and code
perturbations) has nothing sound to read in a clinical note, and one that reads identifiers
out of notes has none in a code sequence: the standard suite leaves each out where it does
not apply (the CLI says which before the run, `results.json` lists them under
`not_applicable` and the report's page of attacks not attempted repeats it), and a plan that
names one is refused with the reason (`selection.resolve_probes`, exit 2), as for a probe of
another model kind. The sensitive-category probes apply to both: their `code_sets` setting
holds ICD-10 prefixes for codes and wordings for notes (`clinical.sensitive_terms`), checked
here against the plan's record kind.
"""

from __future__ import annotations

from typing import Any

from audit_core.clinical.code_sets import parse_code_sets
from audit_core.clinical.sensitive_terms import parse_sensitive_terms
from audit_core.probes.base import Probe

TEXT = "text"


def records_reason(probe: Probe, records_kind: str) -> str | None:
    """Why `probe` does not apply to records of `records_kind` ("codes" or "text"), or None."""
    if getattr(probe.needs, "text_records", False) and records_kind != TEXT:
        return "it reads free-text records (clinical notes), and these records are not free text"
    if getattr(probe.needs, "code_records", False) and records_kind == TEXT:
        return "it reads sequences of medical codes, and these records are free text"
    return None


def not_applicable(candidates: list[Probe], records_kind: str) -> list[dict[str, str]]:
    """The probes among `candidates` (the standard suite for the model's kind) left out for
    the records' kind: id, title and reason, for results.json and the CLI."""
    out = []
    for probe in candidates:
        reason = records_reason(probe, records_kind)
        # Notes-only probes stay out of a code audit's list: a code audit never offered them.
        if reason is not None and not getattr(probe.needs, "text_records", False):
            out.append({"id": probe.id, "title": probe.title, "reason": reason})
    return out


def check_code_sets(probe_id: str, config: Any, records_kind: str) -> None:
    """A probe's `code_sets` setting in the syntax of the records: ICD-10 prefixes for code
    records, wordings for notes (a PlanError naming the key otherwise)."""
    spec = getattr(config, "code_sets", None)
    if not isinstance(spec, str):
        return
    where = f"probes.{probe_id}.code_sets"
    if records_kind == TEXT:
        parse_sensitive_terms(spec, where)
    else:
        parse_code_sets(spec, where)
