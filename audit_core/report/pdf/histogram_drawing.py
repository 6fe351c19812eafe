"""Score histograms drawn with reportlab.graphics from a `HistogramChart` spec.

The geometry (bars, ticks, the top of the axis) comes from `audit_core.report.sections.chart_geometry`,
which the desktop app draws from too, so the PDF and the app never disagree; this module
only scales it and strokes it with the report's fonts (a string left without a font would
be Helvetica, which is not embedded).
"""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.lib import colors

from audit_core.report.sections.chart_geometry import histogram_geometry

from ..sections.elements import HistogramChart
from .charts import BOTTOM, GRID_MAJOR, INK, LEFT, MUTED, RIGHT, SERIES_COLOURS, TOP

MEMBERS = colors.HexColor(SERIES_COLOURS[0])
# Solid, not translucent: the orange series colour mixed with white by hand keeps the file
# free of transparency groups (simpler for archival viewers).
NON_MEMBERS_FILL = colors.HexColor("#F2BE99")


def histogram_drawing(chart: HistogramChart, width: float, height: float, font: str) -> Drawing:
    drawing = Drawing(width, height, initialFontName=font, initialFontSize=7)
    geometry = histogram_geometry(chart.edges, chart.members, chart.non_members)
    plot_w, plot_h = width - LEFT - RIGHT, height - BOTTOM - TOP - 12  # room for the legend
    if geometry is None:
        drawing.add(String(width / 2, height / 2, "No score distribution to draw",
                           fontName=font, fontSize=7.5, fillColor=MUTED, textAnchor="middle"))
        return drawing

    def x(unit: float) -> float:
        return LEFT + unit * plot_w

    def y(unit: float) -> float:
        return BOTTOM + unit * plot_h

    drawing.add(Rect(LEFT, BOTTOM, plot_w, plot_h, fillColor=colors.white, strokeColor=None))
    for tick in geometry.y_ticks:
        drawing.add(Line(x(0), y(tick.position), x(1), y(tick.position), strokeColor=GRID_MAJOR, strokeWidth=0.5))
        drawing.add(String(LEFT - 4, y(tick.position) - 2.5, tick.label, fontName=font, fontSize=7,
                           fillColor=MUTED, textAnchor="end"))
    for tick in geometry.x_ticks:
        drawing.add(Line(x(tick.position), BOTTOM, x(tick.position), BOTTOM - 3, strokeColor=MUTED, strokeWidth=0.5))
        drawing.add(String(x(tick.position), BOTTOM - 11, tick.label, fontName=font, fontSize=7,
                           fillColor=MUTED, textAnchor="middle"))
    # Non-members as filled bars, members as outlined bars on top: both stay readable where
    # they overlap, and in greyscale.
    for bar in geometry.non_members:
        if bar.height > 0:
            drawing.add(Rect(x(bar.x0), y(0), x(bar.x1) - x(bar.x0), bar.height * plot_h,
                             fillColor=NON_MEMBERS_FILL, strokeColor=None))
    for bar in geometry.members:
        if bar.height > 0:
            drawing.add(Rect(x(bar.x0), y(0), x(bar.x1) - x(bar.x0), bar.height * plot_h,
                             fillColor=None, strokeColor=MEMBERS, strokeWidth=1.1))
    drawing.add(Rect(LEFT, BOTTOM, plot_w, plot_h, fillColor=None, strokeColor=MUTED, strokeWidth=0.6))
    drawing.add(String(LEFT + plot_w / 2, 6, chart.x_label, fontName=font, fontSize=7.5,
                       fillColor=INK, textAnchor="middle"))
    y_title = Group(String(0, 0, geometry.y_title + " in the cohort", fontName=font, fontSize=7.5,
                           fillColor=INK, textAnchor="middle"))
    y_title.translate(11, BOTTOM + plot_h / 2)
    y_title.rotate(90)
    drawing.add(y_title)
    legend_y = BOTTOM + plot_h + 5
    drawing.add(Rect(LEFT, legend_y, 10, 6, fillColor=None, strokeColor=MEMBERS, strokeWidth=1.1))
    drawing.add(String(LEFT + 14, legend_y + 0.5, "Members", fontName=font, fontSize=7, fillColor=INK))
    drawing.add(Rect(LEFT + 62, legend_y, 10, 6, strokeColor=None,
                     fillColor=NON_MEMBERS_FILL))
    drawing.add(String(LEFT + 76, legend_y + 0.5, "Non-members", fontName=font, fontSize=7, fillColor=INK))
    return drawing
