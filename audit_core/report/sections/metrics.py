"""The metrics table of a probe: a label, a value with its 95% interval, and its n.

Metrics differ per probe family and new probes add new ones, so nothing here is a closed
list: a metric this module has never heard of is still shown, labelled from its key and
formatted by the shape of its value. Known names only get a nicer label and the format a
reader expects (AUC to 3 decimals, rates as percentages, small p-values in scientific
notation). Every figure carries its interval and n (DESIGN.md, "Statistics").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from audit_core.results.figures import (
    format_auc,
    format_count,
    format_count_pair,
    format_epsilon,
    format_measure,
    format_p_value,
    format_rate,
    interval_bounds,
    is_number,
)

from .values import humanize

CI_SUFFIX = "_ci"
# A figure computed over another sample than the two cohorts (generated records, eligible
# records) names its denominator beside it: `<metric>_n` (re-identification's rates are
# over the generated records, not over the 1,000 members).
N_SUFFIX = "_n"
NON_MEMBERS = "non_members"
MEMBERS = "members"

# Nicer labels for names the engine writes today; anything else is derived from the key.
LABELS = {
    "auc": "AUC",
    "n_members": "Members scored",
    "n_non_members": "Non-members scored",
    "eligible_members": "Members eligible",
    "eligible_non_members": "Non-members eligible",
    "extracted_members": "Members extracted",
    "extracted_non_members": "Non-members extracted",
    "epsilon_lower_bound": "Epsilon lower bound (ε_lb)",
    "resolvable_fpr": "Smallest resolvable FPR",
    "p_value": "p-value",
    "fpr_observed": "FPR observed at the threshold",
    "powered": "Enough non-members to resolve the primary FPR",
}
_ACRONYMS = {"tpr": "TPR", "fpr": "FPR", "auc": "AUC", "roc": "ROC", "ci": "CI", "phi": "PHI", "qi": "QI"}


class MetricKind(StrEnum):
    COUNT = "count"
    RATE = "rate"
    AUC = "auc"
    P_VALUE = "p_value"
    EPSILON = "epsilon"
    OTHER = "other"


_COUNT_PREFIXES = ("n_", "eligible_", "extracted_", "count_", "num_")
_RATE_WORDS = {"rate", "tpr", "fpr", "fraction", "share", "accuracy", "recall", "precision"}


def metric_kind(name: str, value: Any) -> MetricKind:
    lowered = name.lower()
    if lowered.startswith(_COUNT_PREFIXES) or lowered.endswith("_count"):
        return MetricKind.COUNT
    if "p_value" in lowered or lowered in ("p", "pvalue"):
        return MetricKind.P_VALUE
    if "auc" in lowered:
        return MetricKind.AUC
    if "epsilon" in lowered:
        return MetricKind.EPSILON
    # Whole words of the key: "generated_records" holds the letters of "rate" but is a
    # count (it printed as 20000.0%).
    if _RATE_WORDS & set(lowered.replace(".", "_").split("_")) or "token_match" in lowered:
        return MetricKind.RATE
    if isinstance(value, int) and not isinstance(value, bool):
        return MetricKind.COUNT
    return MetricKind.OTHER


def metric_label(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    # "tpr_at_0.1pct_fpr" -> "TPR at 0.1% FPR"; "extraction_rate_members" ->
    # "Extraction rate, members": the cohort a figure is about reads best last.
    stem, cohort = name, ""
    for suffix, words in ((f"_{NON_MEMBERS}", "non-members"), (f"_{MEMBERS}", "members")):
        if name.endswith(suffix) and len(name) > len(suffix):
            stem, cohort = name[: -len(suffix)], words
            break
    stem = re.sub(r"(\d+(?:\.\d+)?)pct(?=_|$)", r"\1%", stem)
    label = humanize(" ".join(_ACRONYMS.get(word, word) for word in stem.split("_") if word))
    return f"{label}, {cohort}" if cohort else label


def format_metric(name: str, value: Any, interval: Any = None) -> str:
    """The value and, when there is one, its 95% interval: "0.912 (0.899–0.925)"."""
    if value is None:
        # TPR at a tiny FPR is null when the non-member cohort is too small to resolve it;
        # that is a finding in itself, not a gap in the table.
        return "not resolvable" if re.search(r"tpr_at_", name) else "not computed"
    if not is_number(value):
        return _format_other(value)
    kind = metric_kind(name, value)
    if kind is MetricKind.RATE:
        return format_rate(value, interval)
    if kind is MetricKind.P_VALUE:
        return format_p_value(value)
    if kind is MetricKind.COUNT and interval_bounds(interval) is None:
        return format_count(value)
    if kind is MetricKind.AUC:
        return format_auc(value, interval)
    if kind is MetricKind.EPSILON:
        return format_epsilon(value, interval)
    return format_measure(value, interval)


def _format_other(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def metric_n(name: str, metrics: Mapping[str, Any]) -> str:
    """How many records stand behind a figure: its own denominator when the probe names one
    (`<metric>_n`), else the cohort it is about, or both."""
    if metric_kind(name, metrics.get(name)) is MetricKind.COUNT:
        return ""
    if is_number(metrics.get(name + N_SUFFIX)):
        return format_count(metrics[name + N_SUFFIX])
    members = _first_count(metrics, "n_members", "eligible_members")
    non_members = _first_count(metrics, "n_non_members", "eligible_non_members")
    if name.endswith(f"_{NON_MEMBERS}"):
        return format_count(non_members) if non_members is not None else ""
    if name.endswith(f"_{MEMBERS}"):
        return format_count(members) if members is not None else ""
    if members is not None and non_members is not None:
        return format_count_pair(members, non_members)
    either = members if members is not None else non_members
    return format_count(either) if either is not None else ""


def _first_count(metrics: Mapping[str, Any], *names: str) -> Any:
    return next((metrics[name] for name in names if is_number(metrics.get(name))), None)


def is_companion(name: str, metrics: Mapping[str, Any]) -> bool:
    """An interval or a denominator, shown in its metric's row rather than in one of its own."""
    return any(name.endswith(suffix) and name[: -len(suffix)] in metrics
               for suffix in (CI_SUFFIX, N_SUFFIX))


def metric_rows(metrics: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value with interval, n) for every metric, in the engine's order."""
    return [(metric_label(name), format_metric(name, value, metrics.get(name + CI_SUFFIX)),
             metric_n(name, metrics))
            for name, value in metrics.items() if not is_companion(name, metrics)]
