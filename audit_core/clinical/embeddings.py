"""Distances between codes: the model's own input embeddings, or the ICD hierarchy.

The trajectory distance (T1) needs a distance between any two codes. Tonekaboni et al.
2025 embedded code labels with PubMedBERT; offline, and in one space for every
comparison, we use the audited model's input-embedding matrix (cosine distance), read
from the ONNX initializers:

1. the Gather whose indices come from `input_ids` (through Reshape/Cast/Unsqueeze/
   Flatten/Squeeze/Identity) and whose data is a (vocab, dim) initializer;
2. failing that, a (vocab, dim) initializer named like an embedding (wte, embed_tokens,
   word_embeddings, tok_embeddings, embedding).

When neither is found (or the graph stores weights in an unusual form) the fallback is an
ICD hierarchy distance on the code strings, read in any convention (clinical.code_reading):
0 for the same code, 0.25 when they share the 4-character subcategory, 0.5 the 3-character
category, 0.75 the chapter (ICD-10: its letter; ICD-9-CM: its range, 390-459 circulatory
...), 1 otherwise; an ICD-9 and an ICD-10 code are 1 apart (no crosswalk is bundled), and
tokens that are not ICD diagnosis codes are 0 when equal and 1 when not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit_core.clinical.code_reading import hierarchy_levels, read_code
from audit_core.models.onnx_messages import load_graph_only, tensor_array

_PASS_THROUGH = {"Reshape", "Cast", "Unsqueeze", "Flatten", "Squeeze", "Identity"}
_EMBEDDING_NAMES = ("wte", "embed_tokens", "word_embeddings", "tok_embeddings", "embedding")
EMBEDDINGS = "input embeddings"
HIERARCHY = "ICD-10 hierarchy"


def read_input_embeddings(model_path: str | Path, vocab_size: int) -> np.ndarray | None:
    """The (vocab_size, dim) input-embedding matrix of an ONNX causal LM, or None."""
    try:
        # The graph only: a model past 2 GB keeps its weights in external data, and of those
        # only the embedding matrix is read (`_weights`), never all of them.
        graph = load_graph_only(model_path).graph
    except Exception:  # noqa: BLE001 - an unreadable graph just means: use the fallback distance
        return None
    initializers = {i.name: i for i in graph.initializer}
    folder = str(Path(model_path).parent)

    def usable(name: str) -> bool:
        tensor = initializers.get(name)
        return tensor is not None and len(tensor.dims) == 2 and tensor.dims[0] == vocab_size

    reached = {"input_ids"}
    for _ in range(8):  # follow the ids a few ops deep
        grown = set(reached)
        for node in graph.node:
            if node.op_type == "Gather" and len(node.input) > 1 and node.input[1] in reached \
                    and usable(node.input[0]):
                return _as_matrix(_weights(initializers[node.input[0]], folder))
            if node.op_type in _PASS_THROUGH and node.input and node.input[0] in reached:
                grown.update(node.output)
        if grown == reached:
            break
        reached = grown
    for name, tensor in initializers.items():
        if usable(name) and any(key in name.lower() for key in _EMBEDDING_NAMES):
            return _as_matrix(_weights(tensor, folder))
    return None


def _weights(tensor, folder: str) -> np.ndarray | None:
    """One initializer's values, its external data (if any) read from the model's folder:
    that tensor's bytes alone (onnx seeks to its offset), not the whole data file."""
    try:
        return tensor_array(tensor, folder)
    except Exception:  # noqa: BLE001 - a missing or short data file: use the fallback distance
        return None


def _as_matrix(values: np.ndarray | None) -> np.ndarray | None:
    if values is None:
        return None
    matrix = values.astype(np.float64)
    return matrix if np.isfinite(matrix).all() else None


@dataclass(frozen=True)
class CodeDistance:
    """Pairwise distances in [0, 1] between token ids, by one of two methods."""

    method: str  # EMBEDDINGS or HIERARCHY
    unit: np.ndarray | None  # row-normalized embeddings (EMBEDDINGS)
    tokens: tuple[str, ...]  # id -> token string (HIERARCHY)

    def matrix(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(len a, len b) distances between the tokens a and b."""
        return self.between(a, b, self.vectors(a), self.vectors(b))

    def vectors(self, codes: np.ndarray) -> np.ndarray | None:
        """What `between` reads of `codes` beyond the ids: their unit embeddings (None for
        the hierarchy), gathered once for a trajectory compared with many others."""
        if self.method == EMBEDDINGS and self.unit is not None:
            return self.unit[codes]
        return None

    def between(self, a: np.ndarray, b: np.ndarray, vectors_a: np.ndarray | None,
                vectors_b: np.ndarray | None) -> np.ndarray:
        """`matrix(a, b)`, given `vectors(a)` and `vectors(b)`: the same product of the same
        arrays, so the same floats."""
        if vectors_a is not None and vectors_b is not None:
            return _halved_cosine(vectors_a @ vectors_b.T)
        return np.array([[_hierarchy(self.tokens[i], self.tokens[j]) for j in b] for i in a],
                        dtype=np.float64).reshape(len(a), len(b))

    def between_each(self, a: np.ndarray, vectors_a: np.ndarray | None,
                     others: Sequence[tuple[np.ndarray, np.ndarray | None]]) -> np.ndarray:
        """The `between(a, b, ...)` matrices of every (b, vectors(b)) in `others`, side by
        side: each product is the one `between` takes (same arrays, same shapes, so the
        same floats), and the elementwise rest is done once over all of them."""
        if not others:
            return np.zeros((len(a), 0))
        vectors = [v for _, v in others if v is not None]
        if vectors_a is None or len(vectors) < len(others):
            return np.concatenate([self.between(a, b, vectors_a, v) for b, v in others], axis=1)
        return _halved_cosine(np.concatenate([vectors_a @ v.T for v in vectors], axis=1))


def _halved_cosine(products: np.ndarray) -> np.ndarray:
    # Cosine distance halved into [0, 1], so both methods share one scale.
    return np.clip((1.0 - products) / 2.0, 0.0, 1.0)


def code_distance(vocabulary: Mapping[str, int], embeddings: np.ndarray | None) -> CodeDistance:
    size = max(vocabulary.values(), default=-1) + 1
    tokens = [""] * size
    for token, i in vocabulary.items():
        tokens[i] = token
    if embeddings is not None and len(embeddings) >= size:
        norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
        return CodeDistance(EMBEDDINGS, embeddings / np.where(norms > 0, norms, 1.0), tuple(tokens))
    return CodeDistance(HIERARCHY, None, tuple(tokens))


def _hierarchy(a: str, b: str) -> float:
    if a == b:
        return 0.0
    x, y = hierarchy_levels(read_code(a)), hierarchy_levels(read_code(b))
    if x is None or y is None:
        return 1.0
    for level, distance in ((2, 0.25), (1, 0.5), (0, 0.75)):
        if x[level] == y[level]:
            return distance
    return 1.0
