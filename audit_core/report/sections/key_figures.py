"""The few numbers a reader needs from each probe, derived from its metrics: the primary
figure with its interval, how many patients it touches, the smallest false-positive rate
the data can resolve, and the posterior an attacker would hold (compliance.md 2.1, 2.2).

Everything here reads optional fields: a figure that cannot be computed is None, and the
caller words its absence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit_core.families import Family
from audit_core.results.figures import format_count_pair, format_ratio

from .family_terms import PRIOR
from .metrics import format_metric
from .template_figures import net_of_template
from .values import as_list, as_mapping, format_count, format_percent, is_number


@dataclass(frozen=True)
class KeyFigure:
    label: str  # "TPR at 1% FPR"
    value: str  # "51.9% (48.8–55.0%)"
    n: str  # "1,000 / 1,000"


def metrics_of(probe: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_mapping(probe.get("metrics"))


def number(metrics: Mapping[str, Any], name: str) -> float | None:
    value = metrics.get(name)
    return float(value) if is_number(value) else None


def interval(metrics: Mapping[str, Any], name: str) -> tuple[float, float] | None:
    bounds = [b for b in as_list(metrics.get(name + "_ci")) if is_number(b)]
    return (float(bounds[0]), float(bounds[1])) if len(bounds) == 2 else None


def primary_tpr(metrics: Mapping[str, Any]) -> tuple[str, float] | None:
    """The name of the TPR judged by the verdict and its FPR: held out from the threshold's
    calibration split when the engine made one, else in-sample at the primary FPR, else
    TPR at 1% FPR (results written before the primary FPR was recorded)."""
    if "held_out_tpr" in metrics:
        return "held_out_tpr", number(metrics, "primary_fpr") or 0.01
    if "tpr_at_primary_fpr" in metrics:
        return "tpr_at_primary_fpr", number(metrics, "primary_fpr") or 0.01
    if "tpr_at_1pct_fpr" in metrics:
        return "tpr_at_1pct_fpr", 0.01
    return None


def likelihood_ratio(metrics: Mapping[str, Any]) -> float | None:
    """The engine's likelihood ratio at the operating point (null: no false positive, so
    unbounded). Results that do not hold one get none: the report computes no figure."""
    return number(metrics, "likelihood_ratio")


def engine_posterior(probe: Mapping[str, Any]) -> float | None:
    """The engine's posterior probability of membership of a flagged record, when it was
    computed at the prior the report states."""
    metrics = metrics_of(probe)
    return number(metrics, "posterior_at_prior") if number(metrics, "prior") == prior_of(probe) else None


def primary_figure(probe: Mapping[str, Any]) -> KeyFigure | None:
    """Membership: TPR at the primary FPR; extraction: members reproduced; otherwise the
    headline the engine chose."""
    metrics = metrics_of(probe)
    n = _n(metrics)
    primary = primary_tpr(metrics)
    if primary is not None:
        name, fpr = primary
        held = ", held out" if name == "held_out_tpr" else ""
        return KeyFigure(f"TPR at {format_percent(fpr)} FPR{held}",
                         format_metric(name, metrics.get(name), metrics.get(name + "_ci")), n)
    if "extraction_rate_members" in metrics:
        shown = format_metric("extraction_rate_members", metrics.get("extraction_rate_members"),
                              metrics.get("extraction_rate_members_ci"))
        count = metrics.get("extracted_members")
        if is_number(count):
            shown = f"{format_count(count)} members, {shown}"
        net = metrics.get("template_excluded_extracted_members")
        if metrics.get("template_found") and is_number(net):
            shown = f"{shown}; {format_count(net)} net of template text"
        return KeyFigure("Members reproduced verbatim", shown, n)
    headline = as_mapping(probe.get("headline"))
    if headline.get("text"):
        return KeyFigure(str(headline.get("label") or "Headline"), str(headline["text"]), n)
    return None


def affected_count(probe: Mapping[str, Any]) -> int | None:
    """Training patients the attack singles out: members flagged at the primary FPR, or
    members reproduced."""
    metrics = metrics_of(probe)
    for name in ("extracted_members", "members_flagged", "members_above_threshold"):
        if is_number(metrics.get(name)):
            return int(metrics[name])
    return None


def meaning_for_patient(probe: Mapping[str, Any]) -> str | None:
    """The posterior a motivated intruder would hold about one patient flagged by the
    attack, at the stated prior."""
    metrics = metrics_of(probe)
    ratio, chance = likelihood_ratio(metrics), engine_posterior(probe)
    if ratio is None or chance is None:
        return None
    prior = prior_of(probe)
    lower = number(metrics, "posterior_at_prior_lower")
    bound = f", at least {format_percent(lower)} from the interval bounds" if lower is not None else ""
    return (
        f"At the operating point, a flagged record is {format_ratio(ratio)} times more likely to be a "
        f"member than a non-member. If {format_percent(prior)} of the people an intruder "
        f"targets were in the training set, a flagged patient is a member with probability "
        f"{format_percent(chance)}{bound} (against {format_percent(prior)} before the "
        "attack; regulators accept at most 9% for public clinical data)."
    )


def prior_of(probe: Mapping[str, Any]) -> float:
    for source in (as_mapping(probe.get("thresholds")), metrics_of(probe)):
        value = source.get("prior")
        if is_number(value) and 0 < value < 1:
            return float(value)
    return PRIOR


def _n(metrics: Mapping[str, Any]) -> str:
    members = next((metrics[k] for k in ("n_members", "eligible_members") if is_number(metrics.get(k))), None)
    non = next((metrics[k] for k in ("n_non_members", "eligible_non_members") if is_number(metrics.get(k))), None)
    if members is not None and non is not None:
        return format_count_pair(members, non)
    return format_count(members if members is not None else non) if (members or non) is not None else ""


@dataclass(frozen=True)
class PlainNumber:
    """One of page 1's numbers: the figure, and what it means in a sentence that needs no
    statistics to read."""

    figure: str  # "55.0% (51.9–58.1%)"
    meaning: str  # "of training patients are picked out ..."


def plain_number(probe: Mapping[str, Any]) -> PlainNumber | None:
    """The probe's key result in plain words, for the families whose metrics say it
    directly; None for the others (the caller falls back on the headline)."""
    metrics = metrics_of(probe)
    family = probe.get("family")
    title = str(probe.get("title") or probe.get("id") or "the attack")
    if family == Family.MEMBERSHIP:
        primary = primary_tpr(metrics)
        if primary is None or number(metrics, primary[0]) is None:
            return None
        name, fpr = primary
        return PlainNumber(
            format_metric(name, metrics.get(name), metrics.get(name + "_ci")),
            f"of training patients are picked out by the strongest membership attack ({title}) "
            f"while it wrongly flags {format_percent(fpr)} of patients the model never saw.")
    if family == Family.EXTRACTION:
        members, eligible = metrics.get("extracted_members"), metrics.get("eligible_members")
        if not (is_number(members) and is_number(eligible)):
            return None
        control = ""
        if is_number(metrics.get("extracted_non_members")) and is_number(metrics.get("eligible_non_members")):
            control = (f", against {format_count(metrics['extracted_non_members'])} of "
                       f"{format_count(metrics['eligible_non_members'])} records it never saw")
        net = net_of_template(probe)
        return PlainNumber(
            f"{format_count(members)} of {format_count(eligible)}",
            f"training records are written out word for word when the model is given their "
            f"beginning{control}." + (f" {net}" if net else ""))
    if family == Family.REIDENTIFICATION:
        members = metrics.get("singling_out_rate_members")
        generated = metrics.get("generated_records")
        if not is_number(members):
            return None
        of = f"of {format_count(generated)}" if is_number(generated) else "of the"
        non_members = metrics.get("singling_out_rate_non_members")
        against = (f", against {format_metric('singling_out_rate_non_members', non_members)} that point "
                   "to a patient it never saw") if is_number(non_members) else ""
        return PlainNumber(
            format_metric("singling_out_rate_members", members, metrics.get("singling_out_rate_members_ci")),
            f"{of} records the model generated point to one training patient by age, sex, rare "
            f"codes or dates{against}.")
    return None


def strength(probe: Mapping[str, Any]) -> float:
    """How much the probe found, to pick the strongest of a family: the primary TPR, the
    extraction rate, else the headline value."""
    metrics = metrics_of(probe)
    primary = primary_tpr(metrics)
    for value in (number(metrics, primary[0]) if primary else None,
                  number(metrics, "extraction_rate_members"),
                  as_mapping(probe.get("headline")).get("value")):
        if is_number(value):
            return float(value)
    return 0.0
