"""DC-PDD: the model's token probabilities calibrated by how common each token is.

Zhang, Zhang, Guo, Cheng and Cheng, "Pretraining Data Detection for Large Language Models:
A Divergence-based Calibration Method", EMNLP 2024. A model assigns high probability to
common tokens whether or not it saw the record; what betrays training is high probability
on tokens that are rare in a reference corpus. Over the first occurrence of each token
in a record, alpha_i = -p(x_i) log f(x_i), with p the model's probability of the true
token and f its Laplace-smoothed frequency in the reference corpus; each alpha is capped
at `a` (one very rare token does not decide the score) and the score is their mean.

The reference corpus is the hospital's non-member cohort by default (leave-one-out: a
non-member is scored against the other non-members' counts, dc_pdd_frequencies.py), or a
public token/code frequency table (`frequency_table`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audit_core.data.cohort import Role
from audit_core.families import Family
from audit_core.passes.chunked_scoring import Reducer
from audit_core.passes.token_scores import TokenScores
from audit_core.probes.base import Needs, ProbeContext, ProbeOutcome
from audit_core.probes.dc_pdd_frequencies import FrequencyTable
from audit_core.probes.membership_assessment import REFERENCE_FREE, assess_membership
from audit_core.settings import param


@dataclass(frozen=True, slots=True, kw_only=True)
class DcPddConfig:
    a: float = param(0.01, label="Upper bound of a token's contribution (a)", min=1e-6, max=1e6,
                     help="Each token's -p log f is capped here, so the score reads mostly how "
                          "many of a record's tokens the model predicts with more than a small "
                          "probability for their rarity, and no single rare token decides it.",
                     anchor="Zhang et al. 2024: a = 0.01")
    frequency_table: str = param("", label="Public frequency table (CSV, optional)",
                                 help="A CSV of 'token' (as the model's tokenizer writes it, a "
                                      "code for a code model) and 'count'; empty: count the "
                                      "non-member cohort, leaving each non-member's own "
                                      "tokens out of the counts that score it. A relative "
                                      "path is read from the plan file's folder.")


class DcPdd:
    id = "dc_pdd"
    title = "DC-PDD frequency-calibrated membership inference"
    family = Family.MEMBERSHIP
    question = ("Is the model more confident on a training patient's uncommon codes or words "
                "than on a non-member's, given how common each is?")
    citation = "Zhang et al., EMNLP 2024"
    config_type = DcPddConfig
    needs = Needs(token_scores=True)
    weight = 1.0
    path_settings = ("frequency_table",)  # resolved against the plan's folder (plan.parsing)
    reducer_reads_vocabulary = True  # a public table names tokens, not ids

    def reducer(self, config: DcPddConfig, token_ids: Mapping[Any, Sequence[np.ndarray]],
                vocabulary: Mapping[str, int] | None = None) -> Reducer:
        """The reduction with the reference frequencies counted (or read) before the pass."""
        if config.frequency_table:
            if vocabulary is None:
                raise ValueError("a public frequency table needs the tokenizer's vocabulary")
            table = FrequencyTable.from_file(Path(config.frequency_table), vocabulary)
        else:
            every = [ids for role in token_ids for ids in token_ids[role]]
            table = FrequencyTable.from_cohort(token_ids.get(Role.NON_MEMBERS, ()), every)

        def reduce(target: TokenScores, reference: TokenScores | None) -> np.ndarray:
            return np.array([divergence_score(lp, ids, table, config.a)
                             for lp, ids in zip(target.logprobs, target.targets, strict=True)])
        return reduce

    def run(self, config: DcPddConfig, ctx: ProbeContext) -> ProbeOutcome:
        scores = ctx.reduced
        corpus = "a public frequency table" if config.frequency_table else "the non-members"
        return assess_membership(scores[Role.MEMBERS], scores[Role.NON_MEMBERS], ctx,
                                 f"DC-PDD (token frequencies from {corpus})", REFERENCE_FREE)


def divergence_score(logprobs: np.ndarray, targets: np.ndarray, table: FrequencyTable,
                     cap: float) -> float:
    """Mean over the first occurrence of each token of min(-p log f, cap)."""
    targets = np.asarray(targets, dtype=np.int64)
    _, first = np.unique(targets, return_index=True)
    tokens = targets[first]
    alpha = -np.exp(logprobs[first]) * np.log(table.frequencies(targets, tokens))
    return float(np.minimum(alpha, cap).mean())
