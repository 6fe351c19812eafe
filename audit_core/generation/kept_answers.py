"""How much of the probes' answers the generation step keeps at once, and the rule that
bounds it.

The merged step (run/generation_step.py) decodes the declared requests before any probe
runs and keeps the answers until each probe asks: memory that grows with the cohort (1M
records: 1.2 GB with the demo plan's probes, benchmarks/cohort_memory.py). Probes are
declared in the run's order while their answers fit in KEPT_BUDGET_BYTES (the first always
is); from the first that does not, every probe decodes on the spot when it runs (the same
answers: a row's tokens depend on its prompt and its own draws only). The declared probes
run first and let their answers go, so the answers held at once are the budget's or one
probe's, whichever is more. The estimate's memory figure counts the same (`kept_at_once`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from audit_core.generation.requests import Request

KEPT_BUDGET_BYTES = 512_000_000


def answer_bytes(requests: Iterable[Request]) -> int:
    """What `requests`' answers hold until asked for: each decoded token's id (int64) and its
    watched sets' probability mass (float64 each)."""
    return sum(r.n * r.steps * 8 * (1 + (len(r.watch.sets) if r.watch is not None else 0))
               for r in requests)


def declared_count(sizes: Sequence[int], budget: int | None = None) -> int:
    """How many of the probes, in the run's order, are declared, given each one's answer
    bytes: those before the first whose answers would pass the budget (at least one)."""
    budget = KEPT_BUDGET_BYTES if budget is None else budget
    kept = 0
    for count, size in enumerate(sizes):
        if count and kept + size > budget:
            return count
        kept += size
    return len(sizes)


def kept_at_once(sizes: Sequence[int]) -> int:
    """The most answer bytes held at once: the declared probes' together, or the largest
    probe decoded on the spot."""
    declared = declared_count(sizes)
    return max(sum(sizes[:declared]), max(sizes[declared:], default=0))
