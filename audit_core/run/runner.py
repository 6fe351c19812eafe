"""run_audit: one plan in, one result out. The CLI and the desktop app both call this.

Order of work: check the whole plan (probe ids, settings, thresholds) before touching
any file; read the model and refuse what cannot be audited; read and check both cohorts;
run the shared scoring pass once; run the probes, each in its own slice of progress. A
probe that crashes is recorded as not assessed; a cancel keeps the probes that finished.
"""

from __future__ import annotations

import logging
import time
import zlib
from datetime import UTC, datetime
from typing import Any

import numpy as np

from audit_core.kinds.token_inputs import check_same_tokenizer, check_sizes, check_tokens, check_unknown_tokens
from audit_core.run.checkpoints import CheckpointRequest, NoCheckpoint, audit_fingerprint
from audit_core.data.cohort import Role
from audit_core.data.loading import check_disjoint, load_cohort
from audit_core.data.split_validity import check_split
from audit_core.data.subgroup_categories import check_subgroup_columns
from audit_core.errors import MnemoscopeError, ModelError
from audit_core.plan.parsing import AuditPlan
# The selection functions are part of this module's interface too (the desktop, the
# estimate and the tests import them from here).
from audit_core.plan.probe_selection import resolve_probes, resolve_thresholds, supported_probes
from audit_core.probes.base import ProbeContext
from audit_core.run.progress import CancelToken, Cancelled, Progress, ProgressCallback, ignore_progress
from audit_core.run.pseudonyms import cohort_key
from audit_core.run.assembly import (
    dataset_summary,
    environment,
    mark_split,
    rationale,
    record_table,
    run_probe,
    utc,
    with_refs,
)
from audit_core.results.result import AuditResult, ProbeResult
from audit_core.results.verdicts import Verdict, worst

__all__ = ["resolve_probes", "resolve_thresholds", "run_audit", "supported_probes"]

log = logging.getLogger(__name__)

_SCORING_WEIGHT = 6.0  # the shared pass costs about as much as six cheap probes' worth


def run_audit(plan: AuditPlan, *, on_progress: ProgressCallback = ignore_progress,
              cancel: CancelToken | None = None,
              checkpoint: CheckpointRequest | None = None) -> AuditResult:
    """`checkpoint`: keep finished work in that folder and, when it says so, resume from it."""
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.models.precision import runtime_facts
    from audit_core.models.runtime import runtime_errors
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, pad_token_id, unknown_token_id
    from audit_core.run.checkpoint_units import decode_probe, encode_probe, resumable
    from audit_core.passes.chunked_scoring import score_streamed
    from audit_core.tools.validation import latest_validation

    from audit_core.models.inspection import CAUSAL_LM, UNKNOWN, model_kind

    kind = model_kind(plan.model.path)
    if kind not in (CAUSAL_LM, UNKNOWN):  # tabular classifiers and encoders have their own path
        from audit_core.run.probe_loop import run_other_kind

        return run_other_kind(plan, kind, on_progress=on_progress, cancel=cancel, checkpoint=checkpoint)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    progress = Progress(on_progress, cancel)
    selected = resolve_probes(plan)
    thresholds = resolve_thresholds(plan)

    progress.advance(0.0, "reading the model")
    info = inspect_model(plan.model.path, plan.model.context_length)
    selected = supported_probes(selected, info, explicit=plan.probes is not None)
    model = OnnxCausalLM(info, plan.model.threads, provider=plan.model.provider,
                         precision=plan.model.precision)
    for probe, config in selected:
        validate = getattr(probe, "validate", None)
        if validate is not None:
            validate(config, model.context_length)
    tokenizer = load_tokenizer(info.folder)
    reference = _open_reference(plan, model) if plan.model.reference is not None else None

    progress.advance(0.01, "reading the cohorts")
    cohorts = {Role.MEMBERS: load_cohort(plan.data.members, Role.MEMBERS, plan.data.columns),
               Role.NON_MEMBERS: load_cohort(plan.data.non_members, Role.NON_MEMBERS, plan.data.columns)}
    check_disjoint(cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS])
    check_subgroup_columns(cohorts, thresholds)  # before any scoring: values are data
    check_sizes(cohorts, thresholds["split_validity"].folds)
    token_ids = {role: encode_all(tokenizer, list(c.sequences), c.info.file)
                 for role, c in cohorts.items()}
    check_tokens(token_ids, cohorts, model.vocab_size, info.name)
    check_unknown_tokens(token_ids, cohorts, unknown_token_id(tokenizer), info.name)
    runtime = runtime_facts(model, token_ids[Role.MEMBERS] + token_ids[Role.NON_MEMBERS],
                            pad_id=pad_token_id(tokenizer), batch_size=plan.model.batch_size)
    if reference is not None:
        check_same_tokenizer(tokenizer, reference, token_ids, cohorts)
    unk = unknown_token_id(tokenizer)
    fingerprint = audit_fingerprint(plan.as_dict(), info.files, cohorts[Role.MEMBERS].info.sha256,
                                    cohorts[Role.NON_MEMBERS].info.sha256,
                                    reference[1].files if reference is not None else None)
    saved = checkpoint.open(fingerprint) if checkpoint is not None else NoCheckpoint()

    # Before any attack: can the two files be told apart without the model at all?
    progress.advance(0.015, "checking the split without the model")
    split = check_split(cohorts, plan.data.columns.kind, max_auc=thresholds["split_validity"].max_auc,
                        folds=thresholds["split_validity"].folds,
                        rng=np.random.default_rng([plan.audit.seed, zlib.crc32(b"split_validity")]))

    needs_scores = any(p.needs.token_scores for p, _ in selected)
    scoring_weight = _SCORING_WEIGHT * (2 if reference is not None else 1) if needs_scores else 0.0
    weights = [scoring_weight] + [p.weight for p, _ in selected]
    edges = 0.02 + 0.98 * np.cumsum([0.0] + weights) / sum(weights)
    scored = {}  # role -> ReducedScores: each token-level probe's values per record
    broken: set[str] = set()  # probes whose reduction of the scoring pass crashed
    probe_results: list[ProbeResult] = []
    outcome = "completed"
    try:
        if needs_scores:
            scoring = progress.slice(edges[0], edges[1], "shared scoring pass")
            # The reference model scores each chunk too, on the same ids, before it is reduced.
            scorers = [model] + ([reference[0]] if reference else [])
            reducers = {p.id: _guarded(p, c, broken) for p, c in selected if p.needs.token_scores}
            for i, role in enumerate(Role):
                try:
                    scored[role] = score_streamed(
                        scorers, token_ids[role], reducers, batch_size=plan.model.batch_size,
                        pad_id=pad_token_id(tokenizer), progress=scoring.slice(i / 2, (i + 1) / 2),
                        checkpoint=saved, unit=role.value)
                except runtime_errors() as exc:
                    raise _scoring_failed(exc, info.name, cohorts[role].info.file) from None
        for index, (probe, config) in enumerate(selected):
            slice_ = progress.slice(edges[index + 1], edges[index + 2], probe.id)
            ctx = ProbeContext(cohorts=cohorts, token_ids=token_ids, model=model,
                               reduced={r: s.reduced[probe.id] for r, s in scored.items()
                                        if probe.id in s.reduced},
                               reference_scored=reference is not None, thresholds=thresholds[probe.family],
                               rng=np.random.default_rng([plan.audit.seed, zlib.crc32(probe.id.encode())]),
                               progress=slice_,
                               tokenizer=tokenizer, columns=plan.data.columns, model_info=info)
            # A probe that crashed is not kept: a resumed run tries it again.
            probe_results.append(resumable(
                saved, f"probe/{probe.id}",
                lambda: mark_split(run_probe(probe, config, ctx, thresholds[probe.family],
                                               crashed=probe.id in broken), split),
                encode_probe, decode_probe, keep=lambda r: r.verdict is not Verdict.ERROR))
            slice_.advance(1.0, "finished")
        progress.advance(1.0, "done")
    except Cancelled:
        outcome = "cancelled"
        log.info("audit cancelled; %d probe(s) finished", len(probe_results))
    finally:
        saved.close()

    # Derived, not drawn: a rerun of the same audit gives the same pseudonyms (see pseudonyms.py).
    key = cohort_key(plan.audit.seed, ((r.value, cohorts[r].ids, cohorts[r].sequences) for r in Role))
    probe_results = [with_refs(r, cohorts, key) for r in probe_results]
    finished = datetime.now(UTC)
    overall = worst([r.verdict for r in probe_results])
    if outcome == "cancelled":
        overall = worst([overall, Verdict.INCONCLUSIVE])
    return AuditResult(
        audit={"id": fingerprint.audit_id(), "title": plan.audit.title,
               "institution": plan.audit.institution, "requester": plan.audit.requester,
               "auditor": plan.audit.auditor, "intended_use": plan.audit.intended_use,
               "release_context": plan.audit.release_context,
               "started_utc": utc(started), "finished_utc": utc(finished),
               "seconds": round(time.perf_counter() - clock, 2), "outcome": outcome,
               "seed": plan.audit.seed},
        overall_verdict=overall,
        overall_rationale=rationale(overall, probe_results, outcome, len(selected)),
        model={**info.as_dict(), "vocab_size": model.vocab_size, "execution_provider": model.provider,
               **runtime, "declared": dict(plan.model.declared),
               **({"reference": {**reference[1].as_dict(), "vocab_size": reference[0].vocab_size}}
                  if reference is not None else {})},
        datasets=tuple(dataset_summary(cohorts[r], token_ids[r], scored.get(r), unk) for r in Role),
        probes=tuple(probe_results),
        plan=plan.as_dict(),
        environment=environment(),
        validation=latest_validation(),  # the installation's latest self-validation, or none
        records=record_table(cohorts, token_ids, scored, key),
        split_validity=split.as_dict(),
        resumed=saved.resumed,
    )


def _scoring_failed(exc: Exception, model: str, file: str) -> ModelError:
    """onnxruntime failed in the shared pass: told in the tool's words. Its own message is
    not shown: it can quote what a kernel choked on (a token id is a record's content).
    (A probe's own failure is contained by run_probe: that probe is not assessed.)"""
    return ModelError(f"onnxruntime could not score the records of {file} with {model} "
                      f"({exc.__class__.__name__}); the export may read fewer positions than "
                      "'model.context_length' (or its config.json) says: set "
                      "model.context_length to what the model was trained on")


def _guarded(probe: Any, config: Any, broken: set[str]) -> Any:
    """The probe's `reduce`; a crash in it marks the probe broken (shown as not assessed,
    like a crash in `run`) instead of sinking the whole scoring pass."""
    def reduce(target: Any, reference: Any) -> np.ndarray:
        if probe.id not in broken:
            try:
                return probe.reduce(config, target, reference)
            except (Cancelled, MnemoscopeError):
                raise
            except Exception:
                log.exception("probe %s failed while reducing the scoring pass", probe.id)
                broken.add(probe.id)
        return np.full(len(target.logprobs), np.nan)
    return reduce


def _open_reference(plan: AuditPlan, model: Any) -> tuple[Any, Any]:
    """The reference model and what inspection saw in it; it must read the same context."""
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM

    info = inspect_model(plan.model.reference, plan.model.context_length)
    return OnnxCausalLM(info, plan.model.threads, provider=plan.model.provider,
                        precision=plan.model.precision), info
