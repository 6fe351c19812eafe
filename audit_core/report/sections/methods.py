"""Methods (compliance.md 6.7), read once for the whole audit: per probe, the attack, its
signal and strength class, and the names regulators give the attack (NIST AI 100-2
E2025, EDPB Opinion 28/2024); then the policies every probe follows (primary endpoints,
intervals, multiple testing, threshold calibration, seed). Parameters are in the
appendix's settings table, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.families import FAMILIES
from audit_core.families.spec import CalibrationNote

from .elements import Block, BulletList, Heading, Table
from .family_terms import family_of, strength_of
from .membership_page import short_name
from .reference_text import calibrated_strength
from .values import as_list, as_mapping, as_text

SIGNALS = {
    "loss": "Mean token log-likelihood of the record",
    "zlib": "Log-likelihood relative to the record's zlib-compressed size",
    "min_k": "Mean log-probability of the least likely k% of tokens",
    "min_k_plus_plus": "Min-K% over log-probabilities standardised by the model's own next-token distribution",
    "extraction": "Greedy continuation of the record's prefix compared with its true suffix",
    "rmia": "Likelihood ratio of the record under the target and a reference model, compared "
            "with population records",
    "lira": "Target confidence against a reference model that never saw the record (offline LiRA)",
    "camia": "How the per-token loss evolves along the record (slope, cut-off shares, "
             "repetition, complexity), each calibrated on the non-members and combined (CAMIA)",
    "dc_pdd": "Token probabilities weighed against the tokens' frequency in a reference corpus, "
              "first occurrences only (DC-PDD)",
    "recall": "Change in the record's likelihood when non-member records are prepended (ReCaLL)",
    "con_recall": "Likelihood after a non-member prefix contrasted with that after a member "
                  "prefix (Con-ReCall)",
    "informia": "Information (bits per token) the model gives the record beyond the reference or "
                "the population (InfoRMIA)",
    "ez_mia": "Probability shifts against the reference where the model's top prediction is wrong "
              "(EZ-MIA error zone)",
    "wbc": "Share of sliding windows where the reference's loss exceeds the target's (WBC)",
    "trajectory": "Sampled continuations of a patient's history compared with their true future "
                  "(time-aware earth mover's distance)",
    "sensitive_attributes": "Whether a sensitive category removed from the prompt comes back in "
                            "sampled continuations",
    "reidentification": "Quasi-identifiers of generated records matched against each cohort",
    "embedding_probe": "Sensitive diagnoses read off the model's hidden state for a prompt without "
                       "them, by a classifier fitted on members and on non-members",
    "perturbation": "Sensitive signal of a flagged patient's prompt as one identifier is varied",
    "vulnerable_subgroups": "Membership AUC and sensitive disclosure per stratum against the whole cohort",
    "identifier_leakage": "Identifiers detected in generated text, matched to the cohorts",
    "elicitation": "Prompts written from one or two of a patient's identifiers in the form of "
                   "their note; their withheld identifiers looked for in the continuation",
    "canary_exposure": "Rank of each inserted secret among every alternative",
}


def held_out(results: Mapping[str, Any]) -> bool:
    return any("held_out_tpr" in as_mapping(as_mapping(p).get("metrics")) for p in as_list(results.get("probes")))


def methods_blocks(results: Mapping[str, Any]) -> list[Block]:
    seed = as_text(as_mapping(results.get("audit")).get("seed"), "not recorded")
    # Attacks of one family and strength share a row: their NIST and EDPB names are the same.
    groups: list[tuple[tuple[str, str, str], list[Mapping[str, Any]]]] = []
    for probe in map(as_mapping, as_list(results.get("probes"))):
        family = family_of(probe)
        key = (family.nist, family.edpb, calibrated_strength(results, strength_of(probe)))
        if groups and groups[-1][0] == key:
            groups[-1][1].append(probe)
        else:
            groups.append((key, [probe]))
    rows = []
    for (nist, edpb, strength), members in groups:
        signals = [f"{SIGNALS.get(as_text(p.get('id')), family_of(p).name)} "
                   f"({as_text(p.get('citation'), 'no citation')})" for p in members]
        if len(members) == 1:
            rows.append((as_text(members[0].get("title"), as_text(members[0].get("id"))),
                         f"{signals[0]}. {strength}.", nist, edpb))
            continue
        names = [short_name(p) for p in members]
        rows.append((", ".join(names), "; ".join(f"{n}: {s[0].lower()}{s[1:]}" for n, s in zip(names, signals))
                     + f". {strength}.", nist, edpb))
    return [
        Heading("Methods", 2),
        Table(header=("Probe", "Attack, signal and strength", "NIST AI 100-2 E2025 attack", "EDPB Opinion 28/2024 attack"),
              rows=tuple(rows), widths=(0.17, 0.47, 0.2, 0.16),
              caption="Every probe is a confidentiality attack in the sense of EU AI Act Art. 15(5)."),
        BulletList(_policies(results, seed)),
    ]


def _policies(results: Mapping[str, Any], seed: str) -> tuple[str, ...]:
    """The rules every probe follows, and those of the families this audit ran (each
    family's endpoint and policies come from its module, in the registry's order)."""
    present = {as_text(as_mapping(p).get("family"), "") for p in as_list(results.get("probes"))}
    ran = [spec for family, spec in FAMILIES.items() if family in present]
    endpoints = [spec.methods.endpoint for spec in ran if spec.methods.endpoint]
    policies = []
    if endpoints:
        policies.append(f"Primary endpoints are fixed in the plan before the run: {'; '.join(endpoints)}.")
    policies.append("Every figure has a 95% interval and its n: AUC by bootstrap (1,000 resamples, "
                    "percentile), rates by Clopper–Pearson exact intervals, members against non-members "
                    "by one-sided Fisher exact tests.")
    for spec in ran:
        policies += [_policy(policy, results) for policy in spec.methods.policies]
    policies.append(f"Every random choice is seeded from the audit seed, {seed}.")
    return tuple(policies)


def _policy(policy: str | CalibrationNote, results: Mapping[str, Any]) -> str:
    if isinstance(policy, CalibrationNote):
        return policy.held_out if held_out(results) else policy.same_sample
    return policy
