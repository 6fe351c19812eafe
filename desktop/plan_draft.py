"""The audit being set up in the flow: what the pages edit, turned into an AuditPlan.

Settings the app has no page for (batch size, threads, thresholds, declared training
facts, the seed) are kept from the plan that was opened, so Open plan then Save plan
loses nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_core.plan.parsing import AuditPlan, plan_from_dict
from audit_core.plan.run_keys import run_table
from audit_core.probes import PROBES

AUDIT_KEYS = ("title", "institution", "requester", "auditor", "intended_use", "release_context")


def needs_reference(probe: Any) -> bool:
    return bool(getattr(probe.needs, "reference", False))


def standard_suite(has_reference: bool = False, kind: str = "causal_lm") -> dict[str, dict[str, Any]]:
    """Every registered probe the audit can support, with its defaults (the core's own
    choice when a plan leaves out [probes]); `kind` is the model's (models/inspection.py)."""
    return {probe.id: {} for probe in PROBES
            if (has_reference or not needs_reference(probe)) and probe.needs.applies_to(kind)
            and not opt_in(probe)}


def opt_in(probe: Any) -> bool:
    """Probes ticked by hand only: canaries need the hospital's manifest, identifier
    leakage needs notes (the draft's record kind may still change)."""
    return bool(getattr(probe.needs, "canaries", False) or getattr(probe.needs, "text_records", False))


def _kind(model_path: Path) -> str:
    """The model's kind from its signature (no weights read); a causal LM when unreadable."""
    from audit_core.models.inspection import CAUSAL_LM, UNKNOWN, model_kind

    kind = model_kind(model_path)
    return CAUSAL_LM if kind == UNKNOWN else kind


@dataclass
class PlanDraft:
    model_path: Path | None = None
    members: Path | None = None
    non_members: Path | None = None
    id_column: str = ""
    sequence_column: str = ""
    kind: str = "codes"
    subgroups: tuple[str, ...] = ()
    # A tabular classifier's input columns (in its input order) and outcome column; empty
    # for models that read token sequences.
    features: tuple[str, ...] = ()
    label: str = ""
    probes: dict[str, dict[str, Any]] = field(default_factory=standard_suite)
    audit: dict[str, Any] = field(default_factory=lambda: {"title": "Memorization audit",
                                                           "release_context": "internal"})
    extra: dict[str, Any] = field(default_factory=dict)  # the opened plan, as plain data
    source: Path | None = None
    # The model kind `probes` was chosen for (not saved): another kind gets its own suite.
    probes_kind: str = "causal_lm"
    # A MEDS dataset folder instead of two files: the plan's [data] keys (format, root,
    # members_splits, non_members_splits, kept tokens and visit_codes); None for two files.
    meds: dict[str, Any] | None = None

    @classmethod
    def from_plan(cls, plan: AuditPlan) -> PlanDraft:
        # Where it runs ([run]) is not part of as_dict (nor of the audit's id): kept beside it.
        raw = {**plan.as_dict(), **run_table(plan.run)}
        cols = plan.data.columns
        kind = _kind(plan.model.path)
        return cls(model_path=plan.model.path, members=plan.data.members,
                   non_members=plan.data.non_members, id_column=cols.id,
                   sequence_column=cols.sequence, kind=cols.kind, subgroups=tuple(cols.subgroups),
                   features=tuple(cols.features), label=cols.label,
                   probes={k: dict(v) for k, v in
                           (plan.probes or standard_suite(plan.model.reference is not None,
                                                          kind)).items()},
                   audit={k: raw["audit"].get(k, "") for k in (*AUDIT_KEYS, "seed")},
                   extra=raw, source=plan.source, probes_kind=kind,
                   meds=({k: v for k, v in raw["data"].items() if k != "columns"}
                         if plan.data.format != "files" else None))

    def as_raw(self) -> dict[str, Any]:
        raw = copy.deepcopy(self.extra)
        raw.setdefault("audit", {}).update({k: v for k, v in self.audit.items() if v != ""})
        if not raw["audit"].get("title"):
            raw["audit"]["title"] = "Memorization audit"
        model = raw.setdefault("model", {})
        model["path"] = str(self.model_path or "")
        if self.meds is not None:  # a MEDS folder: its keys only, the files' keys dropped
            raw["data"] = {**{k: v for k, v in self.meds.items() if k != "columns"},
                           "columns": {"subgroups": list(self.subgroups)}}
            raw["probes"] = {k: dict(v) for k, v in self.probes.items()}
            return raw
        raw.get("data", {}).pop("format", None)  # two files chosen after a MEDS plan was opened
        for key in ("root", "members_splits", "non_members_splits", "tokens", "visit_codes"):
            raw.get("data", {}).pop(key, None)
        data = raw.setdefault("data", {})
        columns = {**data.get("columns", {}), "id": self.id_column, "subgroups": list(self.subgroups)}
        if self.features or self.label:  # a tabular classifier: no sequence column, no record kind
            columns.update(features=list(self.features), label=self.label)
            columns.pop("sequence", None)
            columns.pop("kind", None)
        else:  # features left over from a tabular model chosen before would be refused
            columns.update(sequence=self.sequence_column, kind=self.kind)
            columns.pop("features", None)
            columns.pop("label", None)
        data.update({"members": str(self.members or ""), "non_members": str(self.non_members or ""),
                     "columns": columns})
        raw["probes"] = {k: dict(v) for k, v in self.probes.items()}
        return raw

    @property
    def has_reference(self) -> bool:
        return bool(self.extra.get("model", {}).get("reference"))

    def to_plan(self) -> AuditPlan:
        """The plan, checked by the core exactly as a plan file would be (PlanError if not)."""
        return plan_from_dict(self.as_raw(), base=Path.cwd(), source=self.source)
