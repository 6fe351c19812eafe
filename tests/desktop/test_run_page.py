"""The Run step before and during a run: the folder hint, the folder's path kept readable,
and the time left refined from the estimate's phases (issue 16)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from desktop.pages.run_page import RunPage
from tests.desktop.conftest import wait_ready

PHASES = (("setup", 2.0), ("shared scoring pass", 20.0), ("loss", 1.0), ("trajectory", 60.0),
          ("writing", 2.0))


def test_the_folder_hint_shows_only_while_the_folder_is_empty(qtbot, window) -> None:
    window.open_demo()
    wait_ready(qtbot, window)
    wizard = window.wizard
    assert wizard.current == len(wizard.pages) - 1  # the demo opens on the Run step
    assert str(window.run_page.output_folder()) not in ("", ".")  # a folder is filled in
    assert wizard.hint.text() == ""  # it said "Choose a folder for the results." here
    window.run_page.folder_field.setText("")
    assert wizard.hint.text() == "Choose a folder for the results."
    window.run_page.folder_field.setText("/tmp/elsewhere")
    assert wizard.hint.text() == ""


def test_a_results_folder_that_is_a_file_is_refused_with_a_reason(qtbot, tmp_path: Path) -> None:
    page = RunPage()
    qtbot.addWidget(page)
    (tmp_path / "report.txt").write_text("x")
    page.folder_field.setText(str(tmp_path / "report.txt"))
    assert "is a file" in page.problem()


def test_a_long_folder_path_keeps_both_ends_in_view(qtbot, window) -> None:
    window.resize(1100, 760)
    window.open_demo()
    wait_ready(qtbot, window)
    field = window.run_page.folder_field
    path = "/home/privacy-officer/Documents/Mnemoscope audits/" + "department-of-cardiology/" * 4 \
        + "2026-12-07-103000-memorization-audit-of-the-cardiology-model"
    field.setText(path)
    qtbot.waitUntil(lambda: field.width() > 0)
    shown = field.text()
    assert "…" in shown and shown.startswith("/home/") and shown.endswith("cardiology-model")
    assert field.fontMetrics().horizontalAdvance(shown) <= field.width()
    assert field.toolTip() == path and field.path() == path
    assert window.run_page.output_folder() == Path(path)
    field.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(field.hasFocus)
    assert field.text() == path  # edited whole
    field.clearFocus()
    qtbot.waitUntil(lambda: not field.hasFocus())
    assert field.text() == shown


def test_a_short_path_is_shown_whole(qtbot, window, tmp_path: Path) -> None:
    window.open_demo()
    wait_ready(qtbot, window)
    window.run_page.folder_field.setText(str(tmp_path / "out"))
    assert window.run_page.folder_field.text() == str(tmp_path / "out")


def test_the_time_left_starts_from_the_estimate_and_follows_the_run(qtbot) -> None:
    page = RunPage()
    qtbot.addWidget(page)
    page.set_estimate(85.0, phases=PHASES, memory="memory about 1.2 GB of 20.0 GB available")
    assert "1 min 25 s" in page.estimate.text()
    assert page.estimate.text().endswith(" Memory about 1.2 GB of 20.0 GB available.")
    page.show_running(["loss", "trajectory"])
    page.set_progress(0.0, "reading the model")
    # Right at the start the fraction done says nothing; the estimate does.
    assert page.time_label.text().endswith("About 1 min left")
    page.stop_clock()
    other = RunPage()  # no estimate (it failed or had not answered): nothing is invented
    qtbot.addWidget(other)
    other.show_running(["loss"])
    other.set_progress(0.0, "reading the model")
    assert "left" not in other.time_label.text()
    other.stop_clock()


def test_the_probes_box_follows_the_run_and_its_generation_step(qtbot) -> None:
    """The rows come in the order the run reaches them: the probes that decode nothing, then
    the one generation step, then the probes that read it; the step's progress marks the
    earlier rows done and itself running, with one line in the log for the whole step."""
    page = RunPage()
    qtbot.addWidget(page)
    page.show_running(["loss", "trajectory", "zlib", "extraction"])
    assert list(page.state_labels) == ["shared scoring pass", "loss", "zlib", "generation",
                                       "trajectory", "extraction"]
    for done in range(5):
        page.set_progress(0.4 + done * 0.01, "generation: decoding 120 requests, up to 2,880 tokens")
    assert [page.state_labels[n].text() for n in ("loss", "zlib", "generation", "trajectory")] == [
        "done", "done", "running…", "waiting"]
    assert page.log.toPlainText().count("decoding 120 requests") == 1
    page.stop_clock()


def test_the_validation_dialog_says_the_estimated_time_before_its_checks(monkeypatch) -> None:
    import audit_core.tools.validation as validation
    import audit_core.tools.validation.estimate as estimate
    from desktop.validation_dialog import validation_work

    monkeypatch.setattr(estimate, "estimate_validation", lambda cancel=None: 130.0)
    monkeypatch.setattr(validation, "run_validation", lambda out, on_progress, cancel: "ran")
    said: list[str] = []
    assert validation_work()(lambda f, m: said.append(m), None) == "ran"
    assert said[-1] == "estimated time: about 2 min on this computer."
