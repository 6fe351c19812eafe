"""The memory an audit needs: said by the estimate, checked by the run before any scoring,
and refused with exit 2 and a message naming what to lower (kinds/memory_need.py).

The machine's figure is faked (`available_now`), so the refusal does not depend on how
much memory the test machine has.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_core.cli.main import main
from audit_core.errors import PlanError
from audit_core.kinds import memory_need
from audit_core.kinds.memory_need import Available, MemoryNeed, check_memory, describe_memory
from audit_core.plan.parsing import load_plan
from audit_core.run.estimate import estimate_run

GB = 1_000_000_000
CALIBRATION = {"format": "mnemoscope-calibration/1", "created_utc": "2026-12-07T00:00:00Z",
               "reference": {"parameters": 10_000}, "scoring_tokens_per_s": 5000.0,
               "generation": {"batch_16_tokens_per_s": 4000.0}}


def test_a_need_past_the_memory_is_refused_naming_what_to_lower() -> None:
    need = MemoryNeed(host=(("model weights", 2 * GB), ("cohorts' tokens", GB // 2),
                            ("scoring batch", 6 * GB)))
    check_memory(need, Available(host=9 * GB))  # fits: nothing said
    with pytest.raises(PlanError) as caught:
        check_memory(need, Available(host=4 * GB))
    message = str(caught.value)
    assert "8.5 GB" in message and "4.0 GB" in message
    assert "scoring batch 6.0 GB" in message and "'model.batch_size'" in message
    check_memory(need, Available(host=None))  # unknown memory: nothing is refused


def test_the_gpu_side_is_checked_against_the_plugged_device_figure(monkeypatch) -> None:
    need = MemoryNeed(host=(("model weights", GB),), device=(("model weights", GB), ("generation batch", 3 * GB)))
    monkeypatch.setattr(memory_need, "_device_probe", lambda: 2 * GB)
    available = memory_need.available_now(device=True)
    assert available.device == 2 * GB
    assert "GPU memory about 4.0 GB of 2.0 GB free" in describe_memory(need, available)
    assert memory_need.available_now().device is None  # a CPU run never asks the GPU
    with pytest.raises(PlanError, match="GPU memory .*generation batch 3.0 GB.*'batch_size'"):
        check_memory(need, Available(host=100 * GB, device=2 * GB))


def test_an_int8_start_is_refused_by_the_quantizers_peak() -> None:
    need = memory_need.startup_need([("model.onnx", 1000), ("model.onnx.data", 2 * GB)], "int8")
    check_memory(memory_need.startup_need([("model.onnx.data", 2 * GB)], "fp32"), Available(host=4 * GB))
    with pytest.raises(PlanError, match="int8 quantization.*precision = \"fp32\""):
        check_memory(need, Available(host=4 * GB))


def test_the_estimate_says_the_memory_and_the_run_refuses_what_cannot_fit(
        small_plan: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    estimate = estimate_run(load_plan(small_plan), calibration=CALIBRATION)  # nothing timed
    assert estimate.memory is not None
    weights = (Path(__file__).resolve().parents[2] / "resources/demo/model/model.onnx").stat().st_size
    parts = dict(estimate.memory.host)
    assert parts["model weights"] >= weights
    # Scoring and generation never run at once: the larger of the two is counted.
    working = [k for k in parts if k == "scoring batch" or k.startswith("generation batch")]
    assert len(working) == 1 and parts[working[0]] > 0 and "cohorts' tokens" in parts
    # On two cores the demo model decodes two batches side by side, each stream in a
    # session of its own (generation/streams.py): two more copies of the weights.
    assert parts.get("model copies for side-by-side decoding", 0) in (0, 2 * parts["model weights"])
    assert len(parts) == 3 + ("model copies for side-by-side decoding" in parts)
    assert describe_memory(estimate.memory, Available(host=50 * GB)).endswith("of 50.0 GB available")

    # Room for the model but not for the rest: refused before any scoring, exit 2.
    room = Available(host=parts["model weights"] + 1)
    monkeypatch.setattr(memory_need, "available_now", lambda device=False: room)
    assert main(["run", str(small_plan), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "more than the" in err and "available" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "results.json").exists()


def test_two_decoding_streams_that_would_not_fit_become_one_not_a_refusal(
        small_plan: Path, tmp_path: Path, monkeypatch) -> None:
    plan = load_plan(small_plan)
    roomy = estimate_run(plan, calibration=CALIBRATION).memory
    assert roomy is not None
    copies = dict(roomy.host).get("model copies for side-by-side decoding")
    if copies is None:
        pytest.skip("this machine decodes in one session anyway (fewer than two cores)")
    # Room for everything but the second stream's copies of the weights (the run's own check
    # counts no kept answers, the estimate does: half a copy short fails both).
    tight = Available(host=roomy.host_bytes - copies // 2)
    monkeypatch.setattr(memory_need, "available_now", lambda device=False: tight)
    need = estimate_run(plan, calibration=CALIBRATION).memory
    assert need is not None and need.host_bytes <= tight.host
    assert "model copies for side-by-side decoding" not in dict(need.host)
    out = tmp_path / "out"
    assert main(["run", str(small_plan), "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "run.json").read_text())["generation"]["streams"] == 1
