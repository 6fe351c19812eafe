"""Appendix B: the terms and formulas behind every figure (compliance.md 6.15), in the
words of ISO/IEC 20889 where it has them."""

from __future__ import annotations

from .elements import Section, Table

TERMS = (
    ("Member / non-member", "A record the model was trained on / a record from the same "
     "population that it was not trained on."),
    ("TPR (true positive rate)", "Share of members the attack flags: TP / (TP + FN)."),
    ("FPR (false positive rate)", "Share of non-members the attack wrongly flags: FP / (FP + TN)."),
    ("ROC curve, AUC", "TPR against FPR over every threshold; AUC is the probability that a "
     "random member scores above a random non-member (0.5 = chance)."),
    ("Membership advantage", "max over thresholds of TPR − FPR (Yeom et al. 2018); 0 = no leakage."),
    ("Likelihood ratio Λ", "TPR / FPR at the operating point: how much a flag raises the odds of membership."),
    ("Posterior", "prior odds × Λ, as a probability: p = (π/(1−π)·Λ) / (1 + π/(1−π)·Λ) for a prior π."),
    ("Epsilon lower bound ε_lb", "ln((TPR_low − δ) / FPR_high), δ = 0, with one-sided 97.5% "
     "Clopper–Pearson bounds. Any (ε, δ)-DP training satisfies TPR ≤ e^ε·FPR + δ, so ε_lb > "
     "a claimed ε refutes the claim."),
    ("Clopper–Pearson interval", "Exact binomial confidence interval for a rate; valid at the "
     "very small rates where normal approximations fail."),
    ("Smallest resolvable FPR", "m / n for n non-members, m the plan's non-members needed per "
     "resolved false positive (min_expected_false_positives): the smallest FPR at which the "
     "non-members are expected to show m false positives. A primary FPR below it cannot give "
     "a PASS, only INCONCLUSIVE."),
    ("k-extractability", "A record is extracted when, prompted with its first k tokens, "
     "greedy decoding reproduces the next m tokens exactly (Carlini et al. 2023)."),
    ("Exposure", "log2 of the number of candidates minus log2 of a secret's rank among them "
     "by model likelihood (Carlini et al. 2019, The Secret Sharer)."),
    ("Fisher exact test", "One-sided test that members are reproduced more often than non-members."),
    ("q-value", "Benjamini–Hochberg adjusted p-value: controls the false discovery rate across subgroups."),
    ("Keyed pseudonym (ref)", "HMAC-SHA256 of a record id under a key derived from the audited "
     "records themselves and the seed, never stored: names a record without revealing it, and "
     "only someone holding the patient files can recompute it."),
)


def definitions_section() -> Section:
    return Section(
        key="definitions", title="Appendix B. Definitions and formulas",
        blocks=(Table(header=("Term", "Definition"), rows=TERMS, widths=(0.26, 0.74)),),
    )
