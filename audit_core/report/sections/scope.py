"""Scope (compliance.md 6.3): the attacks this audit did not try, and why (printed with the
limits, page 3), and the table from each regulatory clause to the part of this report that
answers it (an appendix), so a reviewer holding the regulation finds the evidence it asks
for. The probes that did run are listed once, with their verdicts, on page 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.families import Family

from .elements import Section, Table
from .family_terms import strength_key
from .values import as_list, as_mapping, as_text

# Attacks the design names (DESIGN.md, "The questions an audit answers") and what the
# tool needs before it can try them.
NOT_RUN = (
    (Family.ATTRIBUTE, "Sensitive attribute inference (HIV, substance use, mental health, reproductive codes)",
     "not part of this audit's probe set"),
    (Family.IDENTIFIERS, "Identifiers (names, MRNs, dates) in generated text",
     "not part of this audit's probe set"),
    (Family.REIDENTIFICATION, "Quasi-identifier re-identification and singling out",
     "not part of this audit's probe set"),
    ("shadow_model", "Shadow-model attacks (LiRA, RMIA)",
     "they need the training code and many training runs, which a post-hoc audit lacks"),
)


def clause_map(sections: Mapping[str, str]) -> tuple[tuple[str, str, str], ...]:
    """(clause, what it asks, where this report answers it); `sections` maps a section
    key to its printed title."""
    def where(*keys: str) -> str:
        return "; ".join(sections[k] for k in keys if k in sections) or "not covered"

    return (
        ("HIPAA 45 CFR §164.514(b)(1)", "Expert determination: document the methods and results "
         "that justify a very small risk of identification",
         where("methods", "results", "appendix")),
        ("EDPB Opinion 28/2024", "Resistance to membership inference, attribute inference, "
         "extraction, regurgitation, model inversion, reconstruction; documented tests",
         where("summary", "results", "limitations")),
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


def attacks_not_attempted(results: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(attack, why not) for each attack the design names that this audit did not try."""
    probes = [as_mapping(p) for p in as_list(results.get("probes"))]
    families = {as_text(p.get("family"), "") for p in probes}
    strengths = {strength_key(p) for p in probes}
    not_run = [(what, why) for key, what, why in NOT_RUN if key not in families and key not in strengths]
    if "reference_calibrated" not in strengths:
        reference = as_mapping(as_mapping(results.get("plan")).get("model")).get("reference")
        why = "no reference model was supplied in the plan" if not reference else "not run in this audit"
        not_run.insert(0, ("Reference-calibrated membership inference", why))
    # Tests of the standard suite that do not apply to these records (a code test on notes).
    for item in (as_mapping(i) for i in as_list(results.get("not_applicable"))):
        not_run.append((as_text(item.get("title"), "A test"),
                        f"not applicable: {as_text(item.get('reason'), '')}"))
    return not_run


def regulatory_map_section(sections: Mapping[str, str]) -> Section:
    """Appendix: from each clause a reviewer holds to the part of this report that answers it
    (compliance.md 6.16)."""
    return Section(
        key="regulatory-map", title="Appendix B. Regulatory clause map",
        blocks=(Table(header=("Clause", "What it asks", "Where this report answers it"),
                      rows=clause_map(sections), widths=(0.22, 0.46, 0.32)),),
        new_page=False)  # one short table: it follows the previous appendix
