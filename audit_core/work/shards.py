"""Shards: a seam through which the two expensive loops of a run may be spread over workers.

The shared scoring pass (each chunk of records a shard) and the generation schedule (each
batch of requests a shard) are loops of independent pieces whose results the run folds in
a fixed order. Locally they run inline, as they always have (no `Shards` is given). On a
cluster (audit_core/cluster/) a `Shards` runs each piece on a worker that holds its own
copy of the models and hands the results back in the order the pieces were given, so the
driver reduces, checkpoints and reports progress exactly as the inline loop does.

An operation is named, not passed as a function: the worker looks the name up in its own
table of functions (cluster/worker.py), so nothing but data travels to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

# The operations a worker knows: a chunk of the scoring pass, a batch of generation.
SCORE = "score"
DECODE = "decode"


class Shards(Protocol):
    """Runs `operation` on each payload on some worker; yields the results in the payloads'
    order, with a bounded number of payloads in flight (memory stays flat)."""

    @property
    def workers(self) -> int: ...

    def map(self, operation: str, payloads: Iterable[Any]) -> Iterator[Any]: ...
