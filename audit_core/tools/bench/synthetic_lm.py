"""A GPT-2-shaped ONNX decoder with random weights, built with `onnx.helper` (no torch).

`mnemoscope bench` times the workstation on a model of a known size through the same
code the audit runs (OnnxCausalLM, score_tokens, greedy), and the memory benchmark
scores cohorts of synthetic records with a small one; neither may need torch, so this
module writes the graph directly. It follows the export contract of
`audit_core/tools/controls/export.py` (KV-cache signature, `config.json` with
`n_positions`), so the engine treats it like any exported model. Random weights are
fine for timing: the work per token does not depend on what the weights say.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_OPSET = 17


@dataclass(frozen=True, slots=True)
class SyntheticSize:
    n_embd: int
    n_layer: int
    n_head: int
    vocab: int
    n_positions: int = 128

    @property
    def parameters(self) -> int:
        d = self.n_embd
        per_layer = 12 * d * d + 13 * d  # qkv, out, two MLP matrices, biases, two LayerNorms
        return (self.vocab + self.n_positions) * d + self.n_layer * per_layer + 2 * d + d * self.vocab


# About 20M parameters, the size the benchmark names, and the calibration's reference.
REFERENCE = SyntheticSize(n_embd=512, n_layer=6, n_head=8, vocab=1024)
# Small enough that scoring 100k short records takes a minute: for the memory benchmark.
SMALL = SyntheticSize(n_embd=64, n_layer=2, n_head=2, vocab=256)


def build_synthetic_lm(folder: Path, size: SyntheticSize = REFERENCE, *, seed: int = 0) -> Path:
    """Write `folder/model.onnx` and `folder/config.json`; returns the folder."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    d, heads = size.n_embd, size.n_head
    head_dim = d // heads
    inits: list = []
    nodes: list = []

    def weight(name: str, shape: tuple[int, ...], scale: float = 0.02) -> str:
        inits.append(numpy_helper.from_array(rng.normal(0, scale, shape).astype(np.float32), name))
        return name

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    const("one_i", np.array(1, dtype=np.int64))
    const("zero_i", np.array(0, dtype=np.int64))
    const("axis1", np.array([1], dtype=np.int64))
    const("axes01", np.array([0, 1], dtype=np.int64))
    const("axes12", np.array([1, 2], dtype=np.int64))
    const("zero_f", np.array(0.0, dtype=np.float32))
    const("neg_f", np.array(-1e9, dtype=np.float32))
    const("scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    const("gelu_k", np.array(1.702, dtype=np.float32))
    const("heads_shape", np.array([0, 0, 3, heads, head_dim], dtype=np.int64))
    const("merge_shape", np.array([0, 0, d], dtype=np.int64))
    for i in range(3):
        const(f"idx{i}", np.array(i, dtype=np.int64))

    wte = weight("wte", (size.vocab, d))
    x = node("Add", [node("Gather", [wte, "input_ids"], "tok"),
                     node("Gather", [weight("wpe", (size.n_positions, d)), "position_ids"], "pos")], "x0")
    # Attention bias [B, 1, S, T]: key j is visible to query i (absolute index T - S + i)
    # when j <= T - S + i and the mask marks j as a real token.
    seq = node("Gather", [node("Shape", ["input_ids"], "ids_shape"), "one_i"], "seq", axis=0)
    total = node("Gather", [node("Shape", ["attention_mask"], "mask_shape"), "one_i"], "total", axis=0)
    keys = node("Range", ["zero_i", total, "one_i"], "keys")
    queries = node("Range", [node("Sub", [total, seq], "past_len"), total, "one_i"], "queries")
    causal = node("LessOrEqual", [node("Unsqueeze", [keys, "zero_i"], "keys_row"),
                                  node("Unsqueeze", [queries, "one_i"], "queries_col")], "causal")
    real = node("Unsqueeze", [node("Cast", ["attention_mask"], "mask_bool", to=TensorProto.BOOL),
                              "axes12"], "real")
    visible = node("And", [node("Unsqueeze", [causal, "axes01"], "causal4"), real], "visible")
    bias = node("Where", [visible, "zero_f", "neg_f"], "bias")

    def layer_norm(inp: str, name: str) -> str:
        return node("LayerNormalization", [inp, const(f"{name}_g", np.ones(d, np.float32)),
                                           const(f"{name}_b", np.zeros(d, np.float32))],
                    f"{name}_out", axis=-1, epsilon=1e-5)

    def dense(inp: str, name: str, n_in: int, n_out: int) -> str:
        product = node("MatMul", [inp, weight(f"{name}_w", (n_in, n_out))], f"{name}_mm")
        return node("Add", [product, const(f"{name}_bias", np.zeros(n_out, np.float32))], f"{name}_out")

    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", size.vocab])]
    presents = []
    for i in range(size.n_layer):
        p = f"l{i}"
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_{kind}_{i}", TensorProto.FLOAT,
                                                        ["batch", heads, "past", head_dim]))
            presents.append(helper.make_tensor_value_info(f"present_{kind}_{i}", TensorProto.FLOAT,
                                                          ["batch", heads, "total", head_dim]))
        qkv = dense(layer_norm(x, f"{p}_ln1"), f"{p}_qkv", d, 3 * d)
        split = node("Transpose", [node("Reshape", [qkv, "heads_shape"], f"{p}_qkv5")], f"{p}_qkvt",
                     perm=[2, 0, 3, 1, 4])
        q, k, v = (node("Gather", [split, f"idx{j}"], f"{p}_{n}", axis=0) for j, n in enumerate("qkv"))
        k_all = node("Concat", [f"past_key_{i}", k], f"present_key_{i}", axis=2)
        v_all = node("Concat", [f"past_value_{i}", v], f"present_value_{i}", axis=2)
        scores = node("MatMul", [q, node("Transpose", [k_all], f"{p}_kt", perm=[0, 1, 3, 2])], f"{p}_s")
        scores = node("Add", [node("Mul", [scores, "scale"], f"{p}_ss"), bias], f"{p}_sb")
        attended = node("MatMul", [node("Softmax", [scores], f"{p}_p", axis=-1), v_all], f"{p}_a")
        merged = node("Reshape", [node("Transpose", [attended], f"{p}_at", perm=[0, 2, 1, 3]),
                                  "merge_shape"], f"{p}_am")
        x = node("Add", [x, dense(merged, f"{p}_proj", d, d)], f"{p}_x1")
        hidden = dense(layer_norm(x, f"{p}_ln2"), f"{p}_fc", d, 4 * d)
        # GELU as x * sigmoid(1.702 x): opset 17 has no Gelu operator.
        gelu = node("Mul", [hidden, node("Sigmoid", [node("Mul", [hidden, "gelu_k"], f"{p}_gk")],
                                         f"{p}_sig")], f"{p}_gelu")
        x = node("Add", [x, dense(gelu, f"{p}_fc2", 4 * d, d)], f"{p}_x2")
    head = weight("lm_head", (d, size.vocab))
    node("MatMul", [layer_norm(x, "ln_f"), head], "logits")
    graph = helper.make_graph(nodes, "synthetic_gpt", inputs, outputs + presents, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)],
                              producer_name="mnemoscope-bench")
    model.ir_version = 8
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    config = {"model_type": "gpt2", "n_positions": size.n_positions, "n_embd": d,
              "n_layer": size.n_layer, "n_head": heads, "vocab_size": size.vocab,
              "note": "synthetic benchmark model with random weights (mnemoscope bench)"}
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    _tokenizer(size.vocab).save(str(folder / "tokenizer.json"))
    return folder


def _tokenizer(vocab: int):
    """Tokens "t0" ... "t{vocab-1}", whitespace separated: the model's vocabulary exactly."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel(vocab={f"t{i}": i for i in range(vocab)}, unk_token="t1"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return tokenizer
