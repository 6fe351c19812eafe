"""Page 3, the end of the front pages: what a PASS does not prove, the conditions under
which the conclusion stays valid, and the sign-off (compliance.md 6.11-6.13). The verdict
itself is not restated: page 1 carries it.

Limitations are never optional: a regulator reads a report without them as a report that
overclaims. The approvers sign on the page that states the limits they accept. The sign-off
has paper fields because Annex IV 2(g) asks for test reports "dated and signed by the
responsible persons"; the digital equivalent is an approval signature added after review
(`mnemoscope sign`), which records the person and their decision, never a signature applied
when the report is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .elements import Block, BulletList, Heading, Paragraph, Section, SignatureLines, TextStyle
from .threat import release_context
from .values import as_list, as_mapping, as_text, parse_utc

REAUDIT_DAYS = 365


def reaudit_date(results: Mapping[str, Any]) -> str:
    audit = as_mapping(results.get("audit"))
    if audit.get("reaudit_due"):
        return as_text(audit.get("reaudit_due"))
    moment = parse_utc(audit.get("finished_utc") or audit.get("started_utc"))
    if moment is None:
        return "twelve months after the audit date"
    return (moment + timedelta(days=REAUDIT_DAYS)).strftime("%Y-%m-%d")


def limitations_section(results: Mapping[str, Any]) -> Section:
    """What a PASS does not prove and what the conclusion depends on, printed on the page
    the approvers sign (never optional: a report without its limits overclaims)."""
    from .scope import attacks_not_attempted

    context = release_context(results)
    not_run = attacks_not_attempted(results)
    items = [
        "Lower bounds: a stronger attacker may do better than the attacks tried here.",
    ]
    if not_run:
        items.append(
            "Not attempted, so no evidence either way (NIST AI RMF MEASURE 1.1): "
            + "; ".join(f"{what[:1].lower()}{what[1:]} ({why})" for what, why in not_run) + ".")
    if any(as_mapping(p).get("error") for p in as_list(results.get("probes"))):
        items.append("At least one probe stopped with an error and gives no evidence either way.")
    items += [
        "Every membership figure relies on non-members drawn from the same population as the "
        "members: if they differ in period, site or note type, attacks look stronger than they "
        "are (Duan et al. 2024)." + ("" if results.get("split_validity") else
                                     " This audit has no model-free check of that."),
        "Records, not patients: a patient with several records counts several times.",
        "The report supports an Expert Determination (HIPAA §164.514(b)(1)), a DPIA (GDPR "
        "Art. 35) or an EU AI Act Annex IV file; it is not legal advice.",
    ]
    blocks: list[Block] = [
        BulletList(tuple(items)),
        Heading("Conditions of validity", 3),
        BulletList((
            f"The conclusion holds only while {context.condition}, the model files are those whose "
            "SHA-256 is on page 1, and the training data are unchanged.",
            "It lapses on retraining or fine-tuning, a change of training data, a release of the "
            "weights beyond the context assessed, or a new attack that succeeds where these did "
            "not: re-audit then, and in any case by the date on page 1.",
        )),
    ]
    # It follows page 2 without a forced break: a page that page 2 fills exactly would
    # otherwise be followed by a blank one.
    return Section(key="limitations", title=TITLE, blocks=tuple(blocks), new_page=False)


TITLE = "What a PASS does not prove"


def signoff_section(results: Mapping[str, Any], signature_status: str | None = None) -> Section:
    """`signature_status`: the line about a signature made when the report was written."""
    audit = as_mapping(results.get("audit"))
    auditor = as_text(audit.get("auditor"), "")
    fields = ("Name", "Role and qualification", "Decision", "Date", "Signature")
    blocks: list[Block] = [
        Paragraph(
            "Auditor: I performed this audit with the tool and settings recorded here, and record "
            "my decision: the results stand / stand with the limitations stated. I "
            "have appropriate knowledge and experience of privacy risk in statistical models "
            "(HIPAA §164.514(b)(1)). I am not a developer of the audited model and have no "
            "conflict of interest to declare other than those stated here (NIST AI RMF "
            "MEASURE 1.3)." + (f" Auditor named in the plan: {auditor}." if auditor else ""),
            TextStyle.SMALL),
        Paragraph(
            "Privacy officer: I have reviewed this report and record my decision: approved / "
            "approved with the conditions stated / rejected.", TextStyle.SMALL),
        SignatureLines((("Auditor", fields),
                        ("Privacy officer", ("Name", "Role", "Decision", "Date", "Signature")))),
        Paragraph(
            "Digital approval, after review: `mnemoscope sign REPORT.pdf --p12 CERTIFICATE "
            "--approver \"Name, role\" --decision approved|approved-with-conditions|rejected` "
            "(`--conditions TEXT` with the second), or Sign report… in the desktop app. Each "
            "approval is a PAdES signature over the whole file as it then stands, naming the "
            "approver, the decision and the date; `mnemoscope verify` or any PAdES validator "
            "(such as poppler's pdfsig) checks it." + (f" {signature_status}" if signature_status else ""),
            TextStyle.NOTE),
    ]
    return Section(key="sign-off", title="Sign-off", blocks=tuple(blocks), new_page=False)
