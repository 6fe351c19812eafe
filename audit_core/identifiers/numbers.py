"""Cue-bound identifying numbers: Safe Harbor items 9-13 and 18 (45 CFR 164.514(b)(2)(i)
(I)-(M), (R)).

A health-plan member id, an account number, a licence number, a device serial or a claim
number looks like any other run of letters and digits; a bare `48213377` could as well be
a lab accession count or a pager. So each is taken only after its cue word ("member ID",
"acct #", "S/N", ...), the way a note writes it, and the value must hold a digit and be
4-40 characters long: "serial troponins", "growth plate 2", "policy" alone, "a/c" (ante
cibum, before meals) and doses stay out.

Provider registrations are deliberately not cues. Safe Harbor removes the identifiers
"of the individual or of relatives, employers, or household members of the individual"
(164.514(b)(2)(i)); an NPI or a DEA number names the prescriber, who is not the patient,
and a provider's identifier coming out of a model is not a patient's identifier leaking.
A licence cue right after such a word ("DEA license #", "medical license no.") is
skipped for the same reason.

Keys are upper case without separators, so `W123-456-789` and `w123456789` match. Account
numbers also drop leading zeros (billing systems pad them to a field width: `000482193`
on a statement is `482193` in a note); serials, licences and member ids keep them, where
a leading zero is part of the issued value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A value after a cue: letters, digits and inner separators, at least one digit.
_VALUE = r"([A-Za-z0-9](?:[A-Za-z0-9]|[-/.](?=[A-Za-z0-9])){3,39})"
_NO = r"(?:no\.?|num(?:ber)?\.?|#|id\b|ID\b)"  # "no.", "number", "#", "ID"
_SEP = r"\s*[:#]?\s*"

# (category, cue) in priority order; the first cue that claims a span wins.
_CUES: tuple[tuple[str, str], ...] = (
    # 12. Vehicle identifiers: the VIN (17 characters, no I, O or Q) and licence plates.
    ("vehicle", r"\bVIN\b"),
    ("vehicle", r"\b(?i:(?:licen[cs]e|registration|number)\s+plate(?:\s+" + _NO + r")?|plate\s+" + _NO + r")"),
    # 13. Device identifiers and serial numbers (implants, pumps, monitors).
    ("device", r"\b(?i:serial\s+" + _NO + r"|S/N|SN(?=\s*[:#])|device\s+(?:id\b|identifier|" + _NO + r"))"),
    # 9. Health plan beneficiary numbers.
    ("health_plan", r"\b(?i:(?:member|subscriber|beneficiary|insurance|insured|policy|medicaid|"
                    r"medicare|health\s+plan)\s+" + _NO + r"|MBI\b|HICN\b)"),
    # 10. Account numbers.
    ("account", r"\b(?i:(?:billing\s+|patient\s+|hospital\s+)?account\s+" + _NO + r"|acct\b\.?(?:\s*" + _NO + r")?)"),
    # 11. Certificate and licence numbers (the patient's: driver's licence, passport, ...).
    ("certificate", r"\b(?i:driver'?s?\s+licen[cs]e(?:\s+" + _NO + r")?|licen[cs]e\s+" + _NO + r"|"
                    r"passport(?:\s+" + _NO + r")?|(?:birth\s+|death\s+|marriage\s+)?certificate\s+" + _NO + r"|"
                    r"DL\s*#)"),
    # 18. Any other unique identifying number: only those a note names as such.
    ("other_id", r"\b(?i:patient\s+(?:id\b|identifier|" + _NO + r")|pt\.?\s+id\b|PID\b|"
                 r"(?:claim|case|encounter|visit|accession|specimen|employee|student|badge|"
                 r"member\s+services\s+case)\s+" + _NO + r"|CSN\b)"),
)
# One scan for every cue (named group `c<i>` is `_CUES[i]`): at the same position the
# earlier cue wins ("license plate" is a vehicle's before "license" is a certificate's).
# The look-around lets the engine skip every position that cannot start a word, which
# makes one pass over a note about four times faster than a pattern per cue.
_NUMBER = re.compile(r"(?<![A-Za-z0-9_])(?=[A-Za-z])(?:"
                     + "|".join(f"(?P<c{i}>{cue})" for i, (_, cue) in enumerate(_CUES)) + ")"
                     + _SEP + _VALUE)
# A unique device identifier (FDA UDI) keeps its GS1 application identifiers in
# parentheses, "(01)00884838000001(21)A1B2C3", or starts with HIBCC's "+".
_UDI = re.compile(r"\b(?i:UDI)" + _SEP + r"([(+]?[A-Za-z0-9][A-Za-z0-9()+/$.-]{4,78}[A-Za-z0-9)])")
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
# A licence cue right after a provider's registration names the prescriber, not the patient.
_PROVIDER = re.compile(r"\b(?:DEA|NPI|provider|prescriber|physician|prescribing|medical|nursing|"
                       r"pharmacist|pharmacy|professional|state\s+medical)\W*$", re.IGNORECASE)


def _key(category: str, value: str) -> str | None:
    key = re.sub(r"[^0-9A-Z]", "", value.upper())
    if not re.search(r"\d", key) or len(key) < 4:
        return None
    if category == "account":
        key = key.lstrip("0") or "0"
    return key


def find_numbers(text: str) -> Iterator[tuple[str, int, int, str]]:
    """(category, start, end, key) of every cue-bound number."""
    if "udi" in text.lower():
        for m in _UDI.finditer(text):
            key = _key("device", m.group(1))
            if key is not None:
                yield "device", m.start(1), m.end(1), key
    for m in _NUMBER.finditer(text):
        i = next(int(name[1:]) for name, cue in m.groupdict().items() if cue is not None)
        last = m.lastindex
        if last is None:  # each cue's pattern captures its number: never taken
            continue
        category, value = _CUES[i][0], m.group(last)
        if category == "certificate" and _PROVIDER.search(text[max(0, m.start() - 24):m.start()]):
            continue
        if category == "vehicle" and m.group(f"c{i}").upper() == "VIN" and not _VIN.fullmatch(value.upper()):
            continue
        key = _key(category, value)
        if key is not None:
            yield category, m.start(last), m.end(last), key
