"""When the system has no program to open the report or the folder, the app says so and
offers the path to copy, instead of doing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QDialog

from desktop.audit_controller import FinishedAudit


@pytest.fixture()
def finished(window, tmp_path: Path) -> FinishedAudit:
    report = tmp_path / "audit" / "report.pdf"
    report.parent.mkdir()
    report.write_bytes(b"%PDF-1.7 stand-in")
    audit = FinishedAudit(result=None, folder=report.parent, files={"report": report})  # type: ignore[arg-type]
    window.results_page.finished_audit = audit
    return audit


def _no_program(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        staticmethod(lambda url: asked.append(url.toLocalFile()) and False))
    return asked


def _path_dialog(window) -> QDialog:
    dialogs = [d for d in window.findChildren(QDialog, "pathNotOpened") if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[0]


def test_open_the_report_without_a_viewer_offers_the_path(window, finished, qtbot,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _no_program(monkeypatch)
    window.results_page.open_report_requested.emit()
    assert asked == [str(finished.files["report"])]
    dialog = _path_dialog(window)
    assert "no program set up to open the PDF report" in dialog.message.text()
    assert dialog.windowTitle() == "The PDF report could not be opened"
    assert dialog.path_field.text() == str(finished.files["report"])
    assert dialog.path_field.isReadOnly() and dialog.path_field.isEnabled()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == str(finished.files["report"])
    # A path of this length shows whole at the dialog's size.
    assert dialog.path_field.width() > dialog.path_field.fontMetrics().horizontalAdvance(
        dialog.path_field.text())
    dialog.close()


def test_show_files_without_a_file_manager_offers_the_folder(window, finished,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _no_program(monkeypatch)
    window.results_page.show_folder_requested.emit()
    dialog = _path_dialog(window)
    assert dialog.path_field.text() == str(finished.folder)
    assert "the audit's folder" in dialog.message.text()
    dialog.close()


def test_a_moved_report_is_said_to_be_gone(window, finished, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _no_program(monkeypatch)
    finished.files["report"].unlink()
    window.results_page.open_report_requested.emit()
    assert asked == []  # nothing to open
    assert "moved or deleted" in _path_dialog(window).message.text()


def test_an_opened_report_shows_no_dialog(window, finished, dialogs) -> None:
    window.results_page.open_report_requested.emit()
    assert dialogs.opened == [str(finished.files["report"])]
    assert not [d for d in window.findChildren(QDialog, "pathNotOpened") if d.isVisible()]
