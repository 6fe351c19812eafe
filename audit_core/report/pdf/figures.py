"""Flowables for the figures and the sign-off boxes (split from writer.py to keep it short).

A figure is one row of up to two charts, each with its title above and its caption
below, kept together: a chart separated from its caption, or pushed alone onto a mostly
empty page, is what made the first report look unfinished.
"""

from __future__ import annotations

from collections.abc import Callable

from reportlab.platypus import Flowable, KeepTogether, Paragraph, Table, TableStyle

from ..sections import elements as el
from .charts import legend_below, roc_drawing
from .fonts import FontSet
from .histogram_drawing import histogram_drawing
from .interval_drawing import interval_drawing
from .stacked_drawing import stacked_drawing
from .styles import KEY_FILL, RULE, TEXT_WIDTH, Styles

GAP = 14.0  # between two charts of a row
SINGLE_WIDTH = 0.55 * TEXT_WIDTH


def chart_drawing(chart: el.Chart, width: float, font: str):
    if isinstance(chart, el.IntervalChart):  # as tall as its rows need
        return interval_drawing(chart, width, font)
    if isinstance(chart, el.StackedBarChart):
        return stacked_drawing(chart, width, font)
    height = 0.72 * width
    if isinstance(chart, el.HistogramChart):
        return histogram_drawing(chart, width, height, font)
    return roc_drawing(chart, width, height + legend_below(chart, width, font), font)


def figure_flowable(figure: el.Figure, styles: Styles, fonts: FontSet, text: Callable[[str], str]) -> Flowable:
    charts = figure.charts[:2]
    # A forest plot or outcome bars alone take the line: their labels need the room.
    single = TEXT_WIDTH if isinstance(charts[0], el.IntervalChart | el.StackedBarChart) else SINGLE_WIDTH
    width = (TEXT_WIDTH - GAP) / 2 if len(charts) == 2 else single
    cells = []
    for chart in charts:
        cells.append([
            Paragraph(text(chart.title), styles.chart_title),
            chart_drawing(chart, width, fonts.sans),
            Paragraph(text(chart.caption), styles.caption),
        ])
    widths = [width + (GAP if i == 0 and len(charts) == 2 else 0) for i in range(len(charts))]
    table = Table([cells], colWidths=widths, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), fonts.sans, 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (0, 0), GAP if len(charts) == 2 else 0),
        ("RIGHTPADDING", (1, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return KeepTogether([table])


def single_chart(chart: el.Chart, styles: Styles, fonts: FontSet, text: Callable[[str], str]) -> Flowable:
    return figure_flowable(el.Figure((chart,)), styles, fonts, text)


def signature_flowable(block: el.SignatureLines, styles: Styles, fonts: FontSet, text: Callable[[str], str]) -> Flowable:
    boxes = []
    width = (TEXT_WIDTH - GAP) / 2
    for role, fields in block.signers:
        rows = [[Paragraph(text(role), styles.heading3), ""]]
        for field in fields:
            height = 46 if field.lower() == "signature" else 28
            rows.append([Paragraph(text(field), styles.cell_key), ""])
            rows[-1].append(height)
        data = [r[:2] for r in rows]
        heights = [None] + [r[2] for r in rows[1:]]
        box = Table(data, colWidths=[0.4 * width, 0.6 * width], rowHeights=heights)
        box.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), fonts.sans, 8),
            ("SPAN", (0, 0), (1, 0)),
            ("BACKGROUND", (0, 0), (-1, 0), KEY_FILL),
            ("VALIGN", (0, 1), (-1, -1), "BOTTOM"),
            ("LINEBELOW", (1, 1), (1, -1), 0.6, RULE),
            ("BOX", (0, 0), (-1, -1), 0.6, RULE),
            ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ]))
        boxes.append(box)
    outer = Table([boxes], colWidths=[width + GAP] + [width] * (len(boxes) - 1), hAlign="LEFT")
    outer.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), fonts.sans, 8),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (0, 0), GAP),
        ("RIGHTPADDING", (1, 0), (-1, -1), 0),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return KeepTogether([outer])


class Anchor(Flowable):
    """A zero-size mark that only carries a bookmark (for sections without a title)."""

    def __init__(self, outline: tuple[str, str, int]) -> None:
        super().__init__()
        self.outline = outline
        self.width = self.height = 0

    def wrap(self, *_: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        pass
