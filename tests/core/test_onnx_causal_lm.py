"""The onnxruntime adapter: plain and KV-cache exports give the same scores and tokens,
and models that are not causal language models are refused with the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from audit_core.errors import ModelError
from audit_core.models.inspection import UNKNOWN, inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from tests.core.test_cli import mnemoscope


@pytest.mark.slow
def test_plain_export_scores_and_decodes_like_the_kv_export(tiny_positive, tiny_positive_plain) -> None:
    kv = OnnxCausalLM(inspect_model(tiny_positive.export.out_dir))
    plain = OnnxCausalLM(inspect_model(tiny_positive_plain.out_dir))
    assert kv.kv_cache and not plain.kv_cache

    rng = np.random.default_rng(0)
    ids = rng.integers(4, kv.vocab_size, (3, 20))
    mask = np.ones_like(ids)
    mask[1, 12:] = 0  # ragged, right-padded
    both = kv.logits(ids, mask), plain.logits(ids, mask)
    assert np.abs(both[0] - both[1])[mask.astype(bool)].max() < 1e-4
    prompts = rng.integers(4, kv.vocab_size, (4, 10))
    np.testing.assert_array_equal(kv.greedy(prompts, 12), plain.greedy(prompts, 12))


def _classifier(path: Path) -> Path:
    """A tabular model (features -> probabilities): not something the LM probes can audit."""
    weights = helper.make_tensor("w", TensorProto.FLOAT, [4, 2], np.ones(8, dtype=np.float32).tolist())
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "w"], ["scores"]),
         helper.make_node("Softmax", ["scores"], ["probabilities"], axis=1)],
        "classifier",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 2])],
        [weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path.mkdir()
    onnx.save(model, path / "model.onnx")
    return path


def test_inspect_describes_a_non_language_model_and_run_refuses_it(tmp_path: Path) -> None:
    folder = _classifier(tmp_path / "tabular")
    info = inspect_model(folder)
    assert info.kind == "tabular_classifier" and info.parameters == 8 and info.opset == 17
    done = mnemoscope("inspect", str(folder))
    assert done.returncode == 0 and "tabular" in done.stdout and "features" in done.stdout
    with pytest.raises(ModelError, match="not a causal language model"):
        OnnxCausalLM(info)


def test_weights_outside_the_model_folder_are_refused(tmp_path: Path, demo_dir: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    onnx.save(onnx.load(str(demo_dir / "model" / "model.onnx")), str(folder / "model.onnx"),
              save_as_external_data=True, all_tensors_to_one_file=True, location="w.bin", size_threshold=0)
    # Point the weights one folder up, as a crafted file would (onnx itself refuses to write it).
    (folder / "w.bin").rename(tmp_path / "w.bin")
    proto = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    for tensor in proto.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../w.bin"
    (folder / "model.onnx").write_bytes(proto.SerializeToString())
    with pytest.raises(ModelError, match="weights outside its folder"):
        inspect_model(folder)


def test_a_model_of_no_known_kind_is_named_unknown_and_refused(tmp_path: Path) -> None:
    """An image model (4-D float input) is neither language model, encoder nor classifier."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["pixels"], ["out"])], "image",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 3, 4, 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 3, 4, 4])])
    folder = tmp_path / "image"
    folder.mkdir()
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), folder / "model.onnx")
    info = inspect_model(folder)
    assert info.kind == UNKNOWN
    with pytest.raises(ModelError, match="not a causal language model"):
        OnnxCausalLM(info)
