"""The time left while an audit runs (run/remaining.py), on synthetic progress: it starts
from the estimate's phases and follows the run's measured speed as phases finish."""

from __future__ import annotations

import pytest

from audit_core.run.remaining import PRIOR_WEIGHT, RemainingTime, describe_remaining, phase_of

PHASES = (("setup", 2.0), ("shared scoring pass", 20.0), ("loss", 1.0), ("trajectory", 60.0),
          ("writing", 2.0))  # 85 s in all


def test_before_any_phase_finishes_the_estimate_counts_down() -> None:
    left = RemainingTime(PHASES)
    left.update(0.5, 0.0, "reading the model")
    assert left.seconds(0.5) == pytest.approx(85.0 - 0.5)
    left.update(3.0, 0.05, "shared scoring pass: records 1-32")  # setup took 3 s, not 2
    assert left.seconds(3.0) == pytest.approx(left.speed() * 83.0)


def test_a_run_twice_as_slow_as_estimated_is_said_to_need_about_twice_as_long() -> None:
    left = RemainingTime(PHASES)
    left.update(0.0, 0.0, "reading the model")
    left.update(4.0, 0.02, "shared scoring pass: records")
    left.update(44.0, 0.3, "loss: bootstrap")
    left.update(46.0, 0.32, "trajectory: sampling")
    # 46 s measured for 23 s estimated, with the prior's pseudo-count of 0.2 x 85 s.
    speed = (46.0 + PRIOR_WEIGHT * 85) / (23.0 + PRIOR_WEIGHT * 85)
    assert left.speed() == pytest.approx(speed)
    assert left.seconds(46.0) == pytest.approx(speed * 62.0)
    assert 1.5 < speed < 2.0  # moving from the estimate (1) to the measurement (2)
    assert left.seconds(46.0) > 62.0 * 1.5


def test_a_fast_run_lowers_the_time_left_and_a_long_phase_never_gives_a_negative_time() -> None:
    left = RemainingTime(PHASES)
    left.update(0.0, 0.0, "setup")
    left.update(1.0, 0.02, "shared scoring pass: records")
    left.update(11.0, 0.3, "loss")
    left.update(11.5, 0.32, "trajectory: sampling")
    assert left.speed() < 1.0
    assert left.seconds(11.5) < 62.0
    assert left.seconds(500.0) >= 0.0  # trajectory ran far past its estimate
    left.update(600.0, 1.0, "done")
    assert left.seconds(600.0) == 0.0


def test_a_probe_that_reports_nothing_counts_as_finished_when_a_later_one_starts() -> None:
    left = RemainingTime(PHASES)
    left.update(0.0, 0.0, "setup")
    left.update(2.0, 0.02, "shared scoring pass")
    left.update(22.0, 0.35, "trajectory: sampling")  # "loss" never reported
    assert left.taken == {"setup": 2.0, "shared scoring pass": 20.0, "loss": 0.0}
    # Messages that name no phase ("done", a loading step) do not move it back.
    left.update(23.0, 0.36, "finished")
    assert left.current == "trajectory"


def test_without_phases_it_falls_back_to_the_fraction_done() -> None:
    left = RemainingTime()
    left.update(0.5, 0.01, "reading the model")
    assert left.seconds(0.5) is None  # too early to say
    left.update(10.0, 0.25, "loss")
    assert left.seconds(10.0) == pytest.approx(30.0)


def test_the_time_left_is_said_as_a_person_would() -> None:
    assert [describe_remaining(s) for s in (None, 4, 38, 58.5, 61, 150, 4000)] == [
        "", "A few seconds left", "About 40 s left", "About 1 min left", "About 1 min left",
        "About 2 min left", "About 1 h 07 min left"]
    assert phase_of("trajectory: sampling the first 10 codes", ["trajectory"]) == "trajectory"
    assert phase_of("reading the cohorts", ["trajectory"]) == "setup"
