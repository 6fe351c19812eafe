"""Drawing one token per row by inverse transform sampling, reading only the tokens the
nucleus kept.

The definition (batch_decoding's decoding loop before issue 21):

    cumulative = np.cumsum(probs, axis=1)
    token = min((cumulative <= draw * cumulative[:, -1]).sum(axis=1), V - 1)

Why the same bits from the non-zero entries alone: numpy's cumsum is a sequential running
sum, and adding 0.0 changes no sum (x + 0.0 == x; at most a zero's sign, which no comparison
sees), so the running sum of a row's non-zero entries, in column order, is the full running
sum at those columns, and between two of them the full one stays flat. With C_0 = 0 and C_t
the running sum after the row's t-th non-zero entry (at column k_t), the full running sum
at column i is C_n(i), n(i) the number of non-zero entries at columns <= i. Entries are not
negative, so C never decreases and the columns counted are a prefix: for s = draw * C_m
(m entries) >= 0, C_0 <= s always, and with T the number of t >= 1 with C_t <= s, the full
count is V when T = m, else the column k_{T+1} of the first entry whose running sum passes
s. A row of NaN (s is NaN) counts nothing: token 0, as the definition gives.
"""

from __future__ import annotations

import numpy as np

from audit_core.models.ragged_rows import RaggedRows

# Below this share of non-zero entries the compact running sums are cheaper than the full
# row's (measured on the demo's 801-token rows; top-p 0.95 keeps about 6% of them).
_SPARSE_SHARE = 0.25
# Rows are summed in groups of similar entry counts (ragged_rows.py).
_GROUP_WIDTHS = (32, 128, 512)


def draw_tokens(probs: np.ndarray, draws: np.ndarray, support: np.ndarray | None = None) -> np.ndarray:
    """Per row of `probs` (rows, V) float64, non-negative, not necessarily normalised, the
    token the uniform `draws` (rows,) in [0, 1) select: the definition's, to the bit.
    `support`: flat indices, in row-major order, of entries that may be non-zero (every
    other entry is 0; a zero listed does no harm: its running sum stays flat), or None."""
    rows, width = probs.shape
    if support is None:
        support = np.flatnonzero(probs != 0)
    if len(support) > _SPARSE_SHARE * probs.size:
        cumulative = np.cumsum(probs, axis=1)
        scaled = draws * cumulative[:, -1]
        return np.minimum((cumulative <= scaled[:, None]).sum(axis=1), width - 1)
    entries = RaggedRows(support, probs)
    # A row without entries is all zeros: every running sum is 0 <= s, the last token.
    token = np.full(rows, width - 1)
    for block in entries.blocks(tuple(w for w in _GROUP_WIDTHS if w < width) + (width,)):
        running = np.cumsum(block.pad(entries.values), axis=1)  # the padding leaves each total as it is
        scaled = draws[block.rows] * running[:, -1]
        # T (module doc); the padding, equal to C_m, only counts when T = m already.
        passed = (running <= scaled[:, None]).sum(axis=1)
        counts = entries.counts[block.rows]
        column = entries.column[entries.start[block.rows] + np.minimum(passed, counts - 1)]
        chosen = np.where(passed >= counts, width - 1, column)
        chosen[~(scaled >= 0)] = 0
        token[block.rows] = chosen
    return token
