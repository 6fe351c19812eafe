"""A small ONNX causal LM with side inputs, built with onnx.helper (deterministic, no
training): the tests' known-answer model, and the side-input benchmark's (larger) model.

Each token's vector is the sum of its code's embedding, its type's embedding, its age times
a vector and its visit number times another; the logits at position t are the running sum
of those vectors (a causal prefix sum) times an output matrix. So every side input moves
the logits, and the KV export (the running sum kept as past/present) must decode exactly
as the plain one recomputes. `layers` per-token ReLU layers of width `dim` after the sum
give the benchmark a model whose compute per token is not negligible.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers, processors

WORDS = ("GENDER//F", "GENDER//M", "MEDS_BIRTH", "DIAGNOSIS//ICD//10//E119",
         "DIAGNOSIS//ICD//10//B20", "DIAGNOSIS//ICD//10//I10", "LAB//51237//UNK",
         "LAB//50912//UNK", "MEDICATION//A10BA02", "PROCEDURE//ICD//10//0DB", "ICD10CM/E11.9")
SPECIALS = ("[PAD]", "[UNK]", "[BOS]", "[EOS]")
VOCAB = {t: i for i, t in enumerate(SPECIALS + WORDS)}
TOKEN_TYPES = {"special": 1, "other": 2, "GENDER": 3, "MEDS_BIRTH": 3, "DIAGNOSIS": 4, "LAB": 5,
               "MEDICATION": 6, "PROCEDURE": 7}
INPUTS = {"token_type_ids": "type", "ages": "age_years", "visit_orders": "visit"}
DIM = 8
CONTEXT = 48


def tokenizer(vocab: dict[str, int] = VOCAB) -> Tokenizer:
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="[BOS] $A [EOS]", special_tokens=[("[BOS]", vocab["[BOS]"]), ("[EOS]", vocab["[EOS]"])])
    tok.add_special_tokens([AddedToken(t, special=True) for t in SPECIALS])
    return tok


def build(folder: Path, *, kv_cache: bool, declare: bool = False, extra_input: str | None = None,
          words: tuple[str, ...] = WORDS, dim: int = DIM, layers: int = 0,
          context: int = CONTEXT) -> Path:
    """model.onnx, tokenizer.json and config.json in `folder`; side_inputs.json too when
    `declare`; `extra_input` adds an unused float input of that name (an unmapped one)."""
    rng = np.random.default_rng(20)
    token_ids = {t: i for i, t in enumerate(SPECIALS + words)}
    vocab = len(token_ids)
    weights = {
        "codes": rng.normal(size=(vocab, dim)), "types": rng.normal(size=(8, dim)) * 2.0,
        "age_w": rng.normal(size=dim) * 0.2, "visit_w": rng.normal(size=dim) * 1.5,
        "out": rng.normal(size=(dim, vocab)),
        **{f"layer{i}": rng.normal(size=(dim, dim)) / np.sqrt(dim) for i in range(layers)},
    }
    init = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()]
    init.append(numpy_helper.from_array(np.array(1, dtype=np.int64), "axis1"))
    init.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "last"))
    nodes = [
        helper.make_node("Gather", ["codes", "input_ids"], ["e_code"]),
        helper.make_node("Gather", ["types", "token_type_ids"], ["e_type"]),
        helper.make_node("Unsqueeze", ["ages", "last"], ["ages3"]),
        helper.make_node("Mul", ["ages3", "age_w"], ["e_age"]),
        helper.make_node("Cast", ["visit_orders"], ["visits_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["visits_f", "last"], ["visits3"]),
        helper.make_node("Mul", ["visits3", "visit_w"], ["e_visit"]),
        helper.make_node("Sum", ["e_code", "e_type", "e_age", "e_visit"], ["h_raw"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "last"], ["mask3"]),
        helper.make_node("Mul", ["h_raw", "mask3"], ["h"]),
        helper.make_node("CumSum", ["h", "axis1"], ["running"]),
    ]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"]),
              helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, ["batch", "seq"]),
              helper.make_tensor_value_info("ages", TensorProto.FLOAT, ["batch", "seq"]),
              helper.make_tensor_value_info("visit_orders", TensorProto.INT32, ["batch", "seq"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", vocab])]
    if kv_cache:
        # The mask covers past + new tokens; only the new ones' part weighs h.
        nodes[8:11] = [
            helper.make_node("Shape", ["input_ids"], ["ids_shape"]),
            helper.make_node("Slice", ["ids_shape", "one", "two"], ["seq_len"]),
            helper.make_node("Neg", ["seq_len"], ["minus_seq"]),
            helper.make_node("Slice", ["attention_mask", "minus_seq", "big", "one"], ["new_mask"]),
            helper.make_node("Cast", ["new_mask"], ["mask_f"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["mask_f", "last"], ["mask3"]),
            helper.make_node("Mul", ["h_raw", "mask3"], ["h"]),
        ]
        init += [numpy_helper.from_array(np.array([1], dtype=np.int64), "one"),
                 numpy_helper.from_array(np.array([2], dtype=np.int64), "two"),
                 numpy_helper.from_array(np.array([1 << 30], dtype=np.int64), "big"),
                 numpy_helper.from_array(np.array([2], dtype=np.int64), "past_axis")]
        nodes += [
            helper.make_node("Unsqueeze", ["h", "one"], ["h4"]),
            helper.make_node("Concat", ["past_key", "h4"], ["present_key"], axis=2),
            helper.make_node("ReduceSum", ["past_key", "past_axis"], ["past_sum4"], keepdims=1),
            helper.make_node("Squeeze", ["past_sum4", "one"], ["past_sum"]),
            helper.make_node("Add", ["cum", "past_sum"], ["context"]),
        ]
        nodes[nodes.index(next(n for n in nodes if n.op_type == "CumSum"))].output[0] = "cum"
        inputs.append(helper.make_tensor_value_info("past_key", TensorProto.FLOAT, ["batch", 1, "past", dim]))
        outputs.append(helper.make_tensor_value_info("present_key", TensorProto.FLOAT,
                                                     ["batch", 1, "total", dim]))
    else:
        nodes.append(helper.make_node("Identity", ["running"], ["context"]))
    state = "context"
    for i in range(layers):
        nodes += [helper.make_node("MatMul", [state, f"layer{i}"], [f"pre{i}"]),
                  helper.make_node("Relu", [f"pre{i}"], [f"act{i}"]),
                  helper.make_node("Add", [state, f"act{i}"], [f"state{i}"])]
        state = f"state{i}"
    nodes.append(helper.make_node("MatMul", [state, "out"], ["logits"]))
    if extra_input:
        inputs.append(helper.make_tensor_value_info(extra_input, TensorProto.FLOAT, ["batch", "seq"]))
    graph = helper.make_graph(nodes, "side_input_lm", inputs, outputs, init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, folder / "model.onnx")
    tokenizer(token_ids).save(str(folder / "tokenizer.json"))
    (folder / "config.json").write_text(json.dumps({"n_positions": context}))
    if declare:
        (folder / "side_inputs.json").write_text(json.dumps({"inputs": INPUTS, "token_types": TOKEN_TYPES}))
    return folder
