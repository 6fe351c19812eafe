"""The machine's fp32 matrix-multiply peak, measured, and the FLOPs of a decoder's forward.

The peak is what a large square GEMM reaches on this machine with the engine's own
thread count: through onnxruntime's MatMul (the kernels the audit runs on) and through
numpy's BLAS, whichever is faster. The fraction of it a scoring pass achieves says how
much of the machine's arithmetic the audit turns into scored tokens.
"""

from __future__ import annotations

import time

import numpy as np

GEMM_SIZE = 1024


def gemm_peak_gflops(threads: int, *, size: int = GEMM_SIZE, repeats: int = 5) -> dict[str, float]:
    """Best-of-`repeats` GFLOP/s of a size x size x size fp32 GEMM, per library."""
    session, a, b = _gemm_session(threads, size)
    flops = 2.0 * size ** 3
    runs = {"onnxruntime": lambda: session.run(None, {"a": a, "b": b}), "numpy": lambda: a @ b}
    best = {}
    for name, run in runs.items():
        run()  # warm-up: thread pools, packing buffers
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        best[name] = flops / min(times) / 1e9
    best["peak"] = max(best.values())
    return best


def gemm_probe(threads: int, *, size: int = GEMM_SIZE, calls: int = 3):
    """A callable returning the GEMM GFLOP/s reached right now (best of `calls`), to pair
    with a timed run: on a shared machine the peak moves with the background load."""
    session, a, b = _gemm_session(threads, size)
    flops = 2.0 * size ** 3

    def probe() -> float:
        best = float("inf")
        for _ in range(calls):
            start = time.perf_counter()
            session.run(None, {"a": a, "b": b})
            best = min(best, time.perf_counter() - start)
        return flops / best / 1e9
    return probe


def _gemm_session(threads: int, size: int):
    import onnxruntime as ort
    from onnx import TensorProto, helper

    from audit_core.models.runtime import session_options

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])], "gemm",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [size, size]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [size, size])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [size, size])])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    session = ort.InferenceSession(proto.SerializeToString(), session_options(threads),
                                   providers=["CPUExecutionProvider"])
    return session, a, b


def forward_flops(*, n_layer: int, n_embd: int, vocab: int, lengths: list[int] | np.ndarray) -> float:
    """Multiply-add FLOPs (2 per MAC) of one teacher-forced pass over sequences of `lengths`.

    Per token and layer, the four attention and MLP matrices hold 12 d^2 weights, each used
    once; the output head adds d * vocab (embedding look-ups are not multiplies). Attention
    adds QK^T and PV, 2 * 2 * T^2 * d per layer for a causal pass the exports compute as
    dense T x T products. Biases, LayerNorm and softmax are left out (a few percent).
    """
    lengths = np.asarray(lengths, dtype=np.float64)
    per_token = 2.0 * (n_layer * 12 * n_embd * n_embd + n_embd * vocab)
    attention = 4.0 * n_layer * n_embd * (lengths ** 2)
    return float(per_token * lengths.sum() + attention.sum())
