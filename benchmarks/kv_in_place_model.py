"""Would a whole model that updates its KV cache in place decode faster on the CPU?

`kv_in_place.py` times one attention layer; a layer timed alone overstates a layer inside a
whole model. This builds, from a GPT-2 control export's own weights (the demo's by default),
the decoding step of the same model written with onnxruntime's GroupQueryAttention
(com.microsoft), past and present bound to one preallocated buffer per layer through I/O
binding (only the new token's key and value are written), and decodes the same tokens with
it and with the export itself (whose `Concat` copies the whole cache into `present` at every
step), alternating in one process:

- each repeat: `--rows` rows after a prompt of `--prompt` random tokens, `--steps` steps
  (the demo's sampled requests: prompts of 8-48 tokens, continuations of up to 24-32);
- figures: the median time of the steps (model calls only: the sampling between steps is
  the same for both), their ratio, and the largest difference of the two models' logits
  over every step (the in-place model's arithmetic is not the same bits: an in-place export
  would change a sampled token now and then, so every known answer would be checked again).

Run: .venv/bin/python benchmarks/kv_in_place_model.py [--model resources/demo/model]
     .venv/bin/python benchmarks/kv_in_place_model.py --gpt2 512,8,8,512 --rows 64 --threads 2
(`--gpt2 WIDTH,LAYERS,HEADS,CONTEXT`: a GPT-2 of that size with random weights, exported by
the control exporter into a temporary folder first; it needs torch, as the controls do.)
Figures, not assertions (issue 21; docs/speed.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

PREFIX = "model.transformer."


def _weights(model_dir: Path) -> dict[str, np.ndarray]:
    graph = onnx.load(str(model_dir / "model.onnx")).graph
    return {t.name.removeprefix(PREFIX): numpy_helper.to_array(t) for t in graph.initializer
            if t.name.startswith(PREFIX)}


def in_place_step(model_dir: Path) -> bytes:
    """One decoding step (one new token per row) of the GPT-2 in `model_dir`, its attention
    a GroupQueryAttention reading and writing each layer's cache buffer."""
    config = json.loads((model_dir / "config.json").read_text())
    layers, heads, width = config["n_layer"], config["n_head"], config["n_embd"]
    eps = float(config.get("layer_norm_epsilon", 1e-5))
    if config.get("activation_function") != "gelu_new":
        raise SystemExit("only the GPT-2 controls' gelu_new activation is written here")
    w = _weights(model_dir)
    inits = [numpy_helper.from_array(v, k) for k, v in w.items()]
    inits.append(numpy_helper.from_array(np.ascontiguousarray(w["wte.weight"].T), "lm_head_t"))
    inits.append(numpy_helper.from_array(np.array([width] * 3, dtype=np.int64), "qkv_split"))
    nodes = [helper.make_node("Gather", ["wte.weight", "input_ids"], ["tok"]),
             helper.make_node("Gather", ["wpe.weight", "position_ids"], ["pos"]),
             helper.make_node("Add", ["tok", "pos"], ["x0"])]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["B", 1]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["B", 1]),
              helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, ["B"]),
              helper.make_tensor_value_info("total_length", TensorProto.INT32, [])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["B", 1, w["wte.weight"].shape[0]])]
    x = "x0"
    for i in range(layers):
        p = f"h.{i}."
        for kv in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_{kv}_{i}", TensorProto.FLOAT,
                                                        ["B", heads, "M", width // heads]))
            outputs.append(helper.make_tensor_value_info(f"present_{kv}_{i}", TensorProto.FLOAT,
                                                         ["B", heads, "M", width // heads]))
        nodes += [
            helper.make_node("LayerNormalization", [x, p + "ln_1.weight", p + "ln_1.bias"], [f"a{i}"],
                             axis=-1, epsilon=eps),
            helper.make_node("MatMul", [f"a{i}", p + "attn.c_attn.weight"], [f"qkv{i}m"]),
            helper.make_node("Add", [f"qkv{i}m", p + "attn.c_attn.bias"], [f"qkv{i}"]),
            helper.make_node("Split", [f"qkv{i}", "qkv_split"], [f"q{i}", f"k{i}", f"v{i}"], axis=-1),
            helper.make_node("GroupQueryAttention",
                             [f"q{i}", f"k{i}", f"v{i}", f"past_key_{i}", f"past_value_{i}", "seqlens_k",
                              "total_length"],
                             [f"att{i}", f"present_key_{i}", f"present_value_{i}"], domain="com.microsoft",
                             num_heads=heads, kv_num_heads=heads),
            helper.make_node("MatMul", [f"att{i}", p + "attn.c_proj.weight"], [f"o{i}m"]),
            helper.make_node("Add", [f"o{i}m", p + "attn.c_proj.bias"], [f"o{i}"]),
            helper.make_node("Add", [x, f"o{i}"], [f"r{i}"]),
            helper.make_node("LayerNormalization", [f"r{i}", p + "ln_2.weight", p + "ln_2.bias"], [f"b{i}"],
                             axis=-1, epsilon=eps),
            helper.make_node("MatMul", [f"b{i}", p + "mlp.c_fc.weight"], [f"f{i}m"]),
            helper.make_node("FastGelu", [f"f{i}m", p + "mlp.c_fc.bias"], [f"g{i}"], domain="com.microsoft"),
            helper.make_node("MatMul", [f"g{i}", p + "mlp.c_proj.weight"], [f"m{i}m"]),
            helper.make_node("Add", [f"m{i}m", p + "mlp.c_proj.bias"], [f"m{i}"]),
            helper.make_node("Add", [f"r{i}", f"m{i}"], [f"x{i + 1}"]),
        ]
        x = f"x{i + 1}"
    nodes += [helper.make_node("LayerNormalization", [x, "ln_f.weight", "ln_f.bias"], ["final"], axis=-1,
                               epsilon=eps),
              helper.make_node("MatMul", ["final", "lm_head_t"], ["logits"])]
    graph = helper.make_graph(nodes, "in_place_step", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    return model.SerializeToString()


def _session(model, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class InPlace:
    """The in-place model's decoding: one cache buffer per layer tensor, bound once."""

    def __init__(self, session: ort.InferenceSession, rows: int, layers: int, heads: int, dim: int,
                 vocab: int, capacity: int) -> None:
        self.session, self.rows = session, rows
        self.buffers = {f"{kv}_{i}": np.zeros((rows, heads, capacity, dim), dtype=np.float32)
                        for i in range(layers) for kv in ("key", "value")}
        self.logits = np.empty((rows, 1, vocab), dtype=np.float32)
        self.binding = session.io_binding()
        for name, buffer in self.buffers.items():
            args = ("cpu", 0, np.float32, buffer.shape, buffer.ctypes.data)
            self.binding.bind_input(f"past_{name}", *args)
            self.binding.bind_output(f"present_{name}", *args)
        self.binding.bind_output("logits", "cpu", 0, np.float32, self.logits.shape, self.logits.ctypes.data)

    def fill(self, presents: dict[str, np.ndarray]) -> None:
        """The prompt's cache (the export's presents) copied into the buffers' start."""
        for name, value in presents.items():
            self.buffers[name.removeprefix("present_")][:, :, :value.shape[2]] = value

    def step(self, tokens: np.ndarray, past: int) -> np.ndarray:
        """Logits after `tokens` (rows,), each row having `past` tokens in its cache."""
        self.binding.bind_cpu_input("input_ids", tokens.reshape(-1, 1))
        self.binding.bind_cpu_input("position_ids", np.full((self.rows, 1), past, dtype=np.int64))
        self.binding.bind_cpu_input("seqlens_k", np.full(self.rows, past, dtype=np.int32))
        self.binding.bind_cpu_input("total_length", np.array(past + 1, dtype=np.int32))
        self.session.run_with_iobinding(self.binding)
        return self.logits[:, 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("resources/demo/model"))
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--prompt", type=int, default=32)
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads of each session "
                        "(1: one of the demo's two decoding streams)")
    parser.add_argument("--gpt2", help="WIDTH,LAYERS,HEADS,CONTEXT: time a random GPT-2 of that size instead")
    args = parser.parse_args()
    if args.gpt2:
        with tempfile.TemporaryDirectory() as folder:
            args.model = _random_gpt2(args.gpt2, Path(folder) / "model")
            _compare(args)
    else:
        _compare(args)


def _random_gpt2(size: str, out: Path) -> Path:
    """A GPT-2 of `size` with random weights (biases and norms too: a zero bias would be
    folded away by the exporter), exported with the demo's tokenizer."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from audit_core.tools.controls.export import export_model

    width, layers, heads, context = (int(x) for x in size.split(","))
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=801, n_embd=width, n_layer=layers, n_head=heads,
                                       n_positions=context, activation_function="gelu_new",
                                       bos_token_id=2, eos_token_id=3)).eval()
    with torch.no_grad():
        for name, value in model.named_parameters():
            if name.endswith("bias"):
                value.normal_(0.0, 0.02)
            elif ".ln_" in name:
                value.normal_(1.0, 0.02)
    export_model(model, Path("resources/demo/model/tokenizer.json"), out)
    return out


def _compare(args: argparse.Namespace) -> None:
    config = json.loads((args.model / "config.json").read_text())
    layers, heads, width = config["n_layer"], config["n_head"], config["n_embd"]
    if args.prompt + args.steps > config["n_positions"]:
        raise SystemExit("--prompt plus --steps must fit the model's context")
    standard = _session(str(args.model / "model.onnx"), args.threads)
    in_place_session = _session(in_place_step(args.model), args.threads)
    vocab = standard.run(["logits"], _feed(np.zeros((1, 1), np.int64), 0, heads, width // heads, layers))[0].shape[-1]
    rng = np.random.default_rng(0)
    prompt = rng.integers(4, vocab, (args.rows, args.prompt))
    feed = _feed(prompt, 0, heads, width // heads, layers)
    names = [o.name for o in standard.get_outputs()]
    first = dict(zip(names, standard.run(names, feed)))
    steps = rng.integers(4, vocab, (args.steps, args.rows))  # the same tokens for both models
    in_place = InPlace(in_place_session, args.rows, layers, heads, width // heads, vocab,
                       args.prompt + args.steps)

    def run_standard(check: list | None = None) -> float:
        presents = {k.replace("present", "past"): v for k, v in first.items() if k != "logits"}
        spent = 0.0
        for t, tokens in enumerate(steps):
            past = args.prompt + t
            step_feed = {"input_ids": tokens.reshape(-1, 1), "attention_mask": np.ones((args.rows, past + 1), np.int64),
                         "position_ids": np.full((args.rows, 1), past, np.int64), **presents}
            start = time.perf_counter()
            out = standard.run(names, step_feed)
            spent += time.perf_counter() - start
            presents = dict(zip([n.replace("present", "past") for n in names[1:]], out[1:]))
            if check is not None:
                check.append(out[0][:, 0].copy())
        return spent

    def run_in_place(check: list | None = None) -> float:
        in_place.fill({k: v for k, v in first.items() if k != "logits"})
        spent = 0.0
        for t, tokens in enumerate(steps):
            start = time.perf_counter()
            logits = in_place.step(tokens, args.prompt + t)
            spent += time.perf_counter() - start
            if check is not None:
                check.append(logits.copy())
        return spent

    expected: list = []
    got: list = []
    run_standard(expected)
    run_in_place(got)
    difference = max(float(np.abs(a - b).max()) for a, b in zip(expected, got, strict=True))
    times: dict[str, list[float]] = {"standard": [], "in_place": []}
    for _ in range(args.repeats):  # alternating, so that the machine's load falls on both
        times["standard"].append(run_standard())
        times["in_place"].append(run_in_place())
    a, b = statistics.median(times["standard"]), statistics.median(times["in_place"])
    per = 1e3 / args.steps
    label = f"a random GPT-2 {args.gpt2}" if args.gpt2 else args.model
    print(f"onnxruntime {ort.__version__}; {label}; {args.rows} rows, prompt {args.prompt}, "
          f"{args.steps} steps, {args.threads} thread(s); medians of {args.repeats}")
    print(f"export with Concat: {a * per:.2f} ms a step; in place: {b * per:.2f} ms a step; "
          f"in place / Concat {b / a:.2f}; largest logit difference {difference:.1e}")


def _feed(ids: np.ndarray, past: int, heads: int, dim: int, layers: int) -> dict[str, np.ndarray]:
    rows, length = ids.shape
    feed = {"input_ids": ids, "attention_mask": np.ones((rows, past + length), np.int64),
            "position_ids": np.tile(np.arange(past, past + length), (rows, 1))}
    for i in range(layers):
        for kv in ("key", "value"):
            feed[f"past_{kv}_{i}"] = np.zeros((rows, heads, past, dim), np.float32)
    return feed


if __name__ == "__main__":
    main()
