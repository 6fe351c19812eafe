"""Quasi-identifiers of a record, per record kind, for the re-identification probe.

* codes: the demographic tokens (`AGE_`, `SEX_`, `REGION_`, `SITE_`, `ZIP_`, `STATE_`
  prefixes, MEDS/OMOP rows GENDER//F, Gender/F, RACE//..., and any token equal to a value
  of a declared subgroup column) and the
  uncommon codes (held by few records of members and non-members together): diagnosis
  codes single patients out (Loukides, Denny and Malin, JAMIA 2010), common ones do not.
* text: the age band (decade of "Age N" or "N-year-old"), sex words, and the full date
  of birth (after DOB, date of birth, born; HIPAA Safe Harbor keeps only the year).

A record matches a combination when it holds every one of its quasi-identifiers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from audit_core.clinical.code_reading import is_demographic, is_static_row
from audit_core.identifiers.detector import detect

_DEMOGRAPHIC = re.compile(r"^(AGE|SEX|GENDER|REGION|SITE|ZIP|STATE)_", re.IGNORECASE)
_AGE = re.compile(r"\b(?:age[d]?\s*:?\s*(\d{1,3})\b|(\d{1,3})[\s-]*(?:years?|yrs?|y/?o)\b)", re.IGNORECASE)
_BIRTH_CUE = re.compile(r"(?:\bDOB|\bD\.O\.B\.|date of birth|\bborn(?:\s+on)?)\s*:?\s*$", re.IGNORECASE)
_SEX = {"male": "M", "man": "M", "m": None, "female": "F", "woman": "F", "f": None}


def code_quasi_identifiers(tokens: Sequence[str], rare: set[str], demographic_values: set[str]) -> frozenset[str]:
    # Distinct tokens first: a record repeats its codes, and each test is a few calls.
    return frozenset(t for t in set(tokens) if _DEMOGRAPHIC.match(t) or is_demographic(t)
                     or t in demographic_values or t in rare)


def text_quasi_identifiers(text: str) -> frozenset[str]:
    found = set()
    age = _AGE.search(text)
    if age:
        years = int(age.group(1) or age.group(2))
        found.add(f"age band {min(years, 90) // 10 * 10}")
    for word in re.findall(r"[A-Za-z]+", text.lower()):
        if _SEX.get(word):
            found.add(f"sex {_SEX[word]}")
            break
    # Birth dates only: a visit date belongs to one encounter, not to the person, and
    # a generated note mixing a patient's birth date with another visit would match nobody.
    found.update(f"birth date {d.key}" for d in detect(text)
                 if d.category == "date" and _BIRTH_CUE.search(text[max(0, d.start - 20):d.start]))
    return frozenset(found)


def rare_tokens(records: Iterable[Sequence[str]], rare_max: int) -> set[str]:
    """Tokens found in at most `rare_max` records (counted once per record); MEDS rows about
    the person (MEDS_BIRTH, GENDER//...) are not codes of care and are never rare codes."""
    counts = Counter(t for tokens in records for t in set(tokens) if not is_static_row(t))
    return {t for t, n in counts.items() if n <= rare_max}


class QuasiIdentifierIndex:
    """How many records of a cohort hold every quasi-identifier of a combination."""

    def __init__(self, records: Sequence[frozenset[str]]) -> None:
        self._holders: dict[str, set[int]] = {}
        for index, qis in enumerate(records):
            for qi in qis:
                self._holders.setdefault(qi, set()).add(index)
        self.size = len(records)

    def matches(self, combination: frozenset[str]) -> set[int]:
        if not combination:
            return set(range(self.size))
        sets = sorted((self._holders.get(qi, set()) for qi in combination), key=len)
        result = set(sets[0])
        for other in sets[1:]:
            result &= other
            if not result:
                break
        return result
