"""A cohort: the records of one role (members or non-members) as the probes see them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from audit_core.data.events import EventFeatures


class Role(StrEnum):
    MEMBERS = "members"
    NON_MEMBERS = "non_members"


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetInfo:
    """What the report may say about a file: never a row value (patient data)."""

    role: str
    file: str
    sha256: str
    records: int
    format: str
    columns: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cohort:
    role: Role
    ids: tuple[str, ...]
    sequences: tuple[str, ...]  # the record's text, or its codes joined by single spaces
    subgroups: dict[str, np.ndarray]  # kept for the subgroup analysis of a later issue
    info: DatasetInfo
    # Per record, one value per word of its sequence: time, age, visit (MEDS datasets; None
    # for a file of records, where time is read from GAP_* tokens). See data/events.py.
    events: tuple[EventFeatures, ...] | None = None

    def __len__(self) -> int:
        return len(self.ids)
