"""A tiny EHRMamba2-style model: a Mamba2 backbone over summed embeddings of each token's
code, type, age, time and visit.

EHRMamba2's forward takes `input_ids, token_type_ids, ages, time_stamps, visit_orders,
visit_segments`; this one takes the same (plus `attention_mask`), so the audited graph has
the side inputs the paper's model has. The inputs follow the project's side-input
conventions (`side_inputs.json` beside the export): `token_type_ids` from the word's head
(TOKEN_TYPES), `ages` in years at the event, `time_stamps` in weeks (time_days / 7),
`visit_orders` the visit number (0 for static rows), `visit_segments` 0 for static rows
then 1, 2, 1, 2... per visit.

The model reads time only as the gap to the token before (log-scaled), so whether the
weeks are counted from 1970 or from the record's start makes no difference; a missing age
or time (the static rows: 0 as the engine feeds it, or NaN) reads as unknown. The
backbone is transformers' `Mamba2Model` on its pure-torch path, its chunked scan computed as one block
(`mamba_export.quadratic_mamba2_scan`, equal to it; several times faster on short records).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import Mamba2Config, Mamba2Model

from audit_core.tools.controls.mamba_export import quadratic_mamba2

# Graph input name -> the source the engine computes it from (side-input plan keys).
SIDE_INPUTS = {"token_type_ids": "type", "ages": "age_years", "time_stamps": "time_weeks",
               "visit_orders": "visit", "visit_segments": "visit_segment"}
TOKEN_TYPES = {"special": 0, "other": 1, "GENDER": 2, "MEDS_BIRTH": 3, "HOSPITAL_ADMISSION": 4,
               "HOSPITAL_DISCHARGE": 5, "DIAGNOSIS": 6, "LAB": 7, "MEDICATION": 8}
INPUT_NAMES = ["input_ids", "attention_mask", *SIDE_INPUTS]
MAX_VISIT = 15  # later visits share the last visit embedding
_FREQUENCIES = 8
DAYS_PER_WEEK = 7.0
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class EhrMambaSize:
    hidden: int = 48
    layers: int = 1
    heads: int = 4
    state: int = 16
    chunk: int = 16
    n_positions: int = 128


def token_type(word: str, special: frozenset[str]) -> int:
    """The type id of a word from its head (the part before the first "//" or "/")."""
    if word in special:
        return TOKEN_TYPES["special"]
    head = word.split("//", 1)[0].split("/", 1)[0]
    return TOKEN_TYPES.get(head, TOKEN_TYPES["other"])


def side_inputs(words: Sequence[str], time_days: np.ndarray, age_years: np.ndarray,
                visit: np.ndarray, special: frozenset[str]) -> dict[str, np.ndarray]:
    """The side inputs of one token sequence (values already aligned per token)."""
    segments = np.where(visit > 0, 2 - (visit % 2), 0)
    # Unknown ages and times (NaN) are fed as 0, as the engine's side-input feed does.
    return {"token_type_ids": np.array([token_type(w, special) for w in words], dtype=np.int64),
            "ages": np.nan_to_num(age_years, nan=0.0).astype(np.float32),
            "time_stamps": np.nan_to_num(time_days / DAYS_PER_WEEK, nan=0.0).astype(np.float32),
            "visit_orders": visit.astype(np.int64),
            "visit_segments": segments.astype(np.int64)}


class _Periodic(torch.nn.Module):
    """A scalar as sines and cosines at fixed frequencies, then a linear map."""

    def __init__(self, hidden: int, scale: float):
        super().__init__()
        self.freqs: torch.Tensor
        self.register_buffer("freqs", scale * 2.0 ** -torch.arange(_FREQUENCIES, dtype=torch.float32),
                             persistent=False)
        self.proj = torch.nn.Linear(2 * _FREQUENCIES + 1, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        angles = x[..., None] * self.freqs
        return self.proj(torch.cat([torch.sin(angles), torch.cos(angles), x[..., None]], dim=-1))


class EhrMamba(torch.nn.Module):
    """Summed embeddings -> LayerNorm -> Mamba2 -> tied LM head."""

    def __init__(self, vocab_size: int, size: EhrMambaSize, *, pad_id: int, bos_id: int,
                 eos_id: int):
        super().__init__()
        self.config = Mamba2Config(
            vocab_size=vocab_size, hidden_size=size.hidden, num_hidden_layers=size.layers,
            num_heads=size.heads, head_dim=2 * size.hidden // size.heads, state_size=size.state,
            n_groups=1, expand=2, chunk_size=size.chunk, conv_kernel=4, pad_token_id=pad_id,
            bos_token_id=bos_id, eos_token_id=eos_id, tie_word_embeddings=True)
        self.config.n_positions = size.n_positions
        self.config.architectures = ["EhrMamba2Style"]
        hidden = size.hidden
        self.codes = torch.nn.Embedding(vocab_size, hidden)
        self.types = torch.nn.Embedding(len(TOKEN_TYPES), hidden)
        self.visits = torch.nn.Embedding(MAX_VISIT + 1, hidden)
        self.segments = torch.nn.Embedding(3, hidden)
        self.ages = _Periodic(hidden, 1.0 / 10.0)
        self.gaps = _Periodic(hidden, 1.0)
        self.norm = torch.nn.LayerNorm(hidden)
        self.backbone = Mamba2Model(self.config)
        self.backbone.embeddings = None  # type: ignore[assignment]  # the sum above replaces it

    def forward(self, input_ids, attention_mask, token_type_ids, ages, time_stamps,
                visit_orders, visit_segments):
        age = torch.where(torch.isnan(ages), torch.zeros_like(ages), ages)
        # 0 (or NaN) is an unknown time: the engine feeds a static row's missing time as 0
        known = ~torch.isnan(time_stamps) & (time_stamps != 0)
        time = torch.where(known, time_stamps, torch.zeros_like(time_stamps))
        previous = torch.cat([time[:, :1], time[:, :-1]], dim=1)
        previous_known = torch.cat([known[:, :1], known[:, :-1]], dim=1)
        gap = torch.where(known & previous_known, (time - previous).clamp(min=0),
                          torch.zeros_like(time))
        x = (self.codes(input_ids) + self.types(token_type_ids.clamp(0, len(TOKEN_TYPES) - 1))
             + self.visits(visit_orders.clamp(0, MAX_VISIT)) + self.segments(visit_segments.clamp(0, 2))
             + self.ages(age) + self.gaps(torch.log1p(gap)))
        with quadratic_mamba2():  # the same SSD as transformers' chunked scan, faster here
            states = self.backbone(inputs_embeds=self.norm(x), attention_mask=attention_mask,
                                   use_cache=False).last_hidden_state
        return states @ self.codes.weight.T
