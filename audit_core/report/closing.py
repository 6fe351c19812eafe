"""The end of the report proper: limitations (always printed), the conclusion with the
conditions under which it stays valid, and the sign-off (compliance.md 6.11-6.13).

Limitations are never optional: a regulator reads a report without them as a report that
overclaims. The sign-off has paper fields because Annex IV 2(g) asks for test reports
"dated and signed by the responsible persons"; the digital equivalent is an approval
signature added after review (`mnemoscope sign`), which records the person and their
decision, never a signature applied when the report is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .elements import Block, BulletList, Heading, Paragraph, Section, SignatureLines, TextStyle
from .methods import held_out
from .threat import release_context
from .values import as_list, as_mapping, as_text, parse_utc
from .verdicts import verdict_value, verdict_word

REAUDIT_DAYS = 365


def reaudit_date(results: Mapping[str, Any]) -> str:
    audit = as_mapping(results.get("audit"))
    if audit.get("reaudit_due"):
        return as_text(audit.get("reaudit_due"))
    moment = parse_utc(audit.get("finished_utc") or audit.get("started_utc"))
    if moment is None:
        return "twelve months after the audit date"
    return (moment + timedelta(days=REAUDIT_DAYS)).strftime("%Y-%m-%d")


def limitations_section(results: Mapping[str, Any], number: int) -> Section:
    items = [
        "Lower bounds only. The figures show what the attacks tried here achieved; a "
        "stronger attack may do better. A PASS does not prove anonymity (EDPB Opinion "
        "28/2024) or de-identification (HIPAA 164.514).",
        "Attacks not attempted are listed under Scope; in particular no shadow models were "
        "trained on known splits, because a post-hoc audit has neither the training code nor "
        "the compute.",
        "Every membership figure depends on the non-member cohort: if non-members differ "
        "from members in period, site or note type, attacks look stronger than they are "
        "(Duan et al. 2024)." + ("" if results.get("split_validity") else
                                 " This audit has no model-free split-validity check."),
        "Records, not patients: a patient with several records counts several times; "
        "patient-level membership was not measured separately.",
        "Held-out calibration: " + ("thresholds are set on half of the non-members and judged on "
                                    "the other half, so with few non-members the lowest FPRs stay "
                                    "unresolved." if held_out(results) else
                                    "none; the threshold and the FPR come from the same non-members, "
                                    "which flatters the model at the lowest FPRs."),
        "Training facts in the model section are declared by the owner and were not "
        "verified by the tool.",
        "Not measured (NIST AI RMF MEASURE 1.1): identifiers in free generation, "
        "sensitive-attribute inference and quasi-identifier re-identification, unless a "
        "probe for them appears in this report; duplication of records in the training set.",
        "The report supports an Expert Determination, a DPIA or an AI Act Annex IV file; it "
        "is not legal advice and not itself a determination.",
    ]
    if any(as_mapping(p).get("error") for p in as_list(results.get("probes"))):
        items.insert(1, "At least one probe stopped with an error and gives no evidence either way.")
    return Section(key="limitations", title=f"{number}. Limitations", blocks=(BulletList(tuple(items)),),
                   new_page=False)


def conclusion_section(results: Mapping[str, Any], number: int) -> Section:
    overall = verdict_value(results.get("overall_verdict"))
    context = release_context(results)
    blocks: list[Block] = [
        Paragraph(
            f"Overall verdict: {verdict_word(overall, results.get('overall_verdict'))}. "
            f"{as_text(results.get('overall_rationale'), '')}", TextStyle.LEAD),
        Heading("Conditions of validity", 3),
        BulletList((
            f"Release context as assessed: {context.label.lower()}; the conclusion holds only "
            f"while {context.condition}.",
            "The model files are exactly those whose SHA-256 is printed in the model section.",
            "The training data are unchanged: the members cohort is the data the model was trained on.",
        )),
        Heading("Events that invalidate this report", 3),
        BulletList((
            "Retraining or fine-tuning the model, or changing its training data.",
            "Releasing the weights beyond the release context assessed.",
            "A new attack, published or internal, that succeeds where these did not.",
        )),
        Paragraph(f"Re-audit due: {reaudit_date(results)}, or at once on any event above.", TextStyle.BODY),
    ]
    # The conclusion opens a page and the sign-off follows it: signers sign under what
    # they approve.
    return Section(key="conclusion", title=f"{number}. Conclusion and conditions of validity",
                   blocks=tuple(blocks))


def signoff_section(results: Mapping[str, Any], number: int,
                    signature_status: str | None = None) -> Section:
    """`signature_status`: the line about a signature made when the report was written."""
    audit = as_mapping(results.get("audit"))
    auditor = as_text(audit.get("auditor"), "")
    fields = ("Name", "Role and qualification", "Decision", "Date", "Signature")
    blocks: list[Block] = [
        Paragraph(
            "Auditor: I performed this audit with the tool and settings recorded here, and record "
            "my decision: the results stand / stand with the limitations stated. I "
            "have appropriate knowledge and experience of privacy risk in statistical models "
            "(HIPAA 164.514(b)(1)). I am not a developer of the audited model and have no "
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
    return Section(key="sign-off", title=f"{number}. Sign-off", blocks=tuple(blocks), new_page=False)
