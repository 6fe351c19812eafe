"""ROC curves on log-log axes, drawn with reportlab.graphics from a `RocChart` spec.

Log-log, because privacy lives at low false-positive rates: an attack that finds 5% of
members at 0.1% FPR is serious and invisible on a linear plot whose diagonal hugs the
corner (Carlini et al., "Membership inference attacks from first principles", 2022). Both
axes start at the chart's floor; a rate of zero cannot be placed on a log axis, so it
sits on the axis. Drawn by hand rather than with LinePlot so that log ticks, the chance
line and every font are under our control (a string left without a font would be
Helvetica, which is not embedded).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors

from .elements import RocChart

INK = colors.HexColor("#1A1A1A")
MUTED = colors.HexColor("#5F6B7A")
GRID_MAJOR = colors.HexColor("#C9D1DA")
GRID_MINOR = colors.HexColor("#EBEFF3")
CHANCE = colors.HexColor("#8A94A0")
# Colour-blind-safe series colours (Okabe-Ito), the first a dark blue that prints well
# in greyscale too.
SERIES_COLOURS = ("#0B4F8A", "#D55E00", "#009E73", "#CC79A7", "#E69F00")

# Room around the plot for tick labels and axis titles, in points.
LEFT, BOTTOM, TOP, RIGHT = 52.0, 38.0, 10.0, 14.0
# Sparse curves get a marker per point so a reader sees where the data are; dense ones
# would turn into a smear.
MAX_MARKED_POINTS = 30
POINTS_PER_DECADE = 16


def decade_ticks(floor: float) -> list[float]:
    """10^k from the floor to 1: 0.001, 0.01, 0.1, 1."""
    lowest = math.floor(math.log10(floor) + 1e-9)
    return [10.0**k for k in range(lowest, 1)]


def tick_label(value: float) -> str:
    # Plain decimals, as a privacy officer reads them: 0.001 rather than 1e-3.
    decimals = max(0, -round(math.log10(value)))
    return f"{value:.{decimals}f}"


def clip_rate(value: float, floor: float) -> float:
    return min(1.0, max(floor, value))


def roc_drawing(chart: RocChart, width: float, height: float, font: str) -> Drawing:
    # The drawing's starting font would otherwise be Helvetica, emitted even if unused.
    drawing = Drawing(width, height, initialFontName=font, initialFontSize=7)
    plot_w = width - LEFT - RIGHT
    plot_h = height - BOTTOM - TOP
    log_floor = math.log10(chart.floor)

    def to_x(rate: float) -> float:
        return LEFT + (math.log10(clip_rate(rate, chart.floor)) - log_floor) / -log_floor * plot_w

    def to_y(rate: float) -> float:
        return BOTTOM + (math.log10(clip_rate(rate, chart.floor)) - log_floor) / -log_floor * plot_h

    drawing.add(Rect(LEFT, BOTTOM, plot_w, plot_h, fillColor=colors.white, strokeColor=None))
    _draw_grid(drawing, chart.floor, to_x, to_y, font)

    # Chance: a random guess flags members and non-members alike, TPR = FPR.
    drawing.add(
        Line(to_x(chart.floor), to_y(chart.floor), to_x(1.0), to_y(1.0),
             strokeColor=CHANCE, strokeWidth=0.8, strokeDashArray=[3, 2.5])
    )
    for index, series in enumerate(chart.series):
        colour = colors.HexColor(SERIES_COLOURS[index % len(SERIES_COLOURS)])
        points = _curve_points(series.fpr, series.tpr, to_x, to_y, chart.floor)
        drawing.add(PolyLine(points, strokeColor=colour, strokeWidth=1.6, strokeLineJoin=1))
        if len(series.fpr) <= MAX_MARKED_POINTS:
            # Markers on the measured points only; a zero on the axis is not a measurement
            # the axis can show.
            for x, y in zip(series.fpr, series.tpr):
                if x >= chart.floor and y >= chart.floor:
                    drawing.add(Circle(to_x(x), to_y(y), 1.9, fillColor=colour, strokeColor=colors.white, strokeWidth=0.4))

    drawing.add(Rect(LEFT, BOTTOM, plot_w, plot_h, fillColor=None, strokeColor=MUTED, strokeWidth=0.6))
    drawing.add(
        String(LEFT + plot_w / 2, 6, "False positive rate (non-members wrongly flagged)",
               fontName=font, fontSize=7.5, fillColor=INK, textAnchor="middle")
    )
    y_title = Group(
        String(0, 0, "True positive rate (members identified)",
               fontName=font, fontSize=7.5, fillColor=INK, textAnchor="middle")
    )
    y_title.translate(11, BOTTOM + plot_h / 2)
    y_title.rotate(90)
    drawing.add(y_title)
    if len(chart.series) > 1:
        _draw_legend(drawing, chart, LEFT + 6, BOTTOM + plot_h - 10, font)
    return drawing


def _draw_grid(drawing: Drawing, floor: float, to_x, to_y, font: str) -> None:
    for decade in decade_ticks(floor):
        # Minor lines at 2..9 x 10^k help read values between decades.
        for step in range(2, 10):
            value = decade * step
            if floor < value < 1.0:
                drawing.add(Line(to_x(value), to_y(floor), to_x(value), to_y(1.0), strokeColor=GRID_MINOR, strokeWidth=0.4))
                drawing.add(Line(to_x(floor), to_y(value), to_x(1.0), to_y(value), strokeColor=GRID_MINOR, strokeWidth=0.4))
    for decade in decade_ticks(floor):
        x, y = to_x(decade), to_y(decade)
        drawing.add(Line(x, to_y(floor), x, to_y(1.0), strokeColor=GRID_MAJOR, strokeWidth=0.6))
        drawing.add(Line(to_x(floor), y, to_x(1.0), y, strokeColor=GRID_MAJOR, strokeWidth=0.6))
        label = tick_label(decade)
        drawing.add(String(x, BOTTOM - 11, label, fontName=font, fontSize=7, fillColor=MUTED, textAnchor="middle"))
        drawing.add(String(LEFT - 4, y - 2.5, label, fontName=font, fontSize=7, fillColor=MUTED, textAnchor="end"))


def _curve_points(fpr: Sequence[float], tpr: Sequence[float], to_x, to_y, floor: float) -> list[float]:
    points: list[float] = []
    for x, y in interpolated_curve(fpr, tpr, floor):
        points += [to_x(x), to_y(y)]
    return points


def interpolated_curve(fpr: Sequence[float], tpr: Sequence[float], floor: float) -> list[tuple[float, float]]:
    """The ROC curve with points added along each segment, spaced evenly in log FPR.

    Between two measured points a ROC curve is a straight line in linear space (the
    classifier that mixes the two thresholds); on log axes that line is a curve, and
    joining the two points directly would draw an attack that was never measured.
    """
    # Sorted so that an unsorted export still draws a curve, not a scribble.
    pairs = sorted(zip(fpr, tpr))
    curve: list[tuple[float, float]] = pairs[:1]
    for (x0, y0), (x1, y1) in zip(pairs, pairs[1:]):
        start = max(x0, floor)
        if x1 > start:
            decades = math.log10(x1 / start)
            steps = max(1, math.ceil(decades * POINTS_PER_DECADE))
            for step in range(1 if start == x0 else 0, steps):
                x = start * (x1 / start) ** (step / steps)
                curve.append((x, y0 + (x - x0) / (x1 - x0) * (y1 - y0)))
        curve.append((x1, y1))
    return curve


def _draw_legend(drawing: Drawing, chart: RocChart, x: float, y: float, font: str) -> None:
    for index, series in enumerate(chart.series):
        colour = colors.HexColor(SERIES_COLOURS[index % len(SERIES_COLOURS)])
        row_y = y - index * 10
        drawing.add(Line(x, row_y + 2.5, x + 12, row_y + 2.5, strokeColor=colour, strokeWidth=1.6))
        drawing.add(String(x + 16, row_y, series.label, fontName=font, fontSize=7, fillColor=INK))
