"""Which probes declare their generation ahead, and what the generation step takes from
them: the batch size and its share of the progress bar (the run's generation step,
run/generation_step.py, and the estimate, kinds/generation_estimate.py, read the same)."""

from __future__ import annotations

from collections.abc import Sequence

from audit_core.generation.schedule import DEFAULT_BATCH_ROWS
from audit_core.probes.base import Probe

GENERATION_LABEL = "generation"  # the progress bar's words, and the estimate's phase name
# The share of a declaring probe's progress-bar weight that its decoding takes (the rest
# is its statistics); the generation step's slice is the sum of those shares.
GENERATION_SHARE = 0.8


def declaring(selected: Sequence[tuple[Probe, object]]) -> list[tuple[Probe, object]]:
    """The selected probes that declare their generation ahead."""
    return [(p, c) for p, c in selected if p.needs.generation and hasattr(p, "generation")]


def batch_rows(selected: Sequence[tuple[Probe, object]]) -> int:
    """Continuations per model call: the largest `batch_size` the declaring probes set (the
    schedule also caps a batch by its KV cache's memory: generation/schedule.py), else the
    schedule's default."""
    sizes = [int(c.batch_size) for _, c in declaring(selected) if hasattr(c, "batch_size")]
    return max(sizes) if sizes else DEFAULT_BATCH_ROWS


def generation_weight(probe: Probe) -> float:
    return probe.weight * GENERATION_SHARE if hasattr(probe, "generation") and probe.needs.generation else 0.0
