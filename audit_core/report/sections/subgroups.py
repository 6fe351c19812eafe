"""Subgroups (compliance.md 6.9): the membership attacks per subgroup (age band, sex, rare
codes), with counts of fewer than 11 patients hidden (CMS cell-size rule, small_cells.py), flags
adjusted for multiple testing, and a forest plot of the strongest attack.

The attacks run on the same strata, so their figures share one table, a column per
attack. The vulnerable-subgroups probe (T6) has strata of its own and shows them in its
own section (vulnerable_table.py).

Rendered generically from `probes[].subgroups`: a list of mappings with `column`,
`value`, `n_members`, `n_non_members`, `suppressed`, `auc`, `auc_ci`, `q_value`,
`significant`, and any further metric the engine adds (shown when it is a number).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from audit_core.families import Family

from .elements import Align, Badge, Block, Figure, Interval, IntervalChart, Section, Table
from .membership_page import short_name
from .metrics import format_metric, metric_label
from .small_cells import counts, is_suppressed, min_cell, rule
from .values import MISSING, as_list, as_mapping, as_text, format_p_value, humanize, is_number

SIGNIFICANT = "*"
ATTACKS_PER_TABLE = 4  # beside the subgroup and its counts; more go to a second table
KNOWN = {"column", "value", "n_members", "n_non_members", "suppressed", "hidden_counts", "auc",
         "auc_ci", "q_value", "p_value", "significant"}


def subgroup_probes(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Probes whose subgroups this section shows: all but T6, which has its own section."""
    return [p for p in map(as_mapping, as_list(results.get("probes")))
            if as_list(p.get("subgroups")) and p.get("family") != Family.SUBGROUPS]


def has_subgroups(results: Mapping[str, Any]) -> bool:
    return bool(subgroup_probes(results))


def subgroup_section(results: Mapping[str, Any], number: int) -> Section:
    probes = subgroup_probes(results)
    membership = [p for p in probes if p.get("family") == Family.MEMBERSHIP]
    smallest = min((min_cell(p) for p in probes), default=min_cell({}))
    blocks: list[Block] = []
    if len(membership) > 1:
        blocks += [_combined_table(membership[start:start + ATTACKS_PER_TABLE], smallest,
                                   first=start == 0)
                   for start in range(0, len(membership), ATTACKS_PER_TABLE)]
    else:
        blocks += [strata_table([as_mapping(g) for g in as_list(p.get("subgroups"))], smallest=smallest,
                                first=True) for p in membership]
    best = max(membership, key=lambda p: _auc(p) or 0.0, default=None)
    chart = _forest(best) if best is not None else None
    if chart is not None:
        blocks.append(Figure((chart,)))
    for probe in (p for p in probes if p not in membership):
        blocks.append(strata_table([as_mapping(g) for g in as_list(probe.get("subgroups"))],
                                   caption=as_text(probe.get("title"), as_text(probe.get("id"))),
                                   smallest=smallest, first=not membership))
    return Section(key="subgroups", title=f"{number}. Subgroups", blocks=tuple(blocks), new_page=False)


def _auc(probe: Mapping[str, Any]) -> float | None:
    value = as_mapping(probe.get("metrics")).get("auc")
    return float(value) if is_number(value) else None


def _label(group: Mapping[str, Any]) -> str:
    return f"{humanize(as_text(group.get('column')))}: {as_text(group.get('value'))}"


def _suppressed_note(smallest: int, first: bool) -> str:
    # The rule is stated once, under the section's first table; the others refer to it.
    return rule(smallest) if first else "Suppressed: hidden by the small-cell rule above."


def _combined_table(probes: Sequence[Mapping[str, Any]], smallest: int, first: bool) -> Table:
    order: dict[tuple[str, str], Mapping[str, Any]] = {}
    by_probe = []
    for probe in probes:
        groups = {}
        for group in map(as_mapping, as_list(probe.get("subgroups"))):
            key = (as_text(group.get("column")), as_text(group.get("value")))
            order.setdefault(key, group)
            groups[key] = group
        by_probe.append(groups)
    rows = []
    for key, top in order.items():
        cells = []
        for groups in by_probe:
            stratum = groups.get(key)
            if stratum is None:
                cells.append(MISSING)
            elif is_suppressed(stratum, smallest):
                cells.append("suppressed")
            else:
                auc = (format_metric("auc", stratum.get("auc"), stratum.get("auc_ci")) if "auc" in stratum
                       else MISSING)
                head, _, tail = auc.partition(" ")
                mark = SIGNIFICANT if stratum.get("significant") is True else ""
                cells.append(f"{head}{mark} {tail}".strip())
        rows.append((_label(top), counts(top, smallest), *cells))
    n = 2 + len(probes)
    return Table(
        header=("Subgroup", "n (members / non-members)", *(short_name(p) for p in probes)),
        rows=tuple(rows), widths=(0.26, 0.14, *((0.6 / len(probes),) * len(probes))),
        align=(Align.LEFT,) + (Align.RIGHT,) * (n - 1),
        caption=f"Each attack's AUC (95% CI) on each subgroup of patients. {SIGNIFICANT} membership is detectable in the "
                "subgroup at the plan's false discovery rate (Benjamini–Hochberg across subgroups); "
                f"the q-values are in results.json. {_suppressed_note(smallest, first)}")


def _forest(probe: Mapping[str, Any]) -> IntervalChart | None:
    rows = []
    for group in map(as_mapping, as_list(probe.get("subgroups"))):
        if is_suppressed(group) or not is_number(group.get("auc")):
            continue
        bounds = [b for b in as_list(group.get("auc_ci")) if is_number(b)]
        low, high = bounds if len(bounds) == 2 else (None, None)
        rows.append(Interval(_label(group), float(group["auc"]), low, high,
                             flagged=group.get("significant") is True))
    if not rows:
        return None
    whole = _auc(probe)
    return IntervalChart(
        title=f"{short_name(probe)}: AUC by subgroup", rows=tuple(rows), reference=whole,
        reference_label="whole cohort" if whole is not None else "", x_label="Membership AUC",
        caption="Right of the dashed line: the subgroup's patients are easier to single out as "
                "training patients than the cohort as a whole, i.e. most at risk. Bars: 95% "
                "intervals; red: significant at the plan's false discovery rate.")


def strata_table(groups: list[Mapping[str, Any]], caption: str | None = None, *,
                 smallest: int = min_cell({}), first: bool = True) -> Table:
    """One probe's subgroups: n, AUC, one further metric, q and the flag."""
    extra = [k for k in dict.fromkeys(k for g in groups for k in g)
             if k not in KNOWN and not k.endswith("_ci") and any(is_number(g.get(k)) for g in groups)][:1]
    header = ("Subgroup", "n (members / non-members)", "AUC (95% CI)",
              *(metric_label(k) for k in extra), "q", "Flag")
    rows = []
    for g in groups:
        hidden = is_suppressed(g, smallest)
        figures = ("suppressed",) + ("",) * len(extra) if hidden else (
            format_metric("auc", g.get("auc"), g.get("auc_ci")) if "auc" in g else MISSING,
            *(format_metric(k, g.get(k), g.get(k + "_ci")) for k in extra),
        )
        flag: Any = ""
        if not hidden and g.get("at_risk") is True:
            flag = Badge("fail", "AT RISK")
        elif not hidden and g.get("significant") is True:
            flag = Badge("warn", "LEAKS")
        rows.append((
            _label(g),
            counts(g, smallest),
            *figures,
            "" if hidden else format_p_value(g.get("q_value")) if g.get("q_value") is not None else MISSING,
            flag,
        ))
    n = len(header)
    widths = (0.28, 0.13, 0.19, *(0.18,) * len(extra), 0.1, 0.11)
    scale = 1 / sum(widths)
    legend = ("q: Benjamini–Hochberg adjusted p-value across the strata. LEAKS: membership is "
              "detectable in the stratum at the plan's false discovery rate; AT RISK: the stratum "
              f"fares significantly worse than the whole cohort. {_suppressed_note(smallest, first)}")
    return Table(header=header, rows=tuple(rows), widths=tuple(w * scale for w in widths[:n - 1]) +
                 (1 - sum(w * scale for w in widths[:n - 1]),),
                 align=(Align.LEFT, *(Align.RIGHT,) * (n - 2), Align.CENTER),
                 caption=f"{caption}. {legend}" if caption else legend)
