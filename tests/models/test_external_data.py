"""A model whose weights sit in external data (models past 2 GB): the paths that need only
the graph never read the weights, and the one that needs a single weight reads only it.

The data file is truncated right after the embedding matrix (stored first): any path that
loaded every weight would fail on the short file. benchmarks/big_model_memory.py measures
the same paths' peak memory on a 1 GB model.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from audit_core.clinical.embeddings import read_input_embeddings
from audit_core.models.inspection import CAUSAL_LM, inspect_model, model_kind

DEMO_MODEL = Path(__file__).resolve().parents[2] / "resources/demo/model"


@pytest.fixture(scope="module")
def truncated_model(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """(folder, embedding matrix) of a tiny LM whose data file holds only the embedding."""
    folder = tmp_path_factory.mktemp("external") / "model"
    folder.mkdir()
    shutil.copy(DEMO_MODEL / "tokenizer.json", folder / "tokenizer.json")
    vocab = json.loads((DEMO_MODEL / "config.json").read_text())["vocab_size"]
    (folder / "config.json").write_text(json.dumps({"n_positions": 64, "vocab_size": vocab}))
    rng = np.random.default_rng(0)
    wte = rng.standard_normal((vocab, 8)).astype(np.float32)
    inits = [numpy_helper.from_array(wte, "wte"),
             numpy_helper.from_array(rng.standard_normal((8, 8)).astype(np.float32), "w0"),
             numpy_helper.from_array(rng.standard_normal((8, vocab)).astype(np.float32), "head")]
    nodes = [helper.make_node("Gather", ["wte", "input_ids"], ["h0"]),
             helper.make_node("MatMul", ["h0", "w0"], ["h1"]),
             helper.make_node("MatMul", ["h1", "head"], ["logits"])]
    graph = helper.make_graph(
        nodes, "external", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", "s", vocab])], inits)
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
                    str(folder / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=0)
    data = folder / "model.onnx.data"
    with open(data, "r+b") as handle:  # keep the embedding (the first tensor), drop the rest
        handle.truncate(wte.nbytes)
    with pytest.raises(ValueError):  # the stub would fail any path that loads every weight
        onnx.load(str(folder / "model.onnx"))
    return folder, wte


def test_the_signature_and_inspection_never_load_the_weights(truncated_model) -> None:
    folder, _ = truncated_model
    assert model_kind(folder) == CAUSAL_LM
    info = inspect_model(folder)
    assert info.kind == CAUSAL_LM
    # The fingerprint still covers the data file (hashed in blocks, not loaded).
    assert "model.onnx.data" in {f.name for f in info.files}


def test_the_trajectory_reads_only_the_embedding_matrix(truncated_model) -> None:
    folder, wte = truncated_model
    matrix = read_input_embeddings(folder / "model.onnx", wte.shape[0])
    assert matrix is not None
    np.testing.assert_array_equal(matrix, wte.astype(np.float64))
