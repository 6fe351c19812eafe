"""Figures that several probes of one audit compute from the same inputs, computed once.

T2 and T6 both examine every sensitive carrier plus the same seeded sample of the others,
and both read each examined record's next-token distribution without its sensitive codes
(clinical/carrier_disclosure.py): on the demo the same two tables, 1.2 s of forward
passes, were computed twice. The runner gives every probe of a run one RunMemo
(ProbeContext.memo); a probe asks it for a figure by a key that names everything the
figure is a function of, so an answer from the memo is the one the probe would compute
alone, and a probe run alone (or in a test's context) computes it itself.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class RunMemo:
    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The figure `key` names: from an earlier probe of the run, or computed now."""
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]
