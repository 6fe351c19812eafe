"""Would an export that updates its KV cache in place decode faster on the CPU?

One attention layer of the demo model's shape (4 heads of 32, 256 rows, one new token), two
ways, alternating in one process:
- the standard export: the new key/value concatenated to the past (`Concat`, a copy of the
  whole cache into `present` at every step), then MatMul, Softmax, MatMul;
- onnxruntime's GroupQueryAttention (com.microsoft) with past and present bound to one
  preallocated buffer through I/O binding: only the new token is written.

Run: .venv/bin/python benchmarks/kv_in_place.py [--repeats 60] [--rows 256]
Figures, not assertions (issue 21): the medians per past length, their ratio, and the two
outputs' largest difference. A ratio near 1 means an in-place export would not pay for a
second model format on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

HEADS, HEAD_DIM, BUFFER = 4, 32, 128
PASTS = (1, 20, 40, 60, 80, 100)


def _inputs(kv_name: str) -> list:
    width = HEADS * HEAD_DIM
    tensors = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["B", "S", width]) for n in ("q", "k", "v")]
    tensors += [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["B", HEADS, kv_name, HEAD_DIM])
                for n in ("past_key", "past_value")]
    return tensors


def _outputs() -> list:
    return [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["B", "S", HEADS * HEAD_DIM]),
            *(helper.make_tensor_value_info(n, TensorProto.FLOAT, ["B", HEADS, "T", HEAD_DIM])
              for n in ("present_key", "present_value"))]


def concat_layer() -> bytes:
    """The attention of a standard KV export (what torch.onnx writes for GPT-2)."""
    nodes = []
    for name in ("q", "k", "v"):
        nodes += [helper.make_node("Reshape", [name, "heads"], [f"{name}4"]),
                  helper.make_node("Transpose", [f"{name}4"], [f"{name}t"], perm=[0, 2, 1, 3])]
    nodes += [helper.make_node("Concat", ["past_key", "kt"], ["present_key"], axis=2),
              helper.make_node("Concat", ["past_value", "vt"], ["present_value"], axis=2),
              helper.make_node("Transpose", ["present_key"], ["keys_t"], perm=[0, 1, 3, 2]),
              helper.make_node("MatMul", ["qt", "keys_t"], ["scores"]),
              helper.make_node("Mul", ["scores", "scale"], ["scaled"]),
              helper.make_node("Softmax", ["scaled"], ["weights"], axis=-1),
              helper.make_node("MatMul", ["weights", "present_value"], ["mixed"]),
              helper.make_node("Transpose", ["mixed"], ["mixed_t"], perm=[0, 2, 1, 3]),
              helper.make_node("Reshape", ["mixed_t", "flat"], ["out"])]
    constants = [helper.make_tensor("heads", TensorProto.INT64, [4], [0, 0, HEADS, HEAD_DIM]),
                 helper.make_tensor("flat", TensorProto.INT64, [3], [0, 0, HEADS * HEAD_DIM]),
                 helper.make_tensor("scale", TensorProto.FLOAT, [], [1 / np.sqrt(HEAD_DIM)])]
    graph = helper.make_graph(nodes, "concat", _inputs("P"), _outputs(), constants)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def in_place_layer() -> bytes:
    node = helper.make_node("GroupQueryAttention",
                            ["q", "k", "v", "past_key", "past_value", "seqlens_k", "total_length"],
                            ["out", "present_key", "present_value"], domain="com.microsoft",
                            num_heads=HEADS, kv_num_heads=HEADS)
    inputs = _inputs("M") + [helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, ["B"]),
                             helper.make_tensor_value_info("total_length", TensorProto.INT32, [])]
    graph = helper.make_graph([node], "gqa", inputs, _outputs())
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                   helper.make_opsetid("com.microsoft", 1)]).SerializeToString()


def _session(model: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def measure(rows: int, past: int, repeats: int, concat, in_place) -> tuple[float, float, float]:
    rng = np.random.default_rng(past)
    q, k, v = (rng.standard_normal((rows, 1, HEADS * HEAD_DIM), dtype=np.float32) for _ in range(3))
    keys, values = (rng.standard_normal((rows, HEADS, past, HEAD_DIM), dtype=np.float32) for _ in range(2))
    feed = {"q": q, "k": k, "v": v, "past_key": keys, "past_value": values}
    # The in-place layer's cache: one buffer per tensor, bound as both past and present.
    buffers = {name: np.zeros((rows, HEADS, BUFFER, HEAD_DIM), dtype=np.float32) for name in ("key", "value")}
    buffers["key"][:, :, :past], buffers["value"][:, :, :past] = keys, values
    out = np.empty((rows, 1, HEADS * HEAD_DIM), dtype=np.float32)
    binding = in_place.io_binding()
    for name, value in (("q", q), ("k", k), ("v", v), ("seqlens_k", np.full(rows, past, dtype=np.int32)),
                        ("total_length", np.array(past + 1, dtype=np.int32))):
        binding.bind_cpu_input(name, value)
    for name, buffer in buffers.items():
        args = ("cpu", 0, np.float32, buffer.shape, buffer.ctypes.data)
        binding.bind_input(f"past_{name}", *args)
        binding.bind_output(f"present_{name}", *args)
    binding.bind_output("out", "cpu", 0, np.float32, out.shape, out.ctypes.data)
    standard = concat.run(["out"], feed)[0]
    in_place.run_with_iobinding(binding)
    difference = float(np.abs(standard - out).max())
    timings: dict[str, list[float]] = {"concat": [], "in_place": []}
    for _ in range(repeats):  # alternating, so that the machine's load falls on both
        start = time.perf_counter()
        concat.run(["out"], feed)
        timings["concat"].append(time.perf_counter() - start)
        start = time.perf_counter()
        in_place.run_with_iobinding(binding)
        timings["in_place"].append(time.perf_counter() - start)
    return statistics.median(timings["concat"]), statistics.median(timings["in_place"]), difference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--rows", type=int, default=256)
    args = parser.parse_args()
    concat, in_place = _session(concat_layer()), _session(in_place_layer())
    print(f"onnxruntime {ort.__version__}; one attention layer, {args.rows} rows, {HEADS} heads of "
          f"{HEAD_DIM}; medians of {args.repeats}")
    print("| past tokens | Concat export (ms) | in place (ms) | in place / Concat | max difference |")
    print("|---:|---:|---:|---:|---:|")
    for past in PASTS:
        standard, shared, difference = measure(args.rows, past, args.repeats, concat, in_place)
        print(f"| {past} | {standard * 1e3:.2f} | {shared * 1e3:.2f} | {shared / standard:.2f} | {difference:.1e} |")


if __name__ == "__main__":
    main()
