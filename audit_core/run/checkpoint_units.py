"""The units of work a checkpoint keeps, as bytes: scored chunks and probe outcomes.

NumPy's .npz container with pickling off (`allow_pickle=False`): a checkpoint sits in a
folder the user controls, and loading it must never run code. Arrays keep their exact
bits, so a resumed run computes from the same numbers as an uninterrupted one; the
plain-data part of a probe result travels as JSON (floats round-trip exactly).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import numpy as np

from audit_core.passes.token_scores import TokenScores
from audit_core.results.result import ProbeResult, plain
from audit_core.results.verdicts import Verdict

_META = "__meta__"


def encode_scores(scores: TokenScores) -> bytes:
    lengths = np.array([len(x) for x in scores.logprobs], dtype=np.int64)
    return _npz(lengths=lengths, windows=np.asarray(scores.windows),
                logprobs=_flat(scores.logprobs), means=_flat(scores.means), stds=_flat(scores.stds))


def decode_scores(data: bytes) -> TokenScores:
    arrays = _load(data)
    cuts = np.cumsum(arrays["lengths"])[:-1]

    def split(name: str) -> tuple[np.ndarray, ...]:
        return tuple(np.split(arrays[name], cuts)) if len(arrays["lengths"]) else ()

    return TokenScores(logprobs=split("logprobs"), means=split("means"), stds=split("stds"),
                       windows=arrays["windows"])


def encode_array(values: np.ndarray) -> bytes:
    """One array: a cohort's class probabilities, a chunk's embeddings or pseudo-likelihoods."""
    return _npz(values=np.asarray(values))


def decode_array(data: bytes) -> np.ndarray:
    return _load(data)["values"]


# ProbeResult fields that are tuples in memory (JSON gives them back as lists).
_TUPLES = ("findings", "extracted", "subgroups")
_VERDICTS = ("verdict", "verdict_if_split_valid")


def encode_probe(result: ProbeResult) -> bytes:
    data: dict[str, Any] = {}
    for f in fields(ProbeResult):
        if f.name == "scores":
            continue
        value = getattr(result, f.name)
        data[f.name] = value.value if isinstance(value, Verdict) else plain(value)
    arrays = {f"score_{role}": np.asarray(values) for role, values in result.scores.items()}
    return _npz(**arrays, **{_META: np.frombuffer(json.dumps(data).encode("utf-8"), dtype=np.uint8)})


def decode_probe(data: bytes) -> ProbeResult:
    arrays = _load(data)
    meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
    for name in _TUPLES:
        meta[name] = tuple(meta[name])
    for name in _VERDICTS:
        if meta.get(name) is not None:
            meta[name] = Verdict(meta[name])
    scores = {key.removeprefix("score_"): values for key, values in arrays.items()}
    return ProbeResult(**meta, scores=scores)


def _flat(parts: tuple[np.ndarray, ...]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)  # as loading: a unit is never a pickle
    return buffer.getvalue()


def _load(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def resumable(checkpoint: Any, unit: str, compute: Callable[[], Any],
              encode: Callable[[Any], bytes], decode: Callable[[bytes], Any],
              keep: Callable[[Any], bool] = lambda _: True) -> Any:
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
