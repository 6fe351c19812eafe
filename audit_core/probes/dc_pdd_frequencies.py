"""The token-frequency table DC-PDD calibrates against: counted from the non-member cohort
(leave-one-out) or read from a public frequency file (CSV of token and count).

Zhang et al., "Pretraining Data Detection for Large Language Models: A Divergence-based
Calibration Method", EMNLP 2024, estimate each token's frequency in a reference corpus with
Laplace smoothing, f(t) = (count(t) + 1) / (N + V). Where the corpus is the hospital's
non-member cohort, a non-member's own tokens are taken out of the counts that score it:
its own tokens would otherwise look common to the table (they are in it) and rare-token
credit, which is what marks a member, would go to members alone for a trivial reason.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from audit_core.errors import PlanError


class FrequencyTable:
    """Token counts and the smoothing constants; `frequencies` gives f(t) for a record's
    tokens with that record's own counts left out when it is part of the corpus."""

    def __init__(self, counts: np.ndarray, vocabulary: int, own: Mapping[bytes, np.ndarray]):
        self.counts = counts.astype(np.float64)
        self.total = float(counts.sum())
        self.vocabulary = vocabulary  # V of the Laplace smoothing
        # Corpus records by content (the ids they predict), with their own counts. A record is
        # matched by content, not by role: the reducer sees token scores, not who they are.
        # A member whose ids equal a non-member's is scored like that non-member (the table
        # less one copy of that content): the same record gets the same score either way.
        self.own = own

    @classmethod
    def from_cohort(cls, records: Sequence[np.ndarray], every: Sequence[np.ndarray]) -> FrequencyTable:
        """Counts of the ids `records` predict (each record's ids[1:]); V counts the distinct
        ids of `every` record (both cohorts) and one for a token neither holds."""
        size = 1 + max((int(ids.max()) for ids in every if len(ids)), default=0)
        counts = np.zeros(size, dtype=np.int64)
        own: dict[bytes, np.ndarray] = {}
        for ids in records:
            targets = np.asarray(ids[1:], dtype=np.int64)
            mine = np.bincount(targets, minlength=size)
            counts += mine
            own[targets.tobytes()] = mine
        seen = np.zeros(size, dtype=bool)
        for ids in every:
            seen[np.asarray(ids, dtype=np.int64)] = True
        return cls(counts, int(seen.sum()) + 1, own)

    @classmethod
    def from_file(cls, path: Path, vocabulary: Mapping[str, int]) -> FrequencyTable:
        """A public frequency table: a CSV with a 'token' column (the token or code as the
        model's tokenizer writes it) and a 'count' column. Tokens the tokenizer does not
        know are skipped; V is the tokenizer's vocabulary."""
        name = path.name
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                if reader.fieldnames is None or not {"token", "count"} <= set(reader.fieldnames):
                    raise PlanError(f"'probes.dc_pdd.frequency_table' ({name}) needs a 'token' "
                                    "and a 'count' column")
                counts = np.zeros(max(vocabulary.values(), default=0) + 1, dtype=np.int64)
                bad = []
                for row_number, row in enumerate(reader, start=2):
                    try:
                        count = int(row["count"] or "")
                    except ValueError:
                        bad.append(row_number)
                        continue
                    if count < 0:
                        bad.append(row_number)
                        continue
                    token = vocabulary.get(row["token"] or "")
                    if token is not None:
                        counts[token] += count
        except OSError as exc:
            raise PlanError(f"'probes.dc_pdd.frequency_table': cannot read {name} "
                            f"({exc.__class__.__name__})") from None
        except UnicodeDecodeError:
            raise PlanError(f"'probes.dc_pdd.frequency_table': {name} is not UTF-8 text") from None
        if bad:
            raise PlanError(f"{name}: {len(bad)} rows have a 'count' that is not a whole number "
                            f"of at least 0 (first: row {bad[0]})")
        if not counts.any():
            raise PlanError(f"{name}: no token of the table is in the model's vocabulary")
        return cls(counts, len(vocabulary), {})

    def frequencies(self, targets: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """Smoothed f(t) of `tokens`, for the record that predicts `targets` (its own counts
        out of the table when the table was counted from it)."""
        tokens = np.asarray(tokens, dtype=np.int64)
        counts = np.zeros(len(tokens))
        known = tokens < len(self.counts)
        counts[known] = self.counts[tokens[known]]
        total = self.total
        mine = self.own.get(np.asarray(targets, dtype=np.int64).tobytes())
        if mine is not None:
            counts[known] -= mine[tokens[known]]
            total -= float(mine.sum())
        return (counts + 1.0) / (total + self.vocabulary)
