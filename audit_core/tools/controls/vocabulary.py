"""The fixed token vocabulary of the synthetic EHR code language.

A record is a sentence of whitespace-separated tokens: special tokens, demographics
(`AGE_40_49 SEX_F`), visit markers and time gaps, lab and medication tokens, and real
ICD-10-CM leaf codes written with their dot (`E11.9`). The codes come from two places:

* the condition clusters of `clinical_clusters` (diabetes, HIV, substance use, ...),
  written out by hand so that comorbidity and treatment make clinical sense;
* a background pool of a few hundred common, sex-neutral adult outpatient codes taken
  deterministically from `simple_icd_10_cm` (evenly spaced leaves of fixed categories),
  ranked so that the cohort generator can draw them with Zipf-like frequencies and rare
  codes exist (the "rare-code carrier" subgroup of the audit needs them).

Every ICD token is checked to be an existing leaf code when the vocabulary is built:
a typo would otherwise silently become a code no real model has ever seen.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import cache

with warnings.catch_warnings():
    # simple_icd_10_cm 1.5 reads its data with the deprecated importlib.resources API.
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10_cm as icd

from audit_core.tools.controls.clinical_clusters import AGE_BANDS, ALL_CLUSTERS, SEXES

PAD, UNK, BOS, EOS = "[PAD]", "[UNK]", "[BOS]", "[EOS]"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, BOS, EOS)  # ids 0..3, in this order
VISIT = "VISIT"
GAP_TOKENS: tuple[str, ...] = ("GAP_1W", "GAP_1M", "GAP_3M", "GAP_6M", "GAP_1Y", "GAP_2Y_PLUS")

# ICD-10-CM prefixes of the codes an auditor treats as sensitive (the categories of
# Tonekaboni et al. 2025, T2, plus reproductive health). Prefixes apply to ICD code
# tokens only (never to LAB_/RX_ tokens): "O" is the whole pregnancy chapter.
SENSITIVE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "hiv_sti": (
        "B20", "Z21", "R75", "O98.7", "Z20.6", "Z11.4", "Z11.3", "Z20.2", "Z72.5",
        "A50", "A51", "A52", "A53", "A54", "A55", "A56", "A57", "A58", "A59", "A60",
        "A63", "A64",
    ),
    "substance_use": (
        "F10", "F11", "F12", "F13", "F14", "F15", "F16", "F18", "F19",
        "Z71.41", "Z71.51", "K70", "T40", "O99.31", "O99.32",
    ),
    "mental_health": (
        "F2", "F3", "F40", "F41", "F42", "F43", "F44", "F45", "F48", "F50", "F51", "F60",
        "R45.851", "T14.91", "Z91.51",
    ),
    "reproductive_health": (
        "O", "Z30", "Z31", "Z32", "Z33", "Z34", "Z36", "Z37", "Z39", "Z3A", "N96", "N97",
    ),
}

# Categories of the background pool: common adult outpatient conditions outside every
# sensitive category. Their leaves are filtered further by `_NOT_BACKGROUND` below.
_BACKGROUND_CATEGORIES: tuple[str, ...] = (
    "K21", "K59", "K58", "K29", "K57", "K80", "K40", "K64", "K76", "K52", "K92",
    "M54", "M25", "M79", "M17", "M16", "M19", "M75", "M77", "M65", "M62", "M81", "M10",
    "M51", "M47", "J30", "J32", "J34", "J35", "R05", "R06", "R07", "R10", "R11", "R19",
    "R21", "R51", "R42", "R53", "R50", "R60", "R63", "R35", "R31", "R00", "R20", "R55",
    "L20", "L21", "L23", "L30", "L40", "L57", "L70", "L72", "L82", "L60", "L98", "B35",
    "B36", "B07", "H52", "H40", "H25", "H61", "H81", "H10", "H65", "H91", "H04", "H35",
    "G43", "G44", "G47", "G56", "G62", "G89", "G40", "G25", "N28", "N20", "N32", "E55",
    "E53", "E04", "E83", "E87", "D64", "D50", "D51", "D69", "D72", "I83", "I73", "I87",
    "I95", "I49", "I34", "Z00", "Z01", "Z12", "Z13", "Z23", "Z76", "Z88", "Z96", "Z98",
)
_LEAVES_PER_BACKGROUND_CATEGORY = 5
# Pediatric, pregnancy and sex-specific codes would contradict the record's demographics.
_NOT_BACKGROUND = re.compile(
    r"\b(newborn|child|infant|pediatric|pregnan\w*|puerper\w*|matern\w*|female|male|"
    r"prostat\w*|test\w*is|scrot\w*|ovar\w*|uter\w*|cervi\w*|vagin\w*|vulv\w*|breast|"
    r"penis|menstrua\w*|gynec\w*)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Vocabulary:
    """All tokens, in id order, and the groups the cohort generator draws from."""

    tokens: tuple[str, ...]
    labs: tuple[str, ...]
    meds: tuple[str, ...]
    cluster_codes: tuple[str, ...]
    background_codes: tuple[str, ...]  # most frequent first (Zipf rank order)

    @property
    def icd_codes(self) -> tuple[str, ...]:
        return self.cluster_codes + self.background_codes

    def token_to_id(self) -> dict[str, int]:
        return {token: i for i, token in enumerate(self.tokens)}


def is_icd_code(token: str) -> bool:
    """True for ICD-10-CM code tokens (everything that is not special/demographic/LAB/RX)."""
    return bool(re.fullmatch(r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?", token))


def sensitive_categories_of(code: str) -> tuple[str, ...]:
    """Names of the sensitive categories an ICD code token falls in (may be empty)."""
    if not is_icd_code(code):
        return ()
    return tuple(name for name, prefixes in SENSITIVE_CATEGORIES.items()
                 if code.startswith(prefixes))


def _ordered_unique(items) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _evenly_spaced_leaves(category: str, count: int) -> list[str]:
    """Up to `count` leaves spread over the category, so a pool is not all `.00x` codes."""
    if icd.is_leaf(category):
        leaves = [category]
    else:
        leaves = [code for code in icd.get_descendants(category) if icd.is_leaf(code)]
    leaves = [code for code in leaves if not _NOT_BACKGROUND.search(icd.get_description(code))]
    if len(leaves) <= count:
        return leaves
    step = (len(leaves) - 1) / (count - 1)
    return [leaves[round(i * step)] for i in range(count)]


def _background_codes(excluded: set[str]) -> tuple[str, ...]:
    per_category = [
        [code for code in _evenly_spaced_leaves(category, _LEAVES_PER_BACKGROUND_CATEGORY)
         if code not in excluded and not sensitive_categories_of(code)]
        for category in _BACKGROUND_CATEGORIES
    ]
    # Round-robin over categories: the most frequent codes (low Zipf rank) then span many
    # organ systems instead of all being musculoskeletal.
    ranked: list[str] = []
    for depth in range(_LEAVES_PER_BACKGROUND_CATEGORY):
        ranked.extend(codes[depth] for codes in per_category if depth < len(codes))
    return _ordered_unique(ranked)


def _validate_icd(codes: tuple[str, ...]) -> None:
    bad = [code for code in codes if not (icd.is_valid_item(code) and icd.is_leaf(code))]
    if bad:
        raise ValueError(f"not ICD-10-CM leaf codes: {bad}")
    malformed = [code for code in codes if not is_icd_code(code)]
    if malformed:
        raise ValueError(f"ICD codes the token pattern does not recognise: {malformed}")


@cache
def build_vocabulary() -> Vocabulary:
    """The vocabulary, built once per process; the same on every machine."""
    labs = _ordered_unique(lab for cluster in ALL_CLUSTERS for lab in cluster.labs)
    meds = _ordered_unique(med for cluster in ALL_CLUSTERS for med in cluster.meds)
    cluster_codes = _ordered_unique(code for cluster in ALL_CLUSTERS for code in cluster.codes)
    _validate_icd(cluster_codes)
    background = _background_codes(set(cluster_codes))
    _validate_icd(background)
    tokens = (SPECIAL_TOKENS + AGE_BANDS + SEXES + (VISIT,) + GAP_TOKENS
              + labs + meds + cluster_codes + background)
    if len(set(tokens)) != len(tokens):
        raise ValueError("duplicate tokens in the vocabulary")
    return Vocabulary(tokens, labs, meds, cluster_codes, background)
