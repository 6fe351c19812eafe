"""Area under the precision-recall curve (average precision), for rare labels where the
ROC curve flatters: its chance level is the prevalence, not 0.5."""

from __future__ import annotations

import numpy as np


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean precision at each positive, ranking by score (ties ranked together, as one
    threshold). NaN without positives."""
    labels = labels.astype(bool)
    positives = int(labels.sum())
    if positives == 0:
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    # Evaluate precision at the end of each block of tied scores.
    ends = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    hits = np.cumsum(y)[ends]
    counted = ends + 1
    gained = np.diff(np.r_[0, hits])
    return float((gained * hits / counted).sum() / positives)
