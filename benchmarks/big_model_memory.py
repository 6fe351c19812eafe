"""Peak memory of every place the run reads a model whose weights sit in external data.

Run: .venv/bin/python benchmarks/big_model_memory.py [--gb 1.0] [--keep DIR]
Builds a synthetic causal LM (onnx.helper: an embedding Gather, a chain of square MatMuls,
an output projection) whose float32 weights, about `--gb` gigabytes, are saved in
`model.onnx.data` beside a small `model.onnx`, with the demo's tokenizer and a config.json.
Each reading path then runs in a fresh process, and the script prints that process's peak
resident memory above what its imports alone hold, as a multiple of the weights' size:
0.0x for the paths that need only the graph, about 1x for a session (the weights, once).
The synthetic model is deleted afterwards unless --keep names a folder to build it in.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEMO_MODEL = ROOT / "resources/demo/model"

# What each path does in the child process, after the imports every path shares.
_PATHS = {
    "model kind (signature)": "from audit_core.models.inspection import model_kind; model_kind(p)",
    "inspect_model (hashes, graph)": "from audit_core.models.inspection import inspect_model; inspect_model(p)",
    "input embeddings (trajectory)": ("from audit_core.clinical.embeddings import read_input_embeddings; "
                                      "read_input_embeddings(p / 'model.onnx', V)"),
    "session (runtime.open_session)": ("from audit_core.models.runtime import open_session; "
                                       "open_session(p / 'model.onnx', 'model')"),
    "OnnxCausalLM (the run's adapter)": ("from audit_core.models.inspection import inspect_model; "
                                         "from audit_core.models.onnx_causal_lm import OnnxCausalLM; "
                                         "OnnxCausalLM(inspect_model(p), provider='cpu')"),
    "3 adapters in turn (CLI: notice, estimate, run)": (
        "from audit_core.models.inspection import inspect_model; "
        "from audit_core.models.onnx_causal_lm import OnnxCausalLM\n"
        "for _ in range(3): OnnxCausalLM(inspect_model(p), provider='cpu')"),
    "int8 screen (quantize, int8 session)": (
        "from audit_core.models.inspection import inspect_model; "
        "from audit_core.models.onnx_causal_lm import OnnxCausalLM; "
        "OnnxCausalLM(inspect_model(p), provider='cpu', precision='int8')"),
    "onnx.load with external data (old)": "import onnx; onnx.load(str(p / 'model.onnx'))",
}
_CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
import numpy, onnx, onnxruntime, tokenizers  # what every path imports
import audit_core.models.inspection, audit_core.models.runtime, audit_core.clinical.embeddings
import audit_core.models.onnx_causal_lm
p, V = Path({folder!r}), {vocab}
def status(key):  # kB; VmHWM, not ru_maxrss: that one is inherited from the parent
    return int(open("/proc/self/status").read().split(key + ":")[1].split()[0]) * 1024
before = status("VmRSS")
{action}
print(before, status("VmHWM"))
"""


def build_model(folder: Path, gigabytes: float) -> tuple[int, int]:
    """The synthetic model in `folder`; returns (weight bytes, vocabulary size)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json",):
        shutil.copy(DEMO_MODEL / name, folder / name)
    vocab = json.loads((DEMO_MODEL / "config.json").read_text())["vocab_size"]
    dim = 2048
    layers = max(1, round(gigabytes * 1e9 / (4 * dim * dim)))
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((vocab, dim), dtype=np.float32) * 0.02, "wte"),
             numpy_helper.from_array(rng.standard_normal((dim, vocab), dtype=np.float32) * 0.02, "head")]
    nodes = [helper.make_node("Gather", ["wte", "input_ids"], ["h0"])]
    for k in range(layers):
        # Constant weights compress nothing away on disk and cost nothing to draw.
        inits.append(numpy_helper.from_array(np.full((dim, dim), 1e-4 * (k + 1), dtype=np.float32), f"w{k}"))
        nodes.append(helper.make_node("MatMul", [f"h{k}", f"w{k}"], [f"h{k + 1}"]))
    nodes.append(helper.make_node("MatMul", [f"h{layers}", "head"], ["logits"]))
    graph = helper.make_graph(
        nodes, "synthetic_big_lm",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", vocab])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save_model(model, str(folder / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=1024)
    (folder / "config.json").write_text(json.dumps({"n_positions": 128, "vocab_size": vocab}))
    weights = sum(int(np.prod(i.dims)) * 4 for i in inits)
    return weights, vocab


def measure(folder: Path, vocab: int, action: str) -> tuple[int, float]:
    """(peak bytes above the imports, seconds) of `action` in a fresh process."""
    code = _CHILD.format(root=str(ROOT), folder=str(folder), vocab=vocab, action=action)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    before, after = map(int, out.stdout.split()[-2:])
    return after - before, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gb", type=float, default=1.0, help="weights to build, in GB")
    parser.add_argument("--keep", type=Path, help="build the model here and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="mnemoscope-bigmodel-")) / "model"
    try:
        weights, vocab = build_model(folder, args.gb)
        onnx_size = (folder / "model.onnx").stat().st_size
        data_size = (folder / "model.onnx.data").stat().st_size
        print(f"synthetic model: {weights / 1e9:.2f} GB of float32 weights; model.onnx "
              f"{onnx_size / 1e3:.0f} kB, model.onnx.data {data_size / 1e9:.2f} GB")
        print(f"{'path':36s} {'peak above imports':>18s} {'x weights':>9s} {'seconds':>8s}")
        for name, action in _PATHS.items():
            peak, seconds = measure(folder, vocab, action)
            print(f"{name:36s} {peak / 1e9:15.2f} GB {peak / weights:8.2f}x {seconds:8.1f}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
