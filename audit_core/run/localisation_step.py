"""The localisation of memorized spans as a step of the run: when it applies, its share of the
progress bar, its checkpoint unit, and a crash contained like a probe's.

Kept beside the runner (which calls these three functions) so that runner.py stays the one
probe loop; the work itself is in memorized_spans.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from audit_core.data.cohort import Cohort, Role
from audit_core.errors import MnemoscopeError
from audit_core.kinds.base import Prepared
from audit_core.models.onnx_encoder import OnnxEncoder
from audit_core.models.onnx_tabular import OnnxTabularClassifier
from audit_core.plan.parsing import AuditPlan
from audit_core.plan.span_settings import MEMORIZED_SPANS, MemorizedSpansSettings
from audit_core.results.memorized_spans import MemorizedSpans, decode_spans, encode_spans
from audit_core.results.result import ProbeResult
from audit_core.run.memorized_spans import localise
from audit_core.run.pseudonyms import pseudonym
from audit_core.work.checkpoints import OpenCheckpoint
from audit_core.work.progress import Cancelled, Progress
from audit_core.work.units import resumable

log = logging.getLogger(__name__)

UNIT = "memorized_spans"
_WEIGHT = 1.0  # about a cheap probe: a few hundred records scored again


def _settings(prepared: Prepared) -> MemorizedSpansSettings | None:
    settings = prepared.thresholds.get(MEMORIZED_SPANS)
    return settings if isinstance(settings, MemorizedSpansSettings) else None


def applies(plan: AuditPlan, prepared: Prepared) -> bool:
    """A language model with token ids to score, and records to localise."""
    settings = _settings(prepared)
    return (settings is not None and settings.records > 0 and prepared.tokenizer is not None
            and not isinstance(prepared.model, (OnnxTabularClassifier, OnnxEncoder))
            and all(len(prepared.token_ids.get(role, ())) for role in Role))


def localisation_weight(plan: AuditPlan, prepared: Prepared) -> float:
    return _WEIGHT if applies(plan, prepared) else 0.0


def localised(plan: AuditPlan, prepared: Prepared, results: Sequence[ProbeResult],
              saved: OpenCheckpoint, progress: Progress) -> MemorizedSpans | None:
    """The spans, or None when the step does not apply or crashed (logged without record
    content; the audit's verdicts do not depend on it, so it does not sink the run)."""
    settings = _settings(prepared)
    if settings is None or not applies(plan, prepared):
        return None
    try:
        return resumable(saved, UNIT, lambda: localise(
            prepared, results, settings, seed=plan.audit.seed, batch_size=plan.model.batch_size,
            kind=plan.data.columns.kind, progress=progress), encode_spans, decode_spans)
    except (Cancelled, MnemoscopeError):
        raise
    except Exception:
        log.exception("the localisation of memorized spans failed; the audit goes on without it")
        return None


def with_record_ids(spans: MemorizedSpans | None, cohorts: dict[Role, Cohort],
                    key: bytes) -> MemorizedSpans | None:
    """Each localised record's id and keyed pseudonym, once the key exists."""
    if spans is None:
        return None
    ids = {(e["role"], int(e["index"])): (cohorts[Role(e["role"])].ids[int(e["index"])],
                                          pseudonym(key, e["role"], cohorts[Role(e["role"])].ids[int(e["index"])]))
           for e in spans.records if "index" in e}
    return spans.with_ids(ids)
