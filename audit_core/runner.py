"""run_audit: one plan in, one result out. The CLI and the desktop app both call this.

Order of work: check the whole plan (probe ids, settings, thresholds) before touching
any file; read the model and refuse what cannot be audited; read and check both cohorts;
run the shared scoring pass once; run the probes, each in its own slice of progress. A
probe that crashes is recorded as not assessed; a cancel keeps the probes that finished.
"""

from __future__ import annotations

import logging
import platform
import secrets
import time
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from audit_core.checkpoints import CheckpointRequest, NoCheckpoint, audit_fingerprint
from audit_core.data.cohort import Cohort, Role
from audit_core.data.loading import check_disjoint, load_cohort
from audit_core.data.split_validity import SplitValidity, check_split
from audit_core.errors import DataError, MnemoscopeError, ModelError, PlanError
from audit_core.params import build_settings, describe, settings_dict
from audit_core.plan import AuditPlan
from audit_core.probes import PROBES, PROBES_BY_ID
from audit_core.probes.base import Probe, ProbeContext
from audit_core.progress import CancelToken, Cancelled, Progress, ProgressCallback, ignore_progress
from audit_core.pseudonyms import cohort_key, pseudonym
from audit_core.results import AuditResult, ProbeResult, RecordTable
from audit_core.verdicts import THRESHOLD_FAMILIES, Verdict, worst

log = logging.getLogger(__name__)

_SCORING_WEIGHT = 6.0  # the shared pass costs about as much as six cheap probes' worth


def resolve_probes(plan: AuditPlan, kind: str = "causal_lm") -> list[tuple[Probe, Any]]:
    """The probes to run with their checked configs; unknown ids or settings are refused,
    and so are probes that do not apply to the model's kind (models/inspection.py)."""
    has_reference = plan.model.reference is not None
    if plan.probes is None:
        return [(p, p.config_type()) for p in PROBES
                if (has_reference or not p.needs.reference) and p.needs.applies_to(kind)
                and _records_fit(p, plan) and not getattr(p.needs, "canaries", False)]
    chosen = []
    for probe_id, settings in plan.probes.items():
        probe = PROBES_BY_ID.get(probe_id)
        if probe is None:
            raise PlanError(f"unknown probe 'probes.{probe_id}' (known probes: {', '.join(PROBES_BY_ID)})")
        if not probe.needs.applies_to(kind):
            raise PlanError(f"'probes.{probe_id}' does not apply to this model, a "
                            f"{kind.replace('_', ' ')} (it needs {probe.needs.describe()})")
        if not _records_fit(probe, plan):
            raise PlanError(f"'probes.{probe_id}' applies to free-text records (clinical notes); "
                            f"data.columns.kind is '{plan.data.columns.kind}'")
        if probe.needs.reference and not has_reference:
            raise PlanError(f"'probes.{probe_id}' needs a reference model: set model.reference "
                            "to a model of the same tokenizer trained without the members")
        chosen.append((probe, build_settings(probe.config_type, settings, f"probes.{probe_id}")))
    if not chosen:
        raise PlanError("the [probes] table selects no probe")
    order = {p.id: i for i, p in enumerate(PROBES)}
    return sorted(chosen, key=lambda item: order[item[0].id])


def _records_fit(probe: Probe, plan: AuditPlan) -> bool:
    """Probes that read identifiers out of notes have nothing to read in code sequences."""
    return not getattr(probe.needs, "text_records", False) or plan.data.columns.kind == "text"


def supported_probes(selected: list[tuple[Probe, Any]], info: Any,
                     explicit: bool) -> list[tuple[Probe, Any]]:
    """Drop from the standard suite the probes this export cannot feed (no hidden-state
    output); a plan that names such a probe is refused with the reason."""
    kept = []
    for probe, config in selected:
        if getattr(probe.needs, "hidden_states", False) and not info.hidden_states:
            if explicit:
                raise ModelError(f"'probes.{probe.id}' needs hidden states, but {info.name} has "
                                 "no 'hidden_states' output: re-export the model with it "
                                 f"(export_model(..., hidden_states=True)) or remove [probes.{probe.id}]")
            log.info("probe %s left out: the export has no hidden-state output", probe.id)
            continue
        kept.append((probe, config))
    if not kept:
        raise ModelError(f"no selected probe can run on {info.name}")
    return kept


def resolve_thresholds(plan: AuditPlan) -> dict[str, Any]:
    unknown = sorted(set(plan.thresholds) - set(THRESHOLD_FAMILIES))
    if unknown:
        raise PlanError(f"unknown key 'thresholds.{unknown[0]}' "
                        f"(known: {', '.join(THRESHOLD_FAMILIES)})")
    resolved = {family: build_settings(kind, plan.thresholds.get(family, {}), f"thresholds.{family}")
                for family, kind in THRESHOLD_FAMILIES.items()}
    for family, values in resolved.items():
        low, high = getattr(values, "warn_auc_lower", None), getattr(values, "fail_auc_lower", None)
        if low is not None and high is not None and high < low:
            raise PlanError(f"'thresholds.{family}.fail_auc_lower' ({high}) is below warn_auc_lower ({low})")
    return resolved


def run_audit(plan: AuditPlan, *, on_progress: ProgressCallback = ignore_progress,
              cancel: CancelToken | None = None,
              checkpoint: CheckpointRequest | None = None) -> AuditResult:
    """`checkpoint`: keep finished work in that folder and, when it says so, resume from it."""
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM
    from audit_core.models.precision import runtime_facts
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, pad_token_id, unknown_token_id
    from audit_core.checkpoint_units import decode_probe, encode_probe, resumable
    from audit_core.scoring.chunked import score_streamed
    from audit_core.validation import latest_validation

    from audit_core.models.inspection import CAUSAL_LM, UNKNOWN, model_kind

    kind = model_kind(plan.model.path)
    if kind not in (CAUSAL_LM, UNKNOWN):  # tabular classifiers and encoders have their own path
        from audit_core.model_kinds import run_other_kind

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
    _check_sizes(cohorts, thresholds["split_validity"].folds)
    token_ids = {role: encode_all(tokenizer, list(c.sequences)) for role, c in cohorts.items()}
    _check_tokens(token_ids, cohorts, model.vocab_size, info.name)
    runtime = runtime_facts(model, token_ids[Role.MEMBERS] + token_ids[Role.NON_MEMBERS],
                            pad_id=pad_token_id(tokenizer), batch_size=plan.model.batch_size)
    if reference is not None:
        _check_same_tokenizer(tokenizer, reference, token_ids, cohorts)
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
                scored[role] = score_streamed(
                    scorers, token_ids[role], reducers, batch_size=plan.model.batch_size,
                    pad_id=pad_token_id(tokenizer), progress=scoring.slice(i / 2, (i + 1) / 2),
                    checkpoint=saved, unit=role.value)
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
                lambda: _mark_split(_run_probe(probe, config, ctx, thresholds[probe.family],
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
    probe_results = [_with_refs(r, cohorts, key) for r in probe_results]
    finished = datetime.now(UTC)
    overall = worst([r.verdict for r in probe_results])
    if outcome == "cancelled":
        overall = worst([overall, Verdict.INCONCLUSIVE])
    return AuditResult(
        audit={"id": fingerprint.audit_id(), "title": plan.audit.title,
               "institution": plan.audit.institution, "requester": plan.audit.requester,
               "auditor": plan.audit.auditor, "intended_use": plan.audit.intended_use,
               "release_context": plan.audit.release_context,
               "started_utc": _utc(started), "finished_utc": _utc(finished),
               "seconds": round(time.perf_counter() - clock, 2), "outcome": outcome,
               "seed": plan.audit.seed},
        overall_verdict=overall,
        overall_rationale=_rationale(overall, probe_results, outcome, len(selected)),
        model={**info.as_dict(), "vocab_size": model.vocab_size, "execution_provider": model.provider,
               **runtime, "declared": dict(plan.model.declared),
               **({"reference": {**reference[1].as_dict(), "vocab_size": reference[0].vocab_size}}
                  if reference is not None else {})},
        datasets=tuple(_dataset_summary(cohorts[r], token_ids[r], scored.get(r), unk) for r in Role),
        probes=tuple(probe_results),
        plan=plan.as_dict(),
        environment=_environment(),
        validation=latest_validation(),  # the installation's latest self-validation, or none
        records=_record_table(cohorts, token_ids, scored, key),
        split_validity=split.as_dict(),
        resumed=saved.resumed,
    )


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


def _run_probe(probe: Probe, config: Any, ctx: ProbeContext, thresholds: Any,
               crashed: bool = False) -> ProbeResult:
    clock = time.perf_counter()
    common = dict(id=probe.id, title=probe.title, family=probe.family, question=probe.question,
                  citation=probe.citation, settings=settings_dict(config),
                  settings_meta=[f.as_dict() for f in describe(probe.config_type)],
                  thresholds=settings_dict(thresholds),
                  thresholds_meta=[f.as_dict() for f in describe(type(thresholds))])
    if crashed:  # in its `reduce`, logged there
        return _not_assessed(common, clock, "an error while reducing the shared scoring pass")
    try:
        outcome = probe.run(config, ctx)
    except (Cancelled, MnemoscopeError):
        raise
    except Exception as exc:  # a broken probe must not sink the audit; it is shown as not assessed
        log.exception("probe %s failed", probe.id)
        return _not_assessed(common, clock, f"{exc.__class__.__name__} while running the probe")
    ctx.progress.advance(1.0, "finished")
    extracted = tuple({"role": role.value, "index": index} for role, index in outcome.extracted)
    return ProbeResult(**common, verdict=outcome.verdict,
                       headline={"label": outcome.headline.label, "value": outcome.headline.value,
                                 "text": outcome.headline.text},
                       metrics=outcome.metrics, curves=outcome.curves, findings=outcome.findings,
                       extracted=extracted, seconds=time.perf_counter() - clock,
                       scores={role.value: s for role, s in outcome.scores.items()},
                       attack_strength=outcome.attack_strength, subgroups=outcome.subgroups)


def _not_assessed(common: dict[str, Any], clock: float, error: str) -> ProbeResult:
    return ProbeResult(**common, verdict=Verdict.ERROR,
                       headline={"label": "Not assessed", "value": None, "text": "not assessed"},
                       metrics={}, curves={}, findings=(), extracted=(),
                       seconds=time.perf_counter() - clock, error=error)


def _mark_split(result: ProbeResult, split: SplitValidity) -> ProbeResult:
    """A membership verdict on a split the files alone can tell apart is not evidence."""
    if result.family != "membership" or split.reliable or result.verdict is Verdict.ERROR:
        return result
    reason = (f"Unreliable: the split check (no model involved) tells members from non-members "
              f"with AUC {split.auc:.3f}, above {split.threshold:.2f}; this attack's result "
              f"({result.verdict.value.upper()} on its own) cannot be credited to the model, so "
              "the verdict is INCONCLUSIVE.")
    return replace(result, verdict=Verdict.INCONCLUSIVE, reliable=False,
                   verdict_if_split_valid=result.verdict, findings=(reason, *result.findings))


def _open_reference(plan: AuditPlan, model: Any) -> tuple[Any, Any]:
    """The reference model and what inspection saw in it; it must read the same context."""
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_causal_lm import OnnxCausalLM

    info = inspect_model(plan.model.reference, plan.model.context_length)
    return OnnxCausalLM(info, plan.model.threads, provider=plan.model.provider,
                        precision=plan.model.precision), info


def _check_same_tokenizer(tokenizer: Any, reference: tuple[Any, Any],
                          token_ids: dict[Role, list[np.ndarray]], cohorts: dict[Role, Cohort]) -> None:
    """Likelihood ratios compare the two models token by token: same tokens, same ids."""
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer

    scorer, info = reference
    theirs = load_tokenizer(info.folder)
    if theirs.get_vocab(with_added_tokens=True) != tokenizer.get_vocab(with_added_tokens=True):
        raise ModelError(f"the reference model {info.name} has a different tokenizer vocabulary "
                         "from the audited model's; a reference must share the tokenizer")
    for role, ids_list in token_ids.items():
        again = encode_all(theirs, list(cohorts[role].sequences))
        differ = [i for i, (a, b) in enumerate(zip(ids_list, again)) if not np.array_equal(a, b)]
        if differ:
            raise ModelError(f"the reference model's tokenizer splits {len(differ)} records of "
                             f"{cohorts[role].info.file} differently (first: record {differ[0] + 1}); "
                             "a reference must share the audited model's tokenizer")
    _check_tokens(token_ids, cohorts, scorer.vocab_size, info.name)


def _with_refs(result: ProbeResult, cohorts: dict[Role, Cohort], key: bytes) -> ProbeResult:
    """Replace record indices by ids and keyed pseudonyms, once the key exists."""
    if not result.extracted:
        return result
    named = tuple({"role": e["role"], "id": cohorts[Role(e["role"])].ids[e["index"]],
                   "ref": pseudonym(key, e["role"], cohorts[Role(e["role"])].ids[e["index"]])}
                  for e in result.extracted)
    return replace(result, extracted=named)


def _check_sizes(cohorts: dict[Role, Cohort], folds: int) -> None:
    """A cohort of a record or two contrasts nothing: not even the model-free split check,
    which needs one record per fold, can run on it."""
    for cohort in cohorts.values():
        if len(cohort.ids) < folds:
            raise DataError(f"{cohort.info.file} holds only {len(cohort.ids)} record(s); an audit "
                            f"needs at least {folds} per cohort (one per fold of the split check, "
                            "thresholds.split_validity.folds), and hundreds for a verdict")


def _check_tokens(token_ids: dict[Role, list[np.ndarray]], cohorts: dict[Role, Cohort],
                  vocab: int, name: str) -> None:
    for role, ids_list in token_ids.items():
        short = [i for i, ids in enumerate(ids_list) if len(ids) < 2]
        if short:
            raise DataError(f"{cohorts[role].info.file}: {len(short)} records are shorter than two "
                            f"tokens after tokenization (first: record {short[0] + 1}); nothing in "
                            "them can be scored")
    highest = max((int(ids.max()) for ids_list in token_ids.values() for ids in ids_list if len(ids)), default=0)
    if highest >= vocab:
        raise ModelError(f"the tokenizer produces token id {highest}, past the {vocab} outputs of "
                         f"{name}: tokenizer and model do not belong together")


def _dataset_summary(cohort: Cohort, ids: list[np.ndarray], scores: Any, unk: int | None) -> dict[str, Any]:
    tokens = int(sum(len(x) for x in ids))
    unknown = int(sum(int((x == unk).sum()) for x in ids)) if unk is not None else 0
    out = cohort.info.as_dict()
    out.update({"tokens": tokens, "unknown_token_share": unknown / tokens if tokens else 0.0,
                "records_windowed": int((scores.windows > 1).sum()) if scores is not None else None})
    return out


def _record_table(cohorts: dict[Role, Cohort], token_ids: dict[Role, list[np.ndarray]],
                  scored: dict[Role, Any], key: bytes) -> RecordTable:
    roles, ids, refs, tokens, windows = [], [], [], [], []
    for role in Role:
        for i, record_id in enumerate(cohorts[role].ids):
            roles.append(role.value)
            ids.append(record_id)
            refs.append(pseudonym(key, role.value, record_id))
            tokens.append(len(token_ids[role][i]))
            windows.append(int(scored[role].windows[i]) if role in scored else 0)
    return RecordTable(roles=tuple(roles), ids=tuple(ids), refs=tuple(refs),
                       tokens=np.array(tokens), windows=np.array(windows))


def _rationale(overall: Verdict, results: list[ProbeResult], outcome: str, planned: int) -> str:
    if outcome == "cancelled":
        return (f"The audit was cancelled: {len(results)} of {planned} probes finished; "
                "the result is incomplete.")
    named = [r.id for r in results if r.verdict is overall]
    n = len(results)
    if overall is Verdict.PASS:
        return f"All {n} probes passed: no memorization was detected at the configured thresholds."
    label = {Verdict.FAIL: "failed", Verdict.WARN: "raised a warning",
             Verdict.INCONCLUSIVE: "were inconclusive"}[overall]
    if overall is Verdict.INCONCLUSIVE:
        named = [r.id for r in results if r.verdict in (Verdict.INCONCLUSIVE, Verdict.ERROR)]
    return f"{len(named)} of {n} probes {label}: {', '.join(named)}."


def _audit_id(started: datetime) -> str:
    return f"MNS-{started:%Y%m%d}-{secrets.token_hex(3).upper()}"


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _environment() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    env = {"python": platform.python_version(), "platform": platform.platform(),
           "machine": platform.machine(), "processor_count": str(_cpu_count())}
    for package in ("numpy", "onnxruntime", "onnx", "tokenizers", "pandas", "pyarrow", "scipy", "reportlab"):
        try:
            env[package] = version(package)
        except PackageNotFoundError:
            env[package] = "not installed"
    return env


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1
