"""Why a menu item or button is greyed out while an audit runs, said where a person
looks: the item's tooltip, which menus show only when asked to (and then for a greyed-out
item too; its status tip would not show, since a menu does not hover a disabled item).

A greyed-out "Import a model…" with no reason reads as a broken app; "Not available while
an audit runs" tells the user to wait or cancel.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QMenu, QMenuBar

_IDLE_TIP = "mnemoscopeIdleToolTip"
WHILE_RUNNING = "Not available while an audit runs: wait for it to finish, or cancel it on the Run step."


def show_reasons(menu_bar: QMenuBar) -> None:
    """Let every menu of `menu_bar` show its items' tooltips."""
    for action in menu_bar.actions():
        menu = action.menu()
        if isinstance(menu, QMenu):
            menu.setToolTipsVisible(True)


def set_busy(busy: bool, actions: Iterable[QAction], buttons: Iterable[QAbstractButton] = ()) -> None:
    """Enable or disable the items an audit run blocks; a disabled one says why."""
    for item in (*actions, *buttons):
        if busy and item.isEnabled():  # keep the tooltip it had, for when the run ends
            item.setProperty(_IDLE_TIP, item.toolTip() if isinstance(item, QAbstractButton) else "")
        item.setEnabled(not busy)
        # An action's empty tooltip is its default (its text), which a menu does not show.
        item.setToolTip(WHILE_RUNNING if busy else str(item.property(_IDLE_TIP) or ""))
        item.setStatusTip(WHILE_RUNNING if busy else "")
