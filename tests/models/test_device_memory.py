"""Batch sizes from free device memory (models/device_memory.py), with fake figures: no GPU
here. The readers parse what the CUDA runtime and NVML report; the rule caps the scoring
pass's batches and the generation schedule's rows, logs it and records it for run.json."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from audit_core.generation import GenerationSchedule, Request
from audit_core.models import device_memory
from audit_core.models.device_memory import DeviceBudget, DeviceMemory, row_bytes, rows_that_fit
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.passes.token_scores import score_tokens
from audit_core.results.result import AuditResult
from audit_core.work.progress import Progress

GIB = 1 << 30


class _FakeCudart:
    def __init__(self, code: int = 0) -> None:
        self.code = code

    def cudaMemGetInfo(self, free, total) -> int:  # noqa: N802 (the C symbol's name)
        free._obj.value, total._obj.value = 3 * GIB, 80 * GIB
        return self.code


class _FakeNvml:
    def __init__(self) -> None:
        self.index: int | None = None
        self.shut = False

    def nvmlInit_v2(self) -> int:  # noqa: N802
        return 0

    def nvmlDeviceGetHandleByIndex_v2(self, index, handle) -> int:  # noqa: N802
        self.index = index
        return 0

    def nvmlDeviceGetMemoryInfo(self, handle, memory) -> int:  # noqa: N802
        memory._obj.total, memory._obj.free = 24 * GIB, 20 * GIB
        return 0

    def nvmlShutdown(self) -> int:  # noqa: N802
        self.shut = True
        return 0


def test_free_memory_is_read_from_the_cuda_runtime_else_nvml(monkeypatch) -> None:
    nvml = _FakeNvml()
    libraries = {"cudart": _FakeCudart(), "nvidia-ml": nvml}

    def load(names):
        return next((lib for key, lib in libraries.items() if any(key in n for n in names)), None)

    monkeypatch.setattr(device_memory, "_load", load)
    assert device_memory.free_device_memory() == DeviceMemory(3 * GIB, 80 * GIB)
    libraries["cudart"] = _FakeCudart(code=100)  # cudaErrorNoDevice: ask NVML
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert device_memory.free_device_memory() == DeviceMemory(20 * GIB, 24 * GIB)
    assert nvml.index == 2 and nvml.shut  # the device the process sees first
    libraries.clear()  # no library at all: no GPU
    assert device_memory.free_device_memory() is None


def test_the_rule_counts_cache_logits_and_activations() -> None:
    shapes = {f"past_{kv}_{i}": (4, 32) for i in range(4) for kv in ("key", "value")}  # the demo's
    per_row = row_bytes(shapes, 801, 128)
    cache = 2 * 8 * 128 * 128  # past and present, 8 tensors of 4 x 32 per token
    assert per_row == 4 * (cache + 801 * 128 + 4 * 128 * 128 + 16 * 128 * 128)
    assert row_bytes(shapes, 801, 256) > 2 * per_row  # attention grows with the square
    assert row_bytes({}, 801, 128) == 2 * 801 * 128 * 4  # no cache: logits, twice
    assert rows_that_fit(10 * per_row, per_row) == 8  # 80% of free memory
    assert rows_that_fit(10 * per_row, per_row, weights=4 * per_row) == 4
    assert rows_that_fit(per_row, per_row, weights=2 * per_row) == 0


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> OnnxCausalLM:
    return OnnxCausalLM(inspect_model(demo_dir / "model"), threads=1, provider="cpu")


def test_batches_are_capped_to_what_the_device_holds(demo, monkeypatch, caplog) -> None:
    assert demo.device_budget is None and demo.device_facts is None  # the CPU: as planned
    per_row = row_bytes(demo._past_shapes, demo.vocab_size, demo.context_length)
    monkeypatch.setattr(device_memory, "free_device_memory", lambda: DeviceMemory(int(3.9 * per_row), GIB))
    budget = DeviceBudget.measure(demo)
    assert budget is not None and budget.rows(demo.context_length) == 3
    monkeypatch.setattr(demo, "device_budget", budget)
    widths: list[int] = []
    logits = demo.logits
    monkeypatch.setattr(demo, "logits", lambda ids, mask, **kw: widths.append(len(ids)) or logits(ids, mask, **kw))
    records = [np.arange(2, 2 + n) for n in (10, 20, 30, 40, 50, 60, 70)]
    with caplog.at_level(logging.INFO, logger="audit_core.models.device_memory"):
        score_tokens(demo, records, batch_size=32, pad_id=0, progress=Progress())
    assert max(widths) == 3 and sum(widths) == len(records)
    assert "scoring batches capped from 32 to 3 rows at 128 tokens" in caplog.text
    # Generation at short lengths holds more rows than scoring a full context, still capped.
    asked = [Request(prompt=np.array([2, 40 + i, 41]), steps=20, n=8, seed=(0, i)) for i in range(40)]
    schedule = GenerationSchedule(demo, batch_rows=256)
    schedule.generate(asked)
    rows = budget.rows(8 + 20)  # prompts padded to 8, plus 20 steps
    assert 3 < rows < 320 and schedule.counts.prefills == 40
    assert budget.caps == {"scoring": {"asked": 32, "rows": 3, "tokens": 128},
                           "generation": {"asked": 256, "rows": rows, "tokens": 28}}
    facts = demo.device_facts
    assert facts is not None and facts["capped"] == budget.caps and facts["io_binding"] is False
    # run.json carries it; results.json (the audit's record) does not.
    result = AuditResult(audit={"id": "a"}, overall_verdict=None, overall_rationale="", model={},  # type: ignore[arg-type]
                         datasets=(), probes=(), plan={}, environment={}, validation={}, records=None,
                         device=facts)
    assert result.run_dict(report="r")["device"]["free_bytes"] == int(3.9 * per_row)
