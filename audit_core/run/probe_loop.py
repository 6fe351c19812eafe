"""The audit paths of the model kinds other than causal language models.

`runner.run_audit` reads the model's kind from its ONNX signature and hands tabular
classifiers and encoders here. Each path loads its own model and data and runs its own
shared pass; the probes, the split check, the verdicts and the result are those of the
language-model path (the runner's helpers, imported rather than copied). So is the
checkpoint: the same fingerprint, each piece of the shared pass and each probe's outcome
a unit of work, so `--resume` continues an interrupted run of any model kind.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from audit_core.run.checkpoints import CheckpointRequest, NoCheckpoint, audit_fingerprint
from audit_core.data.cohort import Cohort, Role
from audit_core.data.split_validity import SplitValidity
from audit_core.plan.parsing import AuditPlan
from audit_core.probes.base import ProbeContext
from audit_core.run.progress import CancelToken, Cancelled, Progress, ProgressCallback, ignore_progress
from audit_core.results.result import AuditResult, ProbeResult
from audit_core.results.verdicts import Verdict, worst

log = logging.getLogger(__name__)


def run_other_kind(plan: AuditPlan, kind: str, *, on_progress: ProgressCallback = ignore_progress,
                   cancel: CancelToken | None = None,
                   checkpoint: CheckpointRequest | None = None) -> AuditResult:
    from audit_core.models.inspection import TABULAR_CLASSIFIER

    if kind == TABULAR_CLASSIFIER:
        from audit_core.kinds.tabular import run_tabular_audit

        return run_tabular_audit(plan, on_progress=on_progress, cancel=cancel, checkpoint=checkpoint)
    from audit_core.kinds.encoder import run_encoder_audit

    return run_encoder_audit(plan, kind, on_progress=on_progress, cancel=cancel,
                             checkpoint=checkpoint)


def open_checkpoint(checkpoint: CheckpointRequest | None, plan: AuditPlan, model_info: Any,
                    cohorts: dict[Role, Cohort], reference_info: Any = None) -> Any:
    """The run's checkpoint (NoCheckpoint without a request), keyed like a language-model
    audit's: the plan, the model's files (the reference's too) and both files' hashes.
    Opened once everything that can refuse the inputs has run, so a refused run leaves
    nothing behind; closed by `run_probes_and_assemble`."""
    if checkpoint is None:
        return NoCheckpoint()
    fingerprint = audit_fingerprint(plan.as_dict(), model_info.files,
                                    cohorts[Role.MEMBERS].info.sha256,
                                    cohorts[Role.NON_MEMBERS].info.sha256,
                                    reference_info.files if reference_info is not None else None)
    return checkpoint.open(fingerprint)


def shared_pass(saved: Any, compute: Callable[[], Any]) -> Any | None:
    """`compute()`, or None when the run is cancelled in it (its finished units are saved;
    the result then says cancelled, with no probe). Any other failure closes the checkpoint
    on its way out, keeping the units that finished for a --resume."""
    try:
        return compute()
    except Cancelled:
        log.info("audit cancelled in the shared pass")
        return None
    except BaseException:
        saved.close()
        raise


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """What a kind's path hands to `run_probes_and_assemble` once model and data are read."""

    plan: AuditPlan
    selected: list[tuple[Any, Any]]
    thresholds: dict[str, Any]
    cohorts: dict[Role, Cohort]
    split: SplitValidity
    model: dict[str, Any]  # results.json's model section
    datasets: tuple[dict[str, Any], ...]
    outputs: Any  # ProbeContext.outputs; None when the run was cancelled in the shared pass
    started: datetime
    clock: float
    extra_context: dict[str, Any]  # more ProbeContext fields (token_ids, model, model_info, ...)
    # Each record's content as text, for the pseudonym key (pseudonyms.cohort_key), when the
    # cohorts carry no record text (tabular rows); None: the cohorts' own sequences.
    key_records: dict[Role, tuple[str, ...]] | None = None
    checkpoint: Any = field(default_factory=NoCheckpoint)  # each probe's outcome is a unit


def run_probes_and_assemble(prepared: Prepared, progress: Progress, start: float) -> AuditResult:
    """Run the probes from `start` to the end of the progress bar, then build the result."""
    from audit_core.run.checkpoint_units import decode_probe, encode_probe, resumable
    from audit_core.run.checkpoints import stable_audit_id
    from audit_core.run.pseudonyms import cohort_key
    from audit_core.run.assembly import (
        environment,
        mark_split,
        rationale,
        record_table,
        run_probe,
        utc,
        with_refs,
    )
    from audit_core.tools.validation import latest_validation

    p = prepared
    weights = [probe.weight for probe, _ in p.selected]
    edges = start + (1.0 - start) * np.cumsum([0.0] + weights) / sum(weights)
    results: list[ProbeResult] = []
    outcome = "completed"
    try:
        if p.outputs is None:  # cancelled in the shared pass: no probe can run
            raise Cancelled()
        for index, (probe, config) in enumerate(p.selected):
            slice_ = progress.slice(edges[index], edges[index + 1], probe.id)
            ctx = ProbeContext(
                cohorts=p.cohorts, token_ids=p.extra_context.get("token_ids", {}),
                model=p.extra_context.get("model"), thresholds=p.thresholds[probe.family],
                rng=np.random.default_rng([p.plan.audit.seed, zlib.crc32(probe.id.encode())]),
                progress=slice_,
                tokenizer=p.extra_context.get("tokenizer"), columns=p.plan.data.columns,
                model_info=p.extra_context.get("model_info"), outputs=p.outputs)
            # As on the language-model path: a probe that crashed is not kept, a resume retries it.
            results.append(resumable(
                p.checkpoint, f"probe/{probe.id}",
                lambda: mark_split(run_probe(probe, config, ctx, p.thresholds[probe.family]),
                                    p.split),
                encode_probe, decode_probe, keep=lambda r: r.verdict is not Verdict.ERROR))
            slice_.advance(1.0, "finished")
        progress.advance(1.0, "done")
    except Cancelled:
        outcome = "cancelled"
        log.info("audit cancelled; %d probe(s) finished", len(results))
    finally:
        p.checkpoint.close()

    # Derived from the records and the seed, as on the language-model path: a rerun gives
    # the same pseudonyms, and only someone holding the patient files can recompute them.
    content = p.key_records or {role: cohort.sequences for role, cohort in p.cohorts.items()}
    key = cohort_key(p.plan.audit.seed, ((role.value, p.cohorts[role].ids, content[role]) for role in Role))
    results = [with_refs(r, p.cohorts, key) for r in results]
    finished = datetime.now(UTC)
    overall = worst([r.verdict for r in results])
    if outcome == "cancelled":
        overall = worst([overall, Verdict.INCONCLUSIVE])
    plan = p.plan
    # records.csv's tokens and windows columns stay 0 for records that are not token sequences.
    token_ids = p.extra_context.get("token_ids") or {
        role: [np.zeros(0, dtype=np.int64)] * len(c) for role, c in p.cohorts.items()}
    return AuditResult(
        # Derived from plan and files, as on the language-model path: reruns share the id.
        audit={"id": stable_audit_id(plan.as_dict(), p.model, p.datasets), "title": plan.audit.title,
               "institution": plan.audit.institution, "requester": plan.audit.requester,
               "auditor": plan.audit.auditor, "intended_use": plan.audit.intended_use,
               "release_context": plan.audit.release_context,
               "started_utc": utc(p.started), "finished_utc": utc(finished),
               "seconds": round(time.perf_counter() - p.clock, 2), "outcome": outcome,
               "seed": plan.audit.seed},
        overall_verdict=overall,
        overall_rationale=rationale(overall, results, outcome, len(p.selected)),
        model=p.model, datasets=p.datasets, probes=tuple(results), plan=plan.as_dict(),
        environment=environment(), validation=latest_validation(),
        records=record_table(p.cohorts, token_ids, {}, key),
        split_validity=p.split.as_dict(),
        resumed=p.checkpoint.resumed,
    )
