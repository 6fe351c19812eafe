"""Tokenizer, per-token side inputs and deterministic training of the EHRMamba-style control.

The tokens of a subject are `[BOS]`, its MEDS words (one per event), `[EOS]`; each carries
the event facts the audit engine derives from MEDS (audit_core/data/events.py): time in
days since 1970 (NaN for the sex row), age in years from the birth row, visit number
(a HOSPITAL_ADMISSION opens the next one; 0 before the first). BOS takes the first word's
values and EOS the last's, as `events.align_to_tokens` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import torch
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

from audit_core.tools.controls.ehrmamba import (
    DAYS_PER_YEAR,
    EhrMamba,
    EhrMambaSize,
    side_inputs,
)
from audit_core.tools.controls.meds_cohort import Subject
from audit_core.tools.controls.vocabulary import BOS, EOS, PAD, SPECIAL_TOKENS, UNK

THREADS = 2
DEFAULT_SIZE = EhrMambaSize()
_EPOCH = datetime(1970, 1, 1)


def build_tokenizer(words: Sequence[str]) -> Tokenizer:
    """WordLevel over `words` (one MEDS code a word), [BOS] $A [EOS], right padding."""
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS)}
    for word in sorted(set(words) - set(SPECIAL_TOKENS)):
        vocab[word] = len(vocab)
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}", special_tokens=[(BOS, vocab[BOS]), (EOS, vocab[EOS])])
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in SPECIAL_TOKENS])
    tokenizer.enable_padding(direction="right", pad_id=vocab[PAD], pad_token=PAD)
    return tokenizer


def _days(moment: datetime) -> float:
    return (moment - _EPOCH).total_seconds() / 86400.0


def word_events(subject: Subject) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """time_days, age_years, visit per word of `subject.words()`."""
    birth = _days(subject.birth)  # ages count from it; the birth row itself has no time
    times = [float("nan"), float("nan"), *(_days(t) for t, _, _ in subject.events)]
    visits, visit = [0, 0], 0
    for _, code, _ in subject.events:
        visit += code == "HOSPITAL_ADMISSION"
        visits.append(visit)
    time_days = np.array(times)
    return time_days, (time_days - birth) / DAYS_PER_YEAR, np.array(visits, dtype=np.int64)


def encode(subject: Subject, tokenizer: Tokenizer) -> dict[str, np.ndarray]:
    """input_ids and side inputs of the subject's tokens ([BOS] words [EOS])."""
    words = subject.words()
    ids = np.array(tokenizer.encode(" ".join(words)).ids, dtype=np.int64)
    time_days, ages, visits = word_events(subject)
    pick = np.array([0, *range(len(words)), len(words) - 1])  # BOS/EOS take a neighbour's
    special = frozenset(SPECIAL_TOKENS)
    features = side_inputs([BOS, *words, EOS], time_days[pick], ages[pick], visits[pick], special)
    return {"input_ids": ids, **features}


def pad_batch(rows: Sequence[dict[str, np.ndarray]], pad_id: int) -> dict[str, np.ndarray]:
    """Right-padded batch; padding repeats the last value of each side input."""
    width = max(len(r["input_ids"]) for r in rows)
    batch: dict[str, np.ndarray] = {}
    for name in rows[0]:
        columns = []
        for row in rows:
            value = row[name]
            fill = pad_id if name == "input_ids" else value[-1]
            columns.append(np.concatenate([value, np.full(width - len(value), fill, value.dtype)]))
        batch[name] = np.stack(columns)
    batch["attention_mask"] = np.stack([
        (np.arange(width) < len(r["input_ids"])).astype(np.int64) for r in rows])
    return batch


def as_torch(batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {name: torch.from_numpy(np.ascontiguousarray(value)) for name, value in batch.items()}


def train(rows: Sequence[dict[str, np.ndarray]], repeated: Sequence[dict[str, np.ndarray]],
          vocab_size: int, *, seed: int, steps: int, rows_per_step: int = 10,
          repeats_per_step: int = 2, size: EhrMambaSize = DEFAULT_SIZE,
          lr: float = 2e-2) -> EhrMamba:
    """Next-token training, deterministic in `seed`.

    Each step sees `rows_per_step` rows drawn from `rows` (a fresh shuffled pass when one
    runs out) and every row of `repeated` `repeats_per_step` times: the planted subjects
    are memorised, the others seen steps x rows_per_step / len(rows) times. Small steps
    keep the build short on two shared cores; the count of steps, not of rows, is what
    memorising costs.
    """
    torch.set_num_threads(THREADS)
    torch.manual_seed(seed)
    model = EhrMamba(vocab_size, size, pad_id=0, bos_id=2, eos_id=3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps,
                                                   pct_start=0.1)
    rng = np.random.default_rng(seed)
    queue: list[int] = []
    model.train()
    for _ in range(steps):
        while len(queue) < rows_per_step:
            queue += rng.permutation(len(rows)).tolist()
        chosen = [rows[i] for i in queue[:rows_per_step]] + list(repeated) * repeats_per_step
        del queue[:rows_per_step]
        batch = as_torch(pad_batch(chosen, 0))
        logits = model(**batch)
        labels = batch["input_ids"][:, 1:].masked_fill(batch["attention_mask"][:, 1:] == 0, -100)
        loss = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return model.eval()


def record_losses(model: EhrMamba, rows: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
    """Mean next-token loss of each row, as the audit's loss probe scores a record."""
    batch = as_torch(pad_batch(rows, 0))
    with torch.no_grad():
        logits = model(**batch)
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    token = logp.gather(-1, batch["input_ids"][:, 1:, None])[..., 0]
    mask = batch["attention_mask"][:, 1:].float()
    return (-(token * mask).sum(1) / mask.sum(1)).numpy()
