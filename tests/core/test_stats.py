"""Known answers for the statistics every verdict rests on."""

from __future__ import annotations

import numpy as np
import pytest

from audit_core.stats.intervals import bootstrap_auc, clopper_pearson, epsilon_lower_bound, fisher_greater
from audit_core.stats.roc import auc, operating_point, roc_curve, thin_curve


def test_auc_known_answers() -> None:
    assert auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert auc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 0.0
    assert auc(np.array([1.0, 1.0]), np.array([1.0, 1.0])) == 0.5
    # one discordant pair out of four
    assert auc(np.array([2.0, 4.0]), np.array([1.0, 3.0])) == 0.75


def test_auc_matches_the_pairwise_definition() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.5, 1, 60), rng.normal(0, 1, 70)
    pairs = (a[:, None] > b[None, :]).mean() + 0.5 * (a[:, None] == b[None, :]).mean()
    assert auc(a, b) == pytest.approx(pairs)


def test_roc_curve_runs_from_origin_to_one_and_integrates_to_auc() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(1, 1, 200), rng.normal(0, 1, 300)
    fpr, tpr = roc_curve(a, b)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(auc(a, b), abs=1e-9)
    small_fpr, small_tpr = thin_curve(fpr, tpr, points=50)
    assert len(small_fpr) <= 60 and small_fpr[-1] == 1.0


def test_operating_point_never_exceeds_the_target_fpr() -> None:
    rng = np.random.default_rng(2)
    members, non = rng.normal(1, 1, 500), rng.normal(0, 1, 1000)
    for target in (0.001, 0.01, 0.1):
        point = operating_point(members, non, target)
        assert point.false_positives <= int(target * 1000)
        assert point.true_positives == int((members > point.threshold).sum())
    perfect = operating_point(np.array([5.0, 6.0]), np.array([0.0] * 100), 0.01)
    assert point.tpr <= 1 and perfect.tpr == 1.0 and perfect.false_positives == 0


def test_clopper_pearson_known_values() -> None:
    assert clopper_pearson(0, 10)[1] == pytest.approx(0.3085, abs=1e-4)  # 1 - 0.025**(1/10)
    low, high = clopper_pearson(5, 10)
    assert (low, high) == (pytest.approx(0.1871, abs=1e-4), pytest.approx(0.8129, abs=1e-4))
    assert clopper_pearson(0, 3000)[1] == pytest.approx(0.00123, abs=1e-5)


def test_epsilon_bound_is_zero_without_leakage_and_large_with_it() -> None:
    assert epsilon_lower_bound(10, 1000, 10, 1000) == 0.0
    assert epsilon_lower_bound(600, 1000, 10, 1000) > 3.0


def test_bootstrap_interval_covers_the_estimate_and_is_reproducible() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.3, 1, 300), rng.normal(0, 1, 300)
    ci1 = bootstrap_auc(a, b, np.random.default_rng(9), resamples=300)
    ci2 = bootstrap_auc(a, b, np.random.default_rng(9), resamples=300)
    assert ci1 == ci2 and ci1[0] < auc(a, b) < ci1[1]


def test_fisher_one_sided() -> None:
    assert fisher_greater(10, 100, 0, 100) < 0.001
    assert fisher_greater(0, 100, 10, 100) == pytest.approx(1.0)


def test_score_histogram_gives_shares_on_common_edges() -> None:
    from audit_core.stats.roc import score_histogram

    h = score_histogram(np.array([0.0, 1.0, 1.0, np.nan]), np.array([0.0, 0.0]), bins=2)
    assert h["edges"] == [0.0, 0.5, 1.0]
    assert h["members"] == [pytest.approx(1 / 3), pytest.approx(2 / 3)] and h["non_members"] == [1.0, 0.0]
