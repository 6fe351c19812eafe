"""A record's age, from its age token or an age column, and the neighbouring ages of a prompt.

Code vocabularies write age in one of two ways:

* bands, as in the demo (`AGE_80_89`, `AGE_90_PLUS`): an interval of years;
* exact years, as in EHRMamba's `AGE//76` (or `AGE_76`): a single year.

An age column (a declared subgroup column) may hold either form or a plain number.
`AgeRange(low, high)` covers both (`high` is None for an open top band). Whether a
record is "over 85" is decided only when its range lies wholly above or below 85;
a band that straddles the cut (80-89 for 85) cannot say, and callers report that.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_BAND = re.compile(r"^AGE[_/]+(\d{1,3})[_\-](\d{1,3})$", re.IGNORECASE)
_OPEN_BAND = re.compile(r"^AGE[_/]+(\d{1,3})[_\-]?(?:PLUS|\+|UP|OVER)$", re.IGNORECASE)
_EXACT = re.compile(r"^AGE[_/]+(\d{1,3})$", re.IGNORECASE)
_NUMBER = re.compile(r"^\d{1,3}(?:\.\d+)?$")


@dataclass(frozen=True, slots=True)
class AgeRange:
    low: int
    high: int | None  # inclusive; None = open top band ("90 and over")

    @property
    def exact(self) -> bool:
        return self.high == self.low

    def at_least(self, years: int) -> bool | None:
        """True if every age in the range is >= years, False if none is, None if it straddles."""
        if self.low >= years:
            return True
        if self.high is not None and self.high < years:
            return False
        return None


def parse_age(text: str) -> AgeRange | None:
    """The age an age token (or a column value) stands for; None when it is not one."""
    value = text.strip()
    if (match := _BAND.match(value)) is not None:
        low, high = int(match.group(1)), int(match.group(2))
        return AgeRange(low, high) if low <= high else None
    if (match := _OPEN_BAND.match(value)) is not None:
        return AgeRange(int(match.group(1)), None)
    if (match := _EXACT.match(value)) is not None:
        year = int(match.group(1))
        return AgeRange(year, year)
    if _NUMBER.match(value):
        year = math.floor(float(value))
        return AgeRange(year, year)
    return None


def record_age(tokens: Sequence[str], limit: int = 8) -> tuple[int, AgeRange] | None:
    """(position, age) of the first age token among the first `limit` tokens.

    Demographic tokens open a record; looking further would take a later age code
    (there is none in the demo vocabulary) for the patient's age.
    """
    for position, token in enumerate(tokens[:limit]):
        age = parse_age(token)
        if age is not None and token.upper().startswith("AGE"):
            return position, age
    return None


def column_ages(values: Iterable[object]) -> list[AgeRange | None] | None:
    """Ages of a column's values, or None when most values are not ages (not an age column)."""
    parsed = [parse_age(str(v)) for v in values]
    known = sum(a is not None for a in parsed)
    return parsed if parsed and known >= 0.9 * len(parsed) else None


@dataclass(frozen=True, slots=True)
class AgeStep:
    """One age variant of a prompt: the token to put in place and how far it moves, in
    years (exact ages) or in bands (banded vocabularies)."""

    token: str
    offset: int
    unit: str  # "years" or "bands"


def age_steps(token: str, vocabulary: Iterable[str], year_offsets: Sequence[int],
              band_offsets: Sequence[int]) -> list[AgeStep]:
    """The variants of an age token that the vocabulary can express, nearest first.

    Exact ages move by `year_offsets` (kept only when that age token exists); bands move
    by `band_offsets` places along the ordered bands of the vocabulary (a band holds
    ten years in the demo, so one band is about 10 years: a one- or two-year change
    cannot be written in such a vocabulary at all).
    """
    age = parse_age(token)
    if age is None:
        return []
    words = list(vocabulary)
    if age.exact:
        match = _EXACT.match(token)
        prefix = token[:match.start(1)] if match else "AGE_"
        present = set(words)
        steps = [AgeStep(f"{prefix}{age.low + d}", d, "years") for d in year_offsets
                 if 0 <= age.low + d <= 120 and f"{prefix}{age.low + d}" in present]
        return sorted(steps, key=lambda s: (abs(s.offset), s.offset))
    bands = sorted({(a.low, w) for w in words if (a := parse_age(w)) is not None and not a.exact
                    and w.upper().startswith("AGE")})
    order = [w for _, w in bands]
    if token not in order:
        return []
    here = order.index(token)
    steps = [AgeStep(order[here + d], d, "bands") for d in band_offsets
             if 0 <= here + d < len(order)]
    return sorted(steps, key=lambda s: (abs(s.offset), s.offset))
