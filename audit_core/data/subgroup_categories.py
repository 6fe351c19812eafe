"""Which subgroup values may be printed. A subgroup column's values are data: a column of
names, ids or dates declared as a subgroup would put them in the PDF and results.json, one
stratum per value, even where the stratum's counts are suppressed.

The rule: a subgroup column is a small set of categories, at most `MAX_CATEGORIES` distinct
values across members and non-members together; a column with more is refused before any
model work, the message giving the column and the counts, never a value. Within an accepted
column, a value held by at least `MIN_CELL` patients (members and non-members together;
a plan's larger `min_cell` raises it, a smaller one does not lower it) is a category and is
printed; the rarer values are pooled into one stratum whose label names how many values
it holds and none of them.

Why pool rather than refuse a column with a rare value: real category columns nearly always
have one (an AGE_90_PLUS band of four patients, a sex coded "unknown" twice; the bundled
canary and sensitive controls have exactly that). Refusing would push the auditor to edit
patient data or drop the column; pooling keeps the column's common categories and prints
nothing of the rare ones, whose patients are still counted (and their count suppressed
when small).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from audit_core.data.cohort import Cohort, Role
from audit_core.errors import DataError
from audit_core.results.disclosure import MIN_CELL

MAX_CATEGORIES = 50


def value_floor(min_cells: Iterable[int] = ()) -> int:
    """How many patients a value needs to be printed: the CMS cell size, or a plan's larger
    `min_cell`."""
    return max([MIN_CELL, *min_cells])


def check_subgroup_columns(cohorts: Mapping[Role, Cohort], thresholds: Mapping[str, Any]) -> None:
    """Refuse a declared subgroup column that is not a small set of categories.
    `thresholds`: the plan's, per family (their `min_cell` raise the floor quoted)."""
    floor = value_floor(t.min_cell for t in thresholds.values() if hasattr(t, "min_cell"))
    members, non_members = cohorts[Role.MEMBERS], cohorts[Role.NON_MEMBERS]
    for column in members.subgroups:
        counts = _counts(members.subgroups[column], non_members.subgroups[column])
        if len(counts) > MAX_CATEGORIES:
            rare = sum(1 for n in counts.values() if n < floor)
            raise DataError(
                f"data.columns.subgroups: column '{column}' holds {len(counts):,} distinct values "
                f"across {members.info.file} and {non_members.info.file} ({rare:,} of them held by "
                f"fewer than {floor} patients); a subgroup column must be a small set of "
                f"categories (at most {MAX_CATEGORIES}), such as age bands or sex. Group its "
                "values into categories, or leave it out of the subgroups")


def split_categories(members: np.ndarray, non_members: np.ndarray,
                     floor: int) -> tuple[list[Any], list[Any]]:
    """The values printed as strata of their own (held by at least `floor` patients), and
    the rarer values that are pooled; each sorted."""
    counts = _counts(members, non_members)
    common = sorted(v for v, n in counts.items() if n >= floor)
    rare = sorted(v for v, n in counts.items() if n < floor)
    return common, rare


def pooled_label(values: int, floor: int) -> str:
    """The pooled stratum's label: how many values it holds, never which."""
    return f"other ({values:,} value{'s' if values != 1 else ''}, each under {floor} patients)"


def _counts(members: np.ndarray, non_members: np.ndarray) -> Counter[Any]:
    counts: Counter[Any] = Counter(members.tolist())
    counts.update(non_members.tolist())
    return counts
