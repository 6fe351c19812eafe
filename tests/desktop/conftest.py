"""Desktop fixtures: a main window with its settings in tmp_path, and dialogs that record
instead of blocking (a modal dialog would wait forever on the offscreen platform)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtGui import QDesktopServices  # noqa: E402
from PySide6.QtWidgets import QFileDialog, QMessageBox  # noqa: E402

from desktop.settings import AppSettings  # noqa: E402

AUDIT_TIMEOUT_MS = 240_000  # generous: CI machines may be busy


@dataclass
class Dialogs:
    shown: list[QMessageBox] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    informations: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    answer: QMessageBox.StandardButton = QMessageBox.StandardButton.Yes
    save_path: Path | None = None

    def texts(self) -> list[str]:
        return [f"{b.text()}\n{b.informativeText()}" for b in self.shown]


@pytest.fixture()
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    record = Dialogs()

    def exec_(box: QMessageBox) -> int:
        record.shown.append(box)
        return int(QMessageBox.StandardButton.Ok)

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda parent, title, text, *a, **k: record.questions.append(text) or record.answer))
    monkeypatch.setattr(QMessageBox, "information",
                        staticmethod(lambda parent, title, text, *a, **k: record.informations.append(text)))
    # True: the system opened it (test_open_files.py tests the answer False).
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        staticmethod(lambda url: record.opened.append(url.toLocalFile()) or True))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(record.save_path) if record.save_path else "", "")))
    return record


@pytest.fixture(autouse=True)
def log_folder(tmp_path: Path):
    """The app's log file goes to tmp_path, not the user's data folder."""
    from desktop.log_file import set_log_folder

    set_log_folder(tmp_path / "logs")
    yield tmp_path / "logs"
    set_log_folder(None)


@pytest.fixture()
def settings(tmp_path: Path) -> AppSettings:
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    app_settings = AppSettings(store)
    app_settings.output_root = tmp_path / "audits"
    return app_settings


@pytest.fixture()
def window(qtbot, settings: AppSettings, dialogs: Dialogs):
    from desktop.main_window import MainWindow

    main = MainWindow(settings)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.controller.shutdown(20_000)


def wait_idle(qtbot, window, timeout: int = AUDIT_TIMEOUT_MS) -> None:
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=timeout)


def wait_ready(qtbot, window, timeout: int = 60_000) -> None:
    """Until the model and both files (or the MEDS dataset folder) have been read."""
    qtbot.waitUntil(lambda: window.wizard.first_problem(4)[1] not in (
        "Reading the model…", "Reading the files…", "Reading the dataset…"), timeout=timeout)
