"""main(): the QApplication, its look, the settings and the main window; nothing else."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

STYLE = """
QWidget { font-size: 10pt; }
QLabel[role="title"] { font-size: 24pt; font-weight: bold; color: #0B2540; }
QLabel[role="title2"] { font-size: 15pt; font-weight: bold; color: #0B2540; }
QLabel[role="heading"] { font-size: 11pt; font-weight: bold; color: #0B2540; }
QLabel[role="headline"] { font-size: 13pt; font-weight: bold; }
QLabel[role="lead"] { font-size: 11pt; color: #1A1A1A; }
QLabel[role="help"] { color: #5F6B7A; font-size: 9pt; }
QLabel[state="error"] { color: #B3261E; }
QLabel[state="ok"] { color: #1E6B35; }
QLabel[state="busy"] { color: #0B4F8A; }
QLabel[state="warning"] { color: #7A4A00; }
QPushButton { padding: 6px 14px; }
QPushButton#primary { background: #0B4F8A; color: white; border: 1px solid #0B4F8A;
                      border-radius: 4px; font-weight: bold; padding: 7px 18px; }
QPushButton#primary:disabled { background: #A9B8C8; border-color: #A9B8C8; }
QPushButton#primary:focus { border: 2px solid #F6C344; }
QListWidget#steps { background: #EEF2F6; border: none; font-size: 11pt; padding-top: 12px; }
QListWidget#steps::item { padding: 10px 14px; }
QListWidget#steps::item:selected { background: #0B4F8A; color: white; }
QListWidget#steps::item:disabled { color: #A0A8B2; }
QFrame#card { background: #FAFBFC; border: 1px solid #D9DEE4; border-radius: 6px; }
QGroupBox { font-weight: bold; margin-top: 12px; padding-top: 10px; }
QGroupBox::title { subcontrol-origin: margin; left: 6px; padding: 0 3px; }
"""


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    QCoreApplication.setOrganizationName("Mnemoscope")
    QCoreApplication.setApplicationName("Mnemoscope")
    app.setApplicationDisplayName("Mnemoscope")
    app.setStyle("Fusion")  # the same look on every workstation
    app.setStyleSheet(STYLE)
    from desktop.app_icon import app_icon

    app.setWindowIcon(app_icon())  # every window's, the About box's and the task bar's
    return app


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = create_application(argv)
    from desktop.log_file import install_log_file

    install_log_file()  # after the application names: its data folder is named after them
    from desktop.main_window import MainWindow  # after QApplication: widgets need it

    window = MainWindow()
    window.show()
    window.history.open_arguments(app.arguments()[1:])  # mnemoscope-desktop path/to/results.json
    from desktop import smoke  # the bundle's smoke test (packaging/): load the demo, then quit

    if (report := smoke.requested()) is not None:
        smoke.schedule(app, window, report)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
