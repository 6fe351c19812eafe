"""The metrics table of a probe: a label, a value with its 95% interval, and its n.

Metrics differ per probe family and new probes add new ones, so nothing here is a closed
list: a metric this module has never heard of is still shown, labelled from its key and
formatted by the shape of its value. Known names only get a nicer label and the format a
reader expects (AUC to 3 decimals, rates as percentages, small p-values in scientific
notation). Every figure carries its interval and n (DESIGN.md, "Statistics").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from .values import (
    DASH,
    as_list,
    format_count,
    format_general,
    format_p_value,
    format_percent,
    humanize,
    is_number,
    percent_decimals,
)

CI_SUFFIX = "_ci"
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
_RATE_WORDS = ("rate", "tpr", "fpr", "token_match", "fraction", "share", "accuracy", "recall", "precision")


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
    if any(word in lowered for word in _RATE_WORDS):
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
    words = [_ACRONYMS.get(word, word) for word in stem.split("_") if word]
    label = humanize(" ".join(words))
    return f"{label}, {cohort}" if cohort else label


def format_metric(name: str, value: Any, interval: Any = None) -> str:
    """The value and, when there is one, its 95% interval: "0.912 (0.899–0.925)"."""
    if value is None:
        # TPR at a tiny FPR is null when the non-member cohort is too small to resolve it;
        # that is a finding in itself, not a gap in the table.
        return "not resolvable" if re.search(r"tpr_at_", name) else "not computed"
    if not is_number(value):
        return _format_other(value)
    bounds = [b for b in as_list(interval) if is_number(b)]
    bounds = bounds if len(bounds) == 2 else []
    kind = metric_kind(name, value)
    if kind is MetricKind.RATE:
        decimals = percent_decimals(value, *bounds)
        shown = format_percent(value, decimals)
        if bounds:
            low, high = (format_percent(b, decimals).rstrip("%") for b in bounds)
            shown += f" ({low}{DASH}{high}%)"
        return shown
    if kind is MetricKind.P_VALUE:
        return format_p_value(value)
    if kind is MetricKind.COUNT and not bounds:
        return format_count(value)
    if kind is MetricKind.AUC:
        decimals = 3
    elif kind is MetricKind.EPSILON:
        decimals = 2
    elif isinstance(value, int):
        decimals = 0
    else:
        decimals = significant_decimals(value)
    if decimals is None:  # too large or too small for fixed decimals
        shown = format_general(value)
        if bounds:
            shown += f" ({format_general(bounds[0])}{DASH}{format_general(bounds[1])})"
        return shown
    shown = f"{value:,.{decimals}f}"
    if bounds:
        shown += f" ({bounds[0]:,.{decimals}f}{DASH}{bounds[1]:,.{decimals}f})"
    return shown


def significant_decimals(value: float, digits: int = 3) -> int | None:
    """Decimals that show `digits` significant digits of value; its interval is printed
    with the same decimals so the three numbers line up (0.123 (0.050–0.200))."""
    if value == 0:
        return digits
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -3 or magnitude >= 6:
        return None
    return max(0, digits - 1 - magnitude)


def _format_other(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def metric_n(name: str, metrics: Mapping[str, Any]) -> str:
    """How many records stand behind a figure: the cohort it is about, or both."""
    if metric_kind(name, metrics.get(name)) is MetricKind.COUNT:
        return ""
    members = _first_count(metrics, "n_members", "eligible_members")
    non_members = _first_count(metrics, "n_non_members", "eligible_non_members")
    if name.endswith(f"_{NON_MEMBERS}"):
        return non_members
    if name.endswith(f"_{MEMBERS}"):
        return members
    if members and non_members:
        return f"{members} / {non_members}"
    return members or non_members


def _first_count(metrics: Mapping[str, Any], *names: str) -> str:
    for name in names:
        if is_number(metrics.get(name)):
            return format_count(metrics[name])
    return ""


def metric_rows(metrics: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value with interval, n) for every metric, in the engine's order."""
    rows = []
    for name, value in metrics.items():
        if name.endswith(CI_SUFFIX) and name[: -len(CI_SUFFIX)] in metrics:
            continue  # shown inside its metric's row
        rows.append(
            (
                metric_label(name),
                format_metric(name, value, metrics.get(name + CI_SUFFIX)),
                metric_n(name, metrics),
            )
        )
    return rows
