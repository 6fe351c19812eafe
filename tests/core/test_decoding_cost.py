"""An export without a KV cache is recognised before the run, with what it costs and the fix:
`inspect`'s KV line, a warning before `mnemoscope run` (only when the plan generates), and an
estimate that counts the recomputation (kinds/decoding_cost.py, run/decoding_notice.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from audit_core.cli.decoding_line import print_decoding_notice
from audit_core.cli.main import main
from audit_core.kinds.decoding_cost import (
    NOMINAL,
    PLAN,
    DecodingRates,
    ProbeDecoding,
    RecomputeCost,
)
from audit_core.plan.parsing import load_plan
from audit_core.probes.generating import GENERATION_LABEL
from audit_core.run.decoding_notice import describe_recompute, plan_notice
from audit_core.run.estimate import estimate_run
from tests.conftest import write_plan

FIX = "convert the Hugging Face folder with `mnemoscope convert HF_FOLDER OUT_DIR` to get a KV export"
GENERATING = "[probes.loss]\n[probes.extraction]\nprefix_tokens = 8\nsuffix_tokens = 8\n"
# A workstation calibration as `mnemoscope bench` stores it (run/calibration.py): the
# figures follow from it alone, whatever the machine's load.
CALIBRATION = {"format": "mnemoscope-calibration/1", "created_utc": "2026-12-07T00:00:00Z",
               "reference": {"parameters": 10_000}, "scoring_tokens_per_s": 20_000.0,
               "generation": {"batch_1_tokens_per_s": 500.0, "batch_16_tokens_per_s": 2_000.0}}


def test_the_factor_and_the_extra_time_follow_from_the_lengths_and_the_rates() -> None:
    rates = DecodingRates(token_seconds=0.001, kv_token_seconds=0.01, source="calibration")
    cost = RecomputeCost((ProbeDecoding("extraction", 1000, 31.0), ProbeDecoding("trajectory", 3000, 11.0)),
                         rates, PLAN)
    # A recomputing step: a KV step plus L - 1 more tokens' forward.
    assert cost.extra_seconds("extraction") == pytest.approx(1000 * 30 * 0.001)
    assert cost.extra_seconds() == pytest.approx(30 + 3000 * 10 * 0.001)
    assert cost.factor == pytest.approx((40 + 60) / 40)
    # A timing that already ran the plain graph at 23 tokens counted that much of each step.
    assert cost.extra_seconds("extraction", counted_length=23) == pytest.approx(1000 * 8 * 0.001)
    # ... and too much for shorter sequences: the surplus comes off (elicitation on the notes
    # control was estimated 39% high while it was not).
    assert cost.extra_seconds("trajectory", counted_length=23) == pytest.approx(-3000 * 12 * 0.001)
    sentence = describe_recompute(cost)
    assert sentence.startswith("generation recomputes the whole sequence at every step, about 2.5× slower "
                               "on this plan's generating probes (extraction, trajectory; from the "
                               "workstation calibration): about 60 s more")
    assert sentence.endswith(FIX)
    nominal = describe_recompute(RecomputeCost(cost.work, rates, NOMINAL))
    assert "on the standard generating probes at their default settings" in nominal


def _plan(folder: Path, model: Path, small_cohorts: tuple[Path, Path], probes: str) -> Path:
    folder.mkdir(exist_ok=True)
    return write_plan(folder, model=model, members=small_cohorts[0], non_members=small_cohorts[1],
                      probes=probes)


def test_inspect_says_what_a_kv_less_export_costs_and_how_to_fix_it(tiny_positive, tiny_positive_plain,
                                                                     capsys) -> None:
    assert main(["inspect", str(tiny_positive_plain.out_dir)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("KV cache:"))
    assert line.startswith("KV cache:    no: generation recomputes the whole sequence at every step, about ")
    assert "slower on the standard generating probes at their default settings (timed on this model)" in line
    assert line.endswith(FIX)
    assert main(["inspect", str(tiny_positive_plain.out_dir), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)["decoding_cost"]
    assert figures["factor"] > 1 and figures["basis"] == NOMINAL and figures["sentence"].endswith(FIX)
    assert main(["inspect", str(tiny_positive.export.out_dir)]) == 0
    out = capsys.readouterr().out
    assert "KV cache:    yes (fast generation)" in out and "recomputes" not in out


def test_the_plan_check_warns_only_when_a_kv_less_export_will_generate(
        tmp_path: Path, tiny_positive, tiny_positive_plain, small_cohorts) -> None:
    def warning(model: Path, probes: str, name: str) -> str:
        stream = io.StringIO()
        print_decoding_notice(load_plan(_plan(tmp_path / name, model, small_cohorts, probes)), stream)
        return stream.getvalue()

    said = warning(tiny_positive_plain.out_dir, GENERATING, "plain")
    assert said.startswith("mnemoscope: warning: this model has no KV cache: generation recomputes the "
                           "whole sequence at every step, about ")
    assert "on this plan's generating probes (extraction; timed on this model)" in said
    assert said.rstrip().endswith(FIX) and said.count("\n") == 1
    assert warning(tiny_positive_plain.out_dir, "[probes.loss]\n[probes.zlib]\n", "scoring") == ""
    assert warning(tiny_positive.export.out_dir, GENERATING, "kv") == ""


def test_the_estimate_counts_the_recomputation_the_plan_check_announces(
        tmp_path: Path, tiny_positive, tiny_positive_plain, small_cohorts) -> None:
    """The same weights with and without the cache, estimated from one calibration: the
    KV-less estimate of the generation step is larger by exactly the announced extra time."""
    plain = load_plan(_plan(tmp_path / "plain", tiny_positive_plain.out_dir, small_cohorts, GENERATING))
    kv = load_plan(_plan(tmp_path / "kv", tiny_positive.export.out_dir, small_cohorts, GENERATING))
    cost = plan_notice(plain, CALIBRATION)
    assert cost is not None and cost.probes == ("extraction",) and cost.rates.source == "calibration"
    with_cache = dict(estimate_run(kv, calibration=CALIBRATION).phases)
    without = dict(estimate_run(plain, calibration=CALIBRATION).phases)
    assert cost.extra_seconds() > 0 and cost.extra_seconds() == pytest.approx(cost.extra_seconds(in_step=True))
    assert without[GENERATION_LABEL] - with_cache[GENERATION_LABEL] == pytest.approx(cost.extra_seconds())
    assert without["extraction"] == with_cache["extraction"]  # its decoding is the step's
    assert without["loss"] == with_cache["loss"]  # scoring is not generation
    assert f"about {cost.factor:.1f}× slower" in describe_recompute(cost)
