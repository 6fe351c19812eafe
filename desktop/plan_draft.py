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

from audit_core.plan import AuditPlan, plan_from_dict
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


@dataclass
class PlanDraft:
    model_path: Path | None = None
    members: Path | None = None
    non_members: Path | None = None
    id_column: str = ""
    sequence_column: str = ""
    kind: str = "codes"
    subgroups: tuple[str, ...] = ()
    probes: dict[str, dict[str, Any]] = field(default_factory=standard_suite)
    audit: dict[str, Any] = field(default_factory=lambda: {"title": "Memorization audit",
                                                           "release_context": "internal"})
    extra: dict[str, Any] = field(default_factory=dict)  # the opened plan, as plain data
    source: Path | None = None

    @classmethod
    def from_plan(cls, plan: AuditPlan) -> PlanDraft:
        raw = plan.as_dict()
        cols = plan.data.columns
        return cls(model_path=plan.model.path, members=plan.data.members,
                   non_members=plan.data.non_members, id_column=cols.id,
                   sequence_column=cols.sequence, kind=cols.kind, subgroups=tuple(cols.subgroups),
                   probes={k: dict(v) for k, v in
                           (plan.probes or standard_suite(plan.model.reference is not None)).items()},
                   audit={k: raw["audit"].get(k, "") for k in (*AUDIT_KEYS, "seed")},
                   extra=raw, source=plan.source)

    def as_raw(self) -> dict[str, Any]:
        raw = copy.deepcopy(self.extra)
        raw.setdefault("audit", {}).update({k: v for k, v in self.audit.items() if v != ""})
        if not raw["audit"].get("title"):
            raw["audit"]["title"] = "Memorization audit"
        model = raw.setdefault("model", {})
        model["path"] = str(self.model_path or "")
        data = raw.setdefault("data", {})
        data.update({"members": str(self.members or ""), "non_members": str(self.non_members or ""),
                     # Keys the app has no field for yet (a tabular model's features and
                     # label) are kept from the opened plan.
                     "columns": {**data.get("columns", {}), "id": self.id_column,
                                 "sequence": self.sequence_column, "kind": self.kind,
                                 "subgroups": list(self.subgroups)}})
        raw["probes"] = {k: dict(v) for k, v in self.probes.items()}
        return raw

    @property
    def has_reference(self) -> bool:
        return bool(self.extra.get("model", {}).get("reference"))

    def to_plan(self) -> AuditPlan:
        """The plan, checked by the core exactly as a plan file would be (PlanError if not)."""
        return plan_from_dict(self.as_raw(), base=Path.cwd(), source=self.source)
