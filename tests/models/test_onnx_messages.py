"""onnx's messages without `import onnx` (models/onnx_messages.py): the same graph, dtype
names and weights as onnx gives, the same classes once onnx is imported after all, and a
language model's inspection that loads neither onnx nor ml_dtypes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, external_data_helper, helper, numpy_helper

from audit_core.models.onnx_messages import DTYPE_NAMES, dtype_name, load_graph_only, messages, tensor_array
from tests.conftest import ROOT

COMMITTED = sorted((ROOT / "resources").rglob("*.onnx"))


def test_the_dtype_names_are_onnx_own() -> None:
    types = [v for v in TensorProto.DataType.values() if v != TensorProto.UNDEFINED]
    assert set(DTYPE_NAMES) == set(types)
    for value in types:
        assert dtype_name(value) == helper.tensor_dtype_to_np_dtype(value).name, value


def test_a_type_newer_than_the_table_is_named_by_onnx() -> None:
    with pytest.raises(KeyError):  # as onnx.helper refuses an unknown type
        dtype_name(999)


def test_the_messages_are_the_classes_onnx_uses() -> None:
    assert messages().ModelProto is onnx.ModelProto
    assert messages().TensorProto is onnx.TensorProto


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_graph_is_what_onnx_loads(path: Path) -> None:
    expected = onnx.load(str(path), load_external_data=False)
    assert load_graph_only(path).SerializeToString() == expected.SerializeToString()


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\xff\xff\xff\xff not a model")
    with pytest.raises(Exception):  # noqa: B017 - protobuf's DecodeError, as onnx.load raises
        load_graph_only(path)


@pytest.mark.parametrize("values", [
    np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5,
    np.array([[np.nan, np.inf, -0.0, 1e-38]], dtype=np.float32),
    np.zeros((0, 3), dtype=np.float32),
    np.array(2.5, dtype=np.float32),
    np.arange(6, dtype=np.float16).reshape(2, 3),  # read by onnx itself
    np.arange(6, dtype=np.int64).reshape(3, 2),
], ids=["float32", "special", "empty", "scalar", "float16", "int64"])
def test_the_weights_are_what_onnx_reads(values: np.ndarray) -> None:
    raw = numpy_helper.from_array(values, "w")
    listed = helper.make_tensor("w", helper.np_dtype_to_tensor_dtype(values.dtype), values.shape,
                                values.ravel().tolist()) if values.dtype != np.float16 else raw
    for tensor in (raw, listed):
        got = tensor_array(tensor, "")
        expected = numpy_helper.to_array(tensor)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert got.tobytes() == expected.tobytes()


def test_external_weights_are_read_from_the_folder(tmp_path: Path) -> None:
    values = np.arange(20, dtype=np.float32).reshape(4, 5)
    tensor = numpy_helper.from_array(values, "w")
    (tmp_path / "weights.bin").write_bytes(b"\0" * 8 + values.tobytes())
    external_data_helper.set_external_data(tensor, "weights.bin", offset=8, length=values.nbytes)
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    assert np.array_equal(tensor_array(tensor, str(tmp_path)), values)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_reading_a_language_model_loads_neither_onnx_nor_ml_dtypes(demo_dir: Path) -> None:
    model = demo_dir / "model" / "model.onnx"
    done = _python(f"""
import sys
from pathlib import Path
from audit_core.clinical.embeddings import read_input_embeddings
from audit_core.models.inspection import inspect_model, model_kind
info = inspect_model(Path({str(model)!r}))
assert model_kind(info.path) == info.kind
assert read_input_embeddings(info.path, info.vocab_size) is not None
print(sorted(m for m in ("onnx", "ml_dtypes", "onnx.helper") if m in sys.modules))
import onnx  # later, as conversion would: the same classes, onnx whole
from audit_core.models.onnx_messages import messages
assert onnx.ModelProto is messages().ModelProto and onnx.helper.make_graph
print(onnx.load({str(model)!r}, load_external_data=False).graph.input[0].name)
""")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "input_ids"]


def test_a_missing_onnx_is_still_named() -> None:
    done = _python("""
import sys
sys.modules["onnx"] = None  # as if the package were not installed
from audit_core.models.onnx_messages import messages
try:
    messages()
except ImportError as exc:
    print(type(exc).__name__, exc.name)
""")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ModuleNotFoundError", "onnx"]
