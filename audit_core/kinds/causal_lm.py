"""A causal language model: read it (and its reference model) and both cohorts, check them,
and prepare the shared scoring pass with each token-level probe's reducer.

Order of work: read the model and leave out (or refuse) probes its export cannot feed;
read both files, refuse overlapping or too small cohorts and identifying subgroup
columns before any scoring, tokenize and refuse ids the model cannot read; measure the
runtime facts; run the model-free split check. The shared pass (passes/chunked_scoring)
then scores each cohort chunk by chunk, reference model too, and hands each chunk to
every token-level probe's `reduce`, so whole-cohort token arrays are never held.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping, Sequence
from functools import partial
from typing import cast

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.data.events import EventFeatures
from audit_core.data.loading import load_cohorts
from audit_core.data.split_validity import check_split
from audit_core.data.subgroup_categories import check_subgroup_columns
from audit_core.errors import MnemoscopeError, ModelError
from audit_core.kinds.base import Prepared, SharedPass, inspected
from audit_core.kinds.memory_need import check_memory, fitting_need, startup_need
from audit_core.kinds.side_input_checks import install_records
from audit_core.kinds.token_inputs import (
    check_same_tokenizer,
    check_sizes,
    check_tokens,
    check_unknown_tokens,
    token_dataset_summary,
)
from audit_core.models.inspection import ModelInfo, inspect_model
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.runtime import runtime_errors
from audit_core.models.tokenizer_loading import (
    encode_all,
    load_tokenizer,
    pad_token_id,
    token_events_of,
    unknown_token_id,
)
from audit_core.passes import chunked_scoring
from audit_core.passes.chunked_scoring import ReducedScores, Reducer, token_level_reducer
from audit_core.passes.precision_agreement import runtime_facts
from audit_core.passes.token_scores import TokenScores
from audit_core.plan.parsing import AuditPlan
from audit_core.probes.base import Probe, TokenLevelProbe
from audit_core.probes.selection import resolve_probes, resolve_thresholds, supported_probes
from audit_core.results.sections import ModelSection
from audit_core.work.checkpoints import OpenCheckpoint
from audit_core.work.progress import Cancelled, Progress
from audit_core.work.shards import Shards

log = logging.getLogger(__name__)

_SCORING_WEIGHT = 6.0  # the shared pass costs about as much as six cheap probes' worth


def prepare(plan: AuditPlan, kind: str, progress: Progress) -> Prepared:
    selected = resolve_probes(plan)
    thresholds = resolve_thresholds(plan)

    progress.advance(0.0, "reading the model")
    info = inspect_model(plan.model.path, plan.model.context_length)
    selected = supported_probes(selected, info, explicit=plan.probes is not None)
    # Refused before the weights are read when they (or int8's quantizer) cannot fit.
    check_memory(startup_need([(f.name, f.bytes) for f in info.files], plan.model.precision))
    model = OnnxCausalLM(info, plan.model.threads, provider=plan.model.provider,
                         precision=plan.model.precision, inputs=plan.model.inputs,
                         token_types=plan.model.token_types)
    for probe, config in selected:
        validate = getattr(probe, "validate", None)
        if validate is not None:
            validate(config, model.context_length)
    tokenizer = load_tokenizer(info.folder)
    reference = _open_reference(plan) if plan.model.reference is not None else None

    progress.advance(0.01, "reading the cohorts")
    cohorts = load_cohorts(plan.data)
    check_subgroup_columns(cohorts, thresholds)  # before any scoring: values are data
    check_sizes(cohorts, thresholds["split_validity"].folds)
    token_ids = {role: encode_all(tokenizer, list(c.sequences), c.info.file)
                 for role, c in cohorts.items()}
    check_tokens(token_ids, cohorts, model.vocab_size, info.name)
    token_events = {role: token_events_of(tokenizer, c) for role, c in cohorts.items()}
    events = (None if any(e is None for e in token_events.values())
              else cast(dict[Role, Sequence[EventFeatures]], token_events))
    scorers = [model] + ([reference[0]] if reference is not None else [])
    install_records(scorers, token_ids, events, cohorts, info.name)  # before any scoring
    unk = unknown_token_id(tokenizer)
    check_unknown_tokens(token_ids, cohorts, unk, info.name)
    # Before any scoring: the batches, the generation step and the cohorts must fit beside
    # the model (kinds/memory_need.py; the estimate says the same figure).
    check_memory(fitting_need(plan, model, cohorts, token_ids, selected))
    pad_id = pad_token_id(tokenizer)
    runtime = runtime_facts(model, token_ids[Role.MEMBERS] + token_ids[Role.NON_MEMBERS],
                            pad_id=pad_id, batch_size=plan.model.batch_size)
    if reference is not None:
        check_same_tokenizer(tokenizer, reference, token_ids, cohorts)

    # Before any attack: can the two files be told apart without the model at all?
    progress.advance(0.015, "checking the split without the model")
    split = check_split(cohorts, plan.data.columns.kind, max_auc=thresholds["split_validity"].max_auc,
                        folds=thresholds["split_validity"].folds,
                        rng=np.random.default_rng([plan.audit.seed, zlib.crc32(b"split_validity")]))

    needs_scores = any(p.needs.token_scores for p, _ in selected)
    weight = _SCORING_WEIGHT * (2 if reference is not None else 1) if needs_scores else 0.0
    model_section: ModelSection = {
        **inspected(info), "vocab_size": model.vocab_size, "execution_provider": model.provider,
        # precision, and for int8 its label and agreement (models.precision.runtime_facts)
        **cast(ModelSection, runtime), "declared": dict(plan.model.declared),
        **({"side_inputs": model.side_inputs} if model.side_inputs else {})}
    if reference is not None:
        # The role beside the SHA-256: what calibrated the attacks (results/reference_role.py).
        model_section["reference"] = {**inspected(reference[1]), "vocab_size": reference[0].vocab_size,
                                      "role": plan.model.reference_role}
    return Prepared(
        selected=selected, thresholds=thresholds, cohorts=cohorts, split=split, model=model,
        reference_model=reference[0] if reference is not None else None,
        model_info=info, reference_info=reference[1] if reference is not None else None,
        tokenizer=tokenizer, token_ids=token_ids, model_section=model_section,
        token_events=events,
        datasets=tuple(token_dataset_summary(cohorts[r], token_ids[r], unk) for r in Role),
        key_records=None,
        # The pass's share of the bar after reading: its weight against the probes' weights.
        pass_label="shared scoring pass",
        pass_end=0.02 + 0.98 * weight / (weight + sum(p.weight for p, _ in selected)),
        shared_pass=partial(_scoring_pass, scorers, selected, token_ids, tokenizer.get_vocab(),
                            cohorts, info.name, plan.model.batch_size, pad_id,
                            events if model.side_inputs else None) if needs_scores else _no_pass)


def _no_pass(saved: OpenCheckpoint, progress: Progress, shards: Shards | None = None) -> SharedPass:
    return SharedPass()


def _scoring_pass(scorers: list[OnnxCausalLM], selected: list[tuple[Probe, object]],
                  token_ids: Mapping[Role, Sequence[np.ndarray]], vocabulary: Mapping[str, int],
                  cohorts: dict[Role, Cohort],
                  model_name: str, batch_size: int, pad_id: int,
                  events: Mapping[Role, Sequence[EventFeatures]] | None,
                  saved: OpenCheckpoint, progress: Progress, shards: Shards | None = None) -> SharedPass:
    """Both cohorts through the streamed scoring pass, each token-level probe reducing each
    chunk. The reference model (scorers[1]) scores each chunk too, on the same ids.
    `events`: the records' own events, for a model with side inputs (None otherwise).
    `shards`: a cluster's workers score the chunks (None: here)."""
    broken: set[str] = set()  # probes whose reduction of the scoring pass crashed
    reducers = {p.id: _guarded(p, c, broken, token_ids, vocabulary)
                for p, c in selected if p.needs.token_scores}
    scored: dict[Role, ReducedScores] = {}
    cancelled = False
    for i, role in enumerate(Role):
        try:
            scored[role] = chunked_scoring.score_streamed(
                scorers, token_ids[role], reducers, batch_size=batch_size, pad_id=pad_id,
                progress=progress.slice(i / 2, (i + 1) / 2), checkpoint=saved, unit=role.value,
                events=events[role] if events is not None else None, shards=shards)
        except Cancelled:  # what finished is reported (records.csv's windows of that cohort)
            cancelled = True
            break
        except runtime_errors() as exc:
            raise _scoring_failed(exc, model_name, cohorts[role].info.file) from None
    return SharedPass(reduced={role: s.reduced for role, s in scored.items()},
                      windows={role: s.windows for role, s in scored.items()},
                      broken=frozenset(broken), cancelled=cancelled)


def _scoring_failed(exc: BaseException, model: str, file: str) -> ModelError:
    """onnxruntime failed in the shared pass: told in the tool's words. Its own message is
    not shown: it can quote what a kernel choked on (a token id is a record's content).
    (A probe's own failure is contained by run_probe: that probe is not assessed.)"""
    return ModelError(f"onnxruntime could not score the records of {file} with {model} "
                      f"({exc.__class__.__name__}); the export may read fewer positions than "
                      "'model.context_length' (or its config.json) says: set "
                      "model.context_length to what the model was trained on")


def _guarded(probe: Probe, config: object, broken: set[str],
             token_ids: Mapping[Role, Sequence[np.ndarray]], vocabulary: Mapping[str, int]) -> Reducer:
    """The probe's `reduce` (or the reducer its `reducer` builds from both cohorts' ids); a
    crash in it marks the probe broken (shown as not assessed, like a crash in `run`)
    instead of sinking the whole scoring pass."""
    token_level = cast(TokenLevelProbe, probe)  # selected for its needs.token_scores
    inner = token_level_reducer(token_level, config, token_ids, vocabulary)
    # One record's values: () for one value, (k,) for a row of k signals (CAMIA). The NaN
    # chunks after a crash keep it, so the chunks still join into one array.
    row: list[tuple[int, ...]] = [()]

    def reduce(target: TokenScores, reference: TokenScores | None) -> np.ndarray:
        if probe.id not in broken:
            try:
                values = np.asarray(inner(target, reference))
                row[0] = values.shape[1:]
                return values
            except (Cancelled, MnemoscopeError):
                raise
            except Exception:
                log.exception("probe %s failed while reducing the scoring pass", probe.id)
                broken.add(probe.id)
        return np.full((len(target.logprobs), *row[0]), np.nan)
    return reduce


def _open_reference(plan: AuditPlan) -> tuple[OnnxCausalLM, ModelInfo]:
    """The reference model and what inspection saw in it; it must read the same context."""
    assert plan.model.reference is not None
    info = inspect_model(plan.model.reference, plan.model.context_length)
    # The plan's tables describe the audited model; a reference with the same inputs
    # reads them too (its own side_inputs.json first), and inputs it lacks are not refused.
    return OnnxCausalLM(info, plan.model.threads, provider=plan.model.provider,
                        precision=plan.model.precision, inputs=plan.model.inputs,
                        token_types=plan.model.token_types, strict_inputs=False), info
