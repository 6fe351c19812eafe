"""Why a menu item or button is greyed out while an audit runs, said where a person
looks: the item's tooltip (menus show tooltips only when asked to) and the status bar
while the pointer is on it.

A greyed-out "Import a model…" with no reason reads as a broken app; "Not available while
an audit runs" tells the user to wait or cancel.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QMenu, QMenuBar, QStatusBar

_IDLE_TIP = "mnemoscopeIdleToolTip"
WHILE_RUNNING = "Not available while an audit runs: wait for it to finish, or cancel it on the Run step."


def show_reasons(menu_bar: QMenuBar, status_bar: QStatusBar) -> None:
    """Let every menu of `menu_bar` show its items' tooltips, and put a greyed-out item's
    reason in the status bar when the pointer is on it (Qt shows a disabled item's status
    tip in no other way)."""
    for action in menu_bar.actions():
        menu = action.menu()
        if isinstance(menu, QMenu):
            menu.setToolTipsVisible(True)
            menu.hovered.connect(lambda item, bar=status_bar: _say(item, bar))


def _say(action: QAction, status_bar: QStatusBar) -> None:
    if not action.isEnabled() and action.statusTip():
        status_bar.showMessage(action.statusTip(), 5_000)


def set_busy(busy: bool, actions: Iterable[QAction], buttons: Iterable[QAbstractButton] = ()) -> None:
    """Enable or disable the items an audit run blocks; a disabled one says why."""
    for item in (*actions, *buttons):
        if busy and item.isEnabled():  # keep the tooltip it had, for when the run ends
            item.setProperty(_IDLE_TIP, item.toolTip() if isinstance(item, QAbstractButton) else "")
        item.setEnabled(not busy)
        # An action's empty tooltip is its default (its text), which a menu does not show.
        item.setToolTip(WHILE_RUNNING if busy else str(item.property(_IDLE_TIP) or ""))
        item.setStatusTip(WHILE_RUNNING if busy else "")
