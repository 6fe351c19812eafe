"""`carrier_figures` reads each examined record once (its distinct ids and the categories it
carries); the figures are those of the former per-category loop (kept here as the
reference) on varied tables: ties, codes in several categories, empty categories, cohorts
without carriers, records that are not examined."""

from __future__ import annotations

import numpy as np
import pytest

from audit_core.clinical.carrier_disclosure import CarrierFigure, DisclosureTable, carrier_figures
from audit_core.data.cohort import Role
from audit_core.models.packed_ids import PackedIds


def _reference(tables, records, categories, top_rank):
    figures = []
    for role in Role:
        other = Role.NON_MEMBERS if role is Role.MEMBERS else Role.MEMBERS
        table, versus = tables[role], tables[other]
        column = {int(c): k for k, c in enumerate(table.codes)}
        for category, ids in categories.items():
            ids = np.asarray(ids, dtype=np.int64)
            members_of = set(ids.tolist())
            other_carriers = np.array([bool(np.isin(records[other][int(i)], ids).any())
                                       for i in versus.rows], dtype=bool)
            for r, i in enumerate(table.rows):
                for code in sorted({int(c) for c in records[role][int(i)] if int(c) in members_of}):
                    k = column[code]
                    prob, rank = float(table.probability[r, k]), int(table.rank[r, k])
                    against = versus.probability[:, k]
                    at_or_above = int((against >= prob).sum())
                    p_value = (1 + at_or_above) / (1 + len(against))
                    best = (int(versus.rank[other_carriers, k].min()) if other_carriers.any() else None)
                    stands_out = rank <= top_rank and best is not None and rank < best and at_or_above == 0
                    figures.append(CarrierFigure(role, int(i), category, code, rank, prob, p_value,
                                                 best, stands_out))
    return figures


def _case(seed: int):
    rng = np.random.default_rng(seed)
    vocab = int(rng.integers(20, 80))
    categories = {f"c{k}": np.sort(rng.choice(vocab, size=int(rng.integers(0, 6)), replace=False))
                  for k in range(int(rng.integers(1, 5)))}
    if seed % 4 == 0:  # a code in two categories
        categories["shared"] = np.concatenate([categories["c0"][:1], [vocab - 1]]).astype(np.int64)
    codes = np.unique(np.concatenate([np.asarray(c, dtype=np.int64) for c in categories.values()]))
    records, tables = {}, {}
    for role in Role:
        count = int(rng.integers(0 if seed % 5 == 0 else 1, 30))
        records[role] = PackedIds.pack([rng.integers(0, vocab, size=int(rng.integers(1, 25)))
                                        for _ in range(count)])
        rows = np.sort(rng.choice(count, size=int(rng.integers(0, count + 1)), replace=False)).astype(np.int64)
        # Coarse values: ties in probability and rank are common.
        probability = rng.integers(0, 5, size=(len(rows), len(codes))) / 8.0
        rank = rng.integers(1, 6, size=(len(rows), len(codes))).astype(np.int64)
        tables[role] = DisclosureTable(rows, codes, probability, rank)
    return tables, records, categories


@pytest.mark.parametrize("seed", range(60))
def test_the_figures_are_those_of_the_per_category_loop(seed: int) -> None:
    tables, records, categories = _case(seed)
    for top_rank in (1, 3):
        assert carrier_figures(tables, records, categories, top_rank) == \
            _reference(tables, records, categories, top_rank)
