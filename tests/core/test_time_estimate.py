"""The time estimate counts the probes' generation (issue 16: it timed the scoring pass and
extraction only, and said 25-37 s for a demo that took 89-125 s; issue 21: from the requests
the probes declare, as the run's generation step decodes them). No timing is asserted:
the estimate is made from a fixed workstation calibration, so it is a count; how close it
comes to a measured run is the estimate bench's business (docs/speed.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit_core.kinds.generation_work import decoding_of
from audit_core.plan.parsing import load_plan
from audit_core.plan.span_settings import LOCALISATION_LABEL
from audit_core.probes import PROBES_BY_ID
from audit_core.run.estimate import estimate_run
from tests.conftest import DEMO

# Its reference is smaller than the demo's 0.9M parameters, so its rates price the demo.
CALIBRATION = {"format": "mnemoscope-calibration/1", "created_utc": "2026-12-07T00:00:00Z",
               "reference": {"parameters": 500_000}, "scoring_tokens_per_s": 5000.0,
               "generation": {"batch_16_tokens_per_s": 4000.0}}
DEMO_PLAN = (DEMO / "plan.toml").read_text(encoding="utf-8")


def _estimate(tmp_path: Path, text: str, copies: int = 1) -> dict[str, float]:
    """The demo plan with `text` in place of its probes, estimated; its phases. `copies`:
    each cohort's records that many times over, under new patient ids."""
    head = DEMO_PLAN.split("[probes.loss]")[0]
    tail = DEMO_PLAN[DEMO_PLAN.index("[thresholds.membership]"):]
    folder = tmp_path / "plan"
    folder.mkdir(exist_ok=True)
    plan = head.replace('path = "model"', f'path = "{(DEMO / "model").as_posix()}"')
    for name in ("members.csv", "non_members.csv"):
        source = DEMO / name
        if copies > 1:
            header, *rows = source.read_text(encoding="utf-8").splitlines()
            source = folder / name
            source.write_text("\n".join([header] + [f"{row.split(',', 1)[0]}-{k},{row.split(',', 1)[1]}"
                                                    for k in range(copies) for row in rows]) + "\n",
                              encoding="utf-8")
        plan = plan.replace(f'"{name}"', f'"{source.as_posix()}"')
    (folder / "plan.toml").write_text(plan + text + "\n" + tail, encoding="utf-8")
    estimate = estimate_run(load_plan(folder / "plan.toml"), calibration=CALIBRATION)
    assert estimate.source == "calibration"
    assert estimate.seconds == pytest.approx(sum(s for _, s in estimate.phases))
    return dict(estimate.phases)


def test_doubling_a_generating_probes_samples_doubles_its_share(tmp_path: Path) -> None:
    five = _estimate(tmp_path, "[probes.loss]\n[probes.trajectory]\nmax_records = 50\nsamples = 5\n")
    ten = _estimate(tmp_path, "[probes.loss]\n[probes.trajectory]\nmax_records = 50\nsamples = 10\n")
    # T1's samples are decoded in the generation step (its own phase keeps its statistics).
    assert ten["generation"] > 1.8 * five["generation"] > 0
    assert ten["trajectory"] == five["trajectory"]
    assert ten["shared scoring pass"] == five["shared scoring pass"]


def test_the_generating_probes_are_most_of_the_demos_estimate(tmp_path: Path) -> None:
    """The demo's clinical probes decode about ten times the tokens the pass scores."""
    demo = _estimate(tmp_path, DEMO_PLAN[DEMO_PLAN.index("[probes.loss]"):
                                         DEMO_PLAN.index("[thresholds.membership]")])
    scoring_only = _estimate(tmp_path, "[probes.loss]\n[probes.zlib]\n[probes.min_k]\n"
                                       "[probes.min_k_plus_plus]\n")
    generating = ("extraction", "trajectory", "sensitive_attributes", "reidentification",
                  "perturbation", "vulnerable_subgroups")
    assert all(demo[p] > 0 for p in generating)
    assert max(demo, key=demo.__getitem__) == "generation"  # one step decodes for all of them
    assert sum(demo.values()) > 3 * sum(scoring_only.values())
    assert set(scoring_only) == {"setup", "shared scoring pass", "loss", "zlib", "min_k",
                                 "min_k_plus_plus", LOCALISATION_LABEL, "writing"}


def test_the_statistics_grow_with_the_cohorts(tmp_path: Path) -> None:
    """A probe's statistics and the outputs are priced by the records
    (they were fixed seconds: T6 took 6.7 s on 8,000 records for 2.5 s estimated)."""
    plan = "[probes.loss]\n[probes.trajectory]\nmax_records = 50\n[probes.vulnerable_subgroups]\n"
    demo, larger = _estimate(tmp_path, plan), _estimate(tmp_path, plan, copies=4)
    for phase in ("loss", "vulnerable_subgroups", "writing", "setup"):
        assert larger[phase] > 1.5 * demo[phase], phase
    # The spans: a fixed number of records scored again, and reading them grows a little.
    assert demo[LOCALISATION_LABEL] < larger[LOCALISATION_LABEL] < 1.5 * demo[LOCALISATION_LABEL]
    assert larger["vulnerable_subgroups"] == pytest.approx(4 * demo["vulnerable_subgroups"], rel=1e-6)
    assert larger["trajectory"] == demo["trajectory"]  # its distances are on a bounded sample


def test_no_span_phase_when_no_record_is_localised(tmp_path: Path) -> None:
    phases = _estimate(tmp_path, "[probes.loss]\n[thresholds.memorized_spans]\nrecords = 0\n")
    assert LOCALISATION_LABEL not in phases


def test_the_counted_decoding_follows_each_probes_settings() -> None:
    lengths = [np.full(300, 50), np.full(200, 50)]
    probe = PROBES_BY_ID["trajectory"]
    config = probe.config_type(max_records=100, samples=5, horizon=24, tiers="nothing,10",
                               baseline_samples=20)
    work = decoding_of("trajectory", config, lengths, 128)
    assert work is not None
    assert work.row_steps == (2 * 200 * 5 + 20) * 24  # 2 tiers x 200 patients x 5, + baseline
    short = [np.full(300, 30), np.full(200, 50)]  # extraction needs prefix + suffix tokens
    extraction = decoding_of("extraction", PROBES_BY_ID["extraction"].config_type(), short, 128)
    assert extraction is not None and extraction.greedy
    assert extraction.row_steps == 200 * 16
    assert decoding_of("loss", PROBES_BY_ID["loss"].config_type(), lengths, 128) is None


def test_the_validation_estimate_adds_up_its_audits(tmp_path: Path) -> None:
    """The validation dialog said "about a minute" (a constant) and took two: its time is
    now the sum of the estimates of the audits `validate` runs."""
    from audit_core.tools.validation.estimate import FIXED_SECONDS, estimate_validation, validation_plans

    plans = validation_plans()
    assert plans[0] == DEMO / "plan.toml" and all(p.is_file() for p in plans) and len(plans) >= 4
    demo = estimate_run(load_plan(plans[0]), calibration=CALIBRATION).seconds
    assert estimate_validation(calibration=CALIBRATION) > demo + FIXED_SECONDS


def test_a_model_smaller_than_the_calibrations_reference_is_timed_on_a_sample() -> None:
    """`mnemoscope bench` calibrates on a 20M-parameter reference; scaling its rates to the
    demo's 0.9M parameters cannot credit the demo's calls and sampled rows with their fixed
    costs, and taking them as they were priced the demo at 130 s for an audit of 18-23 s.
    Below the reference the model is timed itself (about a second for the demo)."""
    from audit_core.kinds.decoding_cost import calibration_prices

    bench = {**CALIBRATION, "reference": {"parameters": 20_000_000}}
    assert not calibration_prices(bench, 19_999_999, "fp32")
    assert calibration_prices(bench, 20_000_000, "fp32") and calibration_prices(bench, 10**9, "fp32")
    assert not calibration_prices(bench, 10**9, "int8")  # made before bench measured int8
    assert not calibration_prices(bench, 10**9, "fp16") and not calibration_prices(None, 10**9, "fp32")
    estimate = estimate_run(load_plan(DEMO / "plan.toml"), calibration=bench)
    assert estimate.source == "sample" and estimate.sampled_records > 0
