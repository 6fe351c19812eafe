"""The audit path of an encoder (embeddings, optionally a masked-LM head): onnxruntime only.

As for language models: check the plan, read the model and its tokenizer, read both
files, run the model-free split check, then one shared pass: the embeddings of every
record (for the distance attack) and, with a masked-LM head, every record's
pseudo-log-likelihood, in chunks the checkpoint keeps (passes/encoder_pass.py). A probe the export
cannot feed is left out of the standard suite and refused when the plan names it.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from functools import partial

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.data.loading import load_cohorts
from audit_core.data.split_validity import check_split
from audit_core.data.subgroup_categories import check_subgroup_columns
from audit_core.errors import DataError, ModelError, PlanError
from audit_core.kinds.base import Prepared, SharedPass, inspected
from audit_core.kinds.token_inputs import check_unknown_tokens, token_dataset_summary
from audit_core.models.inspection import inspect_model
from audit_core.models.onnx_encoder import OnnxEncoder
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer, unknown_token_id
from audit_core.passes.encoder_outputs import EncoderOutputs, mask_token_id
from audit_core.passes.encoder_pass import embeddings_chunked, pseudo_chunked
from audit_core.plan.parsing import AuditPlan
from audit_core.probes.base import Probe
from audit_core.probes.selection import resolve_probes, resolve_thresholds
from audit_core.results.sections import DatasetSection, ModelSection
from audit_core.work.checkpoints import OpenCheckpoint
from audit_core.work.progress import Cancelled, Progress
from audit_core.work.shards import Shards

DISTANCE, PSEUDO = "embedding_distance", "pseudo_likelihood"


def prepare(plan: AuditPlan, kind: str, progress: Progress) -> Prepared:
    selected = resolve_probes(plan, kind)
    thresholds = resolve_thresholds(plan)
    if plan.model.reference is not None:
        raise PlanError("'model.reference' is not used for encoders: remove it (the encoder "
                        "attacks compare members with non-members, not with a second model)")

    progress.advance(0.0, "reading the model")
    info = inspect_model(plan.model.path, plan.model.context_length)
    model = OnnxEncoder(info, plan.model.threads)
    tokenizer = load_tokenizer(info.folder)
    mask_id = mask_token_id(tokenizer)
    selected = feedable(selected, model, mask_id, explicit=plan.probes is not None)

    progress.advance(0.01, "reading the cohorts")
    cohorts = load_cohorts(plan.data)
    check_subgroup_columns(cohorts, thresholds)  # before any model work: values are data
    encoded = {role: encode_all(tokenizer, list(c.sequences), c.info.file) for role, c in cohorts.items()}
    context = model.context_length
    # An encoder reads one window: a longer record is cut to the context (and counted).
    token_ids = {role: [ids[:context] if context else ids for ids in values]
                 for role, values in encoded.items()}
    truncated = {role: int(sum(context is not None and len(ids) > context for ids in values))
                 for role, values in encoded.items()}
    _check_lengths(token_ids, cohorts, any(p.id == PSEUDO for p, _ in selected))
    # On what the encoder reads (cut to its context): the share results.json reports.
    unk = unknown_token_id(tokenizer)
    check_unknown_tokens(token_ids, cohorts, unk, info.name)

    progress.advance(0.015, "checking the split without the model")
    split = check_split(cohorts, plan.data.columns.kind, max_auc=thresholds["split_validity"].max_auc,
                        folds=thresholds["split_validity"].folds,
                        rng=np.random.default_rng([plan.audit.seed, zlib.crc32(b"split_validity")]))

    datasets = tuple(_truncated(token_dataset_summary(cohorts[role], token_ids[role], unk),
                                truncated[role]) for role in Role)
    model_section: ModelSection = {
        **inspected(info), "execution_provider": model.provider,
        "declared": dict(plan.model.declared), "embedding_output": model.embedding_name,
        "mlm_output": model.mlm_name, "mask_token_found": mask_id is not None}
    wanted = {p.id for p, _ in selected}
    return Prepared(
        selected=selected, thresholds=thresholds, cohorts=cohorts, split=split, model=model,
        model_info=info, reference_info=None, tokenizer=tokenizer, token_ids=token_ids,
        model_section=model_section, datasets=datasets, key_records=None,
        pass_end=0.6, pass_label="shared pass",
        shared_pass=partial(_shared_pass, model, token_ids, truncated, mask_id,
                            [n for n in (DISTANCE, PSEUDO) if n in wanted], plan.model.batch_size))


def _truncated(entry: DatasetSection, records: int) -> DatasetSection:
    return {**entry, "records_truncated": records}


def _shared_pass(model: OnnxEncoder, token_ids: Mapping[Role, Sequence[np.ndarray]],
                 truncated: dict[Role, int],
                 mask_id: int | None, passes: list[str], batch_size: int,
                 saved: OpenCheckpoint, shared: Progress, shards: Shards | None = None) -> SharedPass:
    """Embeddings and/or pseudo-likelihoods of both cohorts, as the selected probes need."""
    try:
        return SharedPass(outputs=_outputs(model, token_ids, truncated, mask_id, passes,
                                           batch_size, saved, shared))
    except Cancelled:  # the chunks that finished are kept by the checkpoint
        return SharedPass(cancelled=True)


def _outputs(model: OnnxEncoder, token_ids: Mapping[Role, Sequence[np.ndarray]],
             truncated: dict[Role, int],
             mask_id: int | None, passes: list[str], batch_size: int,
             saved: OpenCheckpoint, shared: Progress) -> EncoderOutputs:
    embeddings: dict[Role, np.ndarray] = {}
    pseudo: dict[Role, np.ndarray] = {}
    for j, name in enumerate(passes):
        for i, role in enumerate(Role):
            part = (2 * j + i) / (2 * len(passes))
            piece = shared.slice(part, part + 1 / (2 * len(passes)))
            if name == DISTANCE:
                embeddings[role] = embeddings_chunked(model, token_ids[role], batch_size, piece,
                                                      saved, role.value)
            else:
                assert mask_id is not None  # `feedable` leaves the pseudo-likelihood out without one
                pseudo[role] = pseudo_chunked(model, token_ids[role], mask_id, batch_size, piece,
                                              saved, role.value)
    return EncoderOutputs(embeddings=embeddings, pseudo_log_likelihood=pseudo, truncated=truncated)


def feedable(selected: list[tuple[Probe, object]], model: OnnxEncoder, mask_id: int | None,
             explicit: bool) -> list[tuple[Probe, object]]:
    """Leave out (or, when the plan names them, refuse) probes this export cannot feed."""
    missing = {DISTANCE: None if model.has_embeddings else
               "an embeddings output ('embeddings', 'sentence_embedding', 'pooler_output' or "
               "'last_hidden_state')",
               PSEUDO: None if model.has_mlm_head and mask_id is not None else
               "a masked-LM head ('mlm_logits' or 'logits') and a mask token in its tokenizer"}
    kept = []
    for probe, config in selected:
        reason = missing.get(probe.id)
        if reason is not None:
            if explicit:
                raise ModelError(f"'probes.{probe.id}' needs {reason}, which "
                                 f"{model.info.name} lacks")
            continue
        kept.append((probe, config))
    if not kept:
        raise ModelError(f"no encoder probe can run on {model.info.name}: it needs an embeddings "
                         "output or a masked-LM head")
    return kept


def _check_lengths(token_ids: Mapping[Role, Sequence[np.ndarray]], cohorts: dict[Role, Cohort],
                   pseudo: bool) -> None:
    shortest = 3 if pseudo else 1  # pseudo-likelihood scores the positions between the ends
    for role, values in token_ids.items():
        short = [i for i, ids in enumerate(values) if len(ids) < shortest]
        if short:
            raise DataError(f"{cohorts[role].info.file}: {len(short)} records are shorter than "
                            f"{shortest} tokens after tokenization (first: record {short[0] + 1}); "
                            "nothing in them can be scored")
