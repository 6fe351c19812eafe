"""The executive summary: one page, plain language, for the privacy officer who decides
(compliance.md 6.2). Can the model be deployed or shared as assessed, on what
conditions; the key numbers with their intervals; the top findings; what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .cover import incomplete_notice, is_incomplete
from .elements import Align, Block, BulletList, Heading, Paragraph, Section, Table, TextStyle
from .families import FAMILIES, family_of
from .findings import derive_findings, findings_table
from .key_figures import engine_posterior, likelihood_ratio, metrics_of, number, primary_figure, prior_of
from .threat import release_context
from .values import as_list, as_mapping, as_text, format_percent
from audit_core.figures import format_epsilon, format_ratio
from .verdicts import probe_verdict, verdict_badge, verdict_value

TOP_FINDINGS = 4

ANSWERS = {
    "fail": (
        "No. As assessed, this model reveals information about the patients it was trained "
        "on. It should not be deployed or shared {scope} until the required actions below "
        "are taken and a new audit passes."
    ),
    "warn": (
        "Only with conditions. The attacks found a measurable signal below the failure "
        "thresholds. The model may be used {scope} only with the mitigations below in "
        "place, and should be re-audited before any wider release."
    ),
    "pass": (
        "Yes, within the release context assessed ({scope}), on the conditions of validity "
        "below. No attack tried here found a signal above the warning thresholds; this is "
        "a lower bound on risk, not proof of anonymity."
    ),
    "inconclusive": (
        "Not yet. The audit could not resolve its thresholds with the data supplied, so it "
        "neither clears nor condemns the model. Do not rely on it for a release {scope}."
    ),
}


def summary_section(results: Mapping[str, Any]) -> Section:
    overall = verdict_value(results.get("overall_verdict"))
    context = release_context(results)
    answer = ANSWERS.get(overall, ANSWERS["inconclusive"]).format(scope=context.scope)
    blocks: list[Block] = [Heading("Can this model be deployed or shared as assessed?", 2)]
    if is_incomplete(results):
        blocks.append(Paragraph(incomplete_notice(results), TextStyle.ALERT))
    blocks += [
        Paragraph(answer, TextStyle.LEAD),
        Heading("Key numbers", 3),
        _key_numbers(results),
    ]
    meaning = _strongest_meaning(results)
    if meaning:
        blocks.append(Paragraph(meaning, TextStyle.SMALL))
    findings = derive_findings(results)
    blocks.append(Heading("Top findings", 3))
    if findings:
        blocks.append(findings_table(findings, TOP_FINDINGS))
        if len(findings) > TOP_FINDINGS:
            blocks.append(Paragraph(f"{len(findings) - TOP_FINDINGS} more in the findings register.", TextStyle.NOTE))
    else:
        blocks.append(Paragraph("None: every probe passed.", TextStyle.BODY))
    blocks += [Heading("Required actions and recommended mitigations", 3), BulletList(_actions(results, overall))]
    blocks.append(Paragraph(
        f"Residual risk: the figures are lower bounds from the attacks named in this report. "
        f"The conclusion holds only while {context.condition}, the model and its training "
        "data are unchanged, and no stronger attack is known to succeed.",
        TextStyle.NOTE,
    ))
    return Section(key="summary", title="Executive summary", blocks=tuple(blocks))


def _key_numbers(results: Mapping[str, Any]) -> Table | Paragraph:
    rows = []
    for probe in map(as_mapping, as_list(results.get("probes"))):
        figure = primary_figure(probe)
        verdict = probe_verdict(probe)
        rows.append((
            as_text(probe.get("title"), as_text(probe.get("id"))),
            figure.label if figure else "—",
            figure.value if figure else "not recorded",
            figure.n if figure else "",
            verdict_badge(verdict, probe.get("verdict")),
        ))
    if not rows:
        return Paragraph("No probe results are recorded in this audit.", TextStyle.ALERT)
    return Table(
        header=("Probe", "Primary figure", "Value (95% CI)", "n (members / non)", "Verdict"),
        rows=tuple(rows),
        widths=(0.27, 0.2, 0.24, 0.15, 0.14),
        align=(Align.LEFT, Align.LEFT, Align.RIGHT, Align.RIGHT, Align.CENTER),
    )


def _strongest_meaning(results: Mapping[str, Any]) -> str | None:
    best: tuple[float, Mapping[str, Any]] | None = None
    for probe in map(as_mapping, as_list(results.get("probes"))):
        ratio = likelihood_ratio(metrics_of(probe))
        if ratio is not None and (best is None or ratio > best[0]):
            best = (ratio, probe)
    if best is None:
        return None
    ratio, probe = best
    prior = prior_of(probe)
    metrics = metrics_of(probe)
    chance = engine_posterior(probe)
    if chance is None:
        return None
    eps = number(metrics, "epsilon_lower_bound")
    eps_text = (f" and no differential-privacy guarantee stronger than epsilon = {format_epsilon(eps)} "
                "can hold" if eps and eps > 0 else "")
    return (
        f"Strongest membership attack: {as_text(probe.get('title'))}. A patient it flags is "
        f"{format_ratio(ratio)} times more likely to be a training patient than not; at a prior of "
        f"{format_percent(prior)}, an intruder's confidence rises to "
        f"{format_percent(chance)}{eps_text}."
    )


def _actions(results: Mapping[str, Any], overall: str) -> tuple[str, ...]:
    actions: list[str] = []
    failing = [p for p in map(as_mapping, as_list(results.get("probes")))
               if probe_verdict(p) in ("fail", "warn")]
    themes: set[str] = set()
    for probe in failing:
        for mitigation in family_of(probe).mitigations:
            # One action per theme (retrain, deduplicate, keep internal, filter): probe
            # families word the same remedy differently.
            theme = " ".join(mitigation.split()[:2]).lower()
            if theme not in themes:
                themes.add(theme)
                actions.append(mitigation)
    if overall == "inconclusive":
        actions.append("Supply more non-members from the same population and rerun the audit.")
    if not actions:
        actions = [
            "Keep the release context as assessed; a wider release needs a new audit.",
            "Re-audit after any retraining, fine-tuning or change of training data.",
        ]
    elif failing:
        actions.append("Re-audit after the mitigations, before any deployment or sharing.")
    return tuple(actions)


__all__ = ["summary_section", "FAMILIES"]
