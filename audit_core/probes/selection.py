"""Which probes a plan runs, with their checked settings, and the thresholds they judge by.

Everything here is decided from the plan (and the model's kind) before any file is read,
so a mistyped probe id or an out-of-range setting costs the user nothing. It sits above the
probes and the family registry (it reads both) and the plan (which reads neither): the
plan keeps probe settings and threshold tables as raw data, checked here.
"""

from __future__ import annotations

import logging
from typing import Any

from audit_core.errors import ModelError, PlanError
from audit_core.families import FAMILIES
from audit_core.plan.parsing import AuditPlan
from audit_core.plan.span_settings import MEMORIZED_SPANS, MemorizedSpansSettings
from audit_core.plan.thresholds import SPLIT_VALIDITY, SplitValidityThresholds
from audit_core.probes import PROBES, PROBES_BY_ID
from audit_core.probes.applicability import check_code_sets, not_applicable, records_reason
from audit_core.probes.base import Probe
from audit_core.settings import build_settings

log = logging.getLogger(__name__)


def resolve_probes(plan: AuditPlan, kind: str = "causal_lm") -> list[tuple[Probe, Any]]:
    """The probes to run with their checked configs; unknown ids or settings are refused,
    and so are probes that do not apply to the model's kind (models/inspection.py)."""
    has_reference = plan.model.reference is not None
    records = plan.data.columns.kind
    if plan.probes is None:
        return [(p, p.config_type()) for p in _standard(plan, kind)
                if records_reason(p, records) is None]
    chosen = []
    for probe_id, settings in plan.probes.items():
        probe = PROBES_BY_ID.get(probe_id)
        if probe is None:
            raise PlanError(f"unknown probe 'probes.{probe_id}' (known probes: {', '.join(PROBES_BY_ID)})")
        if not probe.needs.applies_to(kind):
            raise PlanError(f"'probes.{probe_id}' does not apply to this model, a "
                            f"{kind.replace('_', ' ')} (it needs {probe.needs.describe()})")
        reason = records_reason(probe, records)
        if reason is not None:
            raise PlanError(f"'probes.{probe_id}' does not apply to these records: {reason} "
                            f"(data.columns.kind = '{records}'); remove [probes.{probe_id}]")
        if probe.needs.reference and not has_reference:
            raise PlanError(f"'probes.{probe_id}' needs a reference model: set model.reference "
                            "to a model of the same tokenizer trained without the members")
        config = build_settings(probe.config_type, settings, f"probes.{probe_id}")
        check_code_sets(probe_id, config, records)
        chosen.append((probe, config))
    if not chosen:
        raise PlanError("the [probes] table selects no probe")
    order = {p.id: i for i, p in enumerate(PROBES)}
    return sorted(chosen, key=lambda item: order[item[0].id])


def _standard(plan: AuditPlan, kind: str) -> list[Probe]:
    """The standard suite for the model's kind, before the records' kind is considered."""
    has_reference = plan.model.reference is not None
    return [p for p in PROBES if (has_reference or not p.needs.reference) and p.needs.applies_to(kind)
            and not getattr(p.needs, "canaries", False)]


def left_out_for_records(plan: AuditPlan, kind: str = "causal_lm") -> list[dict[str, str]]:
    """The standard suite's probes that do not apply to the plan's records (id, title,
    reason): none when the plan names its probes (a misplaced one is refused instead)."""
    if plan.probes is not None:
        return []
    return not_applicable(_standard(plan, kind), plan.data.columns.kind)


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
    """Each [thresholds.*] table of the plan checked and filled with its defaults, by table
    name (a probe's family, or "split_validity"); an unknown table is refused."""
    tables = threshold_tables()
    unknown = sorted(set(plan.thresholds) - set(tables))
    if unknown:
        raise PlanError(f"unknown key 'thresholds.{unknown[0]}' "
                        f"(known: {', '.join(tables)})")
    resolved = {table: build_settings(kind, plan.thresholds.get(table, {}), f"thresholds.{table}")
                for table, kind in tables.items()}
    for family, values in resolved.items():
        low, high = getattr(values, "warn_auc_lower", None), getattr(values, "fail_auc_lower", None)
        if low is not None and high is not None and high < low:
            raise PlanError(f"'thresholds.{family}.fail_auc_lower' ({high}) is below warn_auc_lower ({low})")
    return resolved


def threshold_tables() -> dict[str, type]:
    """Table name -> the dataclass its values fill: the families' in the registry's order,
    then the split check's. Read from the registry at each call, so a family registered
    there is a table of the plan with nothing added here."""
    return {**{spec.table: spec.thresholds for spec in FAMILIES.values()},
            SPLIT_VALIDITY: SplitValidityThresholds,
            # Not a verdict's: what the localisation of memorized spans reads (run/memorized_spans.py).
            MEMORIZED_SPANS: MemorizedSpansSettings}


def probe_path_settings(probe_id: str) -> tuple[str, ...]:
    """The settings of a probe that name a file (its `path_settings`), read from the plan
    file's folder when relative (the plan resolved them: plan.parsing.PROBE_PATH_SETTINGS);
    none for an id no probe has."""
    return tuple(getattr(PROBES_BY_ID.get(probe_id), "path_settings", ()))
