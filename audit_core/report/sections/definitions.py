"""Appendix C: every term the report uses, in plain words, with the formula behind each
figure where it has one (compliance.md 6.15), in the words of ISO/IEC 20889 where it has
them.

The glossary lists only the terms the document actually uses: each entry names the
patterns that show it is used, and `definitions_section` keeps the entries whose pattern
occurs somewhere else in the report. A term a probe starts printing joins the glossary by
itself; one no section prints any more leaves it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from .elements import Section, Table
from .verdicts import ERROR, MEANINGS, WORDS

TITLE = "Appendix C. Glossary, definitions and formulas"


def _meanings(*verdicts: str) -> str:
    # The verdicts' meanings have one source, shared with every other place that states them.
    return " ".join(f"{WORDS[v]}: {MEANINGS[v]}." for v in verdicts)


ALWAYS = ()  # an entry with no pattern is printed in every report

# (term, definition, patterns). A pattern is a regular expression searched in the text of
# every other section, case-sensitive so that "FAIL" is the verdict and "fail" a verb.
TERMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("PASS, WARN, FAIL", "The verdicts. " + _meanings("pass", "warn", "fail"), ALWAYS),
    ("INCONCLUSIVE, NOT ASSESSED", "No evidence either way. " + _meanings("inconclusive", ERROR), ALWAYS),
    ("SACRO-ML", "Statistical disclosure control tools for UK trusted research environments "
     "(AI-SDC); its release summary sorts attack results into grounds to reject, evidence against "
     "release and evidence for release, as page 2 does.", (r"SACRO",)),
    ("EHR, codes", "Electronic health record; its codes are the coded entries (diagnoses in "
     "ICD-10, procedures, tests, drugs) a record lists in order.", (r"\bEHR\b", r"ICD")),
    ("Member / non-member", "A record the model was trained on / one from the same population "
     "that it was not trained on: the control every member figure is compared with.",
     (r"[Mm]ember",)),
    ("Membership inference", "Telling, from the model, whether a given patient's record was in "
     "its training data (NIST AI 100-2 E2025).", (r"[Mm]embership",)),
    ("TPR, FPR", "True and false positive rates: the share of members an attack flags, TP / (TP + "
     "FN), and of non-members it wrongly flags, FP / (FP + TN); a 1% FPR is one false alarm per 100 "
     "patients never in training.", (r"\bTPR\b", r"\bFPR\b", r"wrongly flags")),
    ("ROC curve, AUC", "ROC curve: TPR against FPR over every threshold. AUC, the area under it: "
     "the probability that a random member scores above a random non-member (0.5 chance, 1 perfect).", (r"\bAUC\b", r"\bROC\b")),
    ("AUROC, AUPRC", "The AUC of a classifier that predicts a condition, and the area under its "
     "precision-recall curve, which allows for how rare the condition is.",
     (r"AUROC", r"AUPRC")),
    ("Membership advantage", "max over thresholds of TPR − FPR (Yeom et al. 2018); 0 = no leakage.",
     (r"advantage",)),
    ("Likelihood ratio Λ", "TPR / FPR at the operating point: how many times a flag raises the "
     "odds that a patient was in training.", (r"[Ll]ikelihood ratio", r"times more likely")),
    ("Prior, posterior", "Prior π: the share of training patients among those an intruder targets "
     "(5% unless stated). Posterior: the same after a flag, (π/(1−π)·Λ) / (1 + π/(1−π)·Λ).", (r"[Pp]osterior", r"\bprior\b")),
    ("Differential privacy (DP), epsilon ε, δ", "A guarantee given by the training method (DP-SGD "
     "adds noise while training): no single patient changes what the model does by more than a "
     "factor e^ε, except with probability δ. Smaller ε is stronger; 1 is strong, 10 weak.",
     (r"[Dd]ifferential privacy", r"\bDP\b", r"DP-SGD", r"[Ee]psilon", r"ε")),
    ("Epsilon lower bound ε_lb", "ln((TPR_low − δ) / FPR_high), δ = 0, with one-sided 97.5% "
     "Clopper–Pearson bounds. Any (ε, δ)-DP training satisfies TPR ≤ e^ε·FPR + δ, so ε_lb above "
     "a claimed ε refutes the claim; it can never prove one.", (r"ε_lb", r"[Ee]psilon lower bound")),
    ("95% interval (CI)", "The range that holds the true value with 95% confidence, in brackets "
     "after a figure.", (r"\bCI\b", r"interval")),
    ("Clopper–Pearson interval", "The exact confidence interval of a rate from a binomial count; "
     "valid at the very small rates where approximations fail.", (r"Clopper",)),
    ("Bootstrap", "An interval found by recomputing a figure on many resamples of the patients "
     "drawn with replacement (1,000 unless stated) and taking the middle 95%.", (r"[Bb]ootstrap",)),
    ("Smallest resolvable FPR", "m / n for n non-members, m the plan's non-members needed per "
     "resolved false positive (min_expected_false_positives): the smallest FPR at which the "
     "non-members are expected to show m false positives. A primary FPR below it cannot give "
     "a PASS, only INCONCLUSIVE.", (r"[Rr]esolvab",)),
    ("Held out, calibration", "The threshold is set on half of the non-members (calibration) and "
     "TPR and FPR are judged on the other half (held out), never on the data that set it.", (r"[Hh]eld out", r"[Cc]alibration")),
    ("LOSS attack", "Flags a record the model finds unusually likely (low loss, the average of −log "
     "probability over its tokens): the simplest membership attack (Yeom et al. 2018).", (r"\bLOSS\b",)),
    ("zlib ratio", "The model's loss on a record relative to its zlib-compressed size: a record "
     "the model finds likely without being merely repetitive was probably in training (Carlini et "
     "al. 2021).", (r"zlib",)),
    ("Min-K% Prob, Min-K%++", "Membership scores from the k% least likely tokens of a record "
     "(Shi et al. 2024); Min-K%++ first compares each token with what the model expected at that "
     "position (Zhang et al. 2025). Training records lack surprising tokens.", (r"Min-K",)),
    ("Reference model", "A second model that never saw the members: a model like the audited one "
     "trained without them, or the public base model the audited model was fine-tuned from (then "
     "what remains is what fine-tuning added). Reference-calibrated attacks compare the two to "
     "separate what was learned from those patients from what is common. Reference-free attacks "
     "use the audited model alone.",
     (r"[Rr]eference[- ]", r"[Rr]eference model")),
    ("Shadow models (LiRA, RMIA)", "Many reference models trained on known splits, so that each "
     "record's score with and without it in training can be compared (Carlini et al. 2022; "
     "Zarifzadeh et al. 2024).", (r"[Ss]hadow", r"LiRA", r"RMIA")),
    ("k-extractability", "A record is extracted when, prompted with its first k tokens, greedy "
     "decoding (always the most likely next token) reproduces the next m tokens exactly "
     "(Carlini et al. 2023).", (r"extractab", r"[Gg]reedy")),
    ("Exposure", "log2 of the number of candidates minus log2 of a secret's rank among them by model "
     "likelihood (Carlini et al. 2019, The Secret Sharer).", (r"[Ee]xposure\b",)),
    ("Sampling (temperature, top-p)", "Drawing each next token at random from the model's "
     "prediction; temperature flattens or sharpens it, top-p keeps the likeliest tokens holding p.", (r"[Ss]ampl(ing|ed) ", r"top-p", r"[Tt]emperature")),
    ("T1–T6", "The memorization tests of Tonekaboni et al. (NeurIPS 2025) for health-record "
     "models: T1 trajectory reconstruction, T2 sensitive attributes, T3 sensitive attributes in "
     "hidden states, T4 membership inference, T5 perturbation of identifiers, T6 vulnerable "
     "subgroups.", (r"\bT[1-6]\b",)),
    ("Earth mover's distance", "How far one list of codes is from another: the least total change "
     "that turns one into the other (0 = identical), here a reconstructed future and the real one.", (r"[Ee]arth mover", r"\bEMD\b", r"[Dd]istance")),
    ("Sensitive categories", "Groups of codes whose disclosure harms a patient: HIV and other "
     "sexually transmitted infections, substance use, mental health, reproductive health.",
     (r"[Ss]ensitive",)),
    ("Quasi-identifier", "A detail that does not name a patient by itself but can single one out "
     "in combination with others: age band, sex, rare diagnoses, dates (ISO/IEC 20889).",
     (r"[Qq]uasi-identifier",)),
    ("Singling out", "Isolating one person's record in a data set (Article 29 Working Party, "
     "Opinion 05/2014): here, a generated record whose quasi-identifiers fit exactly one training "
     "patient.", (r"[Ss]ingl(e|ing) out", r"[Ss]ingling-out")),
    ("Direct identifier", "A detail that names a patient by itself: name, record number (MRN), "
     "phone, e-mail, full date of birth, address (HIPAA Safe Harbor, §164.514(b)(2)).", (r"\bMRN", r"[Dd]irect identifier", r"Safe Harbor")),
    ("p-value", "The probability of a result at least this strong if the model had not memorized "
     "anything; small values are evidence of memorization.", (r"p-value", r"\bp = ")),
    ("Fisher exact test", "A one-sided test that members are affected more often than "
     "non-members, exact for small counts.", (r"Fisher",)),
    ("McNemar test", "A test that compares two rates measured on the same items (here, the same "
     "generated records matched against members and against non-members).", (r"McNemar",)),
    ("Benjamini–Hochberg (BH), q-value", "A correction for testing many subgroups at once: the "
     "q-value is a subgroup's p-value adjusted so that at most the stated share (the false "
     "discovery rate, 10% unless stated) of flagged subgroups are false alarms.",
     (r"Benjamini", r"q-value", r"\bq = ", r"\bq <", r"\bBH\b")),
    ("Bonferroni, Holm", "Stricter corrections for multiple tests that bound the chance of any "
     "false alarm at all (Holm is the less conservative of the two).", (r"Bonferroni", r"Holm")),
    ("Stratum, disparity", "A subgroup of patients (an age band, a sex, carriers of a rare code); "
     "its disparity is how much more its members are exposed than the cohort as a whole.",
     (r"[Ss]trat(a|um)", r"[Dd]isparity")),
    ("LEAKS, AT RISK, FLAGGED", "Subgroup flags: members of the subgroup are told from "
     "non-members significantly (LEAKS); it is more exposed than the cohort (AT RISK, T6); a "
     "probe that passes overall has such a subgroup (FLAGGED).", (r"LEAKS", r"AT RISK", r"FLAGGED")),
    ("Suppressed cell", "A subgroup with a count below the smallest cell shown (<11), or with the "
     "one count hidden (≥11) so that a small count cannot be recovered by subtraction: its figures "
     "are not printed, so that no one can be recognised from them (CMS cell-size suppression policy).",
     (r"[Ss]uppress", r"<11")),
    ("Split validity", "A check without the model: if a plain classifier tells members from "
     "non-members (AUC above 0.6), the files differ by themselves (INVALID) and membership "
     "results cannot be credited to the model.", (r"[Ss]plit",)),
    ("DECLARED", "A training fact stated by the model's owner and not verified by the tool.",
     (r"DECLARED",)),
    ("Release context", "Who will hold the model (internal, partners, public); it sets the "
     "threshold tier (ISO/IEC 27559: average risk for non-public release, maximum for public).", (r"[Rr]elease context",)),
    ("Tokens, context", "The units a model reads (codes, word pieces); its context is the most it "
     "reads at once. Longer records are scored in overlapping windows.", (r"\b[Tt]okens?\b",)),
    ("Keyed pseudonym (ref)", "HMAC-SHA256 of a record id under a key derived from the audited "
     "records and the seed, never stored: it names a record without revealing it.", (r"[Pp]seudonym",)),
    ("SHA-256", "A fingerprint of a file: any change to the file changes it. The results SHA-256 "
     "on page 1 is of the canonical results embedded in this PDF.", (r"SHA-256",)),
    ("PAdES", "The standard for digital signatures inside a PDF (ETSI EN 319 142); the signature "
     "covers the whole file.", (r"PAdES",)),
    ("ONNX", "Open Neural Network Exchange: the file format of the audited model.", (r"ONNX",)),
)


def used_terms(text: str) -> tuple[tuple[str, str], ...]:
    """(term, definition) for every entry printed always or whose pattern occurs in `text`."""
    return tuple(
        (term, definition) for term, definition, patterns in TERMS
        if not patterns or any(re.search(pattern, text) for pattern in patterns)
    )


def glossary() -> tuple[tuple[str, str], ...]:
    """Every (term, definition) of the glossary, in its order: Help ▸ Glossary in the app
    lists these, so that the app and Appendix C define every term in the same words."""
    return tuple((term, definition) for term, definition, _ in TERMS)


def terms_in(text: str) -> tuple[tuple[str, str], ...]:
    """(term, definition) for the entries whose pattern occurs in `text` (the always-printed
    entries only when their words do): what a tooltip on that text explains."""
    return tuple(
        (term, definition) for term, definition, patterns in TERMS
        if any(re.search(pattern, text) for pattern in patterns or _own_words(term))
    )


def _own_words(term: str) -> tuple[str, ...]:
    # "PASS, WARN, FAIL" -> each word, as a whole upper-case word (the verdicts, not verbs).
    return tuple(rf"\b{re.escape(word.strip())}\b" for word in term.split(","))


def definitions_section(others: Iterable[Section] = ()) -> Section:
    """The glossary for a report made of `others`: the terms they use; every term when
    called alone."""
    text = " ".join(_strings(tuple(others)))
    rows = used_terms(text) if text else tuple((t, d) for t, d, _ in TERMS)
    return Section(
        key="definitions", title=TITLE,
        blocks=(Table(header=("Term", "In plain words"), rows=rows, widths=(0.22, 0.78)),),
    )


def _strings(value: object) -> list[str]:
    # Every string anywhere in the sections: texts, cells, captions, badge labels.
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple):
        return [s for item in value for s in _strings(item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in _strings(getattr(value, f.name))]
    return []
