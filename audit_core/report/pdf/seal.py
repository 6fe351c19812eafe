"""The file's integrity record: a SHA-256 of the report's own bytes, kept inside it.

A signature protects a report only once someone signs it, and most reports are filed
unsigned for a while (or for good). So that `mnemoscope verify` catches any edit to an
unsigned report, down to one flipped byte in a content stream, a font or an attachment,
the writer records in the document information dictionary

    /MnemoscopeSeal (LLLLLLLLLLLL HHHH...64 hex...)

where L is the length of the file as written and H the SHA-256 of those bytes with the
value itself read as zeros (a file cannot contain its own hash, so the value is a hole
in what is hashed, as a PDF signature's /Contents is). Incremental updates appended
later (PAdES signatures) leave the first L bytes untouched, so the record still holds
for a signed file; what comes after byte L is for the signature checks to judge.

This is not a signature: anyone who rewrites a report can recompute the record. It
catches edits and damage, not forgery.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

SEAL_KEY = "/MnemoscopeSeal"
_LENGTH_DIGITS = 12
PLACEHOLDER = "0" * _LENGTH_DIGITS + " " + "0" * 64
# The docinfo is written uncompressed (archival.py disables object streams), as a
# literal string; the first such entry in the file is the one the writer made.
_PATTERN = re.compile(rb"/MnemoscopeSeal\s*\((\d{12}) ([0-9a-f]{64})\)")


class SealError(ValueError):
    """The written file has no placeholder to fill (an internal error, not bad input)."""


@dataclass(frozen=True, slots=True)
class Seal:
    length: int  # bytes of the file as the tool wrote it
    digest: str  # recorded SHA-256
    actual: str  # SHA-256 of those bytes now (the value read as zeros)

    @property
    def intact(self) -> bool:
        return self.digest == self.actual


def seal_bytes(data: bytes) -> bytes:
    """`data` (a PDF whose docinfo holds the placeholder) with the record filled in."""
    match = _PATTERN.search(data)
    if match is None or (match.group(1) + match.group(2)).strip(b"0"):
        raise SealError("the written PDF has no integrity-record placeholder")
    value = f"{len(data):0{_LENGTH_DIGITS}d} {_digest(data, match)}".encode("ascii")
    return data[:match.start(1)] + value + data[match.end(2):]


def read_seal(data: bytes) -> Seal | None:
    """The record and what the bytes hash to now; None when the file has none."""
    match = _PATTERN.search(data)
    if match is None:
        return None
    length = int(match.group(1))
    if length < match.end(0) or length > len(data):
        return Seal(length=length, digest=match.group(2).decode("ascii"), actual="")
    return Seal(length=length, digest=match.group(2).decode("ascii"), actual=_digest(data[:length], match))


def _digest(data: bytes, match: re.Match[bytes]) -> str:
    hole = PLACEHOLDER.encode("ascii")
    return hashlib.sha256(data[:match.start(1)] + hole + data[match.end(2):]).hexdigest()
