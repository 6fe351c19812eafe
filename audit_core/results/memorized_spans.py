"""Which tokens of the records most at risk the model scores far above its baseline.

Two parts, kept apart on purpose. `summary` holds counts only (memorized tokens and spans
per identifier or code category, members against non-members): it goes to results.json
and the report. `records` holds, per localised record, its spans as token and character
index ranges with their contrasts, and the record's id: like records.csv it stays on the
workstation (memorized_spans.json beside it), where the desktop app lays the spans over
the record's text read from the cohort file. No record text is in either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from audit_core.results.result import plain

SPANS_SCHEMA = "mnemoscope.memorized_spans/1"


@dataclass(frozen=True, slots=True)
class MemorizedSpans:
    summary: dict[str, Any]  # results.json's "memorized_spans": counts, no record
    # One entry per localised record: role, index (the run's; replaced by id and ref once
    # the pseudonym key exists), reasons, tokens, spans [{tokens, chars, contrast, ...}].
    records: tuple[dict[str, Any], ...]

    def with_ids(self, ids: dict[tuple[str, int], tuple[str, str]]) -> MemorizedSpans:
        """Each record's (id, ref) in place of its index, by (role, index)."""
        named = []
        for entry in self.records:
            if "index" not in entry:
                named.append(entry)
                continue
            record_id, ref = ids[(entry["role"], int(entry["index"]))]
            rest = {k: v for k, v in entry.items() if k not in ("role", "index")}
            named.append({"role": entry["role"], "id": record_id, "ref": ref, **rest})
        return replace(self, records=tuple(named))


def encode_spans(spans: MemorizedSpans) -> bytes:
    """A checkpoint unit: plain JSON (floats round-trip exactly), never a pickle."""
    return json.dumps({"summary": plain(spans.summary), "records": plain(list(spans.records))}).encode("utf-8")


def decode_spans(data: bytes) -> MemorizedSpans:
    document = json.loads(data.decode("utf-8"))
    return MemorizedSpans(summary=document["summary"], records=tuple(document["records"]))


def spans_document(spans: MemorizedSpans, audit_id: str, report_id: str) -> dict[str, Any]:
    """memorized_spans.json: local, like records.csv (it names records by their ids)."""
    return plain({"schema": SPANS_SCHEMA, "audit_id": audit_id, "report_id": report_id,
                  "local_only": "Record ids and positions of memorized text: keep on the "
                                "workstation, like records.csv; never attach to the report",
                  "summary": spans.summary, "records": list(spans.records)})
