"""The results screen at a glance (issue 16): page 1 of the report on screen, tiles that
jump to their probe's card, probes named by title wherever a person reads, technical terms
defined as the report's glossary defines them, and Help ▸ What do I need before I start?"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QTextBrowser

from audit_core.plan.parsing import load_plan
from audit_core.report.sections.cover import cover_section
from audit_core.report.sections.definitions import TITLE as GLOSSARY_TITLE
from audit_core.report.sections.definitions import definitions_section, glossary
from audit_core.report.sections.elements import Heading, Paragraph, Table, TextStyle
from audit_core.results.verdicts import Verdict
from audit_core.run.outputs import write_outputs
from audit_core.run.runner import run_audit
from desktop.app import STYLE
from desktop.audit_controller import FinishedAudit
from desktop.widgets.audit_summary import AuditSummary
from tests.conftest import write_small_plan


@pytest.fixture(scope="module")
def small_finished(tmp_path_factory, ground_truth: dict) -> FinishedAudit:
    """One small audit (five probes, a few seconds) for every test of this module."""
    folder = tmp_path_factory.mktemp("summary")
    result = run_audit(load_plan(write_small_plan(folder, ground_truth)))
    files = write_outputs(result, folder / "audit")
    return FinishedAudit(result=result, folder=folder / "audit", files=files)


def show(qtbot, window, finished: FinishedAudit):
    page = window.results_page
    page.show_result(finished)
    window.screens.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.isVisible() and page.summary.tiles[0].isVisible())
    return page


def page_one(results: dict) -> tuple[str, list[str]]:
    """The decision and the numbered actions as the PDF's page 1 prints them."""
    blocks = cover_section(results, "digest").blocks
    decision = next(b.text for b in blocks if isinstance(b, Paragraph) and b.style == TextStyle.LEAD)
    index = next(i for i, b in enumerate(blocks) if isinstance(b, Heading) and "ctions" in b.text)
    table = blocks[index + 1]
    assert isinstance(table, Table)
    return decision, [f"{number}. {text}" for number, text in table.rows]


def test_the_summary_says_what_page_one_of_the_report_says(qtbot, demo_outputs: Path) -> None:
    results = json.loads((demo_outputs / "results.json").read_text(encoding="utf-8"))
    summary = AuditSummary()
    qtbot.addWidget(summary)
    summary.show_results(results)

    decision, actions = page_one(results)
    assert summary.decision.text() == decision and decision.startswith("Decision: No.")
    assert [label.text() for label in summary.action_labels] == actions and len(actions) == 3
    assert summary.actions_heading.text().startswith("Required actions")
    # One tile per probe, by its title, with the verdict the report gives it.
    assert [t.name.text() for t in summary.tiles] == [p["title"] for p in results["probes"]]
    assert [t.badge.verdict for t in summary.tiles] == [p["verdict"] for p in results["probes"]]


def test_a_tile_scrolls_the_cards_to_its_probe(qtbot, window, small_finished: FinishedAudit) -> None:
    page = show(qtbot, window, small_finished)
    bar = page.scroll.verticalScrollBar()
    viewport = page.scroll.viewport()
    assert bar.value() == 0
    for tile in (page.summary.tiles[2], page.summary.tiles[-1]):
        card = next(c for c in page.probe_cards() if c.probe.id == tile.probe_id)
        assert card.visibleRegion().isEmpty()  # below the summary

        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)

        assert bar.value() > 0
        top = card.mapTo(viewport, QPoint(0, 0)).y()
        # The card's top at the top of the view, or, for the last cards, all of it in view.
        assert 0 <= top <= 8 or (bar.value() == bar.maximum() and top + card.height() <= viewport.height())
        assert not card.visibleRegion().isEmpty()
        bar.setValue(0)  # the tiles scroll away with the summary: back to them


def test_no_engine_id_where_a_person_reads(qtbot, window, small_finished: FinishedAudit) -> None:
    page = show(qtbot, window, small_finished)
    probes = small_finished.result.probes
    ids = [p.id for p in probes]
    assert "min_k_plus_plus" in ids
    model = page.proxy.sourceModel()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    header_tips = [model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
                   for c in range(model.columnCount())]
    labels = page.findChildren(QLabel)
    texts = [label.text() for label in labels] + headers
    tips = [w.toolTip() for w in labels + page.summary.tiles] + header_tips

    # An id such as min_k_plus_plus is no word: it must appear nowhere a person reads.
    for probe_id in (i for i in ids if "_" in i):
        assert not [t for t in texts + tips if probe_id in (t or "")], probe_id
    # The banner names the probes by title; the table's columns are the titles' short forms.
    assert all(p.title in page.banner_text.text() for p in probes)
    assert not set(headers) & set(ids)
    assert "Min-K%++" in headers and "LOSS" in headers
    # A single-word id (loss, zlib) appears in prose as a word; never as a list of ids.
    assert not re.search(r"\bloss, zlib\b", " ".join(texts + tips))


@pytest.mark.parametrize("size", [(1100, 760), (900, 640)])  # the default, the smallest allowed
def test_the_cancelled_banner_title_is_whole(qtbot, window, small_finished: FinishedAudit,
                                            size: tuple[int, int]) -> None:
    result = small_finished.result
    # The longest title the banner can have: "Not enough evidence either way (incomplete: …)".
    cancelled = replace(result, audit={**result.audit, "outcome": "cancelled"},
                        overall_verdict=Verdict.INCONCLUSIVE)
    window.setStyleSheet(STYLE)  # the app's paddings and fonts decide what fits
    page = show(qtbot, window, replace(small_finished, result=cancelled))
    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() <= max(size[0], window.minimumSizeHint().width()))
    qtbot.wait(100)  # the style sheet's fonts re-lay the page out
    title = page.banner_title
    assert "incomplete" in title.text()

    width = title.contentsRect().width()
    one_line = title.fontMetrics().horizontalAdvance(title.text()) <= width
    assert one_line or title.wordWrap()
    # Tall enough for every line of it, at the width it has.
    needed = title.heightForWidth(title.width()) if title.wordWrap() else title.sizeHint().height()
    assert title.height() >= needed >= title.fontMetrics().height()
    # The results page's buttons are whole too ("Compare with…" in the tab bar's corner had its
    # bottom cut off at 1100x760).
    for button in page.findChildren(QPushButton):
        if button.isVisible():
            assert button.height() >= button.sizeHint().height(), button.text()
            assert button.width() >= button.minimumSizeHint().width(), button.text()


def test_technical_terms_carry_the_glossarys_definition(qtbot, window, small_finished: FinishedAudit) -> None:
    page = show(qtbot, window, small_finished)
    definitions = dict(glossary())
    headline = next(label for card in page.probe_cards() for label in card.findChildren(QLabel)
                    if label.text().startswith("AUC "))
    assert definitions["ROC curve, AUC"] in headline.toolTip()
    tile = page.summary.tiles[0]
    assert definitions["Membership inference"] in tile.toolTip()
    model = page.proxy.sourceModel()
    reproduced = model.FIXED.index("Reproduced")
    assert definitions["k-extractability"] in model.headerData(
        reproduced, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)


def test_help_glossary_lists_every_term_of_the_reports_appendix(qtbot, window) -> None:
    action = next(a for a in window.menuBar().actions() if a.text() == "&Help").menu().actions()
    glossary_action = next(a for a in action if a.objectName() == "help_glossary")
    glossary_action.trigger()
    dialog = window.findChild(QDialog, "glossary")
    text = dialog.findChild(QTextBrowser, "glossary_text").toPlainText()

    appendix = definitions_section()  # every term, as Appendix C lists them when unfiltered
    assert appendix.title == GLOSSARY_TITLE
    rows = appendix.blocks[0].rows
    assert len(rows) == len(glossary()) > 40
    for term, definition in rows:
        assert term in text and definition in text


def test_the_start_screen_links_to_what_an_audit_needs(qtbot, window) -> None:
    start = window.start_page
    assert start.needs_button.isVisible() and start.needs_button.text() == "What do I need before I start?"

    qtbot.mouseClick(start.needs_button, Qt.MouseButton.LeftButton)

    dialog = window.findChild(QDialog, "before_you_start")
    assert dialog is not None and dialog.isVisible()
    text = dialog.findChild(QTextBrowser, "needs_text").toPlainText()
    for fact in ("ONNX", "members file", "non-members file", "patient id", "CSV", "Import a model"):
        assert fact in text
    help_menu = next(a for a in window.menuBar().actions() if a.text() == "&Help").menu()
    assert "help_needs" in [a.objectName() for a in help_menu.actions()]


def test_a_second_result_replaces_the_first_at_once(qtbot, window, small_finished: FinishedAudit) -> None:
    """The cancelled demo shown after a finished one kept the first one's action lines,
    tiles and cards on screen until the event loop deleted them (the screenshots script,
    which has no event loop, showed blank rows)."""
    page = show(qtbot, window, small_finished)
    old = [*page.summary.tiles, *page.summary.action_labels, *page.probe_cards()]
    result = small_finished.result
    cancelled = replace(result, audit={**result.audit, "outcome": "cancelled"}, probes=result.probes[:2])

    page.show_result(replace(small_finished, result=cancelled))

    # At once, before any event is processed: nothing of the first result is left in sight.
    assert not [w for w in old if w.isVisibleTo(page)]
    qtbot.waitUntil(lambda: all(t.isVisible() for t in page.summary.tiles))  # shown by the event loop
    assert [t.probe_id for t in page.summary.tiles] == [p.id for p in cancelled.probes]
    assert [c.probe.id for c in page.probe_cards()] == [p.id for p in cancelled.probes]


def test_the_screenshots_script_takes_a_window_size() -> None:
    from desktop.screenshots import SIZE, parse_args

    assert parse_args(["shots", "--size", "1600x1000"]) == (Path("shots"), (1600, 1000))
    assert parse_args(["shots"]) == (Path("shots"), SIZE) and SIZE == (1100, 760)
    for wrong in ("1600", "wide", "300x200"):
        with pytest.raises(SystemExit) as stopped:
            parse_args(["--size", wrong])
        assert stopped.value.code == 2
