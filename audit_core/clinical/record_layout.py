"""How a code record is laid out, and the attacker-knowledge tiers built on it.

A record, as the tokenizer encodes it, reads

    [BOS] AGE_50_59 SEX_M VISIT I10 E11.9 ... VISIT GAP_3M E11.9 ... [EOS]

* the start token(s) the tokenizer adds (BOS / [CLS]);
* demographic tokens at the start (every leading token beginning with a declared prefix,
  by default AGE_ or SEX_, and always MEDS's rows about the person: GENDER//M, Gender/F,
  RACE//..., MEDS_BIRTH; clinical.code_reading reads them in either convention);
* VISIT tokens that open a visit (also VISIT//<class>, as data.fhir_events writes an
  Encounter) and GAP_* tokens that say how much time passed since
  the previous one; every other token is a clinical code (diagnosis, lab, medication).

The tiers follow Tonekaboni et al. 2025 ("random", "static", "N codes"): `nothing` is
the start token only, `demographics` adds the demographic tokens, and an integer N
gives the first N tokens after the start token(s) (codes, visits and gaps alike, as in
the paper, whose prompts are the first N tokens of the record). A prompt is aligned: the
true continuation is what follows it in the record.

Time: the gap tokens map to years (GAP_1W -> 7/365, GAP_3M -> 0.25, GAP_2Y_PLUS -> 2);
a different export names its time tokens in a plan setting ("TIME//2=0.1,TIME//3=0.5").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from audit_core.clinical.code_reading import VISIT, is_static_row, read_code
from audit_core.errors import PlanError

NOTHING = "nothing"
DEMOGRAPHICS = "demographics"
DEFAULT_TIERS = "nothing,demographics,10,20,50"
DEFAULT_DEMOGRAPHIC_PREFIXES = "AGE_,SEX_"

_GAP = re.compile(r"GAP_(\d+)([DWMY])(_PLUS)?", re.IGNORECASE)
_UNIT_YEARS = {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1.0}
_START_NAMES = ("[BOS]", "<s>", "[CLS]", "<|startoftext|>", "<bos>")
_STOP_NAMES = ("[EOS]", "</s>", "[SEP]", "<|endoftext|>", "<eos>")
_VISIT_NAMES = ("VISIT", "[VISIT]", "VS")
_SPECIAL = re.compile(r"^(\[[A-Z_]+\]|<\|?[a-z_]+\|?>|<[a-z/]+>)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Tier:
    name: str  # "nothing", "demographics" or the number of known tokens as text
    known_tokens: int | None  # None for the two named tiers

    @property
    def label(self) -> str:
        if self.known_tokens is None:
            return {NOTHING: "Start token only", DEMOGRAPHICS: "Demographics only"}[self.name]
        return f"First {self.known_tokens} codes"


def parse_tiers(spec: str, where: str) -> tuple[Tier, ...]:
    """"nothing,demographics,10,20,50" -> tiers, in the order given, without repeats."""
    tiers: list[Tier] = []
    for part in (p.strip().lower() for p in spec.split(",")):
        if not part:
            continue
        if part in (NOTHING, DEMOGRAPHICS):
            tier = Tier(part, None)
        elif part.isdigit() and int(part) >= 1:
            tier = Tier(str(int(part)), int(part))
        else:
            raise PlanError(f"'{where}': '{part}' is not a tier (use nothing, demographics or a "
                            "number of known codes, separated by commas)")
        if tier not in tiers:
            tiers.append(tier)
    if not tiers:
        raise PlanError(f"'{where}' names no tier")
    return tuple(tiers)


@dataclass(frozen=True)
class RecordLayout:
    """Token roles in one vocabulary: start, stop, demographic, visit and time tokens."""

    start_ids: frozenset[int]
    stop_ids: frozenset[int]
    demographic_ids: frozenset[int]
    visit_ids: frozenset[int]
    gap_years: Mapping[int, float]  # time token id -> years it adds
    special_ids: frozenset[int]  # tokens that are neither codes nor time (PAD, UNK, ...)

    @property
    def structural_ids(self) -> frozenset[int]:
        """Tokens that are not clinical codes: special, start/stop, visit and time tokens."""
        return self.start_ids | self.stop_ids | self.visit_ids | frozenset(self.gap_years) | self.special_ids

    def leading(self, ids: np.ndarray, kinds: frozenset[int]) -> int:
        count = 0
        while count < len(ids) and int(ids[count]) in kinds:
            count += 1
        return count

    def prompt_length(self, ids: np.ndarray, tier: Tier) -> int | None:
        """Tokens of the record the tier's prompt holds (None: the record is too short)."""
        start = self.leading(ids, self.start_ids)
        if start == 0:
            start = 0  # a tokenizer without a start token: "nothing" is then an empty prompt
        if tier.name == NOTHING:
            length = start
        elif tier.name == DEMOGRAPHICS:
            length = start + self.leading(ids[start:], self.demographic_ids)
        else:
            length = start + int(tier.known_tokens or 0)
        body_end = len(ids) - (1 if len(ids) and int(ids[-1]) in self.stop_ids else 0)
        return length if 0 < length < body_end else None

    def codes_and_times(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The clinical codes of a continuation and each one's time in years since it began.

        Stops at the first stop token or -1 fill; visit, time and special tokens are dropped.
        """
        codes, times, now = [], [], 0.0
        structural = self.structural_ids
        for token in (int(t) for t in ids):
            if token < 0 or token in self.stop_ids:
                break
            if token in self.gap_years:
                now += self.gap_years[token]
            elif token not in structural:
                codes.append(token)
                times.append(now)
        return np.asarray(codes, dtype=np.int64), np.asarray(times, dtype=np.float64)


def build_layout(vocabulary: Mapping[str, int], *, demographic_prefixes: str = DEFAULT_DEMOGRAPHIC_PREFIXES,
                 time_tokens: str = "", where: str = "probes") -> RecordLayout:
    """The layout of `vocabulary` (token -> id). `time_tokens` ("TOKEN=years,...") replaces
    the GAP_<n><D|W|M|Y> reading when the export names its time tokens otherwise."""
    prefixes = tuple(p.strip() for p in demographic_prefixes.split(",") if p.strip())
    gap_years: dict[int, float] = {}
    if time_tokens.strip():
        for part in (p.strip() for p in time_tokens.split(",") if p.strip()):
            token, sign, value = part.rpartition("=")
            try:
                years = float(value)
            except ValueError:
                years = -1.0
            if not sign or token not in vocabulary or years < 0:
                raise PlanError(f"'{where}.time_tokens': '{part}' is not TOKEN=years for a token "
                                "of the model's vocabulary")
            gap_years[vocabulary[token]] = years
    else:
        for token, i in vocabulary.items():
            match = _GAP.fullmatch(token)
            if match:
                gap_years[i] = int(match.group(1)) * _UNIT_YEARS[match.group(2).upper()]
    def ids_of(names: Sequence[str]) -> frozenset[int]:
        return frozenset(vocabulary[n] for n in names if n in vocabulary)

    start, stop = ids_of(_START_NAMES), ids_of(_STOP_NAMES)
    special = frozenset(i for t, i in vocabulary.items() if _SPECIAL.match(t)) - start - stop
    # MEDS static rows are demographics whatever the prefixes say: a plan written for a
    # code file (AGE_,SEX_) keeps working on the same model's MEDS export.
    demographic = frozenset(i for t, i in vocabulary.items()
                            if (prefixes and t.startswith(prefixes)) or is_static_row(t))
    return RecordLayout(start_ids=start, stop_ids=stop, demographic_ids=demographic,
                        visit_ids=ids_of(_VISIT_NAMES) | frozenset(
                            i for t, i in vocabulary.items() if read_code(t).vocabulary == VISIT),
                        gap_years=gap_years, special_ids=special)


def start_prompt(layout: RecordLayout, ids: np.ndarray) -> np.ndarray:
    """The start token(s) of a record: the prompt of unprompted generation."""
    return ids[:max(1, layout.leading(ids, layout.start_ids))]
