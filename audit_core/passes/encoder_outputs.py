"""The encoder shared pass: what the encoder probes read from ctx.outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from audit_core.data.cohort import Role

if TYPE_CHECKING:  # for the annotation only: the probes import this module
    from tokenizers import Tokenizer

ENCODER_KINDS = ("encoder", "masked_lm")
MASK_TOKENS = ("[MASK]", "<mask>", "<MASK>")


@dataclass(frozen=True, slots=True)
class EncoderOutputs:
    embeddings: dict[Role, np.ndarray]  # [records, dim]; empty when no probe needs them
    pseudo_log_likelihood: dict[Role, np.ndarray]  # per record; empty when not computed
    truncated: dict[Role, int]  # records cut to the model's context


def mask_token_id(tokenizer: Tokenizer) -> int | None:
    for token in MASK_TOKENS:
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return token_id
    return None
