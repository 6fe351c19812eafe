"""The ROC curve (log-log) and the two score distributions, drawn with QPainter.

What to draw comes from the report's chart specs (`audit_core.report.sections.probe_evidence`:
the curve, the operating points with their intervals, the axis label), and where to draw
it from `audit_core.report.sections.chart_geometry`, both shared with the PDF: these widgets only scale
unit coordinates to pixels and stroke them, so the app and the report cannot disagree.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from audit_core.report.sections.chart_geometry import (
    HistogramGeometry,
    LogAxis,
    RocGeometry,
    histogram_geometry,
    roc_geometry,
)
from audit_core.report.sections.elements import HistogramChart as HistogramSpec
from audit_core.report.sections.elements import RocChart as RocSpec

INK = QColor("#1A1A1A")
MUTED = QColor("#5F6B7A")
GRID_MAJOR = QColor("#C9D1DA")
GRID_MINOR = QColor("#EBEFF3")
CHANCE = QColor("#8A94A0")
MEMBERS = QColor("#0B4F8A")  # Okabe-Ito-like, as in the PDF
NON_MEMBERS = QColor("#D55E00")
POINT = QColor("#D55E00")  # operating points, as in the PDF

LEFT, BOTTOM, TOP, RIGHT = 46, 36, 22, 12


class _Chart(QWidget):
    title = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(250, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(300, 230)

    def plot_rect(self) -> QRectF:
        return QRectF(LEFT, TOP, max(10, self.width() - LEFT - RIGHT), max(10, self.height() - TOP - BOTTOM))

    def to_pixels(self, x: float, y: float) -> QPointF:
        plot = self.plot_rect()
        return QPointF(plot.left() + x * plot.width(), plot.bottom() - y * plot.height())

    def _frame(self, painter: QPainter, x_title: str, y_title: str) -> None:
        plot = self.plot_rect()
        painter.setPen(QPen(MUTED, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(plot)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        painter.setPen(INK)
        painter.drawText(QRectF(plot.left(), self.height() - 16, plot.width(), 16),
                         Qt.AlignmentFlag.AlignCenter, x_title)
        painter.save()
        painter.translate(10, plot.center().y())
        painter.rotate(-90)
        painter.drawText(QRectF(-plot.height() / 2 - 20, -8, plot.height() + 40, 16),
                         Qt.AlignmentFlag.AlignCenter, y_title)
        painter.restore()
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(QRectF(plot.left(), 2, plot.width(), TOP - 4),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
        painter.setFont(font)

    def _tick_label(self, painter: QPainter, text: str, x: float | None, y: float | None) -> None:
        painter.setPen(MUTED)
        plot = self.plot_rect()
        if x is not None:
            painter.drawText(QRectF(x - 30, plot.bottom() + 2, 60, 14), Qt.AlignmentFlag.AlignCenter, text)
        if y is not None:
            painter.drawText(QRectF(0, y - 7, LEFT - 4, 14),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)


class RocChart(_Chart):
    """ROC on log-log axes: privacy lives at low false-positive rates."""

    title = "ROC curve (log-log)"

    def __init__(self, spec: RocSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        series = spec.series[0]
        self.geometry_: RocGeometry = roc_geometry(series.fpr, series.tpr, spec.floor)
        self.axis = LogAxis(spec.floor)
        self.setToolTip("How many members an attacker finds (up) for each share of non-members "
                        f"wrongly flagged (right). {spec.caption}")
        self.setAccessibleName("ROC curve on log-log axes")

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        g = self.geometry_
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.plot_rect(), QColor("#FFFFFF"))
        for tick in g.ticks:
            painter.setPen(QPen(GRID_MAJOR if tick.major else GRID_MINOR, 1))
            painter.drawLine(self.to_pixels(tick.position, 0), self.to_pixels(tick.position, 1))
            painter.drawLine(self.to_pixels(0, tick.position), self.to_pixels(1, tick.position))
        self._frame(painter, "False positive rate", "True positive rate")
        for tick in g.ticks:
            if tick.major:
                self._tick_label(painter, tick.label, self.to_pixels(tick.position, 0).x(), None)
                self._tick_label(painter, tick.label, None, self.to_pixels(0, tick.position).y())
        pen = QPen(CHANCE, 1, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(self.to_pixels(*g.chance[0]), self.to_pixels(*g.chance[1]))
        if g.curve:
            path = QPainterPath(self.to_pixels(*g.curve[0]))
            for point in g.curve[1:]:
                path.lineTo(self.to_pixels(*point))
            painter.setPen(QPen(MEMBERS, 2))
            painter.drawPath(path)
            painter.setBrush(MEMBERS)
            painter.setPen(QPen(QColor("#FFFFFF"), 0.8))
            for point in g.markers:
                painter.drawEllipse(self.to_pixels(*point), 3, 3)
        self._operating_points(painter)
        painter.end()

    def _operating_points(self, painter: QPainter) -> None:
        """TPR at the fixed FPRs, with the TPR's 95% interval as a bar (as in the PDF)."""
        position = self.axis.position
        for point in self.spec.points:
            x = self.to_pixels(position(point.fpr), 0).x()
            if point.tpr_low is not None and point.tpr_high is not None:
                low = self.to_pixels(0, position(point.tpr_low)).y()
                high = self.to_pixels(0, position(point.tpr_high)).y()
                painter.setPen(QPen(POINT, 1.5))
                painter.drawLine(QPointF(x, low), QPointF(x, high))
                for end in (low, high):
                    painter.drawLine(QPointF(x - 3, end), QPointF(x + 3, end))
            y = self.to_pixels(0, position(point.tpr)).y()
            painter.setPen(QPen(QColor("#FFFFFF"), 0.8))
            painter.setBrush(POINT)
            painter.drawRect(QRectF(x - 3.5, y - 3.5, 7, 7))
            painter.setPen(POINT)
            painter.drawText(QRectF(x + 6, y + 1, 80, 14),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, point.label)


class ScoreHistogram(_Chart):
    """Members' and non-members' scores: the further apart, the more the model remembers."""

    title = "Scores"

    def __init__(self, spec: HistogramSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.geometry_: HistogramGeometry | None = histogram_geometry(spec.edges, spec.members, spec.non_members)
        self.setToolTip(f"Share of members (blue) and non-members (orange) per score. {spec.caption}")
        self.setAccessibleName("Score distributions of members and non-members")

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.plot_rect(), QColor("#FFFFFF"))
        g = self.geometry_
        if g is None:
            self._frame(painter, "Score", "Share of records")
            painter.setPen(MUTED)
            painter.drawText(self.plot_rect(), Qt.AlignmentFlag.AlignCenter, "No scores to show")
            painter.end()
            return
        for tick in g.y_ticks:
            painter.setPen(QPen(GRID_MAJOR, 1))
            painter.drawLine(self.to_pixels(0, tick.position), self.to_pixels(1, tick.position))
        for bars, colour in ((g.non_members, NON_MEMBERS), (g.members, MEMBERS)):
            fill = QColor(colour)
            fill.setAlpha(110)
            painter.setBrush(fill)
            painter.setPen(QPen(colour, 1))
            for bar in bars:
                if bar.height <= 0:
                    continue
                top_left = self.to_pixels(bar.x0, bar.height)
                bottom_right = self.to_pixels(bar.x1, 0)
                painter.drawRect(QRectF(top_left, bottom_right))
        self._frame(painter, self.spec.x_label, "Share of records")
        for tick in g.x_ticks:
            self._tick_label(painter, tick.label, self.to_pixels(tick.position, 0).x(), None)
        for tick in g.y_ticks:
            self._tick_label(painter, tick.label, None, self.to_pixels(0, tick.position).y())
        self._legend(painter)
        painter.end()

    def _legend(self, painter: QPainter) -> None:
        # In the title row, after the title: inside the plot it would hide bars.
        plot = self.plot_rect()
        start = plot.left() + painter.fontMetrics().horizontalAdvance(self.title) + 24
        for column, (name, colour) in enumerate((("Members", MEMBERS), ("Non-members", NON_MEMBERS))):
            x = start + column * 84
            y = 6
            fill = QColor(colour)
            fill.setAlpha(110)
            painter.setBrush(fill)
            painter.setPen(QPen(colour, 1))
            painter.drawRect(QRectF(x, y, 10, 10))
            painter.setPen(INK)
            painter.drawText(QRectF(x + 14, y - 2, 100, 14),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
