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


@pytest.mark.parametrize("tied", [False, True])
def test_bootstraps_counted_without_sorting_equal_the_resamples_sorted(tied: bool, monkeypatch) -> None:
    """The intervals evaluate each resample as draw counts over scores sorted once, blocks
    of resamples at once; each value must be exactly the statistic of the resample itself
    (ties included), from the same draws."""
    from audit_core.stats import bootstrap_curves
    from audit_core.stats.intervals import bootstrap_advantage
    from audit_core.stats.roc import membership_advantage

    rng = np.random.default_rng(4)
    if tied:
        a, b = rng.integers(0, 4, 57).astype(float), rng.integers(0, 4, 83).astype(float)
    else:
        a, b = rng.normal(0.4, 1, 57), rng.normal(0, 1, 83)
    for counted, statistic in ((bootstrap_auc, auc), (bootstrap_advantage, membership_advantage)):
        draws = np.random.default_rng(11)
        values = []
        for _ in range(40):  # the definition: draw, resample, compute
            m = a[draws.integers(0, len(a), len(a))]
            values.append(statistic(m, b[draws.integers(0, len(b), len(b))]))
        tail = (1 - 0.95) / 2 * 100  # as the intervals compute it (2.5 plus a rounding error)
        expected = tuple(float(v) for v in np.percentile(values, [tail, 100 - tail]))
        assert counted(a, b, np.random.default_rng(11), resamples=40) == expected
        with monkeypatch.context() as m:
            m.setattr(bootstrap_curves, "_BLOCK_CELLS", 3_000)  # several blocks, a short last one
            assert counted(a, b, np.random.default_rng(11), resamples=40) == expected


def test_fisher_one_sided() -> None:
    assert fisher_greater(10, 100, 0, 100) < 0.001
    assert fisher_greater(0, 100, 10, 100) == pytest.approx(1.0)


def test_score_histogram_gives_shares_on_common_edges() -> None:
    from audit_core.stats.roc import score_histogram

    h = score_histogram(np.array([0.0, 1.0, 1.0, np.nan]), np.array([0.0, 0.0]), bins=2)
    assert h["edges"] == [0.0, 0.5, 1.0]
    assert h["members"] == [pytest.approx(1 / 3), pytest.approx(2 / 3)] and h["non_members"] == [1.0, 0.0]


def test_benjamini_hochberg_known_values() -> None:
    from audit_core.stats.multiple_testing import benjamini_hochberg

    # m = 4: q_(i) = min over j >= i of p_(j) m / j
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.0533333, 0.0533333, 0.5])
    assert benjamini_hochberg([]) == []
    assert benjamini_hochberg([0.9, 0.95]) == pytest.approx([0.95, 0.95])


def test_posterior_and_advantage_known_values() -> None:
    from audit_core.stats.intervals import posterior_membership
    from audit_core.stats.roc import membership_advantage

    # The EMA Policy 0070 / Health Canada PRCI 0.09 anchor: prior 5%, likelihood ratio 2 -> 0.095; 10 -> 0.345
    assert posterior_membership(0.05, 2.0) == pytest.approx(0.0952, abs=1e-4)
    assert posterior_membership(0.05, 10.0) == pytest.approx(0.3448, abs=1e-4)
    assert posterior_membership(0.05, float("inf")) == 1.0
    assert membership_advantage(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert membership_advantage(np.array([2.0, 4.0]), np.array([1.0, 3.0])) == pytest.approx(0.5)


def test_mann_whitney_p_value_is_small_only_when_members_score_higher() -> None:
    from audit_core.stats.intervals import auc_greater_p_value

    rng = np.random.default_rng(4)
    assert auc_greater_p_value(rng.normal(1, 1, 100), rng.normal(0, 1, 100)) < 1e-6
    assert auc_greater_p_value(rng.normal(-1, 1, 100), rng.normal(0, 1, 100)) > 0.99


def test_logistic_regression_separates_what_is_separable_and_not_what_is_not() -> None:
    from audit_core.stats.logistic import out_of_fold_scores

    rng = np.random.default_rng(5)
    labels = np.r_[np.ones(200), np.zeros(200)].astype(np.int64)
    signal = np.c_[labels + rng.normal(0, 0.5, 400), rng.normal(0, 1, 400)]
    scores = out_of_fold_scores(signal, None, labels, 5, np.random.default_rng(0))
    assert auc(scores[labels == 1], scores[labels == 0]) > 0.9
    noise = rng.normal(0, 1, (400, 5))
    scores = out_of_fold_scores(noise, None, labels, 5, np.random.default_rng(0))
    assert abs(auc(scores[labels == 1], scores[labels == 0]) - 0.5) < 0.1


def test_held_out_operating_point_is_honest_about_fpr() -> None:
    from audit_core.probes.membership_assessment import held_out_operating_point

    # No signal: the threshold set on one half of the non-members gives about the target
    # FPR on the other half, and members are flagged no more often than non-members.
    rng = np.random.default_rng(6)
    held = held_out_operating_point(rng.normal(0, 1, 4000), rng.normal(0, 1, 4000), 0.05,
                                    np.random.default_rng(1))
    assert held.non_members == 4000 and held.members == 4000
    assert abs(held.false_positives / 4000 - 0.05) < 0.015
    assert abs(held.true_positives / 4000 - 0.05) < 0.015
    assert held.calibration_false_positives <= 0.05 * 4000
    assert held.flagged_members.sum() == held.true_positives
