"""onnx's protobuf messages (ModelProto, ValueInfoProto, TensorProto) without `import onnx`.

Reading a graph needs only the generated protobuf module, onnx/onnx_ml_pb2.py. `import
onnx` loads much more: onnx.helper and, through it, ml_dtypes, whose extension module
registers its number types with every numpy ufunc as it loads, one search of the ufunc's
loops per registration. On this project's machines (numpy 2.4, ml_dtypes 0.7) that took
0.4-0.8 s, the largest single import of `mnemoscope run` on the demo, which reads a
language model's graph and uses nothing else of onnx.

So the messages module is loaded here on its own, under the very name onnx gives it: a
later `import onnx` (conversion, shape folding, the tabular kind) finds it in
sys.modules and shares its classes, rather than registering the same .proto twice in
protobuf's descriptor pool (which refuses that). Where the file cannot be loaded apart
(onnx missing, a frozen app whose modules sit in an archive), `import onnx` does it, and
so still names a missing package the usual way.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

_MODULE = "onnx.onnx_ml_pb2"
_lock = threading.Lock()

# TensorProto.DataType -> the name of the numpy dtype onnx.helper.tensor_dtype_to_np_dtype
# gives (the ml_dtypes names for the types numpy lacks); a test holds it to onnx's own map.
DTYPE_NAMES = {
    1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
    8: "object", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64",
    14: "complex64", 15: "complex128", 16: "bfloat16", 17: "float8_e4m3fn",
    18: "float8_e4m3fnuz", 19: "float8_e5m2", 20: "float8_e5m2fnuz", 21: "uint4", 22: "int4",
    23: "float4_e2m1fn", 24: "float8_e8m0fnu", 25: "uint2", 26: "int2", 27: "float6_e2m3fn",
    28: "float6_e3m2fn",
}
_FLOAT = 1  # TensorProto.FLOAT
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


def messages() -> ModuleType:
    """The module holding onnx's messages (ModelProto, TensorProto, ...): onnx.onnx_ml_pb2."""
    loaded = sys.modules.get(_MODULE)
    if loaded is not None:
        return loaded
    with _lock:
        loaded = sys.modules.get(_MODULE)
        return loaded if loaded is not None else _load()


def _load() -> ModuleType:
    package = importlib.util.find_spec("onnx")  # finds onnx without running its __init__
    origin = Path(package.origin) if package is not None and package.origin else None
    source = origin.with_name("onnx_ml_pb2.py") if origin is not None else None
    if source is None or not source.is_file():
        import onnx  # not installed (ImportError, as ever) or not loadable apart

        return onnx.onnx_ml_pb2
    spec = importlib.util.spec_from_file_location(_MODULE, source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(_MODULE, None)
        raise
    return module


def load_graph_only(path: Path | str) -> Any:
    """The ModelProto of an .onnx file without its external data: what
    `onnx.load(path, load_external_data=False)` returns. Raises protobuf's DecodeError
    (or ValueError) for a file that is not one."""
    data = Path(path).read_bytes()
    model = messages().ModelProto()
    decoded = model.ParseFromString(data)
    if decoded is not None and decoded != len(data):  # as onnx checks it
        raise ValueError(f"protobuf decoded {decoded} of {len(data)} bytes")
    return model


def dtype_name(elem_type: int) -> str:
    """The numpy dtype name of a TensorProto.DataType, as onnx.helper names it."""
    name = DTYPE_NAMES.get(int(elem_type))
    if name is not None:
        return name
    import onnx  # a type newer than this table: onnx knows it, or raises as it did before

    return onnx.helper.tensor_dtype_to_np_dtype(elem_type).name


def tensor_array(tensor: Any, folder: str) -> np.ndarray:
    """An initializer's values, as onnx.numpy_helper.to_array gives them after its external
    data (if any) is read from `folder`. A float32 tensor stored in the graph is read here,
    the way onnx reads it; any other (external data, other types) by onnx itself."""
    inside = not (tensor.HasField("data_location") and tensor.data_location == _EXTERNAL)
    if tensor.data_type == _FLOAT and inside and not tensor.HasField("segment") \
            and sys.byteorder == "little":
        if tensor.HasField("raw_data"):
            return np.frombuffer(tensor.raw_data, dtype=np.float32).reshape(tensor.dims)
        return np.asarray(tensor.float_data, dtype=np.float32).astype(np.float32).reshape(tensor.dims)
    from onnx import external_data_helper, numpy_helper

    if not inside:
        external_data_helper.load_external_data_for_tensor(tensor, folder)
    return numpy_helper.to_array(tensor)
