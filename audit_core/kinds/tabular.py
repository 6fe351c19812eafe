"""The audit path of a tabular classifier: onnxruntime only, no scikit-learn at run time.

Order of work as for language models: check the plan (probes, thresholds, the feature
and label columns), read the model (and the reference classifier), read both files and
match the labels to the model's classes, run the model-free split check on the feature
columns, then one shared pass of class probabilities that every tabular probe reads.
Each cohort's probabilities under each classifier is a unit of work the checkpoint keeps,
so an interrupted run resumes (the probes' outcomes are units too: run/runner.py).
"""

from __future__ import annotations

import zlib
from functools import partial

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.data.split_validity import check_split
from audit_core.data.subgroup_categories import check_subgroup_columns
from audit_core.data.tabular_loading import TabularRecords
from audit_core.errors import DataError, ModelError, PlanError
from audit_core.kinds.base import Prepared, SharedPass, cohort_entry, inspected
from audit_core.kinds.tabular_inputs import read_tabular_inputs, require_columns, require_width
from audit_core.models.inspection import TABULAR_CLASSIFIER, ModelInfo, inspect_model
from audit_core.models.onnx_tabular import OnnxTabularClassifier
from audit_core.passes.tabular_signals import TabularOutputs
from audit_core.plan.parsing import AuditPlan
from audit_core.probes.selection import resolve_probes, resolve_thresholds
from audit_core.results.sections import DatasetSection, ModelSection
from audit_core.work.checkpoints import OpenCheckpoint
from audit_core.work.progress import Cancelled, Progress
from audit_core.work.shards import Shards
from audit_core.work.units import decode_array, encode_array, resumable


def prepare(plan: AuditPlan, kind: str, progress: Progress) -> Prepared:
    selected = resolve_probes(plan, kind)
    thresholds = resolve_thresholds(plan)
    columns = plan.data.columns
    if plan.data.format != "files":  # a MEDS folder holds event records, not feature rows
        raise PlanError("the model is a tabular classifier: it reads feature columns from two "
                        "files (data.members, data.non_members), not a MEDS dataset folder")
    require_columns(columns)

    progress.advance(0.0, "reading the model")
    info = inspect_model(plan.model.path)
    model = OnnxTabularClassifier(info, plan.model.threads)
    require_width(columns, model.width, info.name)
    reference = open_reference(plan, model) if plan.model.reference is not None else None

    progress.advance(0.01, "reading the cohorts")
    cohorts, records, labels = read_tabular_inputs(plan, model)
    check_subgroup_columns(cohorts, thresholds)  # before any model work: values are data

    progress.advance(0.015, "checking the split without the model")
    both = np.vstack([records[Role.MEMBERS].features, records[Role.NON_MEMBERS].features])
    split = check_split(cohorts, "tabular", max_auc=thresholds["split_validity"].max_auc,
                        folds=thresholds["split_validity"].folds,
                        rng=np.random.default_rng([plan.audit.seed, zlib.crc32(b"split_validity")]),
                        columns={name: both[:, j] for j, name in enumerate(columns.features)})

    model_section: ModelSection = {
        **inspected(info), "execution_provider": model.provider, "declared": dict(plan.model.declared),
        "features": len(columns.features), "classes": list(model.classes),
        "probability_output": "ZipMap (list of class maps)" if model.zipmap else "tensor"}
    if reference is not None:
        model_section["reference"] = {**inspected(reference[1]), "role": plan.model.reference_role}
    datasets = tuple(_dataset_summary(cohorts[role], labels[role], model.classes) for role in Role)
    classifiers = [model] + ([reference[0]] if reference is not None else [])
    return Prepared(
        selected=selected, thresholds=thresholds, cohorts=cohorts, split=split, model=model,
        model_info=info, reference_info=reference[1] if reference is not None else None,
        tokenizer=None, token_ids={}, model_section=model_section, datasets=datasets,
        key_records={role: _row_texts(records[role]) for role in Role},
        pass_end=0.1, pass_label="class probabilities",
        shared_pass=partial(_shared_pass, classifiers, records, labels, model.classes))


def _shared_pass(classifiers: list[OnnxTabularClassifier], records: dict[Role, TabularRecords],
                 labels: dict[Role, np.ndarray], classes: tuple[str, ...],
                 saved: OpenCheckpoint, scoring: Progress, shards: Shards | None = None) -> SharedPass:
    """Each classifier's (the audited one, then the reference) class probabilities."""
    passes = len(classifiers)
    try:
        probabilities = [_probabilities(c, j, records, scoring, passes, saved)
                         for j, c in enumerate(classifiers)]
    except Cancelled:
        return SharedPass(cancelled=True)
    return SharedPass(outputs=TabularOutputs(
        probabilities=probabilities[0], labels=labels, classes=classes,
        reference_probabilities=probabilities[1] if passes > 1 else {}))


def _probabilities(classifier: OnnxTabularClassifier, j: int, records: dict[Role, TabularRecords],
                   scoring: Progress, passes: int, saved: OpenCheckpoint) -> dict[Role, np.ndarray]:
    """Classifier `j`'s (0 audited, 1 reference) class probabilities of both cohorts, each
    cohort one unit of work `probabilities/<j>/<role>`: a classifier scores a cohort in
    seconds, so finer units would only add writes."""
    out = {}
    for i, role in enumerate(Role):
        part = (2 * j + i) / (2 * passes)
        piece = scoring.slice(part, part + 1 / (2 * passes))
        out[role] = resumable(saved, f"probabilities/{j}/{role.value}",
                              lambda: classifier.probabilities(records[role].features, piece),
                              encode_array, decode_array)
    return out


def _row_texts(records: TabularRecords) -> tuple[str, ...]:
    """Each row's exact feature values (float64 bytes) and label, for the pseudonym key."""
    return tuple(f"{row.astype('<f8').tobytes().hex()}|{label}"
                 for row, label in zip(records.features, records.labels, strict=True))


def open_reference(plan: AuditPlan,
                    model: OnnxTabularClassifier) -> tuple[OnnxTabularClassifier, ModelInfo]:
    """The reference classifier: the same inputs and the same classes as the audited one."""
    assert plan.model.reference is not None
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


def _dataset_summary(cohort: Cohort, labels: np.ndarray, classes: tuple[str, ...]) -> DatasetSection:
    if len(labels) != len(cohort):
        raise DataError(f"{cohort.info.file}: labels and records do not line up")
    counts = np.bincount(labels, minlength=len(classes))
    return {**cohort_entry(cohort.info), "tokens": None, "unknown_token_share": None,
            "records_windowed": None, "label_counts": {c: int(k) for c, k in zip(classes, counts)}}
