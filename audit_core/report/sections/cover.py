"""Page 1: the verdict, the decision, and whether the report can be relied on
(compliance.md 6.1, 6.2).

A privacy officer may read nothing else, so page 1 stands alone: the overall verdict and
why, a one-line decision, the first three required actions, three results in plain words,
which model and results it is about (by hash), whether the tool was validated on this
machine and the report signed or approved, and the limits of what a PASS means. The
per-probe verdicts are on page 2, once. An audit that did not finish says so here in words,
before anything else can be misread as a complete result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .closing import reaudit_date
from .elements import Code, Heading, Paragraph, Section, Table, TextStyle, VerdictBanner
from .family_terms import ACTIONS, family_of
from .findings import AGAINST, REJECT, derive_findings, required_actions, risk_rank
from .key_figures import plain_number, strength
from .precision import precision_notice
from .threat import release_context
from .values import as_list, as_mapping, as_text, format_utc, report_label
from .verdicts import probe_verdict, verdict_value, verdict_word

DEFAULT_TITLE = "Memorization audit"
KICKER = "Mnemoscope · Training-data memorization and privacy audit report"
UNSIGNED = (
    "Not signed when issued. Approvals are added after review with `mnemoscope sign` (see "
    "the sign-off section) and listed by `mnemoscope verify`."
)
COMPLETED = "completed"

DISCLAIMER = (
    "Empirical lower bounds: these results show what the attacks tried here could do. "
    "A PASS does not prove anonymity (EDPB Opinion 28/2024) or de-identification "
    "(HIPAA §164.514).",
    "This report contains no patient data: records are referred to only by keyed "
    "pseudonyms, never by identifier or content.",
)


def audit_outcome(results: Mapping[str, Any]) -> str | None:
    outcome = as_mapping(results.get("audit")).get("outcome")
    return str(outcome).strip().lower() if outcome else None


def is_incomplete(results: Mapping[str, Any]) -> bool:
    # A missing outcome is not evidence of a cut-short run; any stated outcome other than
    # completed (cancelled, failed, interrupted, ...) is.
    outcome = audit_outcome(results)
    return outcome is not None and outcome != COMPLETED


def incomplete_notice(results: Mapping[str, Any]) -> str:
    outcome = audit_outcome(results)
    how = "was cancelled" if outcome == "cancelled" else f"ended with outcome “{outcome}”"
    return (
        f"INCOMPLETE AUDIT: the audit {how} before every planned probe had run. "
        "The verdicts below cover only the probes that finished and must not be read as "
        "the result of a complete audit."
    )


def cover_section(results: Mapping[str, Any], results_digest: str, signature_status: str = UNSIGNED) -> Section:
    """Page 1, read in ten seconds: the verdict, the decision, the first three actions, three
    numbers in plain words, and whether the tool and the report can be relied on (validated
    on this machine, signed, approved). Everything else is said once, on the pages after."""
    audit = as_mapping(results.get("audit"))
    glance = at_a_glance(results)
    blocks: list = [
        Paragraph(KICKER, TextStyle.KICKER),
        Paragraph(as_text(audit.get("title"), DEFAULT_TITLE), TextStyle.TITLE),
    ]
    if glance.incomplete:
        blocks.append(Paragraph(glance.incomplete, TextStyle.ALERT))
    notice = precision_notice(as_mapping(results.get("model")))
    if notice is not None:  # int8 or fp16: not the model's own weights
        blocks.append(Paragraph(notice, TextStyle.ALERT))
    blocks += [
        VerdictBanner(verdict=glance.verdict, label=glance.verdict_label, rationale=glance.rationale),
        Paragraph(glance.decision, TextStyle.LEAD),
    ]
    if glance.actions:
        heading = glance.actions_heading
        if glance.all_actions > len(glance.actions):
            heading += f" ({len(glance.actions)} of {glance.all_actions}; the others are on the next page)"
        blocks += [Heading(heading, 3), action_table(glance.action_keys, 0, len(glance.actions))]
    numbers = _plain_numbers(results)
    if numbers:
        blocks += [Heading("What the audit found, in numbers", 3),
                   Table(header=(), rows=tuple(numbers), widths=(0.24, 0.76), key_value=True)]
    blocks += [
        Heading("This report", 3),
        _identity_table(results, results_digest, signature_status),
    ]
    blocks += [Paragraph(line, TextStyle.DISCLAIMER) for line in DISCLAIMER]
    return Section(key="cover", title="Summary", blocks=tuple(blocks), show_title=False)


@dataclass(frozen=True)
class AtAGlance:
    """Page 1's verdict, decision and first actions as plain data, for any other place that
    shows the executive summary (the desktop's results screen): one derivation, one wording."""

    verdict: str  # verdict value, for the badge
    verdict_label: str  # PASS, FAIL, ...
    rationale: str
    incomplete: str  # the incomplete-audit notice, or ""
    decision: str  # "Decision: ..."
    actions_heading: str  # "Required actions" or "Actions"
    action_keys: tuple[str, ...]  # every required action's key, in order
    actions: tuple[str, ...]  # the first TOP_ACTIONS, in words
    all_actions: int  # how many actions there are in all (the others are on page 2)


def at_a_glance(results: Mapping[str, Any]) -> AtAGlance:
    overall = verdict_value(results.get("overall_verdict"))
    findings = derive_findings(results)
    keys = required_actions(findings, overall)
    return AtAGlance(
        verdict=overall,
        verdict_label=verdict_word(overall, results.get("overall_verdict")),
        rationale=as_text(results.get("overall_rationale"), "No rationale was recorded."),
        incomplete=incomplete_notice(results) if is_incomplete(results) else "",
        decision=decision(results),
        actions_heading="Required actions" if any(f.bucket in (REJECT, AGAINST) for f in findings)
        else "Actions",
        action_keys=keys,
        actions=tuple(ACTIONS[key] for key in keys[:TOP_ACTIONS]),
        all_actions=len(keys),
    )


def decision(results: Mapping[str, Any]) -> str:
    """One line: may the model be deployed or shared, as assessed?"""
    if is_incomplete(results):
        return ("Decision: none. The audit did not finish, so it can neither clear nor condemn the "
                "model; rerun it in full.")
    overall = verdict_value(results.get("overall_verdict"))
    scope = release_context(results).scope
    return "Decision: " + DECISIONS.get(overall, DECISIONS["inconclusive"]).format(scope=scope)


DECISIONS = {
    "fail": "No. Do not deploy or share this model {scope} until the required actions are done "
            "and a new audit passes.",
    "warn": "Only with conditions. Use this model {scope} only with the required actions in place, "
            "and re-audit before any wider release.",
    "pass": "Yes, {scope} as assessed, on the conditions of validity stated with the sign-off. "
            "A wider release needs a new audit.",
    "inconclusive": "Not yet. The data could not resolve the thresholds; do not rely on this audit "
                    "for a release {scope}.",
}
TOP_ACTIONS = 3
NUMBERS = 3


def action_table(actions: tuple[str, ...], start: int, stop: int) -> Table:
    """Actions start+1 .. stop, numbered as the findings refer to them."""
    return Table(header=(), rows=tuple((str(i + 1), ACTIONS[actions[i]]) for i in range(start, stop)),
                 widths=(0.05, 0.95), key_value=True)


def _plain_numbers(results: Mapping[str, Any]) -> list[tuple[str, str]]:
    # The most serious result of each risk, most serious risks first: the strongest
    # membership attack stands for membership, and so on.
    severity = {"fail": 0, "warn": 1, "pass": 2}
    best: dict[str, Mapping[str, Any]] = {}
    for probe in map(as_mapping, as_list(results.get("probes"))):
        family = as_text(probe.get("family"), as_text(probe.get("id")))
        if probe_verdict(probe) not in severity:
            continue  # an inconclusive or failed probe has no number worth quoting
        held = best.get(family)
        if held is None or (severity[probe_verdict(probe)], -strength(probe)) < \
                (severity[probe_verdict(held)], -strength(held)):
            best[family] = probe
    ranked = sorted(best.values(), key=lambda p: (severity[probe_verdict(p)], risk_rank(p)))
    rows = []
    for probe in ranked[:NUMBERS]:
        number = plain_number(probe)
        if number is not None:
            rows.append((number.figure, number.meaning))
        else:
            headline = as_text(as_mapping(probe.get("headline")).get("text"), "")
            if headline:
                rows.append((verdict_word(probe_verdict(probe)),
                             f"{family_of(probe).risk}: {headline}."))
    return rows


def _identity_table(results: Mapping[str, Any], results_digest: str, signature_status: str) -> Table:
    audit = as_mapping(results.get("audit"))
    model = as_mapping(results.get("model"))
    tool = as_mapping(results.get("tool"))
    when = audit.get("finished_utc") or audit.get("started_utc")
    rows: list[tuple[str, Any]] = [("Report id", Code(report_label(results)))]
    who = "; ".join(part for part in (
        as_text(audit.get("institution"), ""),
        f"requested by {as_text(audit.get('requester'))}" if audit.get("requester") else "") if part)
    if who:
        rows.append(("Audit for", who))
    rows += [
        ("Model", as_text(model.get("name"))),
        ("Model SHA-256", Code(as_text(model.get("sha256")))),
        ("Release context", release_context(results).label),
        ("Audit date", f"{format_utc(when)}; re-audit due {reaudit_date(results)}"),
        ("Results SHA-256", Code(results_digest)),
        ("Audit tool", f"{as_text(tool.get('name'), 'mnemoscope')} {as_text(tool.get('version'), '')}".strip()
         + f": {validation_status(results)}"),
        ("Signature and approval", signature_status),
    ]
    return Table(header=(), rows=tuple(rows), widths=(0.24, 0.76), key_value=True)


def validation_status(results: Mapping[str, Any]) -> str:
    """Whether this installation passed its own validation on this machine (the run facts
    carry the latest `mnemoscope validate` certificate)."""
    validation = results.get("validation")
    if not isinstance(validation, Mapping):
        return "validation on this machine not recorded."
    if validation.get("status") != "validated":
        return "not validated on this machine (run `mnemoscope validate`)."
    outcome = as_text(validation.get("outcome"), "").upper() or "outcome not recorded"
    text = f"validated on this machine on {format_utc(validation.get('date'))}, {outcome}"
    if validation.get("same_tool_version") is False:
        text += f", for version {as_text(validation.get('tool_version'))}, not this one"
    return text + "."


