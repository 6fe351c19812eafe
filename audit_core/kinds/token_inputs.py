"""Checks of a language-model audit's inputs once they are read: cohort sizes, token ids
against the model's vocabulary, the share of tokens the tokenizer does not know, and a
reference model's tokenizer against the audited one. Each refuses with the file and the
record numbers or counts, never a record's content. And the datasets entry of results.json
for such a cohort (language models, encoders)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from tokenizers import Tokenizer

from audit_core.data.cohort import Cohort, Role
from audit_core.errors import DataError, ModelError
from audit_core.kinds.base import cohort_entry
from audit_core.models.inspection import ModelInfo
from audit_core.models.onnx_causal_lm import OnnxCausalLM
from audit_core.models.tokenizer_loading import encode_all, load_tokenizer
from audit_core.results.figures import format_count, format_percent
from audit_core.results.sections import DatasetSection

# The most of a cohort's tokens that may be the tokenizer's unknown token. Every unknown
# token is one and the same id to the model, so past this share the scores measure the
# tokenizer's gaps rather than the records, and an audit would print a verdict about
# nothing ("AUC 0.000" from codes written E119 where the model learnt E11.9). The
# committed controls stay well under it: 0% for every code model, and 19.5% for the
# clinical-notes control, whose word-level tokenizer never saw the non-members' names and
# dates (by design: that is what it tests). A refusal, not a warning: the run would cost
# hours and its report would look complete; mapping the right column or exporting the
# right tokenizer is the user's quick fix.
MAX_UNKNOWN_TOKEN_SHARE = 0.30


def check_sizes(cohorts: dict[Role, Cohort], folds: int) -> None:
    """A cohort of a record or two contrasts nothing: not even the model-free split check,
    which needs one record per fold, can run on it."""
    for cohort in cohorts.values():
        if len(cohort.ids) < folds:
            raise DataError(f"{cohort.info.file} holds only {len(cohort.ids)} record(s); an audit "
                            f"needs at least {folds} per cohort (one per fold of the split check, "
                            "thresholds.split_validity.folds), and hundreds for a verdict")


def check_tokens(token_ids: Mapping[Role, Sequence[np.ndarray]], cohorts: dict[Role, Cohort],
                  vocab: int, name: str) -> None:
    for role, ids_list in token_ids.items():
        short = [i for i, ids in enumerate(ids_list) if len(ids) < 2]
        if short:
            raise DataError(f"{cohorts[role].info.file}: {len(short)} records are shorter than two "
                            f"tokens after tokenization (first: record {short[0] + 1}); nothing in "
                            "them can be scored")
    highest = max((int(ids.max()) for ids_list in token_ids.values() for ids in ids_list if len(ids)), default=0)
    if highest >= vocab:
        raise ModelError(f"the tokenizer produces token id {highest}, past the {vocab} outputs of "
                         f"{name}: tokenizer and model do not belong together")


def unknown_token_share(ids_list: Sequence[np.ndarray], unk: int | None) -> float | None:
    """The share of a cohort's tokens (the special tokens the post-processor adds counted
    too) that are the unknown token; None for a tokenizer without one (nothing can be
    unknown to it as a token: a byte-level tokenizer splits what it does not know)."""
    if unk is None:
        return None
    tokens = int(sum(len(ids) for ids in ids_list))
    unknown = int(sum(int((ids == unk).sum()) for ids in ids_list))
    return unknown / tokens if tokens else 0.0


def token_dataset_summary(cohort: Cohort, ids: Sequence[np.ndarray], unk: int | None) -> DatasetSection:
    """results.json's entry for a cohort of token sequences; "records_windowed" is filled
    by the runner from the scoring pass (None when the pass did not score the cohort)."""
    # The share the run checked against MAX_UNKNOWN_TOKEN_SHARE (0.0 without an unknown token).
    return {**cohort_entry(cohort.info), "tokens": int(sum(len(x) for x in ids)),
            "unknown_token_share": unknown_token_share(ids, unk) or 0.0, "records_windowed": None}


def check_unknown_tokens(token_ids: Mapping[Role, Sequence[np.ndarray]], cohorts: dict[Role, Cohort],
                         unk: int | None, name: str) -> None:
    """Refuse a cohort whose tokens are mostly unknown to the tokenizer (see
    MAX_UNKNOWN_TOKEN_SHARE), measured cohort by cohort: one file with the wrong code
    system is enough to void the contrast."""
    for role, ids_list in token_ids.items():
        share = unknown_token_share(ids_list, unk)
        if share is None or share <= MAX_UNKNOWN_TOKEN_SHARE:
            continue
        tokens = sum(len(ids) for ids in ids_list)
        raise DataError(f"{cohorts[role].info.file}: {format_percent(share)} of its "
                        f"{format_count(tokens)} tokens are unknown to the tokenizer of {name} "
                        f"(an audit allows at most {format_percent(MAX_UNKNOWN_TOKEN_SHARE)}); a "
                        "code vocabulary mismatch is the usual cause (codes written otherwise "
                        "than in the model's training data, such as without their dots, or "
                        "another coding system), or data.columns.sequence maps the wrong column")


def check_same_tokenizer(tokenizer: Tokenizer, reference: tuple[OnnxCausalLM, ModelInfo],
                          token_ids: Mapping[Role, Sequence[np.ndarray]], cohorts: dict[Role, Cohort]) -> None:
    """Likelihood ratios compare the two models token by token: same tokens, same ids."""
    scorer, info = reference
    theirs = load_tokenizer(info.folder)
    if theirs.get_vocab(with_added_tokens=True) != tokenizer.get_vocab(with_added_tokens=True):
        raise ModelError(f"the reference model {info.name} has a different tokenizer vocabulary "
                         "from the audited model's; a reference must share the tokenizer")
    for role, ids_list in token_ids.items():
        again = encode_all(theirs, list(cohorts[role].sequences), cohorts[role].info.file)
        differ = [i for i, (a, b) in enumerate(zip(ids_list, again)) if not np.array_equal(a, b)]
        if differ:
            raise ModelError(f"the reference model's tokenizer splits {len(differ)} records of "
                             f"{cohorts[role].info.file} differently (first: record {differ[0] + 1}); "
                             "a reference must share the audited model's tokenizer")
    check_tokens(token_ids, cohorts, scorer.vocab_size, info.name)
