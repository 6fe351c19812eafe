"""Rule-based detection of HIPAA Safe Harbor identifiers in clinical text.

Categories (the Safe Harbor list, 45 CFR 164.514(b)(2)(i)): names (A), street addresses
(B), dates more specific than a year (C), ages over 89 (C), telephone (D) and fax (E)
numbers, email addresses (F), social security numbers (G), medical record numbers (H),
health plan beneficiary numbers (I), account numbers (J), certificate and licence
numbers (K), vehicle identifiers and licence plates (L), device identifiers and serial
numbers (M), URLs (N), IP addresses (O), and other unique identifying numbers (R) when
the note names them as such ("patient ID", "claim #", "accession no.", ...). Items I-M
and R are taken only after a cue word (`numbers`); URLs and IP addresses by their own
syntax, with validity checks (`network`).

Not detectable in text, so not listed: biometric identifiers (P: finger and voice
prints, retina scans) and full-face photographs (Q). A model that writes text emits at
most a description or a file name, which no rule can tie to a person; an image or a
voice model needs its own audit. Other unique characteristics and codes (R) without a
cue (a rare tattoo described in words, an uncued number) are not detected either.

Rules, not a learned tagger: every detection can be explained, the audit stays offline
and deterministic, and a miss is a documented limitation rather than drift.

Each detection carries a normalized value (`Detection.key`) so that the same
identifier written two ways (`617-555-0134`, `(617) 555 0134`; `03/04/1957`,
`1957-03-04`; `W123-456-789`, `w123456789`) matches the same training value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from audit_core.identifiers.network import find_network
from audit_core.identifiers.numbers import find_numbers

# New categories go at the end: results and reports keep one row per category in this
# order, so an older results.json still lines up with its labels.
CATEGORIES = ("name", "mrn", "date", "phone", "fax", "email", "address", "ssn", "age_over_89",
              "health_plan", "account", "certificate", "vehicle", "device", "url", "ip_address",
              "other_id")
# Categories that on their own point at one person (compliance.md 5.2: FAIL on a direct
# identifier; a date or an age alone is a quasi-identifier). A member id, an account, a
# licence, a VIN or plate, an implant's serial and a cued claim or accession number are
# issued to one person (or one vehicle or device that is theirs), so they are direct.
# A URL or an IP address usually names a shared thing (the patient portal, a hospital
# workstation, a clinic's NAT gateway) that many records hold alike; leaking one is
# counted and reported, and it weighs in the WARN contrasts, but it is not by itself a
# direct identifier of one patient.
DIRECT = frozenset({"name", "mrn", "phone", "fax", "email", "address", "ssn", "health_plan",
                    "account", "certificate", "vehicle", "device", "other_id"})

_MONTHS = {m: i + 1 for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"))}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b")
_SSN = re.compile(r"\b(\d{3})[- ](\d{2})[- ](\d{4})\b|(?<=SSN)\s*[:#]?\s*(\d{9})\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\d-])(?:\+?1[\s.-]?)?(\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\d-])")
_FAX_CUE = re.compile(r"\bfax\b\s*(?:no\.?|number|#)?\s*[:#]?\s*$", re.IGNORECASE)
_MRN = re.compile(r"\b(?:MRN|medical\s+record\s+(?:number|no\.?|#)|record\s+(?:no\.?|#)|chart\s+(?:no\.?|#))"
                  r"\s*[:#]?\s*([A-Z]{0,3}\d[\dA-Z-]{3,14})\b", re.IGNORECASE)
# Not three parts of a dotted run of four (`10.12.14.2` is an address or an outline number).
_DATE_NUMERIC = re.compile(r"(?<!\d\.)\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b(?!\.\d)")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_TEXT_MDY = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE)
_DATE_TEXT_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_NAMES})\.?,?\s+(\d{{4}})\b", re.IGNORECASE)
_STREET_TYPES = (r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|"
                 r"Place|Pl|Terrace|Circle|Highway|Hwy|Parkway|Pkwy")
_ADDRESS = re.compile(rf"\b\d{{1,5}}\s+(?:[A-Z][a-z]+\s+){{1,3}}(?:{_STREET_TYPES})\b\.?")
_AGE = re.compile(r"\b(?:age[d]?\s*[:]?\s*(\d{2,3})\b|(\d{2,3})\s*(?:-\s*)?(?:years?|yrs?|y/?o)\b(?:[\s-]*old)?)",
                  re.IGNORECASE)
# A name follows a cue word (patient, Mr., Name: ...): 1 to 3 capitalised words.
_NAME = re.compile(r"\b(?i:patient|pt|name|mr|mrs|ms|miss|dr|son|daughter|wife|husband|mother|"
                   r"father)\b\.?\s*[:]?\s*((?:[A-Z][a-z'-]+)(?:\s+[A-Z][a-z'-]+){0,2})")
# Capitalised words after a cue that are not names (so "Patient Seen on" is not a name).
_NOT_NAMES = frozenset({"seen", "presents", "reports", "denies", "was", "is", "has", "the", "with",
                        "mrn", "dob", "age", "phone", "fax", "email", "address", "ssn", "plan",
                        "assessment", "history", "admitted", "discharged", "states", "and", "for"})


@dataclass(frozen=True, slots=True)
class Detection:
    category: str
    start: int
    end: int
    value: str  # as written; never logged or reported
    key: str  # normalized, for matching


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _date_key(year: int, month: int, day: int) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1800 <= year <= 2200):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _year(text: str) -> int:
    year = int(text)
    return year + (1900 if year >= 30 else 2000) if len(text) == 2 else year


def detect(text: str) -> list[Detection]:
    """Every identifier found in `text`, in order of position, without overlaps."""
    found: list[Detection] = []
    taken: list[tuple[int, int]] = []

    def add(category: str, start: int, end: int, key: str | None) -> None:
        if key is None or any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        found.append(Detection(category, start, end, text[start:end], key))

    # Most specific patterns first: a URL holds no email, an email or SSN is not also a
    # phone number or date, and a cued number or an IP address is not a phone or a date.
    network = list(find_network(text))
    for category, start, end, key in network:
        if category == "url":
            add(category, start, end, key)
    for m in _EMAIL.finditer(text):
        add("email", m.start(), m.end(), m.group(0).lower())
    for m in _SSN.finditer(text):
        span = (m.start(4), m.end(4)) if m.group(4) else (m.start(), m.end())
        add("ssn", *span, _digits(text[span[0]:span[1]]))
    for m in _MRN.finditer(text):
        add("mrn", m.start(1), m.end(1), re.sub(r"[^0-9A-Z]", "", m.group(1).upper()))
    for category, start, end, key in find_numbers(text):
        add(category, start, end, key)
    for category, start, end, key in network:
        if category != "url":
            add(category, start, end, key)
    for m in _PHONE.finditer(text):
        category = "fax" if _FAX_CUE.search(text[max(0, m.start() - 24):m.start()]) else "phone"
        digits = _digits(m.group(0))
        add(category, m.start(), m.end(), digits[-10:])
    for m in _DATE_ISO.finditer(text):
        add("date", m.start(), m.end(), _date_key(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in _DATE_NUMERIC.finditer(text):  # US order: month/day/year
        add("date", m.start(), m.end(), _date_key(_year(m.group(3)), int(m.group(1)), int(m.group(2))))
    for m in _DATE_TEXT_MDY.finditer(text):
        add("date", m.start(), m.end(), _date_key(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2))))
    for m in _DATE_TEXT_DMY.finditer(text):
        add("date", m.start(), m.end(), _date_key(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1))))
    for m in _ADDRESS.finditer(text):
        add("address", m.start(), m.end(), " ".join(m.group(0).rstrip(".").lower().split()))
    for m in _AGE.finditer(text):
        group = 1 if m.group(1) else 2
        age = int(m.group(group))
        if 90 <= age <= 125:  # Safe Harbor: ages over 89 (and not a lab value)
            add("age_over_89", m.start(group), m.end(group), str(age))
    for m in _NAME.finditer(text):
        words = m.group(1).split()
        while words and words[-1].lower() in _NOT_NAMES:
            words.pop()
        if words and words[0].lower() not in _NOT_NAMES:
            start = m.start(1)
            end = start + len(" ".join(words)) if len(words) == len(m.group(1).split()) else \
                start + m.group(1).index(words[-1]) + len(words[-1])
            add("name", start, end, " ".join(w.lower() for w in words))
    return sorted(found, key=lambda d: d.start)
