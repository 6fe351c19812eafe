"""The execution-provider choice on a workstation with a GPU, simulated on one without.

No GPU is needed to check what the engine decides: onnxruntime is made to report CUDA as
available, and its session either starts on CUDA (it really runs on the CPU underneath,
but reports CUDA first, as onnxruntime-gpu does) or fails to start it (no usable driver).
What a plan asked for, what ran, and what results.json and the report say must agree.
The CUDA kernels themselves are not exercised here; I/O binding's outputs asked for on
"cuda" are placed in host memory, where the session really runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from audit_core.errors import ModelError
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.tools.bench.synthetic_lm import SMALL, build_synthetic_lm

CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"
_RealSession = ort.InferenceSession


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> Path:
    return build_synthetic_lm(tmp_path_factory.mktemp("provider"), SMALL, seed=5)


def _gpu_workstation(monkeypatch, *, cuda_starts: bool) -> list[list[str]]:
    """onnxruntime offers CUDA; returns the provider lists sessions were asked for."""
    asked: list[list[str]] = []

    class Binding:
        def __init__(self, binding) -> None:
            self.binding = binding

        def bind_output(self, name, device="cpu", *args):
            return self.binding.bind_output(name, "cpu" if device == "cuda" else device, *args)

        def __getattr__(self, name):
            return getattr(self.binding, name)

    class Session(_RealSession):
        def __init__(self, path, options=None, providers=None, **kwargs):
            # A provider may come with its options: (name, {...}).
            providers = [p[0] if isinstance(p, tuple) else p for p in providers or [CPU]]
            asked.append(providers)
            if providers[0] == CUDA and not cuda_starts:
                raise RuntimeError("CUDA failure 100: no CUDA-capable device is detected")
            super().__init__(path, options, providers=[CPU], **kwargs)
            self._reported = [CUDA, CPU] if providers[0] == CUDA else [CPU]

        def get_providers(self):
            return self._reported

        def io_binding(self):
            return Binding(super().io_binding())

        def run_with_iobinding(self, binding, run_options=None):
            return super().run_with_iobinding(binding.binding, run_options)

    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    monkeypatch.setattr(ort, "InferenceSession", Session)
    return asked


def test_auto_runs_on_cuda_when_onnxruntime_gpu_starts_it(monkeypatch, small_model) -> None:
    asked = _gpu_workstation(monkeypatch, cuda_starts=True)
    model = OnnxCausalLM(inspect_model(small_model), provider="auto")
    assert asked[-1] == [CUDA, CPU] and model.provider == CUDA
    explicit = OnnxCausalLM(inspect_model(small_model), provider="cuda")
    assert explicit.provider == CUDA
    cpu = OnnxCausalLM(inspect_model(small_model), provider="cpu")
    assert asked[-1] == [CPU] and cpu.provider == CPU
    # On CUDA, decoding runs through I/O binding (the cache kept on the device): the same tokens.
    assert model.io_binding and explicit.io_binding and not cpu.io_binding
    prompts = np.array([[1, 5, 9, 4], [1, 7, 7, 2]])
    np.testing.assert_array_equal(model.greedy(prompts, 6), cpu.greedy(prompts, 6))
    assert asked[-1] == [CUDA, CPU]  # the cache's row selection ran on the model's provider


def test_auto_falls_back_to_the_cpu_when_cuda_will_not_start_and_cuda_is_refused(
        monkeypatch, small_model) -> None:
    asked = _gpu_workstation(monkeypatch, cuda_starts=False)
    model = OnnxCausalLM(inspect_model(small_model), provider="auto")
    assert asked[-2:] == [[CUDA, CPU], [CPU]] and model.provider == CPU
    with pytest.raises(ModelError, match="cuda") as refused:
        OnnxCausalLM(inspect_model(small_model), provider="cuda")
    assert "CUDA failure" not in str(refused.value)  # onnxruntime's own text stays out


def test_the_provider_that_ran_is_what_results_and_the_report_record(monkeypatch, small_plan: Path) -> None:
    from audit_core.plan.parsing import load_plan
    from audit_core.report.sections.document import build_report
    from audit_core.run.runner import run_audit

    _gpu_workstation(monkeypatch, cuda_starts=True)
    small_plan.write_text(small_plan.read_text().replace("batch_size = 32", 'batch_size = 32\nprovider = "auto"'))
    text = small_plan.read_text().split("[probes.extraction]")[0]  # scoring probes suffice
    small_plan.write_text(text)
    result = run_audit(load_plan(small_plan)).as_dict()
    assert result["model"]["execution_provider"] == CUDA
    assert "CUDAExecutionProvider" in repr(build_report(result))  # the model table


def test_a_broken_export_is_blamed_on_the_export_not_on_cuda(monkeypatch, tmp_path: Path) -> None:
    from audit_core.models.runtime import open_session

    _gpu_workstation(monkeypatch, cuda_starts=False)
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"\x08\x07" + bytes(range(200)))
    with pytest.raises(ModelError, match="cannot load model.onnx.*export is broken"):
        open_session(broken, "model.onnx", providers=[CUDA, CPU])
