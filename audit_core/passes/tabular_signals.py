"""Per-record membership signals from a classifier's output, higher = more member-like.

Song and Mittal, "Systematic Evaluation of Privacy Risks of Machine Learning Models",
USENIX Security 2021: a model is more confident, and less uncertain, on its training
records. The three metric attacks: the probability of the true class, the (negated)
prediction entropy, which needs no label, and the (negated) modified entropy
Mentr(p, y) = -(1 - p_y) log p_y - sum_{i != y} p_i log(1 - p_i), which falls with the
true class's probability and rises with a confident wrong answer, unlike entropy.

The reference-calibrated versions compare each record's signal under the audited model
with the same signal under a reference classifier trained without the members (Carlini
et al., IEEE S&P 2022, offline LiRA with a global variance): a record that is merely easy
is easy for both models and cancels out. The true-class confidence is compared on the
logit scale log(p / (1 - p)), which is close to Gaussian across models (Carlini et al.).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from audit_core.data.cohort import Role

# Probabilities are clipped away from 0 and 1: trees give exact 0/1, and log(0) is no score.
_FLOOR = 1e-12


@dataclass(frozen=True, slots=True)
class TabularOutputs:
    """The tabular shared pass: what every tabular probe reads from ctx.outputs."""

    probabilities: dict[Role, np.ndarray]  # [records, classes]
    labels: dict[Role, np.ndarray]  # the true class's column index per record
    classes: tuple[str, ...]
    reference_probabilities: dict[Role, np.ndarray] = field(default_factory=dict)


def confidence(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return p[np.arange(len(y)), y]


def logit_confidence(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    true = np.clip(confidence(p, y), _FLOOR, 1 - _FLOOR)
    return np.log(true) - np.log1p(-true)


def negative_entropy(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, _FLOOR, 1.0)
    return np.sum(p * np.log(clipped), axis=1)


def negative_modified_entropy(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, _FLOOR, 1 - _FLOOR)
    rows = np.arange(len(y))
    true = clipped[rows, y]
    others = p * np.log1p(-clipped)
    others[rows, y] = 0.0
    return (1 - true) * np.log(true) + others.sum(axis=1)


Signal = Callable[[np.ndarray, np.ndarray], np.ndarray]


def signal_scores(outputs: TabularOutputs, signal: Signal) -> dict[Role, np.ndarray]:
    return {role: signal(outputs.probabilities[role], outputs.labels[role]) for role in Role}


def calibrated_scores(outputs: TabularOutputs, signal: Signal) -> dict[Role, np.ndarray]:
    """(target - reference - mean over non-members) / their spread: the offline LiRA test."""
    gaps = {role: signal(outputs.probabilities[role], outputs.labels[role])
            - signal(outputs.reference_probabilities[role], outputs.labels[role]) for role in Role}
    out = gaps[Role.NON_MEMBERS]
    spread = float(out.std()) or 1.0
    return {role: (gap - float(out.mean())) / spread for role, gap in gaps.items()}
