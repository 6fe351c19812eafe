"""Units of work as bytes, and `resumable`: compute a unit, or read it back from the checkpoint.

NumPy's .npz container with pickling off (`allow_pickle=False`): a checkpoint sits in a
folder the user controls, and loading it must never run code. Arrays keep their exact
bits, so a resumed run computes from the same numbers as an uninterrupted one. Only the
plain-array codec lives here; a unit of a richer type is encoded beside its type (token
scores in passes/token_scores.py, a probe's outcome in results/result.py) with `to_npz`
and `from_npz`, so this bottom layer knows none of the pipeline's types.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from audit_core.work.checkpoints import OpenCheckpoint

T = TypeVar("T")


def encode_array(values: np.ndarray) -> bytes:
    """One array: a cohort's class probabilities, a chunk's embeddings or pseudo-likelihoods."""
    return to_npz(values=np.asarray(values))


def decode_array(data: bytes) -> np.ndarray:
    return from_npz(data)["values"]


def to_npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    named: dict[str, Any] = dict(arrays)  # numpy's stubs type **kwds like its allow_pickle flag
    np.savez(buffer, allow_pickle=False, **named)  # as loading: a unit is never a pickle
    return buffer.getvalue()


def from_npz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def resumable(checkpoint: OpenCheckpoint, unit: str, compute: Callable[[], T],
              encode: Callable[[T], bytes], decode: Callable[[bytes], T],
              keep: Callable[[T], bool] = lambda _: True) -> T:
    """`compute()`, or its saved outcome when the checkpoint has it; saved when `keep`s."""
    saved = checkpoint.load(unit)
    if saved is not None:
        try:
            return decode(saved)
        except Exception:  # written by another version, or damaged: computed again
            pass
    value = compute()
    if keep(value):
        checkpoint.save(unit, encode(value))
    return value
