"""The generation step's finished batches in the run's checkpoint, so that `--resume`
continues the decoding where it stopped instead of starting the step again.

A batch's answers are a function of its requests alone (each request carries its prompt,
settings and seed; models/batch_decoding.py), so they are saved and found by content:
each saved batch is two units, `generation/<digest>/keys` (its request keys, small) and
`generation/<digest>/answers` (their tokens and masses). A resumed run reads every
`keys` unit first and answers each request it finds there from its batch, whatever
batches the resumed run would have made (probes that finished before the stop declare
nothing, so the batches differ); only the others are decoded.

A batch is saved when it took at least SAVE_AFTER_SECONDS: a commit is synced to disk
(a few milliseconds), and a batch quicker than that is as cheap to decode again. The
units hold token ids the model generated, never record text; the checkpoint, like its
scores, stays in the output folder and is removed when the audit's files are written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np

from audit_core.generation.requests import Generated, Request
from audit_core.work.checkpoints import OpenCheckpoint
from audit_core.work.units import from_npz, to_npz

PREFIX = "generation/"
SAVE_AFTER_SECONDS = 2.0


class SavedBatches:
    """The checkpoint's saved batches: `find` what a run asks for, `save` what it decoded."""

    def __init__(self, checkpoint: OpenCheckpoint) -> None:
        self._checkpoint = checkpoint
        self._where: dict[str, str] | None = None  # request key -> its batch's answers unit
        self._cached: tuple[str, dict[str, Generated]] = ("", {})  # the last answers unit read

    def find(self, requests: Sequence[Request]) -> dict[str, Generated]:
        """The answers the checkpoint holds for `requests`, by request key."""
        where = self._index()
        found: dict[str, Generated] = {}
        for request in requests:
            unit = where.get(request.key)
            if unit is None or request.key in found:
                continue
            answers = self._answers(unit)
            if request.key in answers:  # a damaged unit is decoded again
                found[request.key] = answers[request.key]
        return found

    def save(self, answers: Mapping[str, Generated]) -> None:
        if not answers:
            return
        keys = sorted(answers)
        digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]
        arrays: dict[str, np.ndarray] = {}
        for i, key in enumerate(keys):
            arrays[f"tokens_{i}"] = answers[key].tokens
            arrays[f"mass_{i}"] = answers[key].mass
        # The answers first: a keys unit always points at answers that are there.
        self._checkpoint.save(f"{PREFIX}{digest}/answers", to_npz(keys=np.array(keys), **arrays))
        self._checkpoint.save(f"{PREFIX}{digest}/keys", to_npz(keys=np.array(keys)))

    def _index(self) -> dict[str, str]:
        if self._where is None:
            self._where = {}
            for name in self._checkpoint.names(PREFIX):
                if not name.endswith("/keys"):
                    continue
                data = self._checkpoint.load(name)
                if data is None:
                    continue
                answers_unit = name.removesuffix("keys") + "answers"
                for key in _decoded(data).get("keys", np.array([], dtype=str)).tolist():
                    self._where[str(key)] = answers_unit
        return self._where

    def _answers(self, unit: str) -> dict[str, Generated]:
        if self._cached[0] != unit:
            data = self._checkpoint.load(unit)
            arrays = _decoded(data) if data is not None else {}
            keys = arrays.get("keys", np.array([], dtype=str)).tolist()
            self._cached = (unit, {str(key): Generated(tokens=arrays[f"tokens_{i}"], mass=arrays[f"mass_{i}"])
                                   for i, key in enumerate(keys)
                                   if f"tokens_{i}" in arrays and f"mass_{i}" in arrays})
        return self._cached[1]


def _decoded(data: bytes) -> dict[str, np.ndarray]:
    try:
        return from_npz(data)
    except Exception:  # written by another version, or damaged: decoded again
        return {}
