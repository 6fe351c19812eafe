"""The last guard before anything is printed: no record id (and no pseudonym key)
reaches the document.

Record ids (`probes[].extracted[].id`) are patient identifiers: the PDF refers to records
only by their keyed pseudonym (`ref`). The section builders never read `id`, but a
finding sentence, an error message or the plan comes from elsewhere and could quote one,
so every string of the finished document is scrubbed of every id the results name.
Over-redacting a number that happens to equal an id is the safe way to be wrong.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

from .values import as_list, as_mapping

WITHHELD = "[record id withheld]"

T = TypeVar("T")


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
        for record in as_list(as_mapping(probe).get("extracted")):
            value = as_mapping(record).get("id")
            if value is not None and not isinstance(value, bool) and str(value).strip():
                ids.add(str(value).strip())
    return frozenset(ids)


def redact(document: T, ids: Iterable[str]) -> T:
    """The document with every standalone occurrence of an id (or key) replaced."""
    ids = sorted(set(ids), key=len, reverse=True)  # longest first: "P1234" before "P12"
    if not ids:
        return document
    # Standalone: "P000123" in "record P000123." is redacted, but an id "12" does not eat
    # the "12" inside "2026-11-29T12:00" (bounded by letters or digits on either side).
    pattern = re.compile(
        r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(i) for i in ids) + r")(?![A-Za-z0-9])"
    )
    return _walk(document, pattern)


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
