"""The threat model (compliance.md 6.6): who the attacker is, what access they are assumed
to have, what they already know, and the release context that sets the threshold tier
(ISO/IEC 27559 via the IHE handbook: public release judges the maximum risk, non-public
release may judge the average); followed by the methods the probes use (methods.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit_core.families import Family

from .elements import Block, Paragraph, Section, Table, TextStyle
from .methods import methods_blocks
from .values import as_list, as_mapping, as_text, format_percent


@dataclass(frozen=True)
class ReleaseContext:
    key: str
    label: str
    scope: str  # "inside the hospital", used in sentences
    condition: str  # what must stay true for the conclusion to hold
    adversary: str
    access: str
    tier: str


CONTEXTS = {
    "internal": ReleaseContext(
        "internal", "Internal: the model stays inside the hospital",
        "inside the hospital", "the weights stay inside the hospital",
        "An insider or a motivated intruder who gains access to the hospital's systems.",
        "White-box: the ONNX weights and full output scores, as every probe here assumes.",
        "Non-public release (ISO/IEC 27559): average risk may be judged, with outlier "
        "safeguards; the plan's thresholds apply as set.",
    ),
    "partners": ReleaseContext(
        "partners", "Partners: shared with named vendors or research partners",
        "with the named partners", "the weights go only to the named partners under contract",
        "A partner's staff, or anyone who obtains the partner's copy.",
        "White-box: a partner holding the weights can run every attack in this report.",
        "Non-public release with the weights outside the hospital: treated as public for "
        "the weights (white-box), so the maximum risk is what counts.",
    ),
    "public": ReleaseContext(
        "public", "Public: weights or queries open to anyone",
        "publicly", "the release stays as assessed",
        "Any member of the public, including a motivated intruder with time and skill.",
        "White-box (public weights) or unlimited queries.",
        "Public release (ISO/IEC 27559): the maximum risk over every patient counts; "
        "health data is high impact, so the strictest tier (0.05) applies.",
    ),
}
UNSTATED = ReleaseContext(
    "unstated", "Not stated in the plan",
    "beyond the hospital", "the weights stay inside the hospital",
    "A motivated intruder (assumed, since no release context was stated).",
    "White-box: the ONNX weights and full output scores.",
    "Not stated: read the verdicts as if the weights were shared (maximum risk).",
)


def release_context(results: Mapping[str, Any]) -> ReleaseContext:
    key = as_text(as_mapping(results.get("audit")).get("release_context"), "").lower()
    return CONTEXTS.get(key, UNSTATED)


def _prior(results: Mapping[str, Any]) -> float | None:
    """The prior the membership probes state posteriors at; None without a membership probe
    (then no posterior is stated, and the report prints no assumed share)."""
    from .key_figures import prior_of

    probes = [as_mapping(p) for p in as_list(results.get("probes"))]
    return next((prior_of(p) for p in probes if p.get("family") == Family.MEMBERSHIP), None)


def threat_section(results: Mapping[str, Any], number: int) -> Section:
    """Who attacks, with what, and how each probe plays that attacker (compliance.md 6.6,
    6.7): the threat model and the methods in one section."""
    context = release_context(results)
    audit = as_mapping(results.get("audit"))
    rows = [
        ("Release context", context.label),
        ("Intended use", as_text(audit.get("intended_use"), "not stated in the plan")),
        ("Adversary", context.adversary),
        ("Access assumed", context.access),
        ("Auxiliary knowledge", "The target patient's record (or its beginning) and records of "
                                "similar patients who were not in training: the non-member cohort."),
        ("Threshold tier", context.tier),
    ]
    prior = _prior(results)
    if prior is not None:
        rows.append(("Prior for posterior statements",
                     f"{format_percent(prior)} of the people an intruder targets are assumed to be "
                     "training patients; a larger share makes every posterior higher."))
    blocks: list[Block] = [
        Table(header=(), rows=tuple(rows), widths=(0.26, 0.74), key_value=True),
        Paragraph(
            "Weights that leave the hospital give their holder white-box access: every attack in "
            "this report, and stronger ones, become possible. Sharing the ONNX file is therefore "
            "assessed as the public or partners context, never as internal.", TextStyle.NOTE),
        *methods_blocks(results),
    ]
    return Section(key="threat-model", title=f"{number}. Threat model and methods", blocks=tuple(blocks),
                   new_page=False)
