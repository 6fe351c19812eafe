"""Subgroups (compliance.md 6.9): the same attack per subgroup (age band, sex, ...), with
cells of fewer than 11 patients suppressed (CMS cell-size rule) and multiple-testing
adjusted flags.

Rendered generically from `probes[].subgroups`: a list of mappings with `column`,
`value`, `n_members`, `n_non_members`, `suppressed`, `auc`, `auc_ci`, `q_value`,
`significant`, and any further metric the engine adds (shown when it is a number).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .elements import Align, Badge, Block, Heading, Paragraph, Section, Table, TextStyle
from .metrics import format_metric, metric_label
from .values import as_list, as_mapping, as_text, format_count, format_p_value, humanize, is_number
from .vulnerable_table import is_vulnerable_probe, vulnerable_table

MIN_CELL = 11
SUPPRESSED = "<11"
KNOWN = {"column", "value", "n_members", "n_non_members", "suppressed", "auc", "auc_ci",
         "q_value", "p_value", "significant"}


def has_subgroups(results: Mapping[str, Any]) -> bool:
    return any(as_list(as_mapping(p).get("subgroups")) for p in as_list(results.get("probes")))


def is_suppressed(group: Mapping[str, Any]) -> bool:
    if group.get("suppressed") is True:
        return True
    counts = [group.get("n_members"), group.get("n_non_members")]
    return any(is_number(c) and c < MIN_CELL for c in counts)


def subgroup_section(results: Mapping[str, Any], number: int) -> Section:
    blocks: list[Block] = [Paragraph(
        "Each row repeats the probe on one subgroup of patients. Cells with fewer than 11 "
        "patients on either side are suppressed (CMS cell-size rule) and show no figure. "
        "q: Benjamini–Hochberg adjusted p-value across the subgroups that AUC exceeds 0.5; "
        "LEAKS: membership is detectable in the subgroup at the plan's false discovery rate. "
        "Groups with a higher AUC than the whole cohort are the patients most at risk. "
        "Vulnerable subgroups (T6) compare each stratum with the whole cohort; see its table's note.",
        TextStyle.SMALL)]
    for probe in map(as_mapping, as_list(results.get("probes"))):
        groups = [as_mapping(g) for g in as_list(probe.get("subgroups"))]
        if not groups:
            continue
        blocks.append(Heading(as_text(probe.get("title"), as_text(probe.get("id"))), 3))
        blocks.append(vulnerable_table(probe) if is_vulnerable_probe(probe) else _table(groups))
    return Section(key="subgroups", title=f"{number}. Subgroups", blocks=tuple(blocks))


def _table(groups: list[Mapping[str, Any]]) -> Table:
    extra = [k for k in dict.fromkeys(k for g in groups for k in g)
             if k not in KNOWN and not k.endswith("_ci") and any(is_number(g.get(k)) for g in groups)][:1]
    header = ("Column", "Value", "n (members / non)", "AUC (95% CI)",
              *(metric_label(k) for k in extra), "q", "Flag")
    rows = []
    for g in groups:
        hidden = is_suppressed(g)
        def count(name: str) -> str:
            value = g.get(name)
            if hidden and (not is_number(value) or value < MIN_CELL):
                return SUPPRESSED
            return format_count(value)
        figures = ("suppressed",) + ("",) * len(extra) if hidden else (
            format_metric("auc", g.get("auc"), g.get("auc_ci")) if "auc" in g else "—",
            *(format_metric(k, g.get(k), g.get(k + "_ci")) for k in extra),
        )
        flag: Any = ""
        if not hidden and g.get("at_risk") is True:
            flag = Badge("fail", "AT RISK")
        elif not hidden and g.get("significant") is True:
            flag = Badge("warn", "LEAKS")
        rows.append((
            humanize(as_text(g.get("column"))), as_text(g.get("value")),
            f"{count('n_members')} / {count('n_non_members')}",
            *figures,
            "" if hidden else format_p_value(g.get("q_value")) if g.get("q_value") is not None else "—",
            flag,
        ))
    n = len(header)
    widths = (0.11, 0.14, 0.13, 0.21, *(0.2,) * len(extra), 0.1, 0.11)
    scale = 1 / sum(widths)
    return Table(header=header, rows=tuple(rows), widths=tuple(w * scale for w in widths[:n - 1]) +
                 (1 - sum(w * scale for w in widths[:n - 1]),),
                 align=(Align.LEFT, Align.LEFT, *(Align.RIGHT,) * (n - 3), Align.CENTER))
