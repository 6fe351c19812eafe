"""The records most at risk: one row per record with its score from every probe.

Records are shown by their keyed pseudonym (`ref`, the one the PDF uses); the patient id
column stays hidden until the user reveals it. Scores are the core's per-record scores,
shown as they are: no statistics are computed here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from audit_core.report.sections.membership_page import short_name
from audit_core.results.figures import format_score
from audit_core.results.result import AuditResult
from desktop.widgets.term_tips import explain

ROLE_LABELS = {"members": "Member", "non_members": "Non-member"}
# What each fixed column holds, and the glossary terms its tooltip defines.
FIXED_TIPS = ("The record's keyed pseudonym, as the PDF names it", "The record's id in your file",
              "Member (in the training data) or non-member (not in it)",
              "How many tokens the model read for the record (0 for a table row)",
              "Yes when the model reproduced the record verbatim (k-extractability), or a "
              "probe flagged the patient for review")
FIXED_TERMS = ("pseudonym", "", "member", "tokens", "extractable")
SORT_ROLE = Qt.ItemDataRole.UserRole


class RecordsModel(QAbstractTableModel):
    FIXED = ("Pseudonym", "Patient id", "Cohort", "Tokens", "Reproduced")

    def __init__(self, result: AuditResult) -> None:
        super().__init__()
        table = result.records
        self.probes = [p for p in result.probes if p.scores]
        self.rows: list[tuple[Any, ...]] = []
        if table is None:
            return
        extracted = {(e["role"], e["id"]) for p in result.probes for e in p.extracted}
        offsets: dict[str, int] = {}
        for row, role in enumerate(table.roles):
            offsets.setdefault(role, row)
        for row, role in enumerate(table.roles):
            index = row - offsets[role]
            scores = tuple(_finite(p.scores.get(role, np.array([]))[index]) if role in p.scores else None
                           for p in self.probes)
            self.rows.append((table.refs[row], table.ids[row], role, int(table.tokens[row]),
                              (role, table.ids[row]) in extracted, *scores))

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 (Qt)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 (Qt)
        return 0 if parent.isValid() else len(self.FIXED) + len(self.probes)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section < len(self.FIXED):
                return self.FIXED[section]
            # The probe's title as the report's membership table shows it ("Min-K%++"),
            # never its engine id (min_k_plus_plus).
            probe = self.probes[section - len(self.FIXED)]
            return short_name({"title": probe.title, "id": probe.id})
        if role == Qt.ItemDataRole.ToolTipRole:
            if section < len(self.FIXED):
                return explain(FIXED_TERMS[section], lead=FIXED_TIPS[section])
            probe = self.probes[section - len(self.FIXED)]
            said = f"{probe.title}: the record's score (higher = more member-like)"
            return explain(probe.title, lead=said)
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self.rows[index.row()][index.column()]
        column = index.column()
        if role == SORT_ROLE:
            if value is None:
                return -math.inf
            return int(value) if isinstance(value, bool) else value
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 2:
                return ROLE_LABELS.get(value, value)
            if column == 4:
                return "Yes" if value else ""
            if column >= len(self.FIXED):
                return format_score(value)
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and (column == 3 or column >= len(self.FIXED)):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class RecordsFilter(QSortFilterProxyModel):
    """Filter by cohort and by text in the pseudonym (or the id, once revealed)."""

    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self.role = "members"
        self.text = ""
        self.ids_visible = False

    def set_role(self, role: str) -> None:
        self.role = role
        self.refilter()

    def set_text(self, text: str) -> None:
        self.text = text.strip().lower()
        self.refilter()

    def set_ids_visible(self, visible: bool) -> None:
        self.ids_visible = visible
        self.refilter()

    def refilter(self) -> None:
        # Qt 6.9 replaced invalidateFilter() by begin/endFilterChange().
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            self.endFilterChange()
        else:
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:  # noqa: N802 (Qt)
        record = self.sourceModel().rows[row]
        if self.role and record[2] != self.role:
            return False
        if self.text:
            haystack = record[0].lower() + (" " + record[1].lower() if self.ids_visible else "")
            return self.text in haystack
        return True


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
