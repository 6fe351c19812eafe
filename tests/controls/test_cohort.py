"""Synthetic cohorts: deterministic, well-formed, and clinically plausible in the ways the
audit's probes rely on (sensitive-code rates, comorbidity, lengths past the context)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from audit_core.tools.controls.clinical_clusters import AGE_BANDS, CHILD_BEARING_BANDS
from audit_core.tools.controls.cohort import PatientRecord, generate_cohort
from audit_core.tools.controls.vocabulary import (
    GAP_TOKENS,
    VISIT,
    build_vocabulary,
    sensitive_categories_of,
)


@pytest.fixture(scope="module")
def cohort() -> list[PatientRecord]:
    return generate_cohort(4000, seed=11, id_prefix="P")


def _has(record: PatientRecord, predicate) -> bool:
    return any(predicate(token) for token in record.codes.split())


def _rate(records, predicate) -> float:
    return float(np.mean([_has(r, predicate) for r in records]))


def test_same_seed_same_cohort_other_seed_other_cohort() -> None:
    assert generate_cohort(200, seed=5) == generate_cohort(200, seed=5)
    assert generate_cohort(200, seed=5) != generate_cohort(200, seed=6)
    # A prefix of a larger cohort is the smaller cohort: ids are positions, not hashes.
    assert generate_cohort(300, seed=5)[:200] == generate_cohort(200, seed=5)


def test_ids_and_demographics(cohort) -> None:
    assert cohort[0].patient_id == "P000001" and cohort[-1].patient_id == "P004000"
    assert generate_cohort(2, seed=1, id_prefix="C", first_id=501)[1].patient_id == "C000502"
    assert len({r.patient_id for r in cohort}) == len(cohort)
    for r in cohort:
        tokens = r.codes.split()
        assert tokens[:3] == [r.age_band, r.sex, VISIT]
        assert r.age_band in AGE_BANDS and r.sex in ("SEX_F", "SEX_M")


def test_records_use_only_vocabulary_tokens_and_visit_structure(cohort) -> None:
    vocabulary = set(build_vocabulary().tokens)
    for r in cohort:
        tokens = r.codes.split()
        assert set(tokens) <= vocabulary
        # Every visit after the first starts VISIT GAP_x; gaps appear nowhere else.
        visits = [i for i, t in enumerate(tokens) if t == VISIT]
        assert all(tokens[i + 1] in GAP_TOKENS for i in visits[1:])
        assert sum(t in GAP_TOKENS for t in tokens) == len(visits) - 1


def test_sensitive_code_rates_are_plausible(cohort) -> None:
    assert 0.005 <= _rate(cohort, lambda t: t in ("B20", "Z21")) <= 0.02  # HIV about 1 %
    assert 0.06 <= _rate(cohort, lambda t: "substance_use" in sensitive_categories_of(t)) <= 0.12
    assert 0.13 <= _rate(cohort, lambda t: "mental_health" in sensitive_categories_of(t)) <= 0.23


def test_pregnancy_codes_only_for_women_of_child_bearing_age(cohort) -> None:
    pregnant = [r for r in cohort if _has(r, lambda t: t.startswith(("O", "Z3A", "Z34", "Z37")))]
    assert len(pregnant) > 50
    assert all(r.sex == "SEX_F" and r.age_band in CHILD_BEARING_BANDS for r in pregnant)


def test_comorbidity_and_treatment_follow_diagnoses(cohort) -> None:
    diabetic = [r for r in cohort if _has(r, lambda t: t.startswith(("E11", "E10", "E13")))]
    others = [r for r in cohort if r not in diabetic]
    ckd = lambda t: t.startswith("N18")  # noqa: E731
    assert _rate(diabetic, ckd) > 2 * _rate(others, ckd)
    # Prescriptions only for patients who carry the condition they treat.
    for drug, codes in (("RX_METFORMIN", ("E1",)), ("RX_BICTEGRAVIR", ("B20", "Z21", "Z79.899",
                                                                       "R75", "Z20.6", "Z11.4")),
                        ("RX_BUPRENORPHINE", ("F11", "Z71.51", "T40"))):
        takers = [r for r in cohort if drug in r.codes.split()]
        assert takers, drug
        assert all(_has(r, lambda t, c=codes: t.startswith(c)) for r in takers), drug
    hiv = [r for r in cohort if _has(r, lambda t: t in ("B20", "Z21"))]
    assert _rate(hiv, lambda t: t in ("LAB_CD4_LOW", "LAB_HIV_VL_DETECTABLE")) > 0.3


def test_lengths_fit_the_context_except_a_few(cohort) -> None:
    lengths = np.array([len(r.codes.split()) + 2 for r in cohort])  # + BOS, EOS
    assert 0.75 <= np.mean((lengths >= 20) & (lengths <= 110))
    assert 0.005 <= np.mean(lengths > 128) <= 0.03
    assert 30 <= np.median(lengths) <= 70


def test_rare_codes_exist(cohort) -> None:
    counts = Counter(t for r in cohort[:2000] for t in r.codes.split())
    background = build_vocabulary().background_codes
    assert counts[background[0]] > 50 * max(1, counts[background[-1]])  # Zipf-like head/tail
    assert sum(1 for code in background if counts[code] <= 2) >= 10
