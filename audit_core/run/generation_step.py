"""The run's generation step: every generating probe's requests, decoded in one schedule
before the probes run (generation/schedule.py says why and how).

A probe declares its requests with `generation(config, ctx)` (the prompts and seeds its
`run` will ask for); the answers kept for the probes are bounded (generation/kept_answers.py). A
probe whose outcome the checkpoint already holds declares nothing (a resumed run does not
decode for it again). A declaration that fails, or a merged run
that fails, is logged and left to the probes: each then decodes on the spot, so a failure
stays that probe's (recorded as not assessed), as when every probe decoded by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from audit_core.generation import GenerationSchedule, kept_answers
from audit_core.generation.schedule import Counts
from audit_core.probes.base import Probe, ProbeContext
from audit_core.probes.generating import declaring
from audit_core.results.result import ProbeResult
from audit_core.work.checkpoints import OpenCheckpoint
from audit_core.work.progress import Cancelled, Progress

log = logging.getLogger(__name__)

def run_generation(schedule: GenerationSchedule, selected: Sequence[tuple[Probe, object]],
                   context_of: Callable[[Probe], ProbeContext], saved: OpenCheckpoint,
                   progress: Progress) -> None:
    """Declare every unfinished generating probe's requests and decode them together; from
    the first probe whose answers would take the kept answers past the budget
    (generation/kept_answers.py), the probes are not declared: each decodes on the spot,
    when it runs."""
    kept: list[int] = []  # the declared probes' answer bytes
    # Listing takes a few seconds on a large cohort (prompts, sensitive codes, templates):
    # said, and counted in this step's time as the estimate counts it.
    progress.advance(0.0, "listing the probes' requests")
    for probe, config in declaring(selected):
        if saved.load(f"probe/{probe.id}") is not None:
            continue  # resumed: its outcome is read back, nothing to decode
        try:
            requests = list(probe.generation(config, context_of(probe)))  # type: ignore[attr-defined]
            sizes = [*kept, kept_answers.answer_bytes(requests)]
            if kept_answers.declared_count(sizes) < len(sizes):
                log.info("%s and the generating probes after it decode when they run (the merged "
                         "step keeps at most %d MB of answers)", probe.id,
                         kept_answers.KEPT_BUDGET_BYTES // 1_000_000)
                break
            kept = sizes
            schedule.declare(probe.id, requests)
        except Cancelled:
            raise
        except Exception as exc:  # the probe's own run meets it again and is reported
            log.warning("%s: its requests could not be listed ahead (%s); it decodes when it runs",
                        probe.id, type(exc).__name__)
    try:
        schedule.run(progress)
    except Cancelled:
        raise
    except Exception as exc:
        log.warning("the merged generation failed (%s); each probe decodes when it runs",
                    type(exc).__name__)


def with_generation_seconds(results: list[ProbeResult], counts: Counts) -> list[ProbeResult]:
    """Each probe's seconds with its share of the merged decoding (in proportion to the
    tokens it asked for): run.json's per-probe seconds stay what each probe cost. What a
    probe decoded on the spot is inside its own seconds already."""
    return [replace(r, seconds=r.seconds + counts.by_probe[r.id]) if r.id in counts.by_probe else r
            for r in results]


def in_plan_order(results: list[ProbeResult], selected: Sequence[tuple[Probe, object]]) -> list[ProbeResult]:
    """The results in the plan's order (the probes that decode nothing ran first)."""
    rank = {probe.id: i for i, (probe, _) in enumerate(selected)}
    return sorted(results, key=lambda r: rank.get(r.id, len(rank)))
