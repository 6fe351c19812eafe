"""Which sensitive categories a stretch of token ids holds, for many records at once.

T2, T5 and T6 label every examined patient by category (in the record, after the prompt,
inside the prompt window): one `np.isin` per record, category and window was 280,000
calls on the demo (6 s of a 30 s audit). A (vocabulary x categories) table read at the
record's ids answers all categories of a window in one step, with the same booleans.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class CategoryLookup:
    def __init__(self, categories: Sequence[np.ndarray]) -> None:
        ids = [np.asarray(c, dtype=np.int64) for c in categories]
        self.size = max((int(c.max()) + 1 for c in ids if len(c)), default=0)
        # One row per id below `size`, and a last all-False row that every other id reads.
        self.table = np.zeros((self.size + 1, len(ids)), dtype=bool)
        for k, c in enumerate(ids):
            self.table[c[c >= 0], k] = True

    def any_in(self, ids: np.ndarray) -> np.ndarray:
        """(categories,) bool: the category has a code among `ids`."""
        window = np.asarray(ids, dtype=np.int64)
        if not len(window):
            return np.zeros(self.table.shape[1], dtype=bool)
        return np.asarray(self.table[self._rows(window)].any(axis=0))

    def holds(self, ids: np.ndarray, category: int) -> np.ndarray:
        """(len ids,) bool: the entry is a code of category number `category`
        (`np.isin(ids, category)`)."""
        return self.table[self._rows(np.asarray(ids)), category]

    def members(self, ids: np.ndarray, category: int) -> np.ndarray:
        """The entries of `ids` that are codes of category number `category`, in their order."""
        window = np.asarray(ids)
        return window[self.holds(window, category)]

    def _rows(self, window: np.ndarray) -> np.ndarray:
        # Ids outside the table read its all-False last row: those beyond every category, and
        # negative ones too (as unsigned they are beyond it), which would otherwise index
        # the table from its end.
        return np.minimum(window.astype(np.uint64), self.size)
