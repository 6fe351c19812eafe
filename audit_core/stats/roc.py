"""ROC curve, AUC and TPR at a fixed FPR for member-vs-non-member scores.

Scores are oriented so that higher means "more member-like"; a record is called a
member when its score is strictly above the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def auc(members: np.ndarray, non_members: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U / n1 n0), ties counted as one half."""
    # Counting, for each member, the non-members below it (ties as one half) gives the
    # Mann-Whitney U exactly; sorted-search keeps it fast inside bootstrap loops.
    ranked = np.sort(non_members)
    below = np.searchsorted(ranked, members, side="left")
    tied = np.searchsorted(ranked, members, side="right") - below
    return float((below.sum() + 0.5 * tied.sum()) / (len(members) * len(non_members)))


def roc_curve(members: np.ndarray, non_members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr) at every distinct threshold, from (0, 0) to (1, 1)."""
    scores = np.concatenate([members, non_members])
    labels = np.concatenate([np.ones(len(members)), np.zeros(len(non_members))])
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    distinct = np.r_[np.nonzero(np.diff(scores))[0], len(scores) - 1]
    tps = np.cumsum(labels)[distinct]
    fps = (distinct + 1) - tps
    tpr = np.r_[0.0, tps / max(len(members), 1)]
    fpr = np.r_[0.0, fps / max(len(non_members), 1)]
    return fpr, tpr


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    target_fpr: float
    threshold: float
    true_positives: int
    false_positives: int
    members: int
    non_members: int

    @property
    def tpr(self) -> float:
        return self.true_positives / self.members

    @property
    def fpr(self) -> float:
        return self.false_positives / self.non_members


def operating_point(members: np.ndarray, non_members: np.ndarray, target_fpr: float) -> OperatingPoint:
    """The lowest threshold whose false positives stay within target_fpr of the non-members."""
    allowed = int(np.floor(target_fpr * len(non_members) + 1e-9))
    ranked = np.sort(non_members)[::-1]
    threshold = float(ranked[allowed]) if allowed < len(ranked) else -np.inf
    return OperatingPoint(
        target_fpr=target_fpr, threshold=threshold,
        true_positives=int((members > threshold).sum()),
        false_positives=int((non_members > threshold).sum()),
        members=len(members), non_members=len(non_members),
    )


def thin_curve(fpr: np.ndarray, tpr: np.ndarray, points: int = 160) -> tuple[list[float], list[float]]:
    """A curve small enough for results.json that keeps the low-FPR detail a log axis shows."""
    if len(fpr) <= points:
        return [round(float(x), 6) for x in fpr], [round(float(y), 6) for y in tpr]
    grid = np.unique(np.r_[0.0, np.geomspace(1e-4, 1.0, points - 1)])
    keep = np.unique(np.searchsorted(fpr, grid, side="right") - 1)
    keep = np.unique(np.r_[keep, len(fpr) - 1])
    return [round(float(x), 6) for x in fpr[keep]], [round(float(y), 6) for y in tpr[keep]]


def score_histogram(members: np.ndarray, non_members: np.ndarray, bins: int = 30) -> dict[str, list[float]]:
    """Shares of members and of non-members per score bin, on common edges.

    Shares (not counts) so that cohorts of different sizes compare; what the report and
    the app draw as the two score distributions.
    """
    finite_m, finite_n = members[np.isfinite(members)], non_members[np.isfinite(non_members)]
    both = np.concatenate([finite_m, finite_n])
    if both.size == 0:
        return {"edges": [], "members": [], "non_members": []}
    low, high = float(both.min()), float(both.max())
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    shares = [np.histogram(x, edges)[0] / max(len(x), 1) for x in (finite_m, finite_n)]
    return {"edges": [round(float(e), 6) for e in edges],
            "members": [round(float(v), 6) for v in shares[0]],
            "non_members": [round(float(v), 6) for v in shares[1]]}


def membership_advantage(members: np.ndarray, non_members: np.ndarray) -> float:
    """Yeom et al.'s membership advantage: the largest TPR - FPR over all thresholds."""
    fpr, tpr = roc_curve(members, non_members)
    return float(np.max(tpr - fpr))
