"""Checks of a language-model audit's inputs once they are read: cohort sizes, token ids
against the model's vocabulary, and a reference model's tokenizer against the audited one.
Each refuses with the file and the record numbers, never a record's content."""

from __future__ import annotations

from typing import Any

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.errors import DataError, ModelError


def check_sizes(cohorts: dict[Role, Cohort], folds: int) -> None:
    """A cohort of a record or two contrasts nothing: not even the model-free split check,
    which needs one record per fold, can run on it."""
    for cohort in cohorts.values():
        if len(cohort.ids) < folds:
            raise DataError(f"{cohort.info.file} holds only {len(cohort.ids)} record(s); an audit "
                            f"needs at least {folds} per cohort (one per fold of the split check, "
                            "thresholds.split_validity.folds), and hundreds for a verdict")


def check_tokens(token_ids: dict[Role, list[np.ndarray]], cohorts: dict[Role, Cohort],
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


def check_same_tokenizer(tokenizer: Any, reference: tuple[Any, Any],
                          token_ids: dict[Role, list[np.ndarray]], cohorts: dict[Role, Cohort]) -> None:
    """Likelihood ratios compare the two models token by token: same tokens, same ids."""
    from audit_core.models.tokenizer_loading import encode_all, load_tokenizer

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
