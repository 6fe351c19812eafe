"""The records tab: selecting a record most at risk shows its text with the spans the model
memorized highlighted, read locally (the cohort file, memorized_spans.json); nothing when the
file changed since the audit."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from audit_core.results.reading import read_result
from desktop.audit_controller import FinishedAudit
from desktop.widgets.memorized_text import HIGHLIGHT, MemorizedText, highlighted
from tests.conftest import ROOT


@pytest.fixture()
def finished(demo_outputs: Path, monkeypatch) -> FinishedAudit:
    """The demo audit reopened from its folder (results.json read back, as the history
    does): its spans come from memorized_spans.json, its records from the demo's files."""
    monkeypatch.chdir(ROOT)  # the demo plan names its cohorts from the repository root
    result = read_result(demo_outputs / "results.json", records=demo_outputs / "records.csv")
    files = {"results": demo_outputs / "results.json", "records": demo_outputs / "records.csv"}
    return FinishedAudit(result=result, folder=demo_outputs, files=files)


def _localised(finished: FinishedAudit) -> list[dict]:
    return json.loads((finished.folder / "memorized_spans.json").read_text())["records"]


def test_selecting_a_record_at_risk_highlights_its_memorized_spans(qtbot, window, finished, ground_truth):
    page = window.results_page
    page.show_result(finished)
    window.screens.setCurrentWidget(page)
    page.tabs.setCurrentIndex(1)
    page.table.selectRow(0)  # members, sorted by LOSS: the record most at risk
    view = page.memorized
    qtbot.waitUntil(lambda: "memorized spans" in view.caption.text())
    record = page.proxy.sourceModel().rows[page.proxy.mapToSource(page.table.currentIndex()).row()]
    assert record[1] in ground_truth["planted_ids"]
    assert HIGHLIGHT.lower() in view.text.toHtml().lower()
    text = view.text.toPlainText()
    assert text.startswith("AGE_") and "VISIT" in text  # the record itself, read from the file
    # A record nobody localised: the prompt, no text.
    page.table.selectRow(page.proxy.rowCount() - 1)
    assert view.text.toPlainText() == "" and "Select a record" in view.caption.text()


def test_a_changed_cohort_file_or_another_reports_spans_show_no_text(qtbot, finished, tmp_path):
    view = MemorizedText()
    qtbot.addWidget(view)
    reopened = finished.result
    # Read back, the result has the counts; the spans are only in the local file.
    assert reopened.memorized_spans.summary["totals"] and not reopened.memorized_spans.records
    view.set_audit(reopened, finished.folder, finished.report_id)
    entry = next(r for r in _localised(finished) if r["spans"])
    view.show_record(entry["role"], entry["id"])
    assert HIGHLIGHT.lower() in view.text.toHtml().lower()

    # The members' file changed since the audit: its text is not shown, the counts are.
    moved = tmp_path / "members.csv"
    shutil.copy(Path(reopened.plan["data"]["members"]), moved)
    moved.write_text(moved.read_text() + "\n")
    changed = replace(reopened, plan={**reopened.plan, "data": {**reopened.plan["data"], "members": str(moved)}})
    view.set_audit(changed, finished.folder, finished.report_id)
    view.show_record(entry["role"], entry["id"])
    assert view.text.toPlainText() == "" and "changed since the audit" in view.caption.text()
    # Another report's file is not read.
    view.set_audit(reopened, finished.folder, "MNS-OTHER")
    view.show_record(entry["role"], entry["id"])
    assert view.text.toPlainText() == ""


def test_highlighting_escapes_the_text_and_skips_overlaps():
    out = highlighted("a<b> c d", [[0, 4], [2, 3], [7, 8]])
    assert out.count(HIGHLIGHT) == 2 and "&lt;b&gt;" in out and "<b>" not in out
