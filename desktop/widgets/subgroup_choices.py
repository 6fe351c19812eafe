"""The Data step's subgroup choices follow the column mapping: a column mapped to the id,
the record content or a classifier's outcome is no subgroup, so it is hidden from the
list and unticked; one unticked so comes back ticked when the mapping frees it again."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget

_UNTICKED_FOR_ROLE = Qt.ItemDataRole.UserRole + 1


def hide_mapped(choices: QListWidget, taken: Collection[str]) -> bool:
    """Hide the items named in `taken` (the columns mapped to another role); True when a
    tick changed. Item signals are blocked: the caller says "changed" once."""
    changed = False
    choices.blockSignals(True)
    for i in range(choices.count()):
        item = choices.item(i)
        mapped = item.text() in taken
        item.setHidden(mapped)
        if mapped and item.checkState() == Qt.CheckState.Checked:
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setData(_UNTICKED_FOR_ROLE, True)
            changed = True
        elif not mapped and item.data(_UNTICKED_FOR_ROLE):
            item.setCheckState(Qt.CheckState.Checked)
            item.setData(_UNTICKED_FOR_ROLE, False)
            changed = True
    choices.blockSignals(False)
    return changed
