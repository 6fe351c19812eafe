"""run_audit: one plan in, one result out. The CLI and the desktop app both call this.

One path for every model kind. The model's kind (models.inspection.model_kind, read from
its ONNX signature) picks its entry in kinds.KINDS, whose `prepare` checks the plan,
reads the model and both cohorts, refuses what cannot be audited and runs the model-free
split check. Then, here, for every kind: the audit's fingerprint, computed once (the plan,
the model's files, the reference model's when there is one, both cohorts' SHA-256) and
used both as the checkpoint's key and as the audit id; the kind's shared pass, each piece
a unit of work the checkpoint keeps; the probes, each in its own slice of progress and
each outcome a unit of work too. A probe that crashes is recorded as not assessed; a
cancel keeps the probes that finished.
"""

from __future__ import annotations

import logging
import time
import zlib
from datetime import UTC, datetime
from typing import Any

import numpy as np

from audit_core.cluster.session import Session, cluster_session
from audit_core.data.cohort import Role
from audit_core.families import Thresholds
from audit_core.generation import GenerationSchedule
from audit_core.generation.schedule import Counts
from audit_core.kinds import kind_for
from audit_core.kinds.base import Prepared, SharedPass
from audit_core.models.inspection import model_kind
from audit_core.plan.parsing import AuditPlan
from audit_core.plan.span_settings import LOCALISATION_LABEL, MemorizedSpansSettings
from audit_core.plan.thresholds import SplitValidityThresholds
from audit_core.probes.base import Probe, ProbeContext
from audit_core.probes.generating import GENERATION_LABEL, batch_rows, generation_weight
from audit_core.probes.run_memo import RunMemo

# The selection functions are part of this module's interface too (the desktop, the
# estimate and the tests import them from here).
from audit_core.probes.selection import (
    left_out_for_records,
    resolve_probes,
    resolve_thresholds,
    supported_probes,
)
from audit_core.results.memorized_spans import MemorizedSpans
from audit_core.results.result import AuditResult, ProbeResult, decode_probe, encode_probe
from audit_core.results.sections import AuditSection, DatasetSection
from audit_core.results.verdicts import Verdict, worst
from audit_core.run.assembly import (
    environment,
    mark_split,
    rationale,
    record_table,
    run_probe,
    utc,
    with_refs,
)
from audit_core.run.fingerprint import Fingerprint, audit_fingerprint
from audit_core.run.generation_step import in_plan_order, run_generation, with_generation_seconds
from audit_core.run.localisation_step import localisation_weight, localised, with_record_ids
from audit_core.run.output_folder import check_same_audit
from audit_core.run.pseudonyms import cohort_key
from audit_core.run.validation_record import latest_validation
from audit_core.work.checkpoints import CheckpointRequest, NoCheckpoint, OpenCheckpoint
from audit_core.work.progress import Cancelled, CancelToken, Progress, ProgressCallback, ignore_progress
from audit_core.work.units import resumable

__all__ = ["fingerprint", "resolve_probes", "resolve_thresholds", "run_audit", "supported_probes"]

log = logging.getLogger(__name__)

_PASS_START = 0.02  # reading the model and the files, and the split check, come before


def run_audit(plan: AuditPlan, *, on_progress: ProgressCallback = ignore_progress,
              cancel: CancelToken | None = None,
              checkpoint: CheckpointRequest | None = None) -> AuditResult:
    """`checkpoint`: keep finished work in that folder and, when it says so, resume from it.
    `plan.run`: where it runs, here or on a Ray cluster (audit_core/cluster/, same results)."""
    with cluster_session(plan.run) as cluster:  # one that cannot be joined is refused first
        return _audit(plan, on_progress, cancel, checkpoint, cluster)


def _audit(plan: AuditPlan, on_progress: ProgressCallback, cancel: CancelToken | None,
           checkpoint: CheckpointRequest | None, cluster: Session) -> AuditResult:
    started = datetime.now(UTC)
    clock = time.perf_counter()
    progress = Progress(on_progress, cancel)
    kind = model_kind(plan.model.path)
    prepared = kind_for(kind).prepare(plan, kind, progress)
    identity = fingerprint(plan, prepared)
    # A cluster's workers, started (or refused) before anything is written; None: inline.
    shards = cluster.start(plan, prepared)
    # Opened once everything that can refuse the inputs has run: a refused run leaves nothing.
    saved: OpenCheckpoint = _open(checkpoint, identity) if checkpoint is not None else NoCheckpoint()

    # The probes that decode nothing run first (their results stand if the run is stopped
    # during the generation step), then the generation step, then the probes that read it;
    # results keep the plan's order. The localisation of memorized spans comes last.
    order = ([pc for pc in prepared.selected if not generation_weight(pc[0])]
             + [pc for pc in prepared.selected if generation_weight(pc[0])])
    step_at = sum(1 for p, _ in order if not generation_weight(p))  # the generation step's slice
    weights = [probe.weight - generation_weight(probe) for probe, _ in order]
    weights.insert(step_at, sum(generation_weight(p) for p, _ in order))
    weights.append(localisation_weight(plan, prepared))
    edges = prepared.pass_end + (1.0 - prepared.pass_end) * np.cumsum([0.0] + weights) / sum(weights)
    shared = SharedPass()
    memo = RunMemo()  # what two probes compute alike, once (probes/run_memo.py)
    schedule = GenerationSchedule(prepared.model, batch_rows=batch_rows(prepared.selected), shards=shards,
                                  checkpoint=saved if checkpoint is not None else None)
    probe_results: list[ProbeResult] = []
    spans = None
    outcome = "completed"
    try:
        shared = prepared.shared_pass(
            saved, progress.slice(_PASS_START, prepared.pass_end, prepared.pass_label), shards)
        if shared.cancelled:  # what the pass finished is kept; no probe can run
            raise Cancelled()
        for index, (probe, config) in enumerate(order):
            if index == step_at:
                run_generation(schedule, prepared.selected,
                               lambda p: _context(plan, prepared, shared, p, progress.silent(), schedule, memo),
                               saved, progress.slice(edges[index], edges[index + 1], GENERATION_LABEL))
            at = index + (index >= step_at)
            slice_ = progress.slice(edges[at], edges[at + 1], probe.id)
            ctx = _context(plan, prepared, shared, probe, slice_, schedule, memo)
            # A probe that crashed is not kept: a resumed run tries it again.
            probe_results.append(resumable(
                saved, f"probe/{probe.id}",
                lambda: mark_split(run_probe(probe, config, ctx, ctx.thresholds,
                                             crashed=probe.id in shared.broken), prepared.split),
                encode_probe, decode_probe, keep=lambda r: r.verdict is not Verdict.ERROR))
            slice_.advance(1.0, "finished")
        # In the plan's order: the strongest attack is the first of equal AUCs.
        spans = localised(plan, prepared, in_plan_order(probe_results, prepared.selected), saved,
                          progress.slice(edges[-2], edges[-1], LOCALISATION_LABEL))
        progress.advance(1.0, "done")
    except Cancelled:
        outcome = "cancelled"
        log.info("audit cancelled; %d probe(s) finished", len(probe_results))
    finally:
        saved.close()
    probe_results = in_plan_order(with_generation_seconds(probe_results, schedule.counts),
                                  prepared.selected)
    return _result(plan, prepared, shared, probe_results, outcome, identity, started, clock,
                   saved.resumed, left_out_for_records(plan, kind), spans, schedule.counts,
                   cluster.record())


def fingerprint(plan: AuditPlan, prepared: Prepared) -> Fingerprint:
    """What the audit's results are a function of: its checkpoint's key and its id."""
    return audit_fingerprint(plan.as_dict(), prepared.model_info.files,
                             prepared.cohorts[Role.MEMBERS].info.sha256,
                             prepared.cohorts[Role.NON_MEMBERS].info.sha256,
                             prepared.reference_info.files if prepared.reference_info is not None
                             else None)


def _open(checkpoint: CheckpointRequest, identity: Fingerprint) -> OpenCheckpoint:
    # The first moment the audit's identity is known, before any model work, and before a
    # restart discards anything: another audit's folder keeps its checkpoint too.
    check_same_audit(checkpoint.folder, identity.audit_id())
    return checkpoint.open(identity)


def _context(plan: AuditPlan, prepared: Prepared, shared: SharedPass, probe: Probe,
             progress: Progress, schedule: GenerationSchedule, memo: RunMemo) -> ProbeContext:
    probe_id = probe.id
    thresholds = _thresholds(prepared, probe.family)
    seed = (plan.audit.seed, zlib.crc32(probe_id.encode()))
    return ProbeContext(
        cohorts=prepared.cohorts, token_ids=prepared.token_ids, model=prepared.model,
        token_events=prepared.token_events,
        reduced={role: values[probe_id] for role, values in shared.reduced.items()
                 if probe_id in values},
        reference_scored=prepared.reference_info is not None,
        thresholds=thresholds,
        rng=np.random.default_rng(list(seed)), seed=seed, schedule=schedule, memo=memo,
        progress=progress, tokenizer=prepared.tokenizer, columns=plan.data.columns,
        model_info=prepared.model_info, outputs=shared.outputs)


def _thresholds(prepared: Prepared, family: str) -> Thresholds:
    """A probe family's thresholds (the split check's table is no probe's)."""
    thresholds = prepared.thresholds[family]
    # no probe's family is the split check's or the localisation's table
    assert not isinstance(thresholds, (SplitValidityThresholds, MemorizedSpansSettings))
    return thresholds


def _result(plan: AuditPlan, prepared: Prepared, shared: SharedPass, probe_results: list[ProbeResult],
            outcome: str, identity: Fingerprint, started: datetime, clock: float,
            resumed: int, not_applicable: list[dict[str, str]],
            spans: MemorizedSpans | None = None, generation: Counts | None = None,
            cluster: dict[str, Any] | None = None) -> AuditResult:
    cohorts = prepared.cohorts
    # Derived, not drawn: a rerun of the same audit gives the same pseudonyms (see
    # pseudonyms.py), and only someone holding the patient files can recompute them.
    content = prepared.key_records or {role: cohort.sequences for role, cohort in cohorts.items()}
    key = cohort_key(plan.audit.seed, ((r.value, cohorts[r].ids, content[r]) for r in Role))
    probe_results = [with_refs(r, cohorts, key) for r in probe_results]
    finished = datetime.now(UTC)
    overall = worst([r.verdict for r in probe_results])
    if outcome == "cancelled":
        overall = worst([overall, Verdict.INCONCLUSIVE])
    audit: AuditSection = {
        "id": identity.audit_id(), "title": plan.audit.title,
        "institution": plan.audit.institution, "requester": plan.audit.requester,
        "auditor": plan.audit.auditor, "intended_use": plan.audit.intended_use,
        "release_context": plan.audit.release_context,
        "started_utc": utc(started), "finished_utc": utc(finished),
        "seconds": round(time.perf_counter() - clock, 2), "outcome": outcome,
        "seed": plan.audit.seed}
    return AuditResult(
        audit=audit,
        overall_verdict=overall,
        overall_rationale=rationale(overall, probe_results, outcome, len(prepared.selected)),
        model=prepared.model_section,
        datasets=tuple(_windowed(entry, shared.windows.get(role))
                       for role, entry in zip(Role, prepared.datasets, strict=True)),
        probes=tuple(probe_results),
        plan=plan.as_dict(),
        environment=environment(),
        validation=latest_validation(),  # the installation's latest self-validation, or none
        records=record_table(cohorts, prepared.token_ids, shared.windows, key),
        split_validity=prepared.split.as_dict(),
        resumed=resumed,
        not_applicable=tuple(not_applicable),
        memorized_spans=with_record_ids(spans, cohorts, key),
        generation=generation.as_dict() if generation is not None and generation.requests else None,
        cluster=cluster,
        device=getattr(prepared.model, "device_facts", None),
    )


def _windowed(entry: DatasetSection, windows: np.ndarray | None) -> DatasetSection:
    """How many records were read in more than one context window, for a cohort the
    scoring pass scored (`windows`: each record's count); else the entry as the kind wrote it."""
    if windows is None:
        return entry
    return {**entry, "records_windowed": int((windows > 1).sum())}
