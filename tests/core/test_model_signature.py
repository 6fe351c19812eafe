"""The model's kind is read from its signature alone (models/onnx_signature.py): the same
inputs, outputs and weight names onnx parses, without parsing the weights; a language-model
run parses the graph once (in inspect_model), not once more to learn its kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from audit_core.models.inspection import TABULAR_CLASSIFIER, UNKNOWN, inspect_model, model_kind
from audit_core.models.onnx_signature import read_signature
from tests.conftest import ROOT, write_plan

COMMITTED = sorted((ROOT / "resources").rglob("*.onnx"))


def _same(a, b) -> bool:
    return [v.SerializeToString() for v in a] == [v.SerializeToString() for v in b]


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_signature_is_what_onnx_parses_and_gives_the_same_kind(path: Path) -> None:
    graph = onnx.load(str(path), load_external_data=False).graph
    signature = read_signature(path)
    assert _same(signature.inputs, graph.input) and _same(signature.outputs, graph.output)
    assert signature.initializers == {i.name for i in graph.initializer}
    assert model_kind(path) == inspect_model(path).kind != UNKNOWN


def test_weights_listed_as_inputs_are_not_inputs_and_external_weights_are_not_read(tmp_path: Path) -> None:
    """An old-style export lists its weights among the graph inputs; a large one keeps them
    in a separate file, which telling the kind must not need."""
    weights = numpy_helper.from_array(np.ones((3, 2), np.float32), "W")
    sparse = helper.make_sparse_tensor(numpy_helper.from_array(np.ones(1, np.float32), "S"),
                                       numpy_helper.from_array(np.zeros(1, np.int64), "S_idx"), [2])
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "W"], ["scores"]),
         helper.make_node("Softmax", ["scores"], ["probabilities"], axis=1)],
        "tabular", [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 3]),
                    helper.make_tensor_value_info("W", TensorProto.FLOAT, [3, 2])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])],
        initializer=[weights], sparse_initializer=[sparse])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "model" / "model.onnx"
    path.parent.mkdir()
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.onnx.data", size_threshold=0)
    (path.parent / "model.onnx.data").unlink()  # only the graph file is needed for the kind

    signature = read_signature(path)
    assert [v.name for v in signature.inputs] == ["features", "W"]
    assert signature.initializers == {"W", "S"}
    assert model_kind(path.parent) == TABULAR_CLASSIFIER  # W is a weight, not a second input


@pytest.mark.parametrize("content", [b"", b"this is not an ONNX graph" * 10, b"\x3a\xff\xff\xff\x0f"])
def test_a_file_that_is_not_onnx_has_no_kind(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(ValueError):
        read_signature(path)
    assert model_kind(path) == UNKNOWN


def test_a_language_model_run_parses_the_graph_once(tmp_path: Path, small_cohorts, demo_dir: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import audit_core.clinical.embeddings as embeddings
    import audit_core.models.inspection as inspection
    from audit_core.plan.parsing import load_plan
    from audit_core.run.runner import run_audit

    parsed: list[str] = []

    def counting(real):
        def counted(f, *args, **kwargs):
            parsed.append(Path(str(f)).name)
            return real(f, *args, **kwargs)
        return counted

    # The graph is read with onnx's messages alone (models/onnx_messages.py), or by onnx.
    for module, name in ((onnx, "load"), (onnx, "load_model"), (inspection, "load_graph_only"),
                         (embeddings, "load_graph_only")):
        monkeypatch.setattr(module, name, counting(getattr(module, name)))
    plan = write_plan(tmp_path, model=demo_dir / "model", members=small_cohorts[0],
                      non_members=small_cohorts[1], probes="[probes.loss]\n")
    result = run_audit(load_plan(plan))
    assert result.probes[0].id == "loss"
    assert parsed == ["model.onnx"], parsed
