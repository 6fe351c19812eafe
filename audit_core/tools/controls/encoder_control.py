"""A tiny control encoder (torch, training only): embeddings plus a masked-LM head.

Two small self-attention layers over the code language of `controls.cohort`, trained
on two objectives at once: masked-token prediction (15% of positions replaced by [MASK]),
and a classification head over labels drawn at random per training record, which can
only be fitted by memorizing each record. A model trained this way on the members pulls
each member towards its label's cluster (the "neural collapse" of memorized training
points) and learns their codes by heart; a model of the same recipe trained on other
patients has no reason to treat members differently from non-members. The audit reads
the ONNX export (`input_ids`, `attention_mask` -> `embeddings` [batch, dim] and
`mlm_logits` [batch, seq, vocab]) with onnxruntime only.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import AddedToken, Tokenizer

from audit_core.tools.controls.tokenizer import build_tokenizer, save_tokenizer

MASK = "[MASK]"
CONTEXT = 128
DIM = 64
LAYERS = 2
RANDOM_CLASSES = 8
MASK_SHARE = 0.15


def encoder_tokenizer() -> Tokenizer:
    """The code tokenizer with a [MASK] token added after the vocabulary."""
    tokenizer = build_tokenizer()
    tokenizer.add_special_tokens([AddedToken(MASK, special=True)])
    return tokenizer


class _Layer(torch.nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.out = torch.nn.Linear(dim, dim)
        self.norm1, self.norm2 = torch.nn.LayerNorm(dim), torch.nn.LayerNorm(dim)
        self.ff = torch.nn.Sequential(torch.nn.Linear(dim, 2 * dim), torch.nn.GELU(),
                                      torch.nn.Linear(2 * dim, dim))

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(self.norm1(h)).chunk(3, dim=-1)
        scores = q @ k.transpose(1, 2) / math.sqrt(h.shape[-1])
        scores = scores + (1.0 - mask[:, None, :].to(h.dtype)) * -1e4  # padding gets no attention
        h = h + self.out(torch.softmax(scores, dim=-1) @ v)
        return h + self.ff(self.norm2(h))


class TinyEncoder(torch.nn.Module):
    def __init__(self, vocab: int, dim: int = DIM, layers: int = LAYERS) -> None:
        super().__init__()
        self.tokens = torch.nn.Embedding(vocab, dim)
        self.positions = torch.nn.Embedding(CONTEXT, dim)
        self.layers = torch.nn.ModuleList(_Layer(dim) for _ in range(layers))
        self.norm = torch.nn.LayerNorm(dim)
        self.mlm = torch.nn.Linear(dim, vocab)
        self.classifier = torch.nn.Linear(dim, RANDOM_CLASSES)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        pooled, h = self.encode(input_ids, attention_mask)
        return pooled, self.mlm(h)

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        h = self.tokens(input_ids) + self.positions(positions)[None]
        for layer in self.layers:
            h = layer(h, attention_mask)
        h = self.norm(h)
        weights = attention_mask.to(h.dtype)[..., None]
        pooled = (h * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return pooled, h


def _batch(tokenizer: Tokenizer, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    encoded = tokenizer.encode_batch(list(texts))
    width = min(CONTEXT, max(len(e.ids) for e in encoded))
    ids = np.zeros((len(texts), width), dtype=np.int64)
    mask = np.zeros((len(texts), width), dtype=np.int64)
    for i, e in enumerate(encoded):
        row = e.ids[:width]
        ids[i, :len(row)] = row
        mask[i, :len(row)] = [1 if m else 0 for m in e.attention_mask[:width]]
    return torch.from_numpy(ids), torch.from_numpy(mask)


def train_encoder(texts: Sequence[str], tokenizer: Tokenizer, *, epochs: int, seed: int,
                  batch_size: int = 32) -> TinyEncoder:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: more threads only contend
    try:
        return _train(texts, tokenizer, epochs=epochs, seed=seed, batch_size=batch_size)
    finally:
        torch.set_num_threads(threads)


def _train(texts: Sequence[str], tokenizer: Tokenizer, *, epochs: int, seed: int,
           batch_size: int) -> TinyEncoder:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = TinyEncoder(tokenizer.get_vocab_size(with_added_tokens=True))
    labels = torch.randint(0, RANDOM_CLASSES, (len(texts),), generator=generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    mask_id = tokenizer.token_to_id(MASK)
    if mask_id is None:  # the encoder control's tokenizer always adds it
        raise ValueError(f"the control tokenizer has no {MASK} token")
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(texts), generator=generator)
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            ids, mask = _batch(tokenizer, [texts[i] for i in rows])
            # Mask content positions only (not BOS, EOS or padding).
            content = mask.bool() & (ids > 3)
            chosen = (torch.rand(ids.shape, generator=generator) < MASK_SHARE) & content
            masked = torch.where(chosen, torch.full_like(ids, mask_id), ids)
            pooled, h = model.encode(masked, mask)
            loss = torch.nn.functional.cross_entropy(model.classifier(pooled), labels[rows])
            if chosen.any():  # the vocabulary head on masked positions only: most of the cost
                loss = loss + torch.nn.functional.cross_entropy(model.mlm(h[chosen]), ids[chosen])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


class _Export(torch.nn.Module):
    def __init__(self, model: TinyEncoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids, attention_mask)


def export_encoder(model: TinyEncoder, tokenizer: Tokenizer, folder: Path) -> Path:
    """model.onnx, tokenizer.json and config.json (the context length) in `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    args = (torch.full((2, 5), 2, dtype=torch.long), torch.ones(2, 5, dtype=torch.long))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(_Export(model).eval(), args, str(path), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask"],
                          output_names=["embeddings", "mlm_logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                                        "attention_mask": {0: "batch", 1: "seq"},
                                        "embeddings": {0: "batch"},
                                        "mlm_logits": {0: "batch", 1: "seq"}})
    save_tokenizer(tokenizer, folder)
    (folder / "config.json").write_text(json.dumps(
        {"architectures": ["TinyEncoderForMaskedLM"], "max_position_embeddings": CONTEXT,
         "hidden_size": DIM}, indent=2) + "\n", encoding="utf-8")
    return path


def build_encoder_control(folder: Path, texts: Sequence[str], *, epochs: int, seed: int) -> Path:
    tokenizer = encoder_tokenizer()
    return export_encoder(train_encoder(texts, tokenizer, epochs=epochs, seed=seed),
                          tokenizer, folder)


@dataclass(frozen=True, slots=True)
class EncoderControls:
    folder: Path
    members: Path
    non_members: Path
    memorizing: Path  # trained on the members: must be flagged
    unseen: Path  # the same recipe trained on other patients: must not be


def build_encoder_controls(folder: Path, *, size: int = 200, epochs: int = 30,
                           seed: int = 301) -> EncoderControls:
    """Members and non-members from one population, and the two control encoders."""
    import pandas as pd

    from audit_core.tools.controls.cohort import generate_cohort
    from audit_core.tools.controls.demo import split_population

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    members, non_members = split_population(generate_cohort(2 * size, seed=seed, id_prefix="E"),
                                            size, seed=seed + 1)
    outsiders = generate_cohort(size, seed=seed + 2, id_prefix="O")
    paths = {}
    for name, records in (("members.csv", members), ("non_members.csv", non_members)):
        paths[name] = folder / name
        pd.DataFrame([{"patient_id": r.patient_id, "codes": r.codes, "age_band": r.age_band,
                       "sex": r.sex} for r in records]).to_csv(paths[name], index=False)
    memorizing = build_encoder_control(folder / "memorizing", [r.codes for r in members],
                                       epochs=epochs, seed=seed)
    unseen = build_encoder_control(folder / "unseen", [r.codes for r in outsiders],
                                   epochs=epochs, seed=seed)
    return EncoderControls(folder, paths["members.csv"], paths["non_members.csv"],
                           memorizing.parent, unseen.parent)
