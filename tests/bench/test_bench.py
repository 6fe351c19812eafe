"""`mnemoscope bench` in tiny configurations: the calibration is stored where estimates
find it and scales with model size; the comparison with torch produces its ratios and
checks (timings are printed by the real bench, never asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_core.kinds.estimates import calibrated_seconds
from audit_core.plan.parsing import load_plan
from audit_core.run.estimate import describe_duration, estimate_run
from audit_core.tools.bench.calibration import calibrate, calibration_path, load_calibration
from audit_core.tools.bench.synthetic_lm import SMALL

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def config_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("MNEMOSCOPE_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def test_calibration_is_stored_in_the_config_folder_and_used_by_the_estimate(config_dir: Path) -> None:
    assert load_calibration() is None
    result = calibrate(size=SMALL, records=8, repeats=1)
    assert calibration_path() == config_dir / "calibration.json"
    stored = json.loads(calibration_path().read_text())
    assert stored == result == load_calibration()
    assert result["reference"]["parameters"] == SMALL.parameters
    assert result["scoring_tokens_per_s"] > 0 and result["generation"]["batch_1_tokens_per_s"] > 0
    assert result["int8"]["scoring_tokens_per_s"] > 0 and result["int8"]["generation"]["batch_16_tokens_per_s"] > 0
    assert result["scoring_fraction_of_peak"] > 0  # a ratio of two timings: no bound asserted
    estimate = estimate_run(load_plan(ROOT / "resources" / "demo" / "plan.toml"))
    assert estimate.source == "calibration" and estimate.sampled_records == 0 and estimate.seconds > 0
    calibration_path().write_text("{not json")
    assert load_calibration() is None  # a damaged file means "not calibrated", not a crash


def test_the_calibrated_time_is_tokens_over_rate_scaled_by_model_size() -> None:
    calibration = {"reference": {"parameters": 1_000_000}, "scoring_tokens_per_s": 1000.0,
                   "generation": {"batch_16_tokens_per_s": 100.0}}
    ids = [list(range(50))] * 40  # 2,000 tokens
    base = calibrated_seconds(calibration, 1_000_000, ids, reference=False)
    assert base == pytest.approx(2.0)  # 2,000 tokens at 1,000/s
    assert calibrated_seconds(calibration, 4_000_000, ids, reference=False) == pytest.approx(8.0)
    assert calibrated_seconds(calibration, 4_000_000, ids, reference=True) == pytest.approx(16.0)
    # Never scaled below the reference's speed (the estimate times a smaller model instead:
    # tests/core/test_time_estimate.py).
    assert calibrated_seconds(calibration, 10_000, ids, reference=False) == pytest.approx(base)
    assert [describe_duration(s) for s in (0.2, 75, 600, 12_000)] == ["1 s", "75 s", "10 min", "3 h 20 min"]


def test_compare_runs_end_to_end_in_a_tiny_configuration() -> None:
    pytest.importorskip("torch")
    from audit_core.tools.bench.compare import format_compare, run_compare
    from audit_core.tools.controls.trainer import ModelSize

    result = run_compare(records=6, batch_size=4, repeats=1, memory_sizes=(300,),
                         size=ModelSize("t", n_embd=32, n_layer=1, n_head=2, n_positions=32),
                         new_tokens=4, prompt_tokens=4)
    assert result["scoring"]["max_abs_logprob_diff"] < 1e-4  # same numbers as torch
    assert result["generation"]["identical_tokens"] and result["generation"]["kv_cache"]
    assert result["model"]["shape_arithmetic_folded"]  # the exporter's folding passed its check
    assert result["scoring"]["ratio"] > 0 and result["generation"]["ratio"] > 0
    assert 0 < result["peak"]["fraction_of_peak"] <= 1.05 and result["peak"]["gemm_gflops"]["peak"] > 0
    assert -1 <= result["int8"]["spearman_token_logprob"] <= 1
    assert [m["records"] for m in result["memory"]] == [300]
    assert result["memory"][0]["peak_mb"] >= result["memory"][0]["baseline_mb"] > 0
    text = format_compare(result)
    assert "scoring:" in text and "generation:" in text and "% of the best GEMM rate" in text and "memory:" in text
