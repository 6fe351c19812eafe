"""Greyed-out menu items and buttons say why while an audit runs; the About box names the
commit a checkout runs and shows the app's icon; the app has an icon."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from desktop.busy_reasons import WHILE_RUNNING


def test_items_disabled_during_a_run_say_why(qtbot, window) -> None:
    window._busy_changed(True)
    menus = [a.menu() for a in window.menuBar().actions() if a.menu() is not None]
    assert menus and all(menu.toolTipsVisible() for menu in menus)
    for key in ("new", "open", "demo", "import", "validate"):
        action = window.actions[key]
        assert not action.isEnabled()
        assert action.toolTip() == WHILE_RUNNING and action.statusTip() == WHILE_RUNNING
    assert not window.start_page.new_button.isEnabled()
    assert window.start_page.new_button.toolTip() == WHILE_RUNNING
    # The pointer on a greyed-out item shows its reason.
    file_menu = menus[0]
    file_menu.popup(window.mapToGlobal(QPoint(0, window.menuBar().height())))
    qtbot.waitExposed(file_menu)
    spot = file_menu.actionGeometry(window.actions["import"]).center()
    QTest.mouseMove(file_menu, spot)
    QApplication.sendEvent(file_menu, QHelpEvent(QEvent.Type.ToolTip, spot, file_menu.mapToGlobal(spot)))
    assert QToolTip.isVisible() and QToolTip.text() == WHILE_RUNNING
    file_menu.close()

    window._busy_changed(False)
    action = window.actions["import"]
    assert action.isEnabled() and action.statusTip() == "" and WHILE_RUNNING not in action.toolTip()
    assert window.start_page.new_button.toolTip() == ""


def test_about_names_the_checked_out_commit_and_has_an_icon(qtbot) -> None:
    import subprocess
    from pathlib import Path

    from desktop.about import about_box, about_text

    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                          capture_output=True, text=True, check=True).stdout.strip()
    text = about_text()
    row = re.search(r"Build \(git commit\)</td><td>&nbsp;&nbsp;([^<]*)<", text)
    assert row is not None and row.group(1).startswith(head[:12])
    assert "unknown" not in row.group(1)
    box = about_box(None)
    qtbot.addWidget(box)
    assert not box.iconPixmap().isNull() and box.iconPixmap().width() == 64


def test_the_application_has_an_icon() -> None:
    from desktop.app_icon import app_icon, icon_files

    assert [p.name for p in icon_files()] == ["mnemoscope.svg", "mnemoscope.png"]
    assert not app_icon().isNull() and not app_icon().pixmap(32, 32).isNull()


def test_create_application_gives_every_window_the_icon(qapp) -> None:
    from PySide6.QtGui import QIcon

    from desktop.app import create_application

    sheet, style = qapp.styleSheet(), qapp.style().name()
    try:
        assert create_application([]) is qapp
        assert not qapp.windowIcon().isNull()
    finally:
        qapp.setWindowIcon(QIcon())
        qapp.setStyleSheet(sheet)
        qapp.setStyle(style)
