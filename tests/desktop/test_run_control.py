"""Cancel during a run, and closing the window during a run."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QMessageBox

from audit_core.probes import PROBES_BY_ID
from tests.desktop.conftest import AUDIT_TIMEOUT_MS, wait_idle, wait_ready


def _start_demo(qtbot, window) -> None:
    window.open_demo()
    wait_ready(qtbot, window)
    window.run_page.start_button.click()
    assert window.controller.busy


def test_cancel_stops_within_about_a_second_and_keeps_what_finished(qtbot, window, dialogs) -> None:
    _start_demo(qtbot, window)
    # The core reports "extraction: …"; the screen names the probe by its title.
    extraction = PROBES_BY_ID["extraction"].title
    qtbot.waitUntil(lambda: window.run_page.step_label.text().startswith(extraction), timeout=AUDIT_TIMEOUT_MS)
    assert "extraction:" not in window.run_page.log.toPlainText()
    clicked = time.monotonic()
    window.run_page.cancel_button.click()
    assert window.run_page.cancel_button.text() == "Cancelling…"
    # The stop itself is one batch; writing the PDF of what finished comes after it.
    qtbot.waitUntil(lambda: window.run_page.step_label.text().startswith("Writing the report"), timeout=60_000)
    assert time.monotonic() - clicked < 5.0
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.screens.currentWidget() is window.results_page, timeout=60_000)
    result = window.results_page.finished_audit.result
    assert result.cancelled
    assert [p.id for p in result.probes] == ["loss", "zlib", "min_k", "min_k_plus_plus"]
    assert "incomplete" in window.results_page.banner_title.text()
    assert window.results_page.finished_audit.files["report"].stat().st_size > 0
    assert not dialogs.shown


def test_cancel_while_loading_writes_nothing_and_returns_to_the_run_step(qtbot, window, dialogs, tmp_path) -> None:
    window.open_demo()
    wait_ready(qtbot, window)
    window.run_page.folder_field.setText(str(tmp_path / "early"))
    window.run_page.start_button.click()
    window.run_page.cancel_button.click()  # at once: the core stops at its first progress report
    wait_idle(qtbot, window)
    assert window.screens.currentWidget() is window.wizard
    assert window.run_page.modes.currentIndex() == 0
    assert "nothing was written" in window.run_page.estimate.text()
    assert not (tmp_path / "early" / "report.pdf").exists()


def test_closing_during_a_run_asks_then_cancels_cleanly(qtbot, window, dialogs) -> None:
    _start_demo(qtbot, window)
    qtbot.waitUntil(lambda: window.run_page.progress.value() > 0, timeout=AUDIT_TIMEOUT_MS)
    dialogs.answer = QMessageBox.StandardButton.No
    window.close()
    assert window.isVisible() and window.controller.busy
    assert len(dialogs.questions) == 1

    dialogs.answer = QMessageBox.StandardButton.Yes
    started = time.monotonic()
    window.close()
    assert not window.isVisible()
    assert time.monotonic() - started < 10.0
    audit = window.controller._audit
    assert audit is None or not audit.running
    assert len(dialogs.questions) == 2
    assert not list(window.settings.output_root.glob("*/report.pdf"))  # dropped, as the question said
