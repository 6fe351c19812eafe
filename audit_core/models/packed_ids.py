"""A cohort's token ids in one flat buffer: what stays in memory of the records' tokens.

A list of one NumPy array per record costs an array object (about 110 bytes) on top of
eight bytes per token; at 100k records that is as much as the records' text. Here the
ids sit in one int32 buffer (vocabularies are far below 2^31) with an offset per record,
and each record is handed out as a read-only view: it indexes, slices and iterates like
the list it replaces, and nothing is copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np


class PackedIds(Sequence[np.ndarray]):
    __slots__ = ("_flat", "_offsets")

    def __init__(self, flat: np.ndarray, offsets: np.ndarray) -> None:
        self._flat, self._offsets = flat, offsets

    @classmethod
    def pack(cls, records: Iterable[Sequence[int]]) -> PackedIds:
        parts = [np.asarray(r, dtype=np.int32) for r in records]
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in parts], out=offsets[1:])
        flat = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        flat.setflags(write=False)  # the views handed out must not change the cohort
        return cls(flat, offsets)

    @classmethod
    def join(cls, pieces: Sequence[PackedIds]) -> PackedIds:
        """Consecutive packs as one (each piece's buffer is copied once, then dropped)."""
        if len(pieces) == 1 and pieces[0]._offsets[0] == 0:
            return pieces[0]
        flat = np.concatenate([p._flat[p._offsets[0]:p._offsets[-1]] for p in pieces]) if pieces \
            else np.zeros(0, dtype=np.int32)
        lengths = np.concatenate([p.lengths for p in pieces]) if pieces else np.zeros(0, dtype=np.int64)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat.setflags(write=False)
        return cls(flat, offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            stop = max(stop, start)
            return PackedIds(self._flat, self._offsets[start:stop + 1])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("record index out of range")
        return self._flat[self._offsets[index]:self._offsets[index + 1]]

    def __iter__(self) -> Iterator[np.ndarray]:
        flat, offsets = self._flat, self._offsets
        for i in range(len(offsets) - 1):
            yield flat[offsets[i]:offsets[i + 1]]

    def __add__(self, other: Sequence[np.ndarray]) -> list[np.ndarray]:
        return list(self) + list(other)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self._offsets)

    @property
    def nbytes(self) -> int:
        return int(self._flat.nbytes + self._offsets.nbytes)
