"""The results screen's probe cards on the demo's results (issue 16): every probe's result
is a picture, as in the report; nothing is cut or shown twice at the window's sizes."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetrics, QHelpEvent
from PySide6.QtWidgets import QApplication, QLabel, QScrollArea, QToolTip, QVBoxLayout, QWidget

from audit_core.report.sections.elements import Interval, IntervalChart
from audit_core.report.sections.probe_evidence import probe_figure
from audit_core.results.reading import read_result
from audit_core.results.result import ProbeResult, plain
from audit_core.results.verdicts import Verdict
from desktop.app import STYLE
from desktop.widgets.chart_factory import chart_widgets
from desktop.widgets.interval_chart import BOTTOM, ForestPlot, OutcomeBars, _RowCanvas
from desktop.widgets.probe_card import ProbeCard, card_texts, plain_sentence

SIZES = ((1100, 760), (1600, 1000))  # the app's default window and a large screen


@pytest.fixture(scope="module")
def demo_probes(demo_outputs: Path) -> list[ProbeResult]:
    """The demo's probes as the results screen gets them (the session's one demo run)."""
    return list(read_result(demo_outputs / "results.json").probes)


_SHOWN: list[QScrollArea] = []  # kept alive while a test reads its cards


def shown(qtbot, probes: list[ProbeResult], size: tuple[int, int]) -> list[ProbeCard]:
    """The cards in a scrolling column of a window of `size`, as the results tab lays them out."""
    holder = QWidget()
    column = QVBoxLayout(holder)
    cards = [ProbeCard(p) for p in probes]
    for card in cards:
        column.addWidget(card)
    scroll = QScrollArea()
    scroll.setStyleSheet(STYLE)  # the app's fonts, which are set after a widget is built
    _SHOWN[:] = [scroll]
    scroll.setWidgetResizable(True)
    # As on the results tab: no sideways scrolling, so a card wider than the window is cut.
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(holder)
    qtbot.addWidget(scroll)
    scroll.resize(*size)
    scroll.show()
    qtbot.waitExposed(scroll)
    QApplication.processEvents()
    return cards


def test_every_card_of_the_demo_shows_the_charts_the_pdf_draws(qtbot, demo_probes) -> None:
    cards = shown(qtbot, demo_probes, SIZES[0])
    assert {c.probe.family for c in cards} >= {"membership", "extraction", "trajectory", "attribute",
                                              "reidentification", "perturbation", "subgroups"}
    for card in cards:
        assert card.charts, f"{card.probe.id} has no chart"
        figure = probe_figure(plain(card.probe.as_dict()), card.probe.title)
        assert figure is not None
        assert [w.spec for w in card.charts] == list(figure.charts), card.probe.id
    by_id = {c.probe.id: c for c in cards}
    assert by_id["perturbation"].findChild(OutcomeBars) is not None
    for probe_id in ("trajectory", "sensitive_attributes", "reidentification", "vulnerable_subgroups"):
        assert by_id[probe_id].findChild(ForestPlot) is not None, probe_id
    assert not cards[0].parentWidget().grab().isNull()  # paints every chart


@pytest.mark.parametrize("size", SIZES)
def test_no_card_text_is_cut_at_the_window_sizes(qtbot, demo_probes, size) -> None:
    # Regression: "+17.8% at first 20 codes (gap -0.198, 9…" was cut at the card's right.
    for card in shown(qtbot, demo_probes, size):
        viewport = card.parentWidget().parentWidget()
        assert card.mapTo(viewport, card.rect().topRight()).x() <= viewport.width(), card.probe.id
        assert card.headline.wordWrap()
        for label in card.findChildren(QLabel):
            if not label.isVisible() or not label.text():
                continue
            if label.wordWrap():
                assert label.heightForWidth(label.width()) <= label.height() + 1, (card.probe.id, label.text())
            else:
                assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width(), label.text()
            assert label.geometry().right() <= card.contentsRect().right() + 1, (card.probe.id, label.text())
        for chart in card.charts:
            assert chart.width() >= chart.minimumSizeHint().width() and chart.geometry().right() <= card.width()
        for canvas in card.findChildren(_RowCanvas):
            # Regression: the rows, measured in the style sheet's font, ran into the tick labels.
            assert canvas.height() >= canvas.sizeHint().height(), card.probe.id
            assert canvas.plot_rect().bottom() + BOTTOM <= canvas.height() + 0.5, card.probe.id
            # Regression: the last tick's label ("0.050") was cut at the chart's right edge.
            last = QFontMetrics(canvas.tick_font()).horizontalAdvance(canvas.tick_labels[-1])
            assert canvas.plot_rect().right() + last / 2 <= canvas.width(), card.probe.id


@pytest.mark.parametrize("size", SIZES)
def test_the_forest_labels_of_the_demo_fit_beside_their_plot(qtbot, demo_probes, size) -> None:
    for card in shown(qtbot, demo_probes, size):
        plot = card.findChild(ForestPlot)
        if plot is not None:
            assert plot.canvas.elided() == {}, card.probe.id


def test_no_card_shows_the_same_sentence_twice(qtbot, demo_probes) -> None:
    for card in shown(qtbot, demo_probes, SIZES[0]):
        texts = [t.strip() for t in card.texts()]
        assert len(texts) == len(set(texts)), card.probe.id
        # The card leads with what the result means for a patient, then the headline figure.
        assert texts[0] == plain_sentence(card.probe) and texts[1] == card.probe.headline["text"]
    # Regression: a family with no sentence of its own for a verdict fell back on its first
    # finding, and the card printed that finding again below in grey.
    trajectory = next(p for p in demo_probes if p.id == "trajectory")
    passed = dataclasses.replace(trajectory, verdict=Verdict.PASS)
    assert plain_sentence(passed) == passed.findings[0]
    sentence, _, detail = card_texts(passed)
    assert sentence == passed.findings[0] and detail == ""
    card = ProbeCard(passed)
    qtbot.addWidget(card)
    assert card.detail is None and card.texts().count(passed.findings[0]) == 1


def test_a_finding_leads_with_what_it_means_for_patients(demo_probes) -> None:
    # The wording of a T5 finding (the demo's own T5 verdict rests on a handful of sampled
    # signals, and moved to PASS when every sensitive carrier came to be screened).
    t5 = dataclasses.replace(next(p for p in demo_probes if p.id == "perturbation"), verdict=Verdict.WARN)
    assert plain_sentence(t5) == "Some sensitive predictions are memories of one patient, not population patterns."


def test_a_row_label_too_long_for_its_column_is_elided_and_whole_in_a_tooltip(qtbot) -> None:
    long = "HIV and other sexually transmitted infections (carriers), first 50 codes of the record"
    chart = IntervalChart(title="Membership AUC by stratum", rows=(Interval(long, 0.03, 0.02, None),
                                                                   Interval("Women", -0.01, -0.02, 0.0)),
                          caption="What the chart shows.", x_label="AUC gap", reference=0.0)
    plot = ForestPlot(chart)
    qtbot.addWidget(plot)
    plot.resize(420, plot.sizeHint().height())
    plot.show()
    qtbot.waitExposed(plot)
    canvas = plot.canvas
    assert set(canvas.elided()) == {long} and canvas.elided()[long].endswith("…")
    y = int(canvas.y(interval_row_y(chart, 0)))
    event = QHelpEvent(QHelpEvent.Type.ToolTip, QPoint(5, y), canvas.mapToGlobal(QPoint(5, y)))
    QApplication.sendEvent(canvas, event)
    assert QToolTip.text() == long
    QToolTip.hideText()


def interval_row_y(chart: IntervalChart, index: int) -> float:
    from audit_core.report.sections.chart_geometry import interval_geometry

    geometry = interval_geometry(chart)
    assert geometry is not None
    return geometry.rows[index].y


def test_a_probe_without_anything_to_draw_gets_no_chart(qtbot, demo_probes) -> None:
    errored = dataclasses.replace(copy.deepcopy(demo_probes[-1]), verdict=Verdict.ERROR, metrics={},
                                  curves={}, subgroups=(), error="it stopped")
    assert chart_widgets(plain(errored.as_dict()), errored.title) == []
    card = ProbeCard(errored)
    qtbot.addWidget(card)
    assert card.charts == [] and "stopped with an error" in card.texts()[0]
