"""Scope and regulatory mapping (compliance.md 6.3): the probes run, those not run and
why, and a table from each regulatory clause to the section of this report that answers
it, so a reviewer holding the regulation can find the evidence it asks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .elements import Block, Heading, Paragraph, Section, Table, TextStyle
from .families import family_of, strength_key, strength_of
from .values import as_list, as_mapping, as_text
from .verdicts import probe_verdict, verdict_badge

# Attacks the design names (DESIGN.md, "The questions an audit answers") and what the
# tool needs before it can try them.
NOT_RUN = (
    ("attribute", "Sensitive attribute inference (HIV, substance use, mental health, reproductive codes)",
     "not part of this audit's probe set"),
    ("identifiers", "Identifiers (names, MRNs, dates) in generated text",
     "not part of this audit's probe set"),
    ("reidentification", "Quasi-identifier re-identification and singling out",
     "not part of this audit's probe set"),
    ("shadow_model", "Shadow-model attacks (online LiRA: many reference models trained on known splits)",
     "needs the training code and compute to train many models, which a post-hoc audit does not have"),
)


def clause_map(sections: Mapping[str, str]) -> tuple[tuple[str, str, str], ...]:
    """(clause, what it asks, where this report answers it); `sections` maps a section
    key to its printed title."""
    def where(*keys: str) -> str:
        return "; ".join(sections[k] for k in keys if k in sections) or "not covered"

    return (
        ("HIPAA 45 CFR 164.514(b)(1)", "Expert determination: document the methods and results "
         "that justify a very small risk of identification",
         where("methods", "results", "appendix")),
        ("EDPB Opinion 28/2024", "Resistance to membership inference, attribute inference, "
         "extraction, regurgitation, model inversion, reconstruction; documented tests",
         where("scope", "results", "findings")),
        ("EU AI Act Art. 10", "Data governance: origin, preparation and suitability of the "
         "data sets; bias examination", where("datasets", "subgroups")),
        ("EU AI Act Art. 15(5)", "Measures against confidentiality attacks",
         where("threat-model", "results")),
        ("EU AI Act Annex IV 2(g)", "Test reports with metrics and test data, dated and "
         "signed by the responsible persons", where("cover", "sign-off", "appendix")),
        ("NIST AI 100-2 E2025", "Privacy attacks: membership inference, data reconstruction, "
         "training-data extraction", where("threat-model", "methods")),
        ("NIST AI RMF MEASURE 2.10, 1.1", "Privacy risk examined; what was not measured",
         where("results", "limitations")),
        ("ISO/IEC 27559 8.2.3", "Adversarial testing as identifiability evidence",
         where("results")),
    )


def scope_section(results: Mapping[str, Any], number: int, sections: Mapping[str, str]) -> Section:
    probes = [as_mapping(p) for p in as_list(results.get("probes"))]
    run_rows = tuple(
        (as_text(p.get("title"), as_text(p.get("id"))), family_of(p).name, strength_of(p),
         verdict_badge(probe_verdict(p), p.get("verdict")))
        for p in probes
    )
    families = {as_text(p.get("family"), "") for p in probes}
    strengths = {strength_key(p) for p in probes}
    not_run = [(what, why) for key, what, why in NOT_RUN if key not in families and key not in strengths]
    if "reference_calibrated" not in strengths:
        reference = as_mapping(as_mapping(results.get("plan")).get("model")).get("reference")
        why = "no reference model was supplied in the plan" if not reference else "not run in this audit"
        not_run.insert(0, ("Reference-calibrated membership inference (against a model trained without the members)", why))
    blocks: list[Block] = [Heading("In scope: probes run", 2)]
    if run_rows:
        blocks.append(Table(header=("Probe", "Question", "Attack strength", "Verdict"), rows=run_rows,
                            widths=(0.32, 0.22, 0.32, 0.14)))
    else:
        blocks.append(Paragraph("No probe ran.", TextStyle.ALERT))
    blocks += [
        Heading("Out of scope: attacks not attempted", 2),
        Table(header=("Attack", "Why not"), rows=tuple(not_run), widths=(0.5, 0.5)),
        Paragraph("An attack not attempted is not evidence of safety: see Limitations.", TextStyle.NOTE),
        Heading("Regulatory mapping", 2),
        Table(header=("Clause", "What it asks", "Where this report answers it"),
              rows=clause_map(sections), widths=(0.22, 0.46, 0.32)),
        Paragraph(
            "This report supports an Expert Determination, a DPIA or an Annex IV file; it is "
            "not itself one, and it is not legal advice.", TextStyle.NOTE),
    ]
    return Section(key="scope", title=f"{number}. Scope and regulatory mapping", blocks=tuple(blocks))
