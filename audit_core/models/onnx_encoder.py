"""An ONNX encoder run by onnxruntime: one embedding per record, and masked-LM scores.

Inputs `input_ids` (and `attention_mask`, `token_type_ids` when the export takes them).
Embeddings come from a pooled output ([batch, dim]: `embeddings`, `sentence_embedding`,
`pooler_output`) or are the mean over real tokens of `last_hidden_state`. A masked-LM
head (`mlm_logits` or `logits`, [batch, seq, vocab]) gives pseudo-log-likelihoods.
Records longer than the context are cut to it (the caller reports how many).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audit_core.errors import ModelError
from audit_core.models.inspection import ENCODER, MASKED_LM, ModelInfo, embedding_output
from audit_core.models.runtime import open_session
from audit_core.work.progress import Progress

_KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEncoder:
    def __init__(self, info: ModelInfo, threads: int = 0) -> None:
        if info.kind not in (ENCODER, MASKED_LM):
            raise ModelError(f"{info.name} is not an encoder: expected an input 'input_ids' and "
                             "an embeddings or masked-LM logits output")
        self.session = open_session(info.path, info.name, threads)
        self.info = info
        self.provider = self.session.get_providers()[0]
        inputs = {i.name: i for i in self.session.get_inputs()}
        unknown = [n for n in inputs if n not in _KNOWN_INPUTS]
        if unknown:
            raise ModelError(f"{info.name} has inputs the tool does not know how to feed: "
                             f"{', '.join(unknown)}")
        self._inputs = list(inputs)
        self._ids_type = np.int32 if "int32" in inputs["input_ids"].type else np.int64
        embedding = embedding_output(info.outputs)
        self.embedding_name = embedding.name if embedding is not None else None
        self._pooled = embedding is not None and len(embedding.shape) == 2
        names = {o.name for o in info.outputs}
        self.mlm_name = next((n for n in ("mlm_logits", "logits") if n in names), None)
        self.context_length = info.context_length

    @property
    def has_embeddings(self) -> bool:
        return self.embedding_name is not None

    @property
    def has_mlm_head(self) -> bool:
        return self.mlm_name is not None

    def embeddings(self, records: Sequence[np.ndarray], batch_size: int,
                   progress: Progress) -> np.ndarray:
        """One embedding per record (pooled output, or mean over its real tokens)."""
        name = self.embedding_name
        if name is None:  # the callers ask has_embeddings first
            raise ModelError(f"{self.info.name} has no embeddings output")
        out = []
        starts = range(0, len(records), batch_size)
        for n, start in enumerate(starts):
            progress.advance(n / len(starts), "embeddings")
            ids, mask = self._pad(records[start:start + batch_size])
            values = self._run([name], ids, mask)[0]
            if not self._pooled:
                weights = mask[..., None].astype(np.float64)
                values = (values * weights).sum(1) / np.maximum(weights.sum(1), 1.0)
            out.append(np.asarray(values, dtype=np.float64))
        progress.advance(1.0, "embeddings")
        return np.vstack(out)

    def pseudo_log_likelihood(self, records: Sequence[np.ndarray], mask_id: int,
                              batch_size: int, progress: Progress) -> np.ndarray:
        """Mean over a record's inner positions of log p(token | the rest, it masked).

        Salazar et al. 2020: each position is masked in turn. The copies of all records are
        run together in batches of `batch_size` rows, so short records share a batch.
        The first and last positions (the tokenizer's [CLS]/[BOS] and [SEP]/[EOS]) are not
        scored; a record of two tokens or fewer gets NaN.
        """
        head = self.mlm_name
        if head is None:  # the callers ask has_mlm_head first
            raise ModelError(f"{self.info.name} has no masked-LM logits output")
        jobs = [(r, p) for r, ids in enumerate(records) for p in range(1, len(ids) - 1)]
        totals = np.zeros(len(records))
        counts = np.zeros(len(records))
        starts = range(0, len(jobs), batch_size)
        for n, start in enumerate(starts):
            progress.advance(n / max(1, len(starts)), "pseudo-likelihood")
            chunk = jobs[start:start + batch_size]
            ids, mask = self._pad([records[r] for r, _ in chunk])
            rows = np.arange(len(chunk))
            positions = np.array([p for _, p in chunk])
            truth = ids[rows, positions].copy()
            ids[rows, positions] = mask_id
            logits = self._run([head], ids, mask)[0][rows, positions].astype(np.float64)
            top = logits.max(axis=1, keepdims=True)
            logprob = (logits[rows, truth] - top[:, 0]
                       - np.log(np.exp(logits - top).sum(axis=1)))
            np.add.at(totals, [r for r, _ in chunk], logprob)
            np.add.at(counts, [r for r, _ in chunk], 1)
        progress.advance(1.0, "pseudo-likelihood")
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)

    def _pad(self, records: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(r) for r in records)
        ids = np.zeros((len(records), width), dtype=self._ids_type)
        mask = np.zeros((len(records), width), dtype=self._ids_type)
        for i, r in enumerate(records):
            ids[i, :len(r)] = r
            mask[i, :len(r)] = 1
        return ids, mask

    def _run(self, outputs: list[str], ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        feed = {"input_ids": ids}
        if "attention_mask" in self._inputs:
            feed["attention_mask"] = mask
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        try:
            return self.session.run(outputs, feed)
        except Exception as exc:
            raise ModelError(f"onnxruntime could not run {self.info.name} "
                             f"({exc.__class__.__name__})") from None
