"""An ONNX model's signature (graph inputs, outputs, initializer names) without its weights.

`onnx.load(..., load_external_data=False)` still parses every weight stored inside the
.onnx file: for a model of a few hundred megabytes that is seconds and a second copy in
memory, only to learn what kind of model it is (inspection.model_kind) before
`inspect_model` parses it again. Here the protobuf wire format is walked instead: the
graph's fields are visited by their length prefixes, the weights' bytes are skipped, and
only the small ValueInfo messages are parsed (by onnx's own protobuf classes, loaded
without the rest of onnx: models/onnx_messages.py).

Field numbers are those of onnx.proto (stable since IR version 3): ModelProto.graph = 7;
GraphProto.initializer = 5, input = 11, output = 12, sparse_initializer = 15;
TensorProto.name = 8; SparseTensorProto.values = 1.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit_core.models.onnx_messages import messages

_MODEL_GRAPH = 7
_GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT, _GRAPH_SPARSE_INITIALIZER = 5, 11, 12, 15
_TENSOR_NAME = 8
_SPARSE_VALUES = 1
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


@dataclass(frozen=True, slots=True)
class Signature:
    inputs: tuple[Any, ...]  # onnx.ValueInfoProto, initializers included (as the graph lists them)
    outputs: tuple[Any, ...]
    initializers: frozenset[str]  # names of the weights (old exports list them as inputs too)


def read_signature(path: Path) -> Signature:
    """The graph's inputs, outputs and initializer names; ValueError if the file is not
    a well-formed ONNX model."""
    value_info = messages().ValueInfoProto
    with open(path, "rb") as handle:
        if not handle.seek(0, 2):
            raise ValueError("empty file")
        # Mapped, not read: only the pages holding field headers and signatures are touched.
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            graphs = [(s, e) for n, s, e in _fields(data, 0, len(data)) if n == _MODEL_GRAPH]
            if not graphs:
                raise ValueError("no graph")
            inputs, outputs = [], []
            initializers: set[str] = set()
            for start, end in graphs:  # protobuf merges repeated occurrences of a message
                for number, s, e in _fields(data, start, end):
                    if number == _GRAPH_INPUT:
                        inputs.append(value_info.FromString(data[s:e]))
                    elif number == _GRAPH_OUTPUT:
                        outputs.append(value_info.FromString(data[s:e]))
                    elif number == _GRAPH_INITIALIZER:
                        initializers.update(_tensor_names(data, s, e))
                    elif number == _GRAPH_SPARSE_INITIALIZER:
                        for n, vs, ve in _fields(data, s, e):
                            if n == _SPARSE_VALUES:
                                initializers.update(_tensor_names(data, vs, ve))
    return Signature(tuple(inputs), tuple(outputs), frozenset(initializers))


def _tensor_names(data: mmap.mmap, start: int, end: int) -> Iterator[str]:
    for number, s, e in _fields(data, start, end):
        if number == _TENSOR_NAME:
            yield bytes(data[s:e]).decode("utf-8")


def _fields(data: mmap.mmap, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(field number, start, end) of each length-delimited field in data[start:end];
    other wire types are skipped."""
    pos = start
    while pos < end:
        key, pos = _varint(data, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == _VARINT:
            _, pos = _varint(data, pos, end)
        elif wire == _FIXED64:
            pos += 8
        elif wire == _FIXED32:
            pos += 4
        elif wire == _LENGTH:
            length, pos = _varint(data, pos, end)
            if pos + length > end:
                raise ValueError("a field runs past its message")
            yield number, pos, pos + length
            pos += length
        else:  # groups (3, 4) are not used by onnx.proto
            raise ValueError(f"wire type {wire}")
    if pos != end:
        raise ValueError("a field runs past its message")


def _varint(data: mmap.mmap, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
