"""The split check: can members and non-members be told apart without the model?

Membership attacks on language models often "succeed" only because the two sets differ
(Duan et al., "Do Membership Inference Attacks Work on Large Language Models?", COLM
2024; Das, Zhang and Tramèr, "Blind Baselines Beat Membership Inference Attacks for
Foundation Models", 2024): non-members from a later period, another site or other codes.
Before any attack, a cross-validated logistic regression sees only features that never
touch the model (record length, how common a record's codes are, which codes occur,
dates written in the record, the subgroup columns) and its out-of-fold AUC is reported
with a bootstrap interval. Above the plan's `max_auc` every membership verdict is marked
unreliable: a difference the files carry on their own cannot be credited to the model.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.results.figures import format_auc, format_general, format_interval
from audit_core.stats.intervals import bootstrap_auc
from audit_core.stats.logistic import out_of_fold_scores
from audit_core.stats.roc import auc

# Codes seen in fewer records than this are left out of the bag of codes: they identify
# individuals rather than describe a set, and would only add noise to the classifier.
_MIN_CODE_RECORDS = 5
_MAX_CODES = 2000
# Ridge strength: with hundreds of code columns, weaker shrinkage lets chance patterns
# push the out-of-fold AUC of two random halves of one population towards 0.55.
_L2 = 10.0
_ISO_DATE = re.compile(r"\b((?:19|20)\d{2})-(?:0[1-9]|1[0-2])-(?:[0-2]\d|3[01])\b")
_SLASH_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/((?:19|20)\d{2})\b")
_WORD = re.compile(r"[^\W_]+(?:[._-][^\W_]+)*")

LENGTH = "record length (tokens, distinct tokens)"
FREQUENCY = "how common a record's codes are in the two files"
CODES = "which codes occur"
DATES = "dates written in the records"
SUBGROUPS = "subgroup columns"


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitValidity:
    auc: float
    auc_ci: tuple[float, float]
    features: tuple[str, ...]
    feature_aucs: tuple[tuple[str, float], ...]  # each feature group alone, strongest first
    threshold: float
    reliable: bool
    explanation: str
    n_members: int
    n_non_members: int
    folds: int

    def as_dict(self) -> dict[str, Any]:
        return {"auc": self.auc, "auc_ci": list(self.auc_ci), "features": list(self.features),
                "feature_aucs": [{"feature": f, "auc": a} for f, a in self.feature_aucs],
                "threshold": self.threshold, "reliable": self.reliable,
                "explanation": self.explanation, "n_members": self.n_members,
                "n_non_members": self.n_non_members, "folds": self.folds,
                "method": "L2 logistic regression, stratified cross-validation, out-of-fold AUC "
                          "with a 1,000-resample bootstrap interval"}


def record_tokens(sequence: str, kind: str) -> list[str]:
    """The units the check counts: codes as written, or lower-cased words of a text."""
    if kind == "codes":
        return sequence.split()
    return [w.lower() for w in _WORD.findall(sequence)]


def check_split(cohorts: dict[Role, Cohort], kind: str, *, max_auc: float, folds: int,
                rng: np.random.Generator,
                columns: dict[str, np.ndarray] | None = None) -> SplitValidity:
    """`columns` (tabular models: each feature column over members then non-members) replaces
    the record-text features: then every feature column is a group of its own."""
    members, non_members = cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS]
    sequences = list(members.sequences) + list(non_members.sequences)
    labels = np.r_[np.ones(len(members)), np.zeros(len(non_members))].astype(np.int64)
    if columns is None:
        groups = _feature_groups(sequences, kind, members, non_members)
    else:
        groups = {f"feature column '{name}'": (values.reshape(-1, 1), None)
                  for name, values in columns.items()}
        groups.update(_subgroup_group(members, non_members))
    folds = max(2, min(folds, len(members), len(non_members)))

    numeric = np.hstack([g[0] for g in groups.values()]) if groups else np.zeros((len(labels), 0))
    binary = _stack_binary([g[1] for g in groups.values()])
    overall_rng, group_rng = rng.spawn(2)
    scores = out_of_fold_scores(numeric, binary, labels, folds, overall_rng, l2=_L2)
    is_member = labels == 1
    value = auc(scores[is_member], scores[~is_member])
    low, high = bootstrap_auc(scores[is_member], scores[~is_member], overall_rng)
    per_group = []
    for name, (num, bin_) in groups.items():
        alone = out_of_fold_scores(num, bin_, labels, folds, group_rng, l2=_L2)
        per_group.append((name, auc(alone[is_member], alone[~is_member])))
    per_group.sort(key=lambda item: -abs(item[1] - 0.5))
    reliable = value <= max_auc
    return SplitValidity(auc=value, auc_ci=(low, high), features=tuple(groups),
                         feature_aucs=tuple(per_group), threshold=max_auc, reliable=reliable,
                         explanation=_explain(value, low, high, max_auc, reliable, per_group),
                         n_members=len(members), n_non_members=len(non_members), folds=folds)


def _feature_groups(sequences: list[str], kind: str, members: Cohort,
                    non_members: Cohort) -> dict[str, tuple[np.ndarray, Any]]:
    """Two passes over the records, each tokenizing one record at a time: holding every
    record's tokens (a string object per token, a set per record) would cost far more
    memory than the records themselves (about 1 GB for 100k records of 32 codes)."""
    from scipy import sparse

    n = len(sequences)
    lengths = np.empty((n, 2))
    # Document frequencies over both files together: no label is used to pick features.
    frequency: dict[str, int] = {}
    for r, sequence in enumerate(sequences):
        tokens = record_tokens(sequence, kind)
        distinct = set(tokens)
        lengths[r] = len(tokens), len(distinct)
        for code in distinct:
            frequency[code] = frequency.get(code, 0) + 1
    groups: dict[str, tuple[np.ndarray, Any]] = {LENGTH: (np.log1p(lengths), None)}

    vocabulary = sorted((c for c, k in frequency.items() if k >= _MIN_CODE_RECORDS),
                        key=lambda c: (-frequency[c], c))[:_MAX_CODES]
    column = {c: i for i, c in enumerate(vocabulary)}
    rarity = np.empty((n, 3))
    indptr, indices = np.zeros(n + 1, dtype=np.int32), array("i")  # CSR of the bag of codes
    years = np.full((n, 3), np.nan)  # dated, mean year, span
    for r, sequence in enumerate(sequences):
        codes = sorted(set(record_tokens(sequence, kind)))  # sorted: sums in a fixed order
        log_df = np.log([frequency[c] for c in codes]) if codes else np.zeros(1)
        rarity[r] = log_df.mean(), log_df.min(), np.mean(log_df <= np.log(2))
        present = sorted(column[c] for c in codes if c in column)
        indices.extend(present)
        indptr[r + 1] = indptr[r] + len(present)
        found = _years(sequence)
        years[r] = (1.0, np.mean(found), max(found) - min(found)) if found else (0.0, np.nan, 0.0)
    groups[FREQUENCY] = (rarity, None)
    if vocabulary:
        flat = np.frombuffer(indices, dtype=np.int32) if len(indices) else np.zeros(0, dtype=np.int32)
        presence = sparse.csr_matrix((np.ones(len(flat)), flat, indptr), shape=(n, len(vocabulary)))
        groups[CODES] = (np.zeros((n, 0)), presence)
    del indices

    dated = years[:, 0] > 0
    if dated.mean() >= 0.01:
        fill = np.nanmean(years[:, 1])
        groups[DATES] = (np.column_stack([dated.astype(float), np.where(dated, years[:, 1], fill),
                                          years[:, 2]]), None)

    groups.update(_subgroup_group(members, non_members))
    return groups


def _subgroup_group(members: Cohort, non_members: Cohort) -> dict[str, tuple[np.ndarray, Any]]:
    from scipy import sparse

    n = len(members) + len(non_members)
    groups: dict[str, tuple[np.ndarray, Any]] = {}
    if members.subgroups:
        onehots = []
        for column_name in members.subgroups:
            values = np.r_[members.subgroups[column_name], non_members.subgroups[column_name]]
            for value in sorted(set(values.tolist())):
                onehots.append((values == value).astype(float))
        if onehots:
            groups[SUBGROUPS] = (np.zeros((n, 0)), sparse.csr_matrix(np.column_stack(onehots)))
    return groups


def _stack_binary(blocks: list[Any]):
    from scipy import sparse

    present = [b for b in blocks if b is not None]
    if len(present) == 1:  # as is: stacking one block would only copy it
        return present[0]
    return sparse.hstack(present, format="csr") if present else None


def _years(text: str) -> list[int]:
    return [int(m) for m in _ISO_DATE.findall(text)] + [int(m) for m in _SLASH_DATE.findall(text)]


def _explain(value: float, low: float, high: float, max_auc: float, reliable: bool,
             per_group: list[tuple[str, float]]) -> str:
    head = (f"A classifier that never sees the model tells members from non-members with AUC "
            f"{format_auc(value)} (95% CI {format_interval((low, high))})")
    if reliable:
        return (f"{head}, not above {format_general(max_auc)}: the two files look alike, so what the "
                "membership attacks find can be credited to the model.")
    telling = [name for name, a in per_group if abs(a - 0.5) >= 0.1][:2] or [per_group[0][0]]
    return (f"{head}, above {format_general(max_auc)}: the two files differ on their own (most telling: "
            f"{' and '.join(telling)}), for example through a time shift or a different "
            "site between the sets. An attack can then 'succeed' from that difference alone, "
            "so every membership verdict is marked unreliable (INCONCLUSIVE). Draw the "
            "non-members at random from the same extraction as the members.")
