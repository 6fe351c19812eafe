"""The generation step's time before the run, from the requests the probes will declare.

The estimate asks each generating probe for its requests as the run will (`generation`,
on the cohorts the estimate has read; the membership scores a probe may pick patients by
are not known yet, so zeros stand in: they change which patients, not how many), groups
and batches them as the schedule will (generation/schedule.py), and prices every batch:
a model call per step at the batch's rows, from the decode cost timed on the audited model
or taken from the calibration (kinds/estimates.py). A continuation that can stop (EOS) is
counted to about where a typical record ends; a batch makes a call per step to its horizon.

A probe whose requests cannot be listed here (one that decodes in stages, T5's variants of
the patients its screen flags) is counted by its formula (kinds/generation_work.py).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.generation import GenerationSchedule, Request
from audit_core.generation.schedule import batches_of
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.plan.parsing import AuditPlan
from audit_core.probes.base import Probe, ProbeContext
from audit_core.probes.generating import batch_rows, declaring
from audit_core.probes.selection import resolve_thresholds
from audit_core.work.progress import Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Schedule:
    """What the generation step will decode: per declaring probe its tokens, and the model
    calls of the merged batches (sampled and greedy apart, as they cost differently)."""

    tokens: dict[str, int]  # probe -> row-steps it asks for
    calls: int
    row_steps: int
    greedy_calls: int
    greedy_row_steps: int
    batches: int = 0


def declared_requests(plan: AuditPlan, selected: Sequence[tuple[Probe, object]], model: OnnxCausalLM,
                      cohorts: Mapping[Role, Cohort], token_ids: Mapping[Role, Sequence[np.ndarray]],
                      tokenizer: Any, info: Any) -> dict[str, list[Request]]:
    """Each declaring probe's requests, listed as the run lists them (a probe whose listing
    fails here is left out: the caller counts it by its formula)."""
    thresholds = resolve_thresholds(plan)
    out: dict[str, list[Request]] = {}
    for probe, config in declaring(selected):
        seed = (plan.audit.seed, zlib.crc32(probe.id.encode()))
        ctx = ProbeContext(
            cohorts=dict(cohorts), token_ids=token_ids, model=model, thresholds=thresholds[probe.family],
            rng=np.random.default_rng(list(seed)), seed=seed, progress=Progress(),
            reduced={role: np.zeros(len(token_ids[role])) for role in Role},
            tokenizer=tokenizer, columns=plan.data.columns, model_info=info)
        try:
            out[probe.id] = list(probe.generation(config, ctx))  # type: ignore[attr-defined]
        except Exception as exc:  # counted by its formula instead
            log.info("%s: requests not listed for the estimate (%s)", probe.id, type(exc).__name__)
    return out


def expected_steps(request: Request, typical: float) -> float:
    """The steps a continuation is expected to take: its horizon, or, when it can stop
    (EOS), about where a record of `typical` tokens ends (a finished row leaves its batch;
    kinds/decoding_cost.request_work counts the same way)."""
    if not request.stops:
        return float(request.steps)
    return max(1.0, min(request.steps, typical - len(request.prompt)))


def schedule_of(model: OnnxCausalLM, requests: Mapping[str, list[Request]],
                selected: Sequence[tuple[Probe, object]], typical: float) -> Schedule:
    """The merged schedule's batches, counted without decoding (a batch makes a model
    call per step until its longest row ends: its horizon)."""
    schedule = GenerationSchedule(model, batch_rows=batch_rows(selected))
    every: dict[str, Request] = {}
    for asked in requests.values():
        for request in asked:
            every.setdefault(request.key, request)
    calls = row_steps = greedy_calls = greedy_row_steps = batches = 0
    for batch in batches_of(schedule, list(every.values())):
        batches += 1
        steps = max(r.steps for r in batch)
        tokens = int(sum(r.n * expected_steps(r, typical) for r in batch))
        if batch[0].greedy:
            greedy_calls, greedy_row_steps = greedy_calls + steps, greedy_row_steps + tokens
        else:
            calls, row_steps = calls + steps, row_steps + tokens
    return Schedule({p: sum(r.n * r.steps for r in asked) for p, asked in requests.items()},
                    calls, row_steps, greedy_calls, greedy_row_steps, batches)
