"""A few entries of each row of a (rows, V) array, laid out as zero-padded blocks of rows
with similar numbers of entries, so that numpy can sort or sum them row by row without
touching the whole vocabulary (the nucleus and the draw, issue 21) and without one long
row widening every other one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Block:
    """Some rows' entries: `rows` (their row numbers), `entries` (positions in the flat
    index list), and where each entry goes in a (len(rows), width) block: `at`."""

    rows: np.ndarray
    entries: np.ndarray
    at: tuple[np.ndarray, np.ndarray]
    width: int

    def pad(self, values: np.ndarray, fill: float | int = 0) -> np.ndarray:
        """`values` (one per flat index) laid out in the block, padded on the right by `fill`."""
        block = np.full((len(self.rows), self.width), fill, dtype=values.dtype)
        block[self.at] = values[self.entries]
        return block


class RaggedRows:
    """The entries at `flat` indices (row-major order, so each row's are in column order)
    of `array` (rows, width)."""

    def __init__(self, flat: np.ndarray, array: np.ndarray) -> None:
        rows, width = array.shape
        self.flat = flat
        self.values = array.reshape(-1)[flat]
        self.row_of = flat // width
        self.column = flat - self.row_of * width
        self.counts = np.bincount(self.row_of, minlength=rows)
        self.start = np.cumsum(self.counts) - self.counts  # a row's first entry
        self.place = np.arange(len(flat)) - self.start[self.row_of]  # an entry's place in its row

    def blocks(self, limits: tuple[int, ...]) -> Iterator[Block]:
        """The rows with 1 to limits[-1] entries, grouped by count into (0, limits[0]],
        (limits[0], limits[1]], ...; each block as wide as its longest row."""
        group = np.searchsorted(np.asarray(limits), self.counts)  # a row's group, by count
        group[self.counts == 0] = len(limits)  # no entries: in no group
        for g in range(len(limits)):
            rows = np.flatnonzero(group == g)
            if len(rows) == 0:
                continue
            rank = np.full(len(self.counts), -1)
            rank[rows] = np.arange(len(rows))
            entries = np.flatnonzero(rank[self.row_of] >= 0)
            yield Block(rows, entries, (rank[self.row_of[entries]], self.place[entries]),
                        int(self.counts[rows].max()))
