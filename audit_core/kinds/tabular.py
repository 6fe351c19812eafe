"""The audit path of a tabular classifier: onnxruntime only, no scikit-learn at run time.

Order of work as for language models: check the plan (probes, thresholds, the feature
and label columns), read the model (and the reference classifier), read both files and
match the labels to the model's classes, run the model-free split check on the feature
columns, then one shared pass of class probabilities that every tabular probe reads.
Each cohort's probabilities under each classifier, and each probe's outcome, is a unit of
work the checkpoint keeps (model_kinds.py), so an interrupted run resumes.
"""

from __future__ import annotations

import time
import zlib
from datetime import UTC, datetime
from typing import Any

import numpy as np

from audit_core.run.checkpoints import CheckpointRequest
from audit_core.data.cohort import Role
from audit_core.data.subgroup_categories import check_subgroup_columns
from audit_core.errors import DataError, ModelError
from audit_core.plan.parsing import AuditPlan
from audit_core.run.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from audit_core.results.result import AuditResult
from audit_core.kinds.tabular_inputs import read_tabular_inputs, require_columns, require_width
from audit_core.passes.tabular_signals import TabularOutputs


def run_tabular_audit(plan: AuditPlan, *, on_progress: ProgressCallback = ignore_progress,
                      cancel: CancelToken | None = None,
                      checkpoint: CheckpointRequest | None = None) -> AuditResult:
    from audit_core.data.split_validity import check_split
    from audit_core.run.probe_loop import (
        Prepared,
        open_checkpoint,
        run_probes_and_assemble,
        shared_pass,
    )
    from audit_core.models.inspection import TABULAR_CLASSIFIER, inspect_model
    from audit_core.models.onnx_tabular import OnnxTabularClassifier
    from audit_core.plan.probe_selection import resolve_probes, resolve_thresholds

    started = datetime.now(UTC)
    clock = time.perf_counter()
    progress = Progress(on_progress, cancel)
    selected = resolve_probes(plan, TABULAR_CLASSIFIER)
    thresholds = resolve_thresholds(plan)
    columns = plan.data.columns
    require_columns(columns)

    progress.advance(0.0, "reading the model")
    info = inspect_model(plan.model.path)
    model = OnnxTabularClassifier(info, plan.model.threads)
    require_width(columns, model.width, info.name)
    reference = _open_reference(plan, model) if plan.model.reference is not None else None

    progress.advance(0.01, "reading the cohorts")
    cohorts, records, labels = read_tabular_inputs(plan, model)
    check_subgroup_columns(cohorts, thresholds)  # before any model work: values are data

    progress.advance(0.015, "checking the split without the model")
    both = np.vstack([records[Role.MEMBERS].features, records[Role.NON_MEMBERS].features])
    split = check_split(cohorts, "tabular", max_auc=thresholds["split_validity"].max_auc,
                        folds=thresholds["split_validity"].folds,
                        rng=np.random.default_rng([plan.audit.seed, zlib.crc32(b"split_validity")]),
                        columns={name: both[:, j] for j, name in enumerate(columns.features)})

    model_section: dict[str, Any] = {
        **info.as_dict(), "execution_provider": model.provider, "declared": dict(plan.model.declared),
        "features": len(columns.features), "classes": list(model.classes),
        "probability_output": "ZipMap (list of class maps)" if model.zipmap else "tensor"}
    if reference is not None:
        model_section["reference"] = reference[1].as_dict()
    datasets = tuple(_dataset_summary(cohorts[role], labels[role], model.classes) for role in Role)

    saved = open_checkpoint(checkpoint, plan, info, cohorts,
                            reference[1] if reference is not None else None)
    scoring = progress.slice(0.02, 0.1, "class probabilities")
    passes = [model] + ([reference[0]] if reference else [])
    outputs = shared_pass(saved, lambda: TabularOutputs(
        probabilities=_probabilities(model, 0, records, scoring, len(passes), saved),
        labels=labels, classes=model.classes,
        reference_probabilities=(_probabilities(reference[0], 1, records, scoring, len(passes), saved)
                                 if reference is not None else {})))
    prepared = Prepared(plan=plan, selected=selected, thresholds=thresholds, cohorts=cohorts,
                        split=split, model=model_section, datasets=datasets, outputs=outputs,
                        started=started, clock=clock,
                        extra_context={"model": model, "model_info": info},
                        key_records={role: _row_texts(records[role]) for role in Role},
                        checkpoint=saved)
    return run_probes_and_assemble(prepared, progress, 0.1)


def _probabilities(classifier: Any, j: int, records: dict[Role, Any], scoring: Progress,
                   passes: int, saved: Any) -> dict[Role, np.ndarray]:
    """Classifier `j`'s (0 audited, 1 reference) class probabilities of both cohorts, each
    cohort one unit of work `probabilities/<j>/<role>`: a classifier scores a cohort in
    seconds, so finer units would only add writes."""
    from audit_core.run.checkpoint_units import decode_array, encode_array, resumable

    out = {}
    for i, role in enumerate(Role):
        part = (2 * j + i) / (2 * passes)
        piece = scoring.slice(part, part + 1 / (2 * passes))
        out[role] = resumable(saved, f"probabilities/{j}/{role.value}",
                              lambda: classifier.probabilities(records[role].features, piece),
                              encode_array, decode_array)
    return out


def _row_texts(records: Any) -> tuple[str, ...]:
    """Each row's exact feature values (float64 bytes) and label, for the pseudonym key."""
    return tuple(f"{row.astype('<f8').tobytes().hex()}|{label}"
                 for row, label in zip(records.features, records.labels, strict=True))


def _open_reference(plan: AuditPlan, model: Any) -> tuple[Any, Any]:
    """The reference classifier: the same inputs and the same classes as the audited one."""
    from audit_core.models.inspection import TABULAR_CLASSIFIER, inspect_model
    from audit_core.models.onnx_tabular import OnnxTabularClassifier

    info = inspect_model(plan.model.reference)
    if info.kind != TABULAR_CLASSIFIER:
        raise ModelError(f"the reference model {info.name} is not a tabular classifier; a "
                         "reference must be trained on the same features without the members")
    reference = OnnxTabularClassifier(info, plan.model.threads)
    if reference.width != model.width or reference.classes != model.classes:
        raise ModelError(f"the reference model {info.name} takes {reference.width} inputs and "
                         f"predicts classes ({', '.join(reference.classes)}); the audited model "
                         f"takes {model.width} and predicts ({', '.join(model.classes)}): they "
                         "must agree")
    return reference, info


def _dataset_summary(cohort, labels: np.ndarray, classes: tuple[str, ...]) -> dict[str, Any]:
    if len(labels) != len(cohort):
        raise DataError(f"{cohort.info.file}: labels and records do not line up")
    out = cohort.info.as_dict()
    counts = np.bincount(labels, minlength=len(classes))
    out.update({"tokens": None, "unknown_token_share": None, "records_windowed": None,
                "label_counts": {c: int(k) for c, k in zip(classes, counts)}})
    return out
