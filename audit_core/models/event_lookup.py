"""Finding a row's event features among the audited records, from its token ids alone.

Probes hand the model plain ids: a record (scored), its prefix (an extraction prompt), or
its prefix with the sensitive codes left out (clinical/sensitive_inputs.py). An EHR model
needs those tokens' real times, ages and visits, so the adapter looks them up here:

* each record's ids are a byte string (4 big-endian bytes per token), so byte order is the
  lexicographic order of the token sequences and a prefix sorts just before the records
  it starts; the records are kept sorted and `bisect` finds, for a row's first L tokens,
  whether some record starts with them in O(log n); the longest such L is found by a
  binary search over L (a prefix of a prefix is a prefix);
* past that point a row may have skipped record tokens (codes left out of a prompt): each
  token the records hold next is tried as a skipped one, and the row goes on matching
  after it, depth first, within a fixed budget of look-ups per row.

The tokens matched get their record's values; the others, and any token after the last
match (generated ones), follow the rule (models/side_inputs.extended). Where several
records fit (equal prefixes), the first in sorted order (then file order) is taken: ids
alone cannot tell them apart, and a caller that knows the record passes its events.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

from audit_core.data.events import EventFeatures

# Look-ups (bisections) one row may cost when tokens were left out; a row is matched as
# far as the budget reaches and the rest follows the rule.
LOOKUP_BUDGET = 4096
_WIDTH = 4  # bytes per token id in a key
_CACHE_LIMIT = 50_000  # rows remembered (probes prompt the same rows several times)


def _key(ids: np.ndarray) -> bytes:
    return np.asarray(ids, dtype=">u4").tobytes()


class RecordIndex:
    """The audited records' ids and event features, sorted for prefix look-ups."""

    def __init__(self, token_ids: Sequence[np.ndarray], events: Sequence[EventFeatures]) -> None:
        if len(token_ids) != len(events):
            raise ValueError("one EventFeatures per record is needed")
        keys = [_key(ids) for ids in token_ids]
        order = sorted(range(len(keys)), key=keys.__getitem__)  # stable: file order on ties
        self._keys = [keys[i] for i in order]
        self._events = [events[i] for i in order]
        self._cache: dict[bytes, tuple[int, np.ndarray]] = {}

    def find(self, row: np.ndarray) -> EventFeatures | None:
        """The events of `row`'s tokens that match a record (in row order), then the rule;
        None when not even its first token starts a record."""
        key = _key(row)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._align(key)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = hit
        record, positions = hit
        if record < 0:
            return None
        matched = self._events[record].take(positions)
        # Tokens after the last match: the rule (same values as the token before).
        index = np.minimum(np.arange(len(row)), len(positions) - 1)
        return matched.take(index)

    def _align(self, row: bytes) -> tuple[int, np.ndarray]:
        """(sorted record index, record position of each matched row token), the row
        matched from its start as a subsequence of one record; (-1, []) if nothing does.

        Best first: the partial match that covers the most row tokens (then the fewest
        skipped record tokens) is extended next, so a wrong guess at a left-out token,
        after which the row matches nothing, is only pursued when nothing better is left."""
        budget = [LOOKUP_BUDGET]
        tokens = len(row) // _WIDTH
        counter = 0
        root = self._grown(b"", 0, [], 0, len(self._keys), row, budget)
        if root[1] == 0:  # a row's first token (the start token) is never left out
            return -1, np.zeros(0, dtype=np.int64)
        best = root
        heap = [(-root[1], 0, counter, root)]
        while heap and budget[0] > 0 and best[1] < tokens:
            _, skipped, _, (prefix, done, positions, lo, hi) = heapq.heappop(heap)
            at = lo
            while at < hi and budget[0] > 0:  # each token a record holds next may be left out
                if len(self._keys[at]) == len(prefix):  # a record that ends here
                    at += 1
                    continue
                nxt = prefix + self._keys[at][len(prefix):len(prefix) + _WIDTH]
                end = self._end(nxt, at, hi)
                budget[0] -= 1
                child = self._grown(nxt, done, positions, at, end, row, budget)
                counter += 1
                heapq.heappush(heap, (-child[1], skipped + 1, counter, child))
                if child[1] > best[1]:
                    best = child
                at = end
        _, _, positions, lo, _ = best
        return lo, np.asarray(positions, dtype=np.int64)

    def _grown(self, prefix: bytes, done: int, positions: list[int], lo: int, hi: int,
               row: bytes, budget: list[int]) -> tuple[bytes, int, list[int], int, int]:
        """A partial match extended by as many of the row's next tokens as some record in
        [lo, hi) (all starting with `prefix`) holds next: (prefix, row tokens matched,
        their record positions, the records' range)."""
        rest = row[done * _WIDTH:]
        grow = self._longest(prefix, rest, lo, hi, budget)
        base = len(prefix) // _WIDTH
        if grow:
            prefix += rest[:grow * _WIDTH]
            lo = bisect_left(self._keys, prefix, lo, hi)
            hi = self._end(prefix, lo, hi)
        return prefix, done + grow, positions + list(range(base, base + grow)), lo, hi

    def _longest(self, prefix: bytes, rest: bytes, lo: int, hi: int, budget: list[int]) -> int:
        """The most tokens of `rest` that extend `prefix` to the start of a record in
        [lo, hi): a binary search over the length, one bisection per step."""
        low, high = 0, len(rest) // _WIDTH
        while low < high:
            mid = (low + high + 1) // 2
            probe = prefix + rest[:mid * _WIDTH]
            at = bisect_left(self._keys, probe, lo, hi)
            budget[0] -= 1
            if at < hi and self._keys[at].startswith(probe):
                low = mid
            else:
                high = mid - 1
        return low

    def _end(self, prefix: bytes, lo: int, hi: int) -> int:
        """One past the last record in [lo, hi) that starts with `prefix`."""
        if not prefix:
            return hi
        value = int.from_bytes(prefix, "big") + 1
        if value >> (8 * len(prefix)):  # all 0xff: nothing sorts after it
            return hi
        return bisect_left(self._keys, value.to_bytes(len(prefix), "big"), lo, hi)
