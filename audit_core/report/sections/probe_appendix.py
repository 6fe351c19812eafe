"""The appendix tables that used to repeat in every probe's section: the settings each
probe ran with, the thresholds behind the verdicts (each printed once, however many
probes share it), and the metrics the body does not show (compliance.md 6.8, 6.14).

Together with the body, every recorded figure is printed exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from audit_core.families import Family

from .elements import Align, Block, Code, Heading, Paragraph, Table, TextStyle
from .family_terms import THRESHOLD_ANCHORS
from .membership_page import OPERATING_POINTS, SHOWN, is_membership, short_name
from .metrics import CI_SUFFIX, format_metric, metric_label
from .probe_section import metrics_on_page, metrics_table
from .template_figures import without_template
from .values import as_list, as_mapping, as_text, format_general, humanize

# Attacks side by side in one metrics table; more go to a second table.
ATTACKS_PER_TABLE = 4
# Metrics a probe's own table prints in the body (clinical_tables.py): T1's gap per tier,
# T2's AUROC gap per category and tier. Not repeated here.
# Keyed by text: a result names its family as a string (a Family equals its value).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {Family.TRAJECTORY: ("distance_gap_",),
                                             Family.ATTRIBUTE: ("auroc_gap_",)}
# Printed elsewhere once: the prior is a threshold (A.2).
ELSEWHERE = frozenset({"prior"})


def settings_blocks(probes: Sequence[Mapping[str, Any]]) -> list[Block]:
    """One row per probe: every setting as `key = value`, exactly as the plan takes it."""
    rows, plain = [], []
    for probe in probes:
        settings = as_mapping(probe.get("settings"))
        meta = {str(m.get("name")): m for m in map(as_mapping, as_list(probe.get("settings_meta"))) if m.get("name")}
        names = list(settings) + [name for name in meta if name not in settings]
        if not names:
            plain.append(short_name(probe))
            continue
        pairs = []
        for name in names:
            value = format_general(settings[name]) if name in settings else "not recorded"
            info = meta.get(name, {})
            default = format_general(info["default"]) if "default" in info else value
            pairs.append(f"{name} = {_shown(value)}" + ("" if default == value else f" (default {_shown(default)})"))
        rows.append((short_name(probe), Code(";  ".join(pairs))))
    blocks: list[Block] = []
    if rows:
        blocks.append(Table(
            header=("Probe", "Settings as run"), rows=tuple(rows), widths=(0.2, 0.8), dense=True,
            caption="Under [probes.<id>] in the plan; a value other than the default is followed by the "
                    "default. `mnemoscope probes` lists every setting with its meaning and range."))
    if plain:
        blocks.append(Paragraph(f"No configurable settings: {', '.join(plain)}.", TextStyle.NOTE))
    return blocks or [Paragraph("No probe recorded settings.", TextStyle.NOTE)]


def _shown(value: str) -> str:
    return value if value else '""'  # an empty setting stays visible


def threshold_blocks(probes: Sequence[Mapping[str, Any]]) -> list[Block]:
    """One row per distinct threshold (key, value, meaning); the probes it applies to."""
    merged: dict[tuple[str, str, str, str], list[str]] = {}
    for probe in probes:
        meta = {str(m.get("name")): as_mapping(m) for m in map(as_mapping, as_list(probe.get("thresholds_meta")))}
        for name, value in as_mapping(probe.get("thresholds")).items():
            info = meta.get(str(name), {})
            label = as_text(info.get("label"), humanize(str(name)))
            anchor = as_text(info.get("anchor"), THRESHOLD_ANCHORS.get(str(name), "product default"))
            merged.setdefault((label, str(name), format_general(value), anchor), []).append(short_name(probe))
    if not merged:
        return [Paragraph("No thresholds were recorded.", TextStyle.NOTE)]
    membership = [short_name(p) for p in probes if is_membership(p)]
    groups: dict[str, list[tuple[str, str, str, str]]] = {}
    for (label, name, value, anchor), names in merged.items():
        if len(membership) > 1 and names[:len(membership)] == membership:
            names = ["Membership attacks", *names[len(membership):]]
        groups.setdefault(", ".join(names), []).append((label, name, value, anchor))
    rows = []
    for applies, entries in groups.items():
        for index, (label, name, value, anchor) in enumerate(entries):
            # The plan key follows its label, in the code font (backticks).
            rows.append((applies if index == 0 else "", f"{label} `{name}`", value, anchor))
    return [Table(
        header=("Probes", "Threshold and its plan key", "Value", "Source"), rows=tuple(rows),
        widths=(0.17, 0.38, 0.07, 0.38), align=(Align.LEFT, Align.LEFT, Align.RIGHT, Align.LEFT), dense=True,
        caption="Every threshold a verdict rests on, once, with where its value comes from; set under "
                "[thresholds.<family>] in the plan.")]


def metrics_blocks(probes: Sequence[Mapping[str, Any]]) -> list[Block]:
    blocks: list[Block] = []
    attacks = [p for p in probes if is_membership(p) and as_mapping(p.get("metrics"))]
    for start in range(0, len(attacks), ATTACKS_PER_TABLE):
        table = _attack_table(attacks[start:start + ATTACKS_PER_TABLE])
        if table is not None:
            if not blocks:
                blocks.append(Heading("Membership attacks", 3))
            blocks.append(table)
    for probe in probes:
        metrics = as_mapping(probe.get("metrics"))
        if is_membership(probe) or metrics_on_page(probe) or not metrics:
            continue
        shown = TABLE_COLUMNS.get(as_text(probe.get("family"), ""), ())
        rest = {k: v for k, v in metrics.items() if not k.startswith(shown)} if shown else metrics
        rest = without_template(rest)  # in the probe's section (template_figures.py)
        if rest:
            blocks += [Heading(as_text(probe.get("title"), as_text(probe.get("id"))), 3), metrics_table(rest, dense=True)]
    return blocks or [Paragraph("Every recorded metric is shown in the body.", TextStyle.NOTE)]


def _attack_table(attacks: Sequence[Mapping[str, Any]]) -> Table | None:
    """The membership metrics the body does not print, one column per attack."""
    all_metrics = [as_mapping(p.get("metrics")) for p in attacks]
    shown = set(SHOWN | ELSEWHERE)
    # TPR at the primary FPR is one of the section's operating points when the FPR is.
    if all(m.get("primary_fpr") in {fpr for _, fpr, _ in OPERATING_POINTS} for m in all_metrics):
        shown.add("tpr_at_primary_fpr")
    names = [n for n in dict.fromkeys(k for m in all_metrics for k in m)
             if n not in shown and not (n.endswith(CI_SUFFIX) and n[:-len(CI_SUFFIX)] in shown)
             and not (n.endswith(CI_SUFFIX) and any(n[:-len(CI_SUFFIX)] in m for m in all_metrics))]
    if not names:
        return None
    rows = tuple((metric_label(name),
                  *(format_metric(name, m.get(name), m.get(name + CI_SUFFIX)) if name in m else "—"
                    for m in all_metrics)) for name in names)
    share = 0.64 / len(attacks)
    return Table(header=("Metric", *(short_name(p) for p in attacks)), rows=rows,
                 widths=(0.36, *((share,) * len(attacks))) if len(attacks) else (1.0,),
                 align=(Align.LEFT,) + (Align.RIGHT,) * len(attacks), dense=True,
                 caption="Beyond the membership section's table; n as there. Held out: judged on the "
                         "half of the non-members that did not set the threshold.")
