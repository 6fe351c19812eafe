"""The category table answers what `np.isin` answers: `any` of a window for every category
at once, the entries of one category, and `without`'s stripping, including ids beyond
every category, negative ids and empty windows."""

from __future__ import annotations

import numpy as np

from audit_core.clinical.category_lookup import CategoryLookup
from audit_core.clinical.sensitive_signal import Without, without


def test_the_table_agrees_with_isin_window_by_window() -> None:
    rng = np.random.default_rng(4)
    categories = [rng.choice(300, size=s, replace=False) for s in (1, 5, 40)] + [np.zeros(0, dtype=np.int64)]
    lookup = CategoryLookup(categories)
    for _ in range(200):
        ids = rng.integers(0, 900, size=rng.integers(0, 30))  # many ids beyond the table
        expected = [bool(np.isin(ids, c).any()) for c in categories]
        assert lookup.any_in(ids).tolist() == expected


def test_members_are_the_isin_entries_in_order_and_negative_ids_are_in_no_category() -> None:
    rng = np.random.default_rng(5)
    categories = [rng.choice(300, size=s, replace=False) for s in (1, 5, 40)] + [np.zeros(0, dtype=np.int64)]
    lookup = CategoryLookup(categories)
    for _ in range(200):
        ids = rng.integers(-5, 900, size=rng.integers(0, 30)).astype(rng.choice([np.int32, np.int64]))
        expected = [bool(np.isin(ids, c).any()) for c in categories]
        assert lookup.any_in(ids).tolist() == expected
        for k, c in enumerate(categories):
            assert lookup.members(ids, k).tolist() == ids[np.isin(ids, c)].tolist()


def test_without_strips_what_isin_finds_and_keeps_the_start_token() -> None:
    rng = np.random.default_rng(6)
    for removed in (np.zeros(0, dtype=np.int64), np.array([0]), rng.choice(200, size=30, replace=False),
                    np.array([7, 7, 3])):
        strip = Without(removed)
        for _ in range(100):
            ids = rng.integers(-3, 400, size=rng.integers(0, 40)).astype(rng.choice([np.int32, np.int64]))
            keep = ~np.isin(ids, removed)
            keep[:1] = True
            got = strip(ids)
            assert got.dtype == ids.dtype and got.tolist() == ids[keep].tolist()
            assert without(ids, removed).tolist() == ids[keep].tolist()
