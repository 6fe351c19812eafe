"""Finding audits again: the recent audits with how each ended, a saved audit reopened from
the list, File ▸ Open results… or the command line without running anything, an
interrupted one resumed, and two audits compared."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from audit_core.run.runner import run_audit
from audit_core.work.checkpoints import CHECKPOINT_FILE, CheckpointRequest
from audit_core.work.progress import CancelToken
from desktop.audit_folders import Status, read_entry
from tests.desktop.conftest import wait_ready


@pytest.fixture()
def finished(demo_outputs: Path, tmp_path: Path) -> Path:
    """A copy of the demo's folder (the real run's files)."""
    folder = tmp_path / "finished"
    shutil.copytree(demo_outputs, folder)
    return folder


@pytest.fixture()
def no_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening saved results must never run an audit."""
    def refuse(*args, **kwargs):
        raise AssertionError("run_audit was called")

    monkeypatch.setattr("audit_core.run.runner.run_audit", refuse)


def _cancelled(finished: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "cancelled"
    shutil.copytree(finished, folder)
    document = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    document["audit"]["outcome"] = "cancelled"
    document["probes"] = document["probes"][:2]
    (folder / "results.json").write_text(json.dumps(document), encoding="utf-8")
    (folder / "run.json").unlink()
    return folder


def _listed(window) -> dict[str, list[str]]:
    tree = window.start_page.audits
    return {tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole).folder.name:
            [tree.topLevelItem(i).text(c) for c in range(tree.columnCount())]
            for i in range(tree.topLevelItemCount())}


def test_recent_audits_show_how_each_ended_and_drop_missing_folders(window, settings, finished: Path,
                                                                   tmp_path: Path) -> None:
    cancelled = _cancelled(finished, tmp_path)
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    (interrupted / CHECKPOINT_FILE).write_bytes(b"SQLite format 3\x00")
    plan = (Path(__file__).parents[2] / "resources" / "demo" / "plan.toml").read_text(encoding="utf-8")
    for folder, text in ((tmp_path / "deleted", None), (interrupted, plan), (cancelled, None), (finished, None)):
        settings.add_recent_audit(folder, text)
    window.history.refresh()

    listed = _listed(window)
    assert set(listed) == {"finished", "cancelled", "interrupted"}
    assert listed["finished"][1:] == ["Memorization audit of the Mnemoscope demo EHR model", "demo/model",
                                      "FAIL", "Finished"]
    assert listed["finished"][0][:4].isdigit()  # the date the run finished
    assert listed["cancelled"][3:] == ["FAIL", "Cancelled"]
    assert listed["interrupted"][1:] == ["Memorization audit of the Mnemoscope demo EHR model", "model", "",
                                         "Interrupted"]
    assert (tmp_path / "deleted").resolve() not in settings.recent_audits  # dropped, without a word
    assert window.start_page.audits.isVisible() and not window.start_page.no_audits.isVisible()
    tree = window.start_page.audits
    for column in (0, 2, 3, 4):  # date, model, verdict, status: never cut (a long title is elided)
        widest = max(tree.fontMetrics().horizontalAdvance(row[column]) for row in listed.values())
        assert tree.header().sectionSize(column) >= widest


def test_reopening_from_recent_shows_the_results_without_running(qtbot, window, settings, dialogs,
                                                                finished: Path, no_running) -> None:
    settings.add_recent_audit(finished)
    window.history.refresh()
    tree = window.start_page.audits
    started = time.perf_counter()
    tree.itemActivated.emit(tree.topLevelItem(0), 0)
    seconds = time.perf_counter() - started
    print(f"\nreopened the demo from Recent audits in {seconds:.3f} s "
          f"(reading and showing: {window.history.last_open_seconds:.3f} s)")

    assert window.screens.currentWidget() is window.results_page and not window.controller.busy
    shown = window.results_page.finished_audit
    assert shown.folder == finished and set(shown.files) == {"results", "run", "records", "report"}
    assert shown.result.as_dict() == json.loads((finished / "results.json").read_text(encoding="utf-8"))
    page = window.results_page
    assert len(page.probe_cards()) == len(shown.result.probes) == 10
    assert page.banner_title.text() == "Memorization found"
    assert page.proxy.rowCount() == 1000  # the members of records.csv, as after the run
    # Sizing the records table's columns from every row took 1-3 s of each showing.
    assert page.table.horizontalHeader().resizeContentsPrecision() <= 200
    assert page.open_button.isEnabled() and page.sign_button.isEnabled()
    assert not dialogs.shown


def test_results_json_alone_opens_with_only_its_own_file_offered(qtbot, window, dialogs, finished: Path,
                                                                tmp_path: Path, no_running) -> None:
    alone = tmp_path / "elsewhere" / "copy.json"
    alone.parent.mkdir()
    shutil.copy(finished / "results.json", alone)
    window.history.open_results_file(alone)
    page = window.results_page
    assert window.screens.currentWidget() is page and page.finished_audit.files == {"results": alone}
    assert not page.open_button.isEnabled() and not page.sign_button.isEnabled()
    assert page.export_actions["results"].isEnabled()
    assert not page.export_actions["report"].isEnabled()


def test_the_command_line_argument_opens_the_results(qtbot, window, dialogs, finished: Path, no_running) -> None:
    window.history.open_arguments(["-style", str(finished / "results.json")])
    qtbot.waitUntil(lambda: window.screens.currentWidget() is window.results_page, timeout=5_000)
    assert window.results_page.finished_audit.folder == finished and not dialogs.shown


def test_a_bad_file_gets_a_message_never_a_traceback(qtbot, window, dialogs, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "results.json"
    bad.write_text("this is not JSON", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(bad), "")))
    window.actions["open_results"].trigger()
    window.history.open_arguments([str(tmp_path / "missing.json")])
    qtbot.waitUntil(lambda: len(dialogs.shown) == 2, timeout=5_000)
    texts = dialogs.texts()
    assert "not a Mnemoscope results file" in texts[0] and "does not exist" in texts[1]
    assert not any("Traceback" in t for t in texts)
    assert window.screens.currentWidget() is window.start_page


def test_an_interrupted_audit_in_the_list_offers_resume(qtbot, window, settings, dialogs, small_plan: Path,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "interrupted"
    window.open_plan(small_plan, remember=False)
    wait_ready(qtbot, window)
    plan = window.current_plan()
    cancel = CancelToken()  # as a crash after the first probes leaves it
    run_audit(plan, cancel=cancel, checkpoint=CheckpointRequest(folder),
              on_progress=lambda f, m: cancel.cancel() if m.startswith("zlib") else None)
    window.history.audit_started(plan, folder)  # what Start records
    window.history._running = None  # the app "crashed": nothing is running any more
    window.history.refresh()
    assert read_entry(folder, settings.audit_plan(folder)).status is Status.INTERRUPTED

    started = []
    monkeypatch.setattr(window.controller, "start", lambda p, f, resume=False: started.append((p, f, resume)))
    dialogs.answer = QMessageBox.StandardButton.Yes
    tree = window.start_page.audits
    tree.itemActivated.emit(tree.topLevelItem(0), 0)
    assert len(dialogs.questions) == 1 and "interrupted audit" in dialogs.questions[0]
    assert len(started) == 1
    resumed_plan, resumed_folder, resume = started[0]
    assert resumed_folder == folder and resume is True
    assert resumed_plan.as_dict() == plan.as_dict()  # the checkpoint's key: the same plan


def test_compare_with_shows_better_for_an_improved_verdict(qtbot, window, dialogs, finished: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch, no_running) -> None:
    after = tmp_path / "after"
    shutil.copytree(finished, after)
    document = json.loads((after / "results.json").read_text(encoding="utf-8"))
    document["overall_verdict"] = "warn"
    loss = next(p for p in document["probes"] if p["id"] == "loss")
    loss["verdict"], loss["metrics"]["auc"], loss["metrics"]["auc_ci"] = "pass", 0.52, [0.49, 0.55]
    (after / "results.json").write_text(json.dumps(document), encoding="utf-8")

    window.history.open_results_file(finished / "results.json")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(after / "results.json"), "")))
    window.results_page.compare_button.click()
    page = window.history.compare_page
    assert window.screens.currentWidget() is page and not dialogs.shown
    rows = {row[0].strip(): row for row in page.rows()}
    assert rows["Overall verdict"][1:] == ["FAIL", "WARN", "Better"]
    loss_title = next(p.title for p in window.results_page.finished_audit.result.probes if p.id == "loss")
    assert rows[loss_title][1:] == ["FAIL", "PASS", "Better"]
    auc = next(r for r in page.rows() if r[2] == "0.520 (0.490–0.550)")
    assert auc[0].strip() == "Membership AUC" and auc[3] == "Better (intervals do not overlap)"
    assert not page.warnings.isVisible()
    table = page.table
    for column in (0, 3):  # sized to their texts: nothing cut
        widest = max(table.fontMetrics().horizontalAdvance(r[column]) for r in page.rows())
        assert table.horizontalHeader().sectionSize(column) >= widest

    # The other way round, from File ▸ Compare audits… (first, then second)
    answers = iter([str(after / "results.json"), str(finished / "results.json")])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (next(answers), "")))
    window.actions["compare"].trigger()
    assert page.rows()[0][1:] == ["WARN", "FAIL", "Worse"]
    page.back_button.click()
    assert window.screens.currentWidget() is window.results_page
