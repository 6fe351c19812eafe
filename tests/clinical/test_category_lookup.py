"""The category table answers what `np.isin(window, category).any()` answers, for every
category at once, including ids beyond every category and empty windows."""

from __future__ import annotations

import numpy as np

from audit_core.clinical.category_lookup import CategoryLookup


def test_the_table_agrees_with_isin_window_by_window() -> None:
    rng = np.random.default_rng(4)
    categories = [rng.choice(300, size=s, replace=False) for s in (1, 5, 40)] + [np.zeros(0, dtype=np.int64)]
    lookup = CategoryLookup(categories)
    for _ in range(200):
        ids = rng.integers(0, 900, size=rng.integers(0, 30))  # many ids beyond the table
        expected = [bool(np.isin(ids, c).any()) for c in categories]
        assert lookup.any_in(ids).tolist() == expected
