"""Keyed pseudonyms for records: what the PDF shows instead of a patient's id.

HMAC-SHA256 with a key drawn for each audit: the same id gets the same pseudonym within
one audit (so records.csv, kept locally, maps them back), but pseudonyms from two audits
cannot be linked, and nobody without the key can test a guessed id against the PDF.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_key() -> bytes:
    return secrets.token_bytes(32)


def pseudonym(key: bytes, role: str, record_id: str) -> str:
    digest = hmac.new(key, f"{role}\x1f{record_id}".encode("utf-8"), hashlib.sha256).hexdigest()
    return f"R-{digest[:10].upper()}"
