"""What the report knows about each kind of probe, independent of any one result: the
names regulators and auditors use for the attack (NIST AI 100-2 E2025, EDPB Opinion
28/2024), how strong an attack it is, what a result means for a patient, and what to do
when it is not a PASS (compliance.md 1.4, 1.7, 2.1, 6.2).

A probe family this module does not know is still reported, under generic wording: new
probes must never make the report fail or fall silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .sections.values import as_text


@dataclass(frozen=True)
class Family:
    name: str  # the report's plain name for the question
    nist: str  # NIST AI 100-2 E2025 attack class
    edpb: str  # the attack named in EDPB Opinion 28/2024
    patient: str  # what a positive result means for one patient, in plain words
    mitigations: tuple[str, ...]
    # The report's front pages: the risk in a patient's words (rows are grouped by it), what
    # a positive result found in one short sentence, and the required actions it calls for
    # (keys of ACTIONS, most effective first), so that an action shared by several probes is
    # listed once and each finding points at it by number.
    risk: str = "Other privacy risk"
    found: str = "The probe found a signal specific to training patients."
    actions: tuple[str, ...] = ("dp", "access")


FAMILIES: dict[str, Family] = {
    "membership": Family(
        name="Membership inference",
        nist="Membership inference (privacy attack)",
        edpb="Membership inference",
        patient=(
            "Someone holding the model and a patient's record can tell, better than by "
            "chance, whether that patient's record was used to train it; being in a "
            "clinical training set can itself reveal a diagnosis or a hospital stay."
        ),
        mitigations=(
            "Retrain with differential privacy (DP-SGD) at a per-patient epsilon of 1 to 10.",
            "Deduplicate the training data and remove records repeated across patients.",
            "Keep the weights internal and expose only generated text, with query limits.",
        ),
        risk="Being recognised as a training patient",
        found="Training patients can be told apart from patients the model never saw.",
        actions=("dp", "dedup", "access"),
    ),
    "extraction": Family(
        name="Training-data extraction",
        nist="Training-data extraction (GenAI privacy attack; data reconstruction)",
        edpb="Regurgitation of training data; extraction",
        patient=(
            "Prompted with the beginning of a patient's record, the model can write out "
            "the rest of it: their codes or text leave the model verbatim."
        ),
        mitigations=(
            "Deduplicate the training data: repeated records are the ones reproduced.",
            "Retrain with differential privacy, or stop training earlier (fewer epochs).",
            "Filter generated output against the training set before it is shown.",
            "Keep the weights internal and limit queries per user.",
        ),
        risk="Records written out by the model",
        found="The model writes out parts of training records word for word.",
        actions=("dedup", "dp", "filter", "access"),
    ),
    "attribute": Family(
        name="Sensitive attribute inference",
        nist="Attribute (property) inference",
        edpb="Attribute inference",
        patient=(
            "The model reveals a sensitive condition of a training patient that the "
            "prompt did not contain, more often than for a patient it never saw."
        ),
        mitigations=(
            "Retrain with differential privacy.",
            "Remove or generalise sensitive codes in the training data where not needed.",
            "Filter sensitive codes from generated output.",
        ),
        risk="Sensitive diagnoses revealed",
        found="Hidden sensitive diagnoses are revealed more for training patients.",
        actions=("dp", "generalise", "filter"),
    ),
    "embedding": Family(
        name="Sensitive attributes in hidden states",
        nist="Attribute (property) inference from model internals",
        edpb="Attribute inference",
        patient=(
            "Someone holding the model's internal state for a patient's record can read off a "
            "sensitive diagnosis the prompt left out, more easily for training patients than "
            "for patients the model never saw."
        ),
        mitigations=(
            "Do not release hidden states or embeddings; expose only the outputs the use needs.",
            "Retrain with differential privacy.",
            "Remove or generalise sensitive codes in the training data where not needed.",
        ),
        risk="Sensitive diagnoses revealed",
        found="Sensitive diagnoses show in the model's internal state, more for training patients.",
        actions=("hidden", "dp", "generalise"),
    ),
    "perturbation": Family(
        name="Patient-specific sensitive memories",
        nist="Attribute inference; data reconstruction (memorized individual records)",
        edpb="Attribute inference; singling out",
        patient=(
            "The model reveals a training patient's sensitive diagnosis only while the prompt "
            "carries that patient's own details (age, visit timing, a rare code): a memory of "
            "that one person rather than a pattern of the population."
        ),
        mitigations=(
            "Retrain with differential privacy.",
            "Generalise rare codes, exact ages and dates in the training data.",
            "Have a clinician review the flagged cases (records.csv stays on the audit workstation).",
            "Filter sensitive codes from generated output.",
        ),
        risk="Memories of one patient",
        found="Some sensitive predictions are memories of one patient, not population patterns.",
        actions=("dp", "generalise", "review", "filter"),
    ),
    "subgroups": Family(
        name="Vulnerable subgroups",
        nist="Membership and attribute inference, disaggregated by subgroup",
        edpb="Membership inference; attribute inference (per subgroup)",
        patient=(
            "Patients of the named subgroup (a rare condition, the very old, carriers of a "
            "sensitive diagnosis) can be singled out or exposed more easily than the cohort "
            "as a whole."
        ),
        mitigations=(
            ("Generalise what makes the subgroup identifiable (rare codes, ages over 89) in the "
             "training data."),
            "Aggregate ages of 90 and over into one category (HIPAA Safe Harbor).",
            "Retrain with differential privacy and audit the subgroup again.",
        ),
        risk="Groups at higher risk",
        found="Some groups of patients are more exposed than others.",
        actions=("generalise", "dp"),
    ),
    "trajectory": Family(
        name="Trajectory reconstruction",
        nist="Data reconstruction (privacy attack) by prompted generation",
        edpb="Extraction of training data; attribute inference from partial knowledge",
        patient=(
            "Knowing a little about a training patient (age and sex, or their first codes), "
            "someone can have the model write out that patient's later diagnoses, tests and "
            "treatments more faithfully than for a patient it never saw."
        ),
        mitigations=(
            "Retrain with differential privacy, or stop training earlier (fewer epochs).",
            "Deduplicate the training data: repeated records are reconstructed most closely.",
            "Generalise rare codes and exact timings in the training data.",
            "Keep the weights internal and limit the number of generations per user.",
        ),
        risk="Medical history reconstructed",
        found="Training patients' later care is reconstructed more closely than other patients'.",
        actions=("dp", "dedup", "generalise", "access"),
    ),
    "identifiers": Family(
        name="Identifiers in generated text",
        nist="Training-data extraction (PII/PHI leakage)",
        edpb="Extraction of personal data from queries",
        patient=(
            "Generated text contains a training patient's identifiers (name, MRN, "
            "dates), which identifies them directly."
        ),
        mitigations=(
            "Remove direct identifiers from the training text and retrain.",
            "Add an output filter for the 18 HIPAA Safe Harbor identifier types.",
            "Keep the weights internal and limit queries per user.",
        ),
        risk="Identifiers in generated text",
        found="Generated text carries training patients' identifiers.",
        actions=("identifiers", "filter", "access"),
    ),
    "reidentification": Family(
        name="Re-identification by quasi-identifiers",
        nist="Data reconstruction (privacy attack); linkage",
        edpb="Singling out; linkability",
        patient=(
            "Records the model writes carry a combination of age band, sex, rare diagnoses "
            "or dates that fits one training patient only, so the patient can be picked "
            "out of the training data and linked to other sources."
        ),
        mitigations=(
            "Generalise or remove rare codes and exact dates in the training data.",
            "Retrain with differential privacy.",
            "Filter generated records whose quasi-identifiers are unique in the training data.",
        ),
        risk="Being singled out",
        found="Generated records point to one training patient by age, sex, rare codes or dates.",
        actions=("generalise", "dp", "filter"),
    ),
    "canaries": Family(
        name="Canary exposure (memorization of inserted secrets)",
        nist="Training-data extraction: memorization testing with canaries",
        edpb="Regurgitation of training data",
        patient=(
            "A secret seen in training, even once, is ranked far above its alternatives: a "
            "patient-unique detail written in one record can be recovered by search."
        ),
        mitigations=(
            "Retrain with differential privacy (DP-SGD): the only defence shown to remove exposure.",
            "Deduplicate the training data: exposure rises with repeats.",
            "Keep the weights internal and limit queries per user.",
        ),
        risk="Secrets recovered",
        found="Secrets seen once in training can be recovered by search.",
        actions=("dp", "dedup", "access"),
    ),
}

GENERIC = Family(
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
STRENGTH = {
    "reference_free": "Reference-free (scores from the audited model alone)",
    "reference_calibrated": "Reference-calibrated (compared with a reference model)",
    "shadow_model": "Shadow / reference models (LiRA, RMIA)",
    "generation": "Generation from prompts (greedy decoding)",
    "sampling": "Generation by sampling, prompted and unprompted",
    "canary_ranking": "Ranking inserted secrets among every alternative (Carlini et al. 2019)",
}
DEFAULT_STRENGTH = {"membership": "reference_free", "extraction": "generation",
                    "identifiers": "sampling", "reidentification": "sampling",
                    "canaries": "canary_ranking"}
# The EHR memorization tests T3, T5 and T6 (Tonekaboni et al. 2025).
STRENGTH.update({
    "hidden_state_probe": "White-box: a classifier on the model's hidden states",
    "perturbed_sampling": "Generation by sampling from prompts with one identifier changed",
})
DEFAULT_STRENGTH.update({"embedding": "hidden_state_probe", "perturbation": "perturbed_sampling",
                         "subgroups": "reference_free"})
# The EHR memorization tests T1 and T2 (Tonekaboni et al. 2025) sample continuations.
STRENGTH.setdefault("prompted_sampling", "Generation by sampling from patients' prompts")
DEFAULT_STRENGTH.update({"trajectory": "prompted_sampling", "attribute": "prompted_sampling"})

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


def family_of(probe: Mapping[str, Any]) -> Family:
    return FAMILIES.get(as_text(probe.get("family"), ""), GENERIC)


def strength_key(probe: Mapping[str, Any]) -> str:
    raw = probe.get("attack_strength") or DEFAULT_STRENGTH.get(as_text(probe.get("family"), ""), "")
    return str(raw).strip().lower().replace("-", "_").replace(" ", "_")


def strength_of(probe: Mapping[str, Any]) -> str:
    key = strength_key(probe)
    if not key:
        return "Not stated"
    return STRENGTH.get(key, key.replace("_", " ").capitalize())
