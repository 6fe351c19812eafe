"""Keyed pseudonyms for records: what the PDF shows instead of a patient's id.

HMAC-SHA256 with a key per audit: the same id gets the same pseudonym within one audit
(so records.csv, kept locally, maps them back), and nobody without the key can test a
guessed id against the PDF. The key is derived from the full contents of both cohorts
(every id and record) and the seed, and never stored: a rerun of the same audit gives the
same pseudonyms (results.json is reproducible byte for byte), only someone who already
holds the patient files can recompute it, and audits with another seed or other data
cannot be linked. The file hashes printed in the report are not enough to derive it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence


def cohort_key(seed: int, cohorts: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> bytes:
    """The audit's key from (role, ids, records) of each cohort and the seed."""
    digest = hashlib.sha256(b"mnemoscope pseudonym key\x00" + str(seed).encode("ascii"))
    for role, ids, records in cohorts:
        digest.update(f"\x1d{role}\x1d{len(ids)}".encode())
        for record_id, record in zip(ids, records, strict=True):
            # Lengths first: no two different cohorts hash the same stream.
            digest.update(f"{len(record_id)}:{record_id}{len(record)}:".encode())
            digest.update(record.encode("utf-8", "surrogatepass"))
    return digest.digest()


def pseudonym(key: bytes, role: str, record_id: str) -> str:
    digest = hmac.new(key, f"{role}\x1f{record_id}".encode(), hashlib.sha256).hexdigest()
    return f"R-{digest[:10].upper()}"
