"""From probe outcomes to the audit's result: each probe run with its crash contained, the
split check's mark on membership verdicts, record references, the per-record table, the
overall rationale and the environment. Used by the runner's one probe loop (runner.py)."""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypedDict

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.data.split_validity import SplitValidity
from audit_core.errors import MnemoscopeError
from audit_core.families import Thresholds
from audit_core.probes.base import Probe, ProbeContext
from audit_core.results.figures import format_auc, format_general
from audit_core.results.result import ProbeResult, RecordTable
from audit_core.results.verdicts import Verdict
from audit_core.run.pseudonyms import pseudonym
from audit_core.settings import describe, settings_dict
from audit_core.work.progress import Cancelled

log = logging.getLogger(__name__)


class _Described(TypedDict):
    """The ProbeResult fields a probe's declaration and settings give, crashed or not."""

    id: str
    title: str
    family: str
    question: str
    citation: str
    settings: dict[str, Any]
    settings_meta: list[dict[str, Any]]
    thresholds: dict[str, Any]
    thresholds_meta: list[dict[str, Any]]


def run_probe(probe: Probe, config: object, ctx: ProbeContext, thresholds: Thresholds,
               crashed: bool = False) -> ProbeResult:
    clock = time.perf_counter()
    common: _Described = {
        "id": probe.id, "title": probe.title, "family": probe.family, "question": probe.question,
        "citation": probe.citation, "settings": settings_dict(config),
        "settings_meta": [f.as_dict() for f in describe(probe.config_type)],
        "thresholds": settings_dict(thresholds),
        "thresholds_meta": [f.as_dict() for f in describe(type(thresholds))]}
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
    # Record indices until the audit's pseudonym key exists (`with_refs`), as text: the
    # checkpoint keeps this form, and ProbeResult's entries are str to str.
    extracted = tuple({"role": role.value, "index": str(index)} for role, index in outcome.extracted)
    return ProbeResult(**common, verdict=outcome.verdict,
                       headline={"label": outcome.headline.label, "value": outcome.headline.value,
                                 "text": outcome.headline.text},
                       metrics=outcome.metrics, curves=outcome.curves, findings=outcome.findings,
                       extracted=extracted, seconds=time.perf_counter() - clock,
                       scores={role.value: s for role, s in outcome.scores.items()},
                       attack_strength=outcome.attack_strength, subgroups=outcome.subgroups,
                       carriers=tuple({**c, "role": Role(c["role"]).value} for c in outcome.carriers))


def _not_assessed(common: _Described, clock: float, error: str) -> ProbeResult:
    return ProbeResult(**common, verdict=Verdict.ERROR,
                       headline={"label": "Not assessed", "value": None, "text": "not assessed"},
                       metrics={}, curves={}, findings=(), extracted=(),
                       seconds=time.perf_counter() - clock, error=error)


def mark_split(result: ProbeResult, split: SplitValidity) -> ProbeResult:
    """A membership verdict on a split the files alone can tell apart is not evidence."""
    if result.family != "membership" or split.reliable or result.verdict is Verdict.ERROR:
        return result
    reason = (f"Unreliable: the split check (no model involved) tells members from non-members "
              f"with AUC {format_auc(split.auc)}, above {format_general(split.threshold)}; this attack's result "
              f"({result.verdict.value.upper()} on its own) cannot be credited to the model, so "
              "the verdict is INCONCLUSIVE.")
    return replace(result, verdict=Verdict.INCONCLUSIVE, reliable=False,
                   verdict_if_split_valid=result.verdict, findings=(reason, *result.findings))


def with_refs(result: ProbeResult, cohorts: dict[Role, Cohort], key: bytes) -> ProbeResult:
    """Replace record indices by ids and keyed pseudonyms, once the key exists."""
    if not result.extracted and not result.carriers:
        return result
    ids = [cohorts[Role(e["role"])].ids[int(e["index"])] for e in result.extracted]
    named = tuple({"role": e["role"], "id": record_id, "ref": pseudonym(key, e["role"], record_id)}
                  for e, record_id in zip(result.extracted, ids, strict=True))
    carriers = []
    for c in result.carriers:
        record_id = cohorts[Role(c["role"])].ids[int(c["index"])]
        rest = {k: v for k, v in c.items() if k not in ("role", "index")}
        carriers.append({"role": c["role"], "id": record_id,
                         "ref": pseudonym(key, c["role"], record_id), **rest})
    return replace(result, extracted=named, carriers=tuple(carriers))


def record_table(cohorts: dict[Role, Cohort], token_ids: Mapping[Role, Sequence[np.ndarray]],
                 windows: dict[Role, np.ndarray], key: bytes) -> RecordTable:
    """records.csv: each record's pseudonym, token count (0 for tabular rows: `token_ids`
    empty) and the context windows the scoring pass read it in (0 where not scored)."""
    roles, ids, refs, tokens, counts = [], [], [], [], []
    for role in Role:
        for i, record_id in enumerate(cohorts[role].ids):
            roles.append(role.value)
            ids.append(record_id)
            refs.append(pseudonym(key, role.value, record_id))
            tokens.append(len(token_ids[role][i]) if role in token_ids else 0)
            counts.append(int(windows[role][i]) if role in windows else 0)
    return RecordTable(roles=tuple(roles), ids=tuple(ids), refs=tuple(refs),
                       tokens=np.array(tokens), windows=np.array(counts))


def rationale(overall: Verdict, results: list[ProbeResult], outcome: str, planned: int) -> str:
    if outcome == "cancelled":
        return (f"The audit was cancelled: {len(results)} of {planned} probes finished; "
                "the result is incomplete.")
    # Probes by the titles the report and the app show them under: a reader of page 1 or of
    # the results screen never sees an engine id such as min_k_plus_plus.
    named = [r.title for r in results if r.verdict is overall]
    n = len(results)
    if overall is Verdict.PASS:
        return f"All {n} probes passed: no memorization was detected at the configured thresholds."
    label = {Verdict.FAIL: "failed", Verdict.WARN: "raised a warning",
             Verdict.INCONCLUSIVE: "were inconclusive"}[overall]
    if overall is Verdict.INCONCLUSIVE:
        named = [r.title for r in results if r.verdict in (Verdict.INCONCLUSIVE, Verdict.ERROR)]
    return f"{len(named)} of {n} probes {label}: {'; '.join(named)}."


def utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def environment() -> dict[str, str]:
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
