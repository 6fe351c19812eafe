"""What the report knows about each kind of probe, independent of any one result.

A family's own words (the names regulators and auditors use for the attack, NIST AI
100-2 E2025 and EDPB Opinion 28/2024; what a result means for a patient; what to do when
it is not a PASS; its default attack strength) live in its module under
audit_core/families/ and are looked up here. What stays here is the report's own
vocabulary the families point into: the required actions and the attack-strength classes
(compliance.md 1.4, 1.7, 2.1, 6.2).

A probe family no module registers is still reported, under generic wording: new
probes must never make the report fail or fall silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit_core.families import spec_of
from audit_core.families.spec import Wording

from .values import as_text

GENERIC = Wording(
    name="Privacy probe",
    nist="Privacy attack (see the probe's citation)",
    edpb="Testing resistance to state-of-the-art attacks",
    patient="A positive result means the model holds information specific to training patients.",
    mitigations=(
        "Retrain with differential privacy.",
        "Keep the weights internal and limit queries.",
    ),
)

# The required actions the front pages list, each once, numbered in the order the findings
# call for them (a family's `actions` name these keys). Worded for the privacy officer who
# assigns them; the probe sections keep each family's own, more specific mitigations.
ACTIONS = {
    "dp": "Retrain with differential privacy (DP-SGD) at a per-patient epsilon of 1 to 10, or at "
          "least train for fewer epochs.",
    "dedup": "Deduplicate the training data: repeated records are the ones most often memorized.",
    "access": "Keep the weights internal and expose only generated output, with a query limit per user.",
    "hidden": "Do not release hidden states or embeddings; expose only the outputs the use needs.",
    "filter": "Filter generated output before it is shown: matches with training records, sensitive "
              "codes, identifiers.",
    "generalise": "Generalise or remove what makes a patient stand out in the training data: rare "
                  "codes, exact dates, ages over 89.",
    "identifiers": "Remove direct identifiers from the training text and retrain.",
    "review": "Have a clinician review the flagged patients (listed in records.csv, on the audit "
              "workstation).",
    "more_data": "Supply more non-members from the same population and rerun, enough that the "
                 "smallest resolvable FPR falls to the primary FPR.",
    "fix_error": "Fix the cause named in the section of each probe not assessed, and rerun.",
    "redraw": "Draw non-members from the same population and period as the members, and rerun.",
    "reaudit": "Re-audit after these actions, before any deployment or sharing.",
    "keep_context": "Keep the release context as assessed: a wider release needs a new audit.",
    "reaudit_on_change": "Re-audit after any retraining, fine-tuning or change of training data.",
}

# Attack-strength classes (compliance.md 2.1): a PASS from a weak attack is weak evidence.
# A family's default class is its `methods.strength`.
STRENGTH = {
    "reference_free": "Reference-free (scores from the audited model alone)",
    "reference_calibrated": "Reference-calibrated (compared with a reference model)",
    "shadow_model": "Shadow / reference models (LiRA, RMIA)",
    "generation": "Generation from prompts (greedy decoding)",
    "sampling": "Generation by sampling, prompted and unprompted",
    "canary_ranking": "Ranking inserted secrets among every alternative (Carlini et al. 2019)",
    # The EHR memorization tests T3, T5 and T6 (Tonekaboni et al. 2025).
    "hidden_state_probe": "White-box: a classifier on the model's hidden states",
    "perturbed_sampling": "Generation by sampling from prompts with one identifier changed",
    # The EHR memorization tests T1 and T2 (Tonekaboni et al. 2025) sample continuations.
    "prompted_sampling": "Generation by sampling from patients' prompts",
}

# Where each threshold's value comes from (mirrors the engine's declarations, so the
# report can name a source for results written before thresholds carried their own).
THRESHOLD_ANCHORS = {
    "primary_fpr": "Carlini et al. 2022: judge attacks at a low false-positive rate",
    "warn_auc_lower": "product default (no regulatory anchor)",
    "fail_auc_lower": "product default: most member/non-member pairs told apart with confidence",
    "warn_epsilon": "any statistically significant leakage at the primary FPR",
    "fail_epsilon": "epsilon = 1, the conventional strong differential-privacy level",
    "min_expected_false_positives": "powered to detect a likelihood ratio of 10 (Clopper–Pearson resolution of the FPR)",
    "alpha": "conventional 5% one-sided Fisher exact test",
    "max_rate_upper": "rule of three: no event in N = 3,000 bounds the rate at 0.1% (95%)",
    "fail_min_extracted": "any verbatim reproduction beyond the non-member control",
    "prior": ("share of training patients among those targeted; with a likelihood ratio of 2 it gives "
              "the 0.09 posterior of EMA Policy 0070 / Health Canada PRCI"),
    "rare_code_max_members": "rare codes: the records most at risk (Carlini et al. 2019)",
    "min_cell": "CMS cell-size suppression rule: no cell of 1 to 10",
    "subgroup_fdr": "Benjamini–Hochberg false discovery rate for subgroup flags",
    "fail_gap_lower": "one band of AUROC discrimination (Hosmer and Lemeshow 2013)",
    "min_signal": "Tonekaboni et al. 2025 code: p_th = 0.5",
    "collapse": "product default after Tonekaboni et al., NeurIPS 2025, test T5 (its Fig. 4 sets no number): relative drop of 50% within ±2 years",
    "fail_min_leaked": ("HIPAA §164.514(b)(2) Safe Harbor identifiers; EDPB Opinion 28/2024: any training-set "
                        "direct identifier emitted"),
    "fail_rate_difference": "EMA Policy 0070 / Health Canada PRCI: residual risk 0.09",
    "fail_max_repeats": "a secret seen once in training is a patient-unique record",
}

# The prior share of members among the people an attacker might target, used to turn a
# likelihood ratio into a posterior (compliance.md 5.2: prior 0.05 x LR 2 ≈ 0.09, the
# EMA/Health Canada threshold).
PRIOR = 0.05


def family_of(probe: Mapping[str, Any]) -> Wording:
    spec = spec_of(as_text(probe.get("family"), ""))
    return GENERIC if spec is None else spec.wording


def strength_key(probe: Mapping[str, Any]) -> str:
    spec = spec_of(as_text(probe.get("family"), ""))
    raw = probe.get("attack_strength") or ("" if spec is None else spec.methods.strength)
    return str(raw).strip().lower().replace("-", "_").replace(" ", "_")


def strength_of(probe: Mapping[str, Any]) -> str:
    key = strength_key(probe)
    if not key:
        return "Not stated"
    return STRENGTH.get(key, key.replace("_", " ").capitalize())
