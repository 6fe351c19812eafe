"""Synthetic patient cohorts in the EHR code language.

`generate_cohort(n, seed=..., id_prefix=...)` draws patients from one population: age
band and sex, chronic conditions with comorbidity (see `clinical_clusters`), and a
sequence of visits. A record reads

    AGE_50_59 SEX_M VISIT I10 E11.9 LAB_HBA1C_HIGH RX_METFORMIN VISIT GAP_3M E11.9 K21.00 ...

The first visit has no gap token (nothing precedes it); every later visit starts with
`VISIT GAP_x`, then diagnosis codes, then labs, then medications. A condition is
diagnosed at an onset visit (codes + lab + new prescription) and then comes back at
later visits (recurring code, monitoring lab, refill), so labs and medications follow
diagnoses. Acute infections and injuries are drawn per visit, and a Zipf-weighted
background pool adds the long tail of rare codes.

Lengths: most records have 20-110 tokens once BOS/EOS are added; a small group of
"high utilizers" (about 1-2 % of records) runs past the 128-token context of the
control models, so windowed scoring is exercised.

Everything is drawn from one `numpy.random.Generator(seed)` in a fixed order, so the
same seed gives the same cohort on every machine with the same numpy major version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit_core.tools.controls.clinical_clusters import (
    AGE_BANDS,
    CHILD_BEARING_BANDS,
    CHRONIC_CLUSTERS,
    EPISODIC_CLUSTERS,
    ConditionCluster,
)
from audit_core.tools.controls.vocabulary import GAP_TOKENS, VISIT, build_vocabulary

# Adult outpatient population, 18+.
_AGE_WEIGHTS = np.array([0.18, 0.17, 0.16, 0.16, 0.15, 0.11, 0.055, 0.015])
_FEMALE_SHARE = 0.52
_GAP_WEIGHTS = np.array([0.08, 0.22, 0.30, 0.20, 0.14, 0.06])
_HIGH_UTILIZER_SHARE = 0.02
_BACKGROUND_ZIPF_EXPONENT = 1.2
_BACKGROUND_CODES_PER_VISIT = 0.8
_MAX_VISITS = 60


@dataclass(frozen=True)
class PatientRecord:
    """One patient: `codes` starts with the age and sex tokens, then the visits."""

    patient_id: str
    age_band: str
    sex: str
    codes: str


@dataclass(frozen=True)
class _Condition:
    """A chronic condition as this patient has it: which codes, labs, meds, and when."""

    codes: tuple[str, ...]
    labs: tuple[str, ...]
    meds: tuple[str, ...]
    onset_visit: int


def _zipf(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def _pick(rng: np.random.Generator, items: tuple[str, ...], count: int,
          exponent: float = 1.0) -> tuple[str, ...]:
    """Up to `count` distinct items, earlier (more typical) items more likely."""
    if not items or count <= 0:
        return ()
    count = min(count, len(items))
    chosen = rng.choice(len(items), size=count, replace=False, p=_zipf(len(items), exponent))
    return tuple(items[i] for i in chosen)


def _risk(cluster: ConditionCluster, age_index: int, sex: str, present: set[str]) -> float:
    p = cluster.prevalence[age_index]
    p *= cluster.female_multiplier if sex == "SEX_F" else cluster.male_multiplier
    for other, multiplier in cluster.risk_from:
        if other in present:
            p *= multiplier
    return min(p, 0.9)


def _draw_conditions(rng: np.random.Generator, age_band: str, sex: str,
                     n_visits_hint: int) -> list[tuple[ConditionCluster, _Condition]]:
    age_index = AGE_BANDS.index(age_band)
    present: set[str] = set()
    conditions = []
    for cluster in CHRONIC_CLUSTERS:
        if cluster.only_female_child_bearing and not (
                sex == "SEX_F" and age_band in CHILD_BEARING_BANDS):
            continue
        if rng.random() >= _risk(cluster, age_index, sex, present):
            continue
        present.add(cluster.name)
        # The usual code (one of the first two) always; rarer variants sometimes.
        primary = _pick(rng, cluster.codes[:2], 1, exponent=1.5)
        extra = _pick(rng, tuple(c for c in cluster.codes if c not in primary),
                      int(rng.integers(0, 3)))
        labs = _pick(rng, cluster.labs, 1)
        meds = _pick(rng, cluster.meds, int(rng.integers(1, 3)))
        onset = 0 if rng.random() < 0.5 else int(rng.integers(0, n_visits_hint))
        conditions.append((cluster, _Condition(primary + extra, labs, meds, onset)))
    return conditions


def _visit_tokens(rng: np.random.Generator, visit: int, age_index: int,
                  conditions: list[tuple[ConditionCluster, _Condition]],
                  background: tuple[str, ...], background_p: np.ndarray) -> list[str]:
    codes: list[str] = []
    labs: list[str] = []
    meds: list[str] = []
    for _cluster, condition in conditions:
        if visit == condition.onset_visit:
            codes.extend(condition.codes[:1])
            codes.extend(c for c in condition.codes[1:] if rng.random() < 0.5)
            labs.extend(lab for lab in condition.labs if rng.random() < 0.6)
            meds.extend(med for med in condition.meds if rng.random() < 0.8)
        elif visit > condition.onset_visit and rng.random() < 0.45:
            codes.append(_pick(rng, condition.codes, 1, exponent=1.5)[0])
            labs.extend(lab for lab in condition.labs if rng.random() < 0.25)
            meds.extend(med for med in condition.meds if rng.random() < 0.35)
    for cluster in EPISODIC_CLUSTERS:
        if rng.random() < cluster.prevalence[age_index]:
            codes.extend(_pick(rng, cluster.codes, 1, exponent=1.1))
            labs.extend(_pick(rng, cluster.labs, 1) if rng.random() < 0.3 else ())
            meds.extend(_pick(rng, cluster.meds, 1) if rng.random() < 0.5 else ())
    n_background = int(rng.poisson(_BACKGROUND_CODES_PER_VISIT))
    if n_background == 0 and not codes:
        n_background = 1  # a visit always has at least one diagnosis
    codes.extend(background[i] for i in rng.choice(len(background), size=n_background,
                                                    p=background_p))
    # A code is billed once per visit; order within the visit stays as drawn.
    return list(dict.fromkeys(codes)) + list(dict.fromkeys(labs)) + list(dict.fromkeys(meds))


def _draw_patient(rng: np.random.Generator, patient_id: str,
                  background: tuple[str, ...], background_p: np.ndarray) -> PatientRecord:
    age_index = int(rng.choice(len(AGE_BANDS), p=_AGE_WEIGHTS / _AGE_WEIGHTS.sum()))
    age_band = AGE_BANDS[age_index]
    sex = "SEX_F" if rng.random() < _FEMALE_SHARE else "SEX_M"
    # Onset visits are drawn before the visit count is known; conditions diagnosed
    # "after the last visit" are simply dropped below, like an undiagnosed condition.
    conditions = _draw_conditions(rng, age_band, sex, n_visits_hint=8)
    expected_visits = 2.8 + 1.3 * len(conditions) + 0.4 * age_index
    if rng.random() < _HIGH_UTILIZER_SHARE:
        expected_visits = 3.0 * expected_visits + 8.0
    n_visits = min(2 + int(rng.poisson(expected_visits)), _MAX_VISITS)
    conditions = [(c, cond) for c, cond in conditions if cond.onset_visit < n_visits]
    tokens = [age_band, sex]
    for visit in range(n_visits):
        tokens.append(VISIT)
        if visit > 0:
            tokens.append(GAP_TOKENS[int(rng.choice(len(GAP_TOKENS), p=_GAP_WEIGHTS))])
        tokens.extend(_visit_tokens(rng, visit, age_index, conditions, background, background_p))
    return PatientRecord(patient_id, age_band, sex, " ".join(tokens))


def generate_cohort(n: int, *, seed: int, id_prefix: str = "P",
                    first_id: int = 1) -> list[PatientRecord]:
    """`n` patients with ids `{id_prefix}{first_id:06d}`, ... drawn from `seed`."""
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = np.random.default_rng(seed)
    background = build_vocabulary().background_codes
    background_p = _zipf(len(background), _BACKGROUND_ZIPF_EXPONENT)
    return [_draw_patient(rng, f"{id_prefix}{first_id + i:06d}", background, background_p)
            for i in range(n)]
