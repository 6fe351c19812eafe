"""A synthetic but realistic tabular cohort for the tabular risk-model controls.

Adult inpatients with age, sex, vital signs, laboratory values and comorbidity flags, and
a 30-day readmission label drawn from a logistic model of them. The label is noisy on
purpose (as real outcomes are): a model that generalises cannot do much better than the
true risk, and one that memorizes its training patients' outcomes gives itself away.
Values are drawn from plausible ranges and correlations (creatinine rises with CKD and
age, HbA1c with diabetes, ...), not from any real patient.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = ("age", "sex_female", "bmi", "systolic_bp", "heart_rate", "creatinine", "hba1c",
            "sodium", "hemoglobin", "diabetes", "hypertension", "ckd", "heart_failure", "copd",
            "prior_admissions")
LABEL = "readmitted_30d"
SUBGROUPS = ("age_band", "sex")


def generate_tabular_cohort(n: int, seed: int, id_prefix: str = "T") -> pd.DataFrame:
    """`n` patients: an id, the FEATURES, the LABEL and the SUBGROUPS columns."""
    rng = np.random.default_rng(seed)
    age = np.clip(rng.normal(62, 16, n), 18, 95).round()
    female = rng.random(n) < 0.52
    bmi = np.clip(rng.normal(28, 6, n), 15, 60).round(1)
    older = (age - 60) / 15
    diabetes = rng.random(n) < _sigmoid(-1.4 + 0.5 * older + 0.08 * (bmi - 28))
    hypertension = rng.random(n) < _sigmoid(-0.2 + 0.8 * older + 0.05 * (bmi - 28))
    ckd = rng.random(n) < _sigmoid(-2.2 + 0.7 * older + 0.8 * diabetes + 0.5 * hypertension)
    heart_failure = rng.random(n) < _sigmoid(-2.6 + 0.9 * older + 0.6 * hypertension)
    copd = rng.random(n) < _sigmoid(-2.4 + 0.5 * older)
    systolic = np.clip(rng.normal(128 + 12 * hypertension + 3 * older, 17), 80, 220).round()
    heart_rate = np.clip(rng.normal(82 + 6 * heart_failure, 14, n), 40, 160).round()
    creatinine = np.clip(rng.lognormal(np.log(0.9 + 0.15 * older.clip(0) + 0.9 * ckd)
                                       - 0.1 * female, 0.25), 0.3, 9.0).round(2)
    hba1c = np.clip(rng.normal(5.5 + 2.0 * diabetes, 0.6 + 0.6 * diabetes), 4.0, 14.0).round(1)
    sodium = np.clip(rng.normal(139 - 1.5 * heart_failure, 3.2), 120, 155).round()
    hemoglobin = np.clip(rng.normal(14.0 - 1.3 * female - 1.2 * ckd, 1.6), 6.0, 19.0).round(1)
    prior = rng.poisson(0.4 + 0.6 * heart_failure + 0.4 * ckd + 0.3 * copd)
    risk = (-2.3 + 0.35 * older + 0.5 * heart_failure + 0.45 * ckd + 0.3 * copd
            + 0.3 * diabetes + 0.35 * np.minimum(prior, 4) + 0.25 * (creatinine - 1.0)
            - 0.12 * (hemoglobin - 13.5) - 0.06 * (sodium - 139))
    label = (rng.random(n) < _sigmoid(risk)).astype(int)
    frame = pd.DataFrame({
        "patient_id": [f"{id_prefix}{seed % 1000:03d}-{i:05d}" for i in range(n)],
        "age": age.astype(int), "sex_female": female.astype(int), "bmi": bmi,
        "systolic_bp": systolic.astype(int), "heart_rate": heart_rate.astype(int),
        "creatinine": creatinine, "hba1c": hba1c, "sodium": sodium.astype(int),
        "hemoglobin": hemoglobin, "diabetes": diabetes.astype(int),
        "hypertension": hypertension.astype(int), "ckd": ckd.astype(int),
        "heart_failure": heart_failure.astype(int), "copd": copd.astype(int),
        "prior_admissions": prior.astype(int), LABEL: label,
        "age_band": pd.cut(age, [0, 45, 65, 80, 200], right=False,
                           labels=["18-44", "45-64", "65-79", "80+"]).astype(str),
        "sex": np.where(female, "F", "M"),
    })
    return frame


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))
