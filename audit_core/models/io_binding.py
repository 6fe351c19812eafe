"""Running a session through onnxruntime I/O binding: the KV cache stays where the model runs.

`session.run` copies every input to the execution provider's device and every fetched
output back to host memory at each call. On a GPU that is a round trip of the whole KV
cache per decoded token (past in, present out), by far the largest transfer of a decoding
step. With I/O binding (`Runner`), inputs given as numpy arrays are copied to the device
once per call, the presents are left on the device as OrtValues and bound as the next
step's past, and only the fetched outputs (the logits) come back: sampling stays on the
CPU, in float64, exactly as before.

Rows of the cache are selected (a prompt's cache repeated for each of its rows, finished
rows leaving the batch: models/batch_decoding.py) by a one-node Gather graph run on the same
provider (`_RowGather`): a gather copies values, so the bits are those of host indexing,
and the cache never leaves the device. Those are rare points (once per batch, and when
enough rows have finished), so the small session's overhead does not matter.

The same code runs on the CPU provider, where the "device" is host memory: that is how
its results are tested against `session.run` (bit-identical tokens, masses and scores,
tests/models/test_io_binding.py) on a machine without a GPU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

_CUDA = "CUDAExecutionProvider"


def device_of(provider: str) -> str:
    """onnxruntime's device name for an execution provider ("cuda" or "cpu")."""
    return "cuda" if provider == _CUDA else "cpu"


class Runner:
    """Calls one session through I/O binding on `device` ("cpu" or "cuda", device 0)."""

    def __init__(self, session: Any, device: str, past_names: Sequence[str]) -> None:
        self.session = session
        self.device = device
        self._past_names = list(past_names)
        self._gather: _RowGather | None = None  # made at the first selection (scoring needs none)

    def run(self, feed: Mapping[str, Any], fetch: Sequence[str],
            keep: Sequence[str] = ()) -> tuple[list[np.ndarray], list[Any]]:
        """Run once: `feed` values are numpy arrays (copied to the device) or OrtValues
        already there; `fetch` outputs come back as numpy arrays, `keep` outputs stay on
        the device as OrtValues."""
        binding = self.session.io_binding()
        for name, value in feed.items():
            if isinstance(value, np.ndarray):
                binding.bind_cpu_input(name, np.ascontiguousarray(value))
            else:
                binding.bind_ortvalue_input(name, value)
        for name in fetch:
            binding.bind_output(name, "cpu")  # the device copies it back once, at the end
        for name in keep:
            binding.bind_output(name, self.device)
        binding.synchronize_inputs()
        self.session.run_with_iobinding(binding)
        binding.synchronize_outputs()
        values = binding.get_outputs()
        return [v.numpy() for v in values[:len(fetch)]], list(values[len(fetch):])

    def take(self, past: Mapping[str, Any], index: np.ndarray) -> dict[str, Any]:
        """Rows `index` of every past value (a row may repeat), on the device."""
        if not past:
            return {}
        if all(isinstance(v, np.ndarray) for v in past.values()):  # still on the host
            return {k: v[index] for k, v in past.items()}
        if self._gather is None:
            self._gather = _RowGather(self.session, self.device, self._past_names)
        return self._gather(past, index)


class _RowGather:
    """A one-node-per-tensor Gather graph (axis 0) on the model's provider: selects rows of
    every cache tensor at once without copying them to the host."""

    def __init__(self, model_session: Any, device: str, names: Sequence[str]) -> None:
        import onnxruntime as ort
        from onnx import TensorProto, helper

        self.names = list(names)
        nodes, inputs, outputs = [], [], []
        shape = ["rows", "heads", "length", "dim"]
        for i in range(len(self.names)):
            inputs.append(helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, shape))
            outputs.append(helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, shape))
            nodes.append(helper.make_node("Gather", [f"x{i}", "index"], [f"y{i}"], axis=0))
        inputs.append(helper.make_tensor_value_info("index", TensorProto.INT64, ["picked"]))
        graph = helper.make_graph(nodes, "row_gather", inputs, outputs)
        # An old IR and opset: any onnxruntime the audit supports (>= 1.20) reads them.
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
        options = ort.SessionOptions()
        options.log_severity_level = 4
        options.intra_op_num_threads = 1  # a copy of rows: one thread does it at memory speed
        self.runner = Runner(ort.InferenceSession(model.SerializeToString(), options,
                                                  providers=model_session.get_providers()),
                             device, ())

    def __call__(self, past: Mapping[str, Any], index: np.ndarray) -> dict[str, Any]:
        feed: dict[str, Any] = {f"x{i}": past[name] for i, name in enumerate(self.names)}
        feed["index"] = np.asarray(index, dtype=np.int64)
        _, kept = self.runner.run(feed, (), [f"y{i}" for i in range(len(self.names))])
        return dict(zip(self.names, kept, strict=True))
