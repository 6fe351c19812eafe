"""ROC curves on log-log axes, drawn with reportlab.graphics from a `RocChart` spec.

Log-log, because privacy lives at low false-positive rates: an attack that finds 5% of
members at 0.1% FPR is serious and invisible on a linear plot whose diagonal hugs the
corner (Carlini et al., "Membership inference attacks from first principles", 2022). The
geometry (log axes, ticks, the interpolated curve, markers) comes from
`audit_core.report.sections.chart_geometry`, shared with the desktop app so the two never disagree; this
module scales and strokes it, adds the operating points with their intervals, and names a
font for every string (a string left without one would be Helvetica, not embedded).
"""

from __future__ import annotations

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from audit_core.report.sections.chart_geometry import LogAxis, roc_geometry

from ..sections.elements import RocChart

INK = colors.HexColor("#1A1A1A")
MUTED = colors.HexColor("#5F6B7A")
GRID_MAJOR = colors.HexColor("#C9D1DA")
GRID_MINOR = colors.HexColor("#EBEFF3")
CHANCE = colors.HexColor("#8A94A0")
# Colour-blind-safe series colours (Okabe-Ito), the first a dark blue that prints well
# in greyscale too.
SERIES_COLOURS = ("#0B4F8A", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#1A1A1A")

# Room around the plot for tick labels and axis titles, in points.
LEFT, BOTTOM, TOP, RIGHT = 40.0, 30.0, 8.0, 10.0
POINT_COLOUR = colors.HexColor("#D55E00")


LEGEND_ROW = 9.0
LEGEND_INSIDE = 5  # at most this many short labels fit inside the plot, below the diagonal


def legend_below(chart: RocChart, width: float, font: str) -> float:
    """The height a legend takes under the plot: none when it fits inside, in the corner
    below the diagonal where no better-than-chance curve runs."""
    if len(chart.series) < 2:
        return 0.0
    longest = max(stringWidth(s.label, font, 7) for s in chart.series)
    if len(chart.series) <= LEGEND_INSIDE and longest + 30 <= 0.55 * (width - LEFT - RIGHT):
        return 0.0
    return LEGEND_ROW * len(chart.series) + 6


def roc_drawing(chart: RocChart, width: float, height: float, font: str) -> Drawing:
    """The chart in `width` x `height` points, of which `legend_below` is kept for the
    legend when it does not fit inside the plot."""
    # The drawing's starting font would otherwise be Helvetica, emitted even if unused.
    drawing = Drawing(width, height, initialFontName=font, initialFontSize=7)
    below = legend_below(chart, width, font)
    bottom = BOTTOM + below
    plot_w = width - LEFT - RIGHT
    plot_h = height - bottom - TOP
    axis = LogAxis(chart.floor)

    def x(unit: float) -> float:
        return LEFT + unit * plot_w

    def y(unit: float) -> float:
        return bottom + unit * plot_h

    drawing.add(Rect(LEFT, bottom, plot_w, plot_h, fillColor=colors.white, strokeColor=None))
    for tick in axis.ticks():
        colour, weight = (GRID_MAJOR, 0.6) if tick.major else (GRID_MINOR, 0.4)
        drawing.add(Line(x(tick.position), y(0), x(tick.position), y(1), strokeColor=colour, strokeWidth=weight))
        drawing.add(Line(x(0), y(tick.position), x(1), y(tick.position), strokeColor=colour, strokeWidth=weight))
        if tick.label:
            drawing.add(String(x(tick.position), bottom - 10, tick.label, fontName=font, fontSize=7,
                               fillColor=MUTED, textAnchor="middle"))
            drawing.add(String(LEFT - 4, y(tick.position) - 2.5, tick.label, fontName=font, fontSize=7,
                               fillColor=MUTED, textAnchor="end"))

    # Chance: a random guess flags members and non-members alike, TPR = FPR.
    drawing.add(Line(x(0), y(0), x(1), y(1), strokeColor=CHANCE, strokeWidth=0.8, strokeDashArray=[3, 2.5]))
    for index, series in enumerate(chart.series):
        colour = colors.HexColor(SERIES_COLOURS[index % len(SERIES_COLOURS)])
        geometry = roc_geometry(series.fpr, series.tpr, chart.floor)
        points = [c for ux, uy in geometry.curve for c in (x(ux), y(uy))]
        drawing.add(PolyLine(points, strokeColor=colour, strokeWidth=1.6, strokeLineJoin=1))
        for ux, uy in geometry.markers:
            drawing.add(Circle(x(ux), y(uy), 1.9, fillColor=colour, strokeColor=colors.white, strokeWidth=0.4))
    # Beside several coloured curves the marks are drawn in ink, a colour no curve has.
    mark = POINT_COLOUR if len(chart.series) == 1 else INK
    for point in chart.points:
        px = x(axis.position(point.fpr))
        if point.tpr_low is not None and point.tpr_high is not None:
            low, high = y(axis.position(point.tpr_low)), y(axis.position(point.tpr_high))
            drawing.add(Line(px, low, px, high, strokeColor=mark, strokeWidth=1.1))
            for end in (low, high):
                drawing.add(Line(px - 2.5, end, px + 2.5, end, strokeColor=mark, strokeWidth=1.1))
        py = y(axis.position(point.tpr))
        drawing.add(Rect(px - 2.6, py - 2.6, 5.2, 5.2, fillColor=mark, strokeColor=colors.white, strokeWidth=0.5))
        # Below the marker, unless that is under the plot, where it would run into the
        # axis's tick labels ("0.01" and "1% FPR" read as "0.011% FPR"): then above it.
        label_y = py - 9 if py - 9 >= bottom + 1 else py + 4
        drawing.add(String(px + 5, label_y, point.label, fontName=font, fontSize=6.5, fillColor=mark))

    drawing.add(Rect(LEFT, bottom, plot_w, plot_h, fillColor=None, strokeColor=MUTED, strokeWidth=0.6))
    drawing.add(String(LEFT + plot_w / 2, below + 4, "False positive rate (non-members wrongly flagged)",
                       fontName=font, fontSize=7, fillColor=INK, textAnchor="middle"))
    y_title = Group(String(0, 0, "True positive rate (members identified)",
                           fontName=font, fontSize=7, fillColor=INK, textAnchor="middle"))
    y_title.translate(9, bottom + plot_h / 2)
    y_title.rotate(90)
    drawing.add(y_title)
    if below:
        _draw_legend(drawing, chart, LEFT - 30, below - LEGEND_ROW, font, boxed=False)
    elif len(chart.series) > 1:
        # Bottom right: below the diagonal, where no better-than-chance curve runs.
        longest = max(stringWidth(s.label, font, 7) for s in chart.series)
        _draw_legend(drawing, chart, LEFT + plot_w - longest - 24,
                     bottom + 6 + LEGEND_ROW * (len(chart.series) - 1), font)
    return drawing


def _draw_legend(drawing: Drawing, chart: RocChart, x: float, y: float, font: str, boxed: bool = True) -> None:
    rows = len(chart.series)
    if boxed:
        drawing.add(Rect(x - 4, y - LEGEND_ROW * (rows - 1) - 3, drawing.width - RIGHT - x + 2, LEGEND_ROW * rows + 2,
                         fillColor=colors.white, strokeColor=GRID_MAJOR, strokeWidth=0.4))
    for index, series in enumerate(chart.series):
        colour = colors.HexColor(SERIES_COLOURS[index % len(SERIES_COLOURS)])
        row_y = y - index * LEGEND_ROW
        drawing.add(Line(x, row_y + 2.5, x + 12, row_y + 2.5, strokeColor=colour, strokeWidth=1.6))
        drawing.add(String(x + 16, row_y, series.label, fontName=font, fontSize=7, fillColor=INK))
