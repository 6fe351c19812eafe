"""How long an audit of a tabular classifier or an encoder takes (estimate.py's other kinds).

Each is timed on its own audit path's work, with no workstation calibration (`bench`
measures causal language models only). A tabular audit costs seconds: the model, the
files, the split check and the class probabilities are simply done here as the run does
them (which also runs the run's own checks of the columns against the model, so a bad
mapping is refused before Start), and each probe adds its bootstrap. An encoder's files
and split check are done as the run does them; it embeds a sample of records, and a
masked-LM head scores a few records' masked copies, each extrapolated to the whole
cohorts (pseudo-likelihood by masked copies, its real cost).
"""

from __future__ import annotations

import time
import numpy as np

from audit_core.data.cohort import Role
from audit_core.plan.parsing import AuditPlan
from audit_core.run.progress import Progress

# Per probe, beyond the shared pass: bootstrap intervals, ROC, subgroups (as estimate.py).
PER_PROBE_SECONDS = 0.3
PSEUDO_SAMPLE_RECORDS = 8  # each makes one masked copy per inner token: a few suffice


def estimate_other_kind(plan: AuditPlan, kind: str, progress: Progress,
                        sample: int) -> tuple[float, int, int, int]:
    """(seconds beyond the reading already done, records, tokens, records timed)."""
    from audit_core.models.inspection import TABULAR_CLASSIFIER

    if kind == TABULAR_CLASSIFIER:
        return _tabular(plan, progress)
    return _encoder(plan, kind, progress, sample)


def _tabular(plan: AuditPlan, progress: Progress) -> tuple[float, int, int, int]:
    from audit_core.models.inspection import TABULAR_CLASSIFIER, inspect_model
    from audit_core.models.onnx_tabular import OnnxTabularClassifier
    from audit_core.plan.probe_selection import resolve_probes
    from audit_core.kinds.tabular import _open_reference
    from audit_core.kinds.tabular_inputs import read_tabular_inputs, require_columns, require_width

    selected = resolve_probes(plan, TABULAR_CLASSIFIER)
    columns = plan.data.columns
    require_columns(columns)
    progress.advance(0.1, "reading the model")
    info = inspect_model(plan.model.path)
    model = OnnxTabularClassifier(info, plan.model.threads)
    require_width(columns, model.width, info.name)
    classifiers = [model] + ([_open_reference(plan, model)[0]] if plan.model.reference else [])
    progress.advance(0.3, "reading the cohorts")
    cohorts, records, _labels = read_tabular_inputs(plan, model)
    rows = np.vstack([records[role].features for role in Role])
    progress.advance(0.5, "timing the split check and the class probabilities")
    _split_check(plan, cohorts, "tabular",
                 columns={name: rows[:, j] for j, name in enumerate(columns.features)})
    for classifier in classifiers:
        classifier.probabilities(rows)
    return PER_PROBE_SECONDS * len(selected), len(rows), 0, len(rows)


def _split_check(plan: AuditPlan, cohorts: dict, kind: str, columns: dict | None = None) -> None:
    """The run's model-free split check, run as the run runs it: its cost grows with the
    records (and a tabular file's columns), and on small cohorts it is most of the audit."""
    import zlib

    from audit_core.data.split_validity import check_split
    from audit_core.plan.probe_selection import resolve_thresholds

    thresholds = resolve_thresholds(plan)["split_validity"]
    check_split(cohorts, kind, max_auc=thresholds.max_auc, folds=thresholds.folds,
                rng=np.random.default_rng([plan.audit.seed, zlib.crc32(b"split_validity")]),
                columns=columns)


def _encoder(plan: AuditPlan, kind: str, progress: Progress,
             sample: int) -> tuple[float, int, int, int]:
    from audit_core.data.loading import load_cohort
    from audit_core.kinds.encoder import PSEUDO, _feedable
    from audit_core.passes.encoder_outputs import mask_token_id
    from audit_core.passes.encoder_pass import PSEUDO_ROWS_PER_RECORD
    from audit_core.models.inspection import inspect_model
    from audit_core.models.onnx_encoder import OnnxEncoder
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
    from audit_core.plan.probe_selection import resolve_probes

    selected = resolve_probes(plan, kind)
    progress.advance(0.1, "reading the model")
    info = inspect_model(plan.model.path, plan.model.context_length)
    model = OnnxEncoder(info, plan.model.threads)
    tokenizer = load_tokenizer(info.folder)
    mask_id = mask_token_id(tokenizer)
    selected = _feedable(selected, model, mask_id, explicit=plan.probes is not None)
    progress.advance(0.3, "reading the cohorts")
    cohorts = {role: load_cohort(path, role, plan.data.columns) for role, path in
               ((Role.MEMBERS, plan.data.members), (Role.NON_MEMBERS, plan.data.non_members))}
    ids: list[np.ndarray] = []
    for role in Role:
        ids += encode_all(tokenizer, list(cohorts[role].sequences))
    progress.advance(0.4, "timing the split check")
    _split_check(plan, cohorts, plan.data.columns.kind)
    context = model.context_length
    ids = [x[:context] if context else x for x in ids]  # an encoder reads one window
    picked = [ids[i] for i in np.linspace(0, len(ids) - 1, min(sample, len(ids))).astype(int)]
    seconds = PER_PROBE_SECONDS * len(selected)
    progress.advance(0.5, "timing the shared pass")
    batch = plan.model.batch_size
    if model.has_embeddings and any(p.id != PSEUDO for p, _ in selected):
        start = time.perf_counter()
        model.embeddings(picked, batch, progress.slice(0.5, 0.7))
        seconds += (time.perf_counter() - start) / len(picked) * len(ids)
    if any(p.id == PSEUDO for p, _ in selected):
        few = [x for x in picked if len(x) >= 3][:PSEUDO_SAMPLE_RECORDS]
        if few:
            start = time.perf_counter()
            model.pseudo_log_likelihood(few, mask_id, max(1, batch) * PSEUDO_ROWS_PER_RECORD,
                                        progress.slice(0.7, 0.9))
            copies = sum(max(0, len(x) - 2) for x in few)
            seconds += (time.perf_counter() - start) / max(1, copies) * sum(
                max(0, len(x) - 2) for x in ids)
    return seconds, len(ids), int(sum(len(x) for x in ids)), len(picked)
