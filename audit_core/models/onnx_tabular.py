"""An ONNX tabular classifier run by onnxruntime: class probabilities for rows of features.

Accepts what skl2onnx writes for scikit-learn classifiers: one float input [N, F]; a
label output and a probability output that is either a [N, C] tensor or, with the
default ZipMap, a list of {class: probability} maps. The class labels come from the
graph (the ZipMap's or the classifier node's attributes), so that a label column holding
"0"/"1" or "yes"/"no" is matched to the right probability column. No scikit-learn here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audit_core.errors import DataError, ModelError
from audit_core.models.inspection import (
    TABULAR_CLASSIFIER,
    ModelInfo,
    tabular_probability_output,
)
from audit_core.models.runtime import open_session
from audit_core.work.progress import Progress

# Attributes that hold class labels, in the order they are trusted: a ZipMap's keys are the
# probability map's keys; a classifier node's labels order the probability tensor's columns.
_CLASS_ATTRIBUTES = (("ZipMap", "classes_int64s"), ("ZipMap", "classes_strings"),
                     (None, "classlabels_int64s"), (None, "classlabels_strings"),
                     (None, "classlabels_ints"))
ROWS_PER_BATCH = 4096  # a batch is the unit of progress and of cancellation


class OnnxTabularClassifier:
    def __init__(self, info: ModelInfo, threads: int = 0) -> None:
        if info.kind != TABULAR_CLASSIFIER:
            raise ModelError(f"{info.name} is not a tabular classifier: expected one float input "
                             "[rows, features] and a probability output")
        self.session = open_session(info.path, info.name, threads)
        self.info = info
        self.provider = self.session.get_providers()[0]
        self._input = info.inputs[0].name
        self._dtype = np.float64 if info.inputs[0].type == "float64" else np.float32
        width = info.inputs[0].shape[1]
        self.width: int | None = width if isinstance(width, int) else None
        output = tabular_probability_output(info.outputs)
        if output is None:  # inspection gives TABULAR_CLASSIFIER only to a model with one
            raise ModelError(f"{info.name} has no probability output")
        self._probability = output.name
        self.zipmap = output.type == "seq(map)"
        self.classes = _class_labels(info, None if self.zipmap else output.shape[1])

    def probabilities(self, features: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        """Class probabilities [rows, classes] in the order of `self.classes`."""
        progress = progress or Progress()
        rows = []
        starts = range(0, len(features), ROWS_PER_BATCH)
        for n, start in enumerate(starts):
            progress.advance(n / len(starts), "class probabilities")
            batch = np.ascontiguousarray(features[start:start + ROWS_PER_BATCH], dtype=self._dtype)
            try:
                out = self.session.run([self._probability], {self._input: batch})[0]
            except Exception as exc:
                raise ModelError(f"onnxruntime could not run {self.info.name} "
                                 f"({exc.__class__.__name__})") from None
            rows.append(self._as_matrix(out))
        progress.advance(1.0, "class probabilities")
        return np.vstack(rows) if rows else np.zeros((0, len(self.classes)))

    def class_indices(self, labels: Sequence[str], file: str, column: str) -> np.ndarray:
        """Each record's label as a column index of `probabilities`; unknown labels refused."""
        from audit_core.data.loading import describe_rows

        lookup = {_normal(c): i for i, c in enumerate(self.classes)}
        indices = np.array([lookup.get(_normal(v), -1) for v in labels], dtype=np.int64)
        unknown = np.flatnonzero(indices < 0)
        if len(unknown):
            raise DataError(f"{file}: {len(unknown)} records have a label in column '{column}' "
                            f"that is not one of the model's classes ({', '.join(self.classes)}; "
                            f"{describe_rows(unknown)})")
        return indices

    def _as_matrix(self, out) -> np.ndarray:
        if self.zipmap:  # skl2onnx's default: one {class: probability} map per row
            keys = {_normal(k): k for k in (out[0] if out else {})}
            order = [keys[_normal(c)] for c in self.classes]
            return np.array([[row[k] for k in order] for row in out], dtype=np.float64)
        return np.asarray(out, dtype=np.float64)


def _normal(label: object) -> str:
    """'1', '1.0' and 1 are the same class; text labels compare as written."""
    text = str(label).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def _class_labels(info: ModelInfo, columns: int | str | None) -> tuple[str, ...]:
    import onnx

    graph = onnx.load(str(info.path), load_external_data=False).graph
    for op_type, attribute in _CLASS_ATTRIBUTES:
        for node in graph.node:
            if op_type is not None and node.op_type != op_type:
                continue
            for attr in node.attribute:
                if attr.name == attribute:
                    values = attr.ints if attr.ints else [s.decode("utf-8") for s in attr.strings]
                    if values:
                        return tuple(str(v) for v in values)
    if isinstance(columns, int):  # no labels in the graph: columns are classes 0..C-1
        return tuple(str(i) for i in range(columns))
    raise ModelError(f"{info.name} names no class labels and its probability output has no "
                     "fixed number of columns: re-export it with skl2onnx")
